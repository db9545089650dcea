"""Swedish or English? Decided from function words and Swedish letters, which short questions have."""

from __future__ import annotations

import re

from ingest.records import Language

_WORD = re.compile(r"[a-zåäöé]+")
_ENGLISH = frozenset(
    "the and of to is are for with that what which who whom how many much does do did when where why "
    "in on about has have was were will there their this these can could should would an a it its use "
    "uses used today currently members municipalities".split()
)
_SWEDISH = frozenset(
    "och att det som för med är på av vad vilka vilken vilket hur många mycket när var varför "
    "har hade finns fanns om till i en ett den de kan ska skulle vi ni sambruks inte".split()
)


def detect_language(text: str) -> Language:
    words = _WORD.findall(text.lower())
    # Å, ä, ö tip a tie towards Swedish, but a single Swedish name in an English question must not.
    swedish = sum(w in _SWEDISH for w in words) + sum(any(c in w for c in "åäö") for w in words)
    english = sum(w in _ENGLISH for w in words)
    return "en" if english > swedish else "sv"
