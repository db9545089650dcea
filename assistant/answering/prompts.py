"""Sentences every answer backend and every surface (command line, UI, OpenAI-compatible API) shares, so a
refusal and the headings of its sources read (and are recognised) the same everywhere."""

from __future__ import annotations

import re

from assistant.schemas import Language

# The first sentence states the fact; the second points at the "possibly related" sources the service lists.
REFUSAL: dict[Language, str] = {
    "sv": "Det framgår inte av underlaget. "
          "Närliggande källor kan finnas bland de möjligen relaterade dokumenten nedan.",
    "en": "The documents do not say. Possibly related sources are listed below.",
}
SOURCES_HEADING: dict[Language, str] = {"sv": "Källor:", "en": "Sources:"}
RELATED_HEADING: dict[Language, str] = {"sv": "Möjligen relaterade källor:",
                                        "en": "Possibly related sources:"}
PAGE: dict[Language, str] = {"sv": "s.", "en": "p."}
_REFUSAL_OPENINGS = tuple(text.split(".")[0].casefold() for text in REFUSAL.values())


def is_refusal(text: str) -> bool:
    """Whether an answer opens with a refusal sentence (an LLM may drop the second one or add a marker)."""
    opening = re.sub(r"^\W+", "", text).casefold()
    return opening.startswith(_REFUSAL_OPENINGS)
