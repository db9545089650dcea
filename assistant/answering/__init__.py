"""Turning retrieved passages into a short, cited answer: extractive or LLM, then grounding and drafts."""
