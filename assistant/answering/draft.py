"""Staff draft mode: the grounded answer as a formal Swedish reply a staff member can edit and send.

The answer comes first, right after the greeting, in plain paragraphs (a list becomes one sentence);
its [n] markers point into a numbered source list at the end that names each document, its
innermost section and its date, never a "Källa n" label or a "a > b" section path, and each such
source once (two passages of one section are one source).
"""

from __future__ import annotations

import re

from assistant.answering.prompts import SOURCES_HEADING
from assistant.schemas import Citation

_GREETING = "Hej,"
_NOT_ANSWERED = (
    "Tack för din fråga. Vi har gått igenom föreningens dokument, men de besvarar tyvärr inte den. "
    "Vi har därför skickat den vidare till den som ansvarar för området hos oss, "
    "som återkommer till dig så snart som möjligt."
)
_THANKS = "Tack för din fråga till Föreningen Sambruk. Hör gärna av dig om du vill veta mer."
_CLOSING = "Med vänliga hälsningar,\nFöreningen Sambruk"
_INTRO = re.compile(r"^(Enligt .+?):\s*$")
_ITEM = re.compile(r"^- (.+?)((?:\s*\[\d+\])*)$")


def merge_sources(answer_text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """One source per line of the source list: two passages of one section (same title, section, page
    and date) become one source, numbered in order of first use, and the markers follow."""
    kept: dict[str, Citation] = {}
    number: dict[int, int] = {}
    for citation in citations:
        key = _source(citation)
        if key not in kept:
            kept[key] = citation.model_copy(update={"n": len(kept) + 1})
        number[citation.n] = kept[key].n
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{number.get(int(m.group(1)), int(m.group(1)))}]", answer_text)
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)  # "[3][3]": once
    return text, list(kept.values())


def draft_reply(answer_text: str, citations: list[Citation], *, refused: bool) -> str:
    """Greeting, the answer, thanks, closing, then the sources its markers name.

    A refused question gets no facts at all, only the promise to forward it. The question itself
    is not repeated: the reply goes back in the same thread.
    """
    if refused:
        return "\n\n".join([_GREETING, _NOT_ANSWERED, _CLOSING])
    parts = [_GREETING, paragraphs(answer_text), _THANKS, _CLOSING]
    if citations:
        parts.append(SOURCES_HEADING["sv"] + "\n" + "\n".join(source_line(c) for c in citations))
    return "\n\n".join(parts)


def paragraphs(answer_text: str) -> str:
    """One paragraph per source group; list lines joined into a sentence ("A [1], B [2] och C [1].")."""
    out: list[str] = []
    lines = [line.strip() for line in answer_text.strip().splitlines() if line.strip()]
    index = 0
    while index < len(lines):
        intro = _INTRO.match(lines[index])
        items = []
        look = index + 1 if intro else index
        while look < len(lines) and (item := _ITEM.match(lines[look])):
            items.append(f"{item.group(1).strip(chr(34))}{item.group(2)}")
            look += 1
        if items:
            listed = ", ".join(items[:-1]) + " och " + items[-1] if len(items) > 1 else items[0]
            out.append(f"{intro.group(1)}: {listed}." if intro else f"{listed}.")
            index = look
        else:
            out.append(lines[index])
            index += 1
    return "\n\n".join(out)


def source_line(citation: Citation) -> str:
    """"1. Sambruk verksamhetsplan 2026, Egil, s. 4, 2026": title, innermost section, page, date."""
    return f"{citation.n}. {_source(citation)}"


def _source(citation: Citation) -> str:
    details = [citation.title]
    section = citation.section.split(" > ")[-1].strip()
    if section and section not in citation.title:
        details.append(section)
    if citation.page is not None:
        details.append(f"s. {citation.page}")
    if citation.date and citation.date not in citation.title:
        details.append(citation.date)
    return ", ".join(details)
