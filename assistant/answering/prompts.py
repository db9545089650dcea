"""Sentences every answer backend shares, so a refusal reads (and is recognised) the same everywhere."""

from __future__ import annotations

import re

from assistant.schemas import Language

# The first sentence states the fact; the second points at the "possibly related" sources the service lists.
REFUSAL: dict[Language, str] = {
    "sv": "Det framgår inte av underlaget. "
          "Närliggande källor kan finnas bland de möjligen relaterade dokumenten nedan.",
    "en": "The documents do not say. Possibly related sources are listed below.",
}
_REFUSAL_OPENINGS = tuple(text.split(".")[0].casefold() for text in REFUSAL.values())


def is_refusal(text: str) -> bool:
    """Whether an answer opens with a refusal sentence (an LLM may drop the second one or add a marker)."""
    opening = re.sub(r"^\W+", "", text).casefold()
    return opening.startswith(_REFUSAL_OPENINGS)
