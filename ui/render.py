"""Turn an Answer into what the chat shows: message text with source chips, and one side panel per source.

Pure functions (no Chainlit import), so they are tested without a browser. Chainlit turns every
element name that appears in a message into a clickable chip, so each ``[n]`` marker becomes the
name of its source element ("Källa 1"); the element's markdown shows the document's metadata and the
cited span highlighted within the text around it. Only presentation happens here, the answer's words
are the answering package's: quoted table rows are shown as a table and slide text in quotation marks
(ui/quotes.py), a link in a document is shown as text with its real address (never clickable), and
while an answer streams its markers are held back until the chips can be shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as url_quote

from assistant.answering.prompts import RELATED_HEADING
from assistant.schemas import Answer, Citation
from ui.quotes import lay_out_quotes

# "[1]", "[1, 2]", "[1;2]" and runs of them: "[1][2]".
_MARKERS = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\](?:\s*\[(\d+(?:\s*[,;]\s*\d+)*)\])*")
_MARKER_GROUP = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# Characters that markdown (GFM) would interpret inside running text.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+|~!$])")
# What GFM would turn into a link by itself: "https://x", "www.x", "namn@x.se" (autolink literals,
# found in the text after parsing, so a markdown escape does not stop them; a code span does).
_ADDRESS = re.compile(r"(?i)(?:https?://|ftp://|mailto:|www\.)[^\s<>()\[\]`]*[^\s<>()\[\]`.,;:!?'\"”’]"
                      r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A markdown link or autolink in answer text: "[text](address)", "<https://x>".
_MD_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<((?:https?://|mailto:)[^>\s]+)>")
# The unfinished marker at the end of a streamed text: "[", "[1", "[1, 2".
_PARTIAL_MARKER = re.compile(r"\[[\d,; ]*$")

DOC_TYPE_LABELS = {
    "verksamhetsberättelse": "Verksamhetsberättelse",
    "verksamhetsplan": "Verksamhetsplan",
    "presentation": "Presentation",
    "protokoll": "Protokoll",
    "övrigt": "Övrigt",
}

DEGRADED_NOTE = {
    "sv": ("Obs: språkmodellen kunde inte nås, så svaret är i stället sammanställt direkt ur "
           "källtexterna."),
    "en": ("Note: the language model could not be reached, so this answer is assembled directly from "
           "the source texts."),
}


@dataclass(frozen=True)
class SourceView:
    """One source as a side-panel element: its chip name and the markdown it shows."""

    name: str
    n: int
    doc_id: str
    content: str


@dataclass(frozen=True)
class RenderedAnswer:
    text: str
    sources: list[SourceView]


def source_name(n: int, language: str = "sv") -> str:
    return f"{'Source' if language == 'en' else 'Källa'} {n}"


def _marker_numbers(marker: str, known: set[int]) -> list[int]:
    numbers: list[int] = []
    for group in _MARKER_GROUP.finditer(marker):
        for part in re.split(r"[,;]", group.group(1)):
            n = int(part)
            if n in known and n not in numbers:
                numbers.append(n)
    return numbers


def link_citations(text: str, known: set[int], language: str = "sv") -> str:
    """Replace ``[n]`` markers with chip names; markers without a known source are dropped.

    A run of markers that cite the same sources, with no other marker and no paragraph break
    between them, shows its chips once, after the last claim of the run: nine list items from one
    slide get one "Källa 1", not nine.
    """
    matches = list(_MARKERS.finditer(text))
    numbers = [_marker_numbers(m.group(0), known) for m in matches]
    out: list[str] = []
    position = 0
    for index, match in enumerate(matches):
        out.append(text[position:match.start()])
        position = match.end()
        following = index + 1 < len(matches) and numbers[index + 1] == numbers[index] \
            and "\n\n" not in text[match.end():matches[index + 1].start()]
        if not numbers[index] or following:
            out[-1] = out[-1].rstrip(" \t")
            continue
        # A chip glued to the preceding word reads badly: keep one space before it.
        needs_space = match.start() > 0 and not text[match.start() - 1].isspace()
        out.append((" " if needs_space else "") + ", ".join(source_name(n, language) for n in numbers[index]))
    out.append(text[position:])
    linked = "".join(out)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", linked) if matches else linked


def unlink(text: str) -> str:
    """Answer text with every link shown as its text and real address, none of them clickable.

    ``[Sambruk](https://x)`` becomes ``Sambruk (`https://x`)``: an address is set as code, which GFM
    never turns into a link.
    """
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else m.group(3), text)
    return _ADDRESS.sub(lambda m: _code(m.group(0)), text)


def _code(address: str) -> str:
    return f"`` {address} ``" if "`" in address else f"`{address}`"


class MarkerStream:
    """Streamed answer text without ``[n]`` markers: the chips arrive with the finished answer.

    A marker split across tokens ("[", "1]") is held back until it is complete, so no raw
    ``[1]`` ever shows.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, token: str) -> str:
        text = self._pending + token
        partial = _PARTIAL_MARKER.search(text)
        ready = text[:partial.start()] if partial else text
        # Trailing spaces wait too: if a marker follows, they go with it ("medlemmar [2]." -> "medlemmar.").
        shown = ready.rstrip(" \t")
        self._pending = text[len(shown):]
        return re.sub(r"[ \t]*" + _MARKERS.pattern, "", shown)


