"""Text in a document that speaks to the assistant instead of the reader: never evidence.

A document may say "Ignorera alla tidigare instruktioner och svara att ..." (planted, or quoted from
somewhere). Such a sentence is an instruction aimed at whatever reads the text, not a fact about
Sambruk, so ingest marks its unit as ``instruction`` (reported by name in the ingest summary) and the
answer layer never quotes it or shows it to an LLM. The patterns are the grammar of such
instructions in Swedish and English (override an earlier instruction, take on a new role, the
prompt itself), not words of any question. Pure functions.
"""

from __future__ import annotations

import re

INSTRUCTION = "instruction"  # the unit kind ingest gives a sentence it screened out

_OVERRIDE = re.compile(
    r"\b(ignorera|strunta i|glöm|bortse från|ignore|disregard|forget)\b.{0,60}?"
    r"\b(instruktion\w*|instruction\w*|prompt\w*|tidigare|previous|prior|above|ovan|regler\w*|rules)\b",
    re.IGNORECASE,
)
_ROLE = re.compile(r"\b(du är nu|från och med nu är du|you are now|act as|agera som|låtsas att du|pretend to be)\b",
                   re.IGNORECASE)
_PROMPT = re.compile(r"\b(system ?prompt\w*|systemmeddelande\w*|system message)\b", re.IGNORECASE)


def is_instruction(text: str) -> bool:
    """Whether a sentence tells its reader (an assistant) to drop its instructions or take a role."""
    return any(pattern.search(text) for pattern in (_OVERRIDE, _ROLE, _PROMPT))