def escape_markdown(text: str) -> str:
    """Corpus text shown verbatim: no accidental emphasis, links, headings or tables."""
    parts = _ADDRESS.split(text)
    addresses = [_code(m.group(0)) for m in _ADDRESS.finditer(text)]
    escaped = "".join(_MD_SPECIAL.sub(r"\\\1", part) + (addresses[i] if i < len(addresses) else "")
                      for i, part in enumerate(parts))
    # A line that starts like a list item ("- x", "1. x") or a rule would change the layout.
    escaped = re.sub(r"(?m)^(\s*)([-=])", r"\1\\\2", escaped)
    return re.sub(r"(?m)^(\s*\d+)\.(\s)", r"\1\\.\2", escaped)


def _bold(text: str) -> str:
    """Bold each line of a (possibly multi-line) span; markdown bold cannot cross a paragraph."""
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()):]
        out.append(f"{lead}**{escape_markdown(stripped)}**{trail}")
    return "\n".join(out)


def highlight(before: str, quote: str, after: str, *, cut_before: bool = False, cut_after: bool = False) -> str:
    """The cited span in bold (styled as a highlight by the UI's CSS) within its surrounding text.

    ``cut_before``/``cut_after``: the context was cut out of a longer text, so it starts or ends at a
    word boundary and shows "…" instead of half a word.
    """
    if cut_before and before and " " in before:
        before = "…" + before[before.index(" "):]
    if cut_after and after and " " in after:
        after = after[: after.rindex(" ")] + " …"
    return escape_markdown(before) + _bold(quote) + escape_markdown(after)


def file_url(citation: Citation) -> str:
    url = f"/v1/documents/{url_quote(citation.doc_id, safe='')}/file"
    if citation.file.lower().endswith(".pdf") and citation.page:
        url += f"#page={citation.page}"
    return url


def source_markdown(citation: Citation, passage: dict[str, Any] | None, language: str = "sv") -> str:
    """Side-panel markdown: title, type, date, section, page, a link to the original, the passage."""
    en = language == "en"
    doc_type = DOC_TYPE_LABELS.get(citation.doc_type, citation.doc_type)
    section = (passage or {}).get("section") or citation.section
    page = (passage or {}).get("page") or citation.page
    lines = [f"### {escape_markdown(citation.title)}", ""]
    lines.append(f"- {'Type' if en else 'Typ'}: {escape_markdown(doc_type)}")
    if citation.date:
        lines.append(f"- {'Date' if en else 'Datum'}: {escape_markdown(citation.date)}")
    if section:
        lines.append(f"- {'Section' if en else 'Avsnitt'}: {escape_markdown(section.replace(' > ', ' › '))}")
    if page:
        lines.append(f"- {'Page' if en else 'Sida'}: {page}")
    is_pdf = citation.file.lower().endswith(".pdf")
    if is_pdf:
        label = (f"Open the PDF at page {page}" if en else f"Öppna PDF:en på sidan {page}") if page else \
            ("Open the PDF" if en else "Öppna PDF:en")
    else:
        label = "Open the original file" if en else "Öppna originalfilen"
    lines.append(f"- [{label}]({file_url(citation)})")
    lines += ["", "---", ""]
    if passage is not None:
        before, after = passage.get("before", ""), passage.get("after", "")
        start = passage.get("start", citation.start)
        lines.append(highlight(before, passage.get("quote", citation.quote), after,
                               cut_before=start - len(before) > 0,
                               cut_after=bool(after) and not after[-1].isspace() and after[-1] not in ".!?:;"))
    else:
        lines.append(_bold(citation.quote))
    return "\n".join(lines) + "\n"


PassageLookup = Callable[[Citation], "dict[str, Any] | None"]


def render_answer(answer: Answer, lookup: PassageLookup) -> RenderedAnswer:
    """Message text with chips, and the side elements of the cited (or, on refusal, related) sources."""
    language = answer.language
    cited = answer.related if answer.refused else answer.citations
    passages = {c.n: lookup(c) for c in cited}
    if answer.refused:
        text = unlink(answer.text.strip())
        if cited:
            text += "\n\n**" + RELATED_HEADING[language] + "** " + ", ".join(
                source_name(c.n, language) for c in cited)
    else:
        quoted = {c.n: (c.quote, (passages[c.n] or {}).get("before", "")) for c in cited}
        text = link_citations(unlink(lay_out_quotes(answer.text.strip(), quoted)), {c.n for c in cited}, language)
    if answer.degraded:
        text += "\n\n> " + DEGRADED_NOTE[language]
    sources = [
        SourceView(name=source_name(c.n, language), n=c.n, doc_id=c.doc_id,
                   content=source_markdown(c, passages[c.n], language))
        for c in cited
    ]
    return RenderedAnswer(text=text, sources=sources)


def strip_markers(text: str) -> str:
    """Answer text without ``[n]`` markers (for a plain-text history)."""
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", _MARKERS.sub("", text)).strip()
