"""From answer text to checkable citations: sentence spans, [n] markers, quotes with document offsets.

Pure functions over cleaned text (see ``ingest.cleaning``: one logical line per paragraph, heading,
list item or table row). ``segment`` is the one sentence splitter of the answer layer: the
extractive backend picks its sentences from it and ``finalize`` finds its quotes with it, so an
extracted sentence and the quote that cites it are the same span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assistant.schemas import Citation, Passage
from ingest.cleaning import (
    ABBREVIATIONS,
    is_list_item,
    is_table_row,
    markdown_heading,
    numbered_heading,
    section_mark,
)
from ingest.sparse import analyze

Kind = Literal["heading", "sentence", "item", "row", "fragment"]


@dataclass(frozen=True)
class Span:
    """A unit of text: ``text[start:end]`` of the string it was cut from."""

    start: int
    end: int
    kind: Kind
    level: int = 0  # headings: 1 for "#" or "5", 2 for "##" or "5.6" ...; LABEL_LEVEL for plain labels
    line: int = 0  # index of the logical line (paragraph, item, row) the span belongs to


LABEL_LEVEL = 9
_LABEL_MAX_CHARS = 60
_TOC_ROW = re.compile(r"[^|]+ \| \d{1,3}")  # "Egil | 11": a table of contents line
_SENTENCE_END = re.compile(r"[.!?]+[”\"’»)]*\s+(?=[”\"«(]?[A-ZÅÄÖÉ0-9])")
_LEADING_MARKS = re.compile(r"^(?:\s*(?:#{1,6}|[•●▪◦■▶►✓*+\-–—]|\d{1,2}[.)])\s+)+")


def segment(text: str) -> list[Span]:
    """Headings, sentences, list items, table rows and slide fragments of cleaned text, in order.

    Short lines without final punctuation ("labels") are resolved by their neighbours: a label
    followed by text is a heading; a label directly followed by more labels heads a line list
    (board members, recipients); labels separated by blank lines are a slide's statistics box
    ("152" / "kommuner" / "3 regioner ...") and read as one fragment.
    """
    lines = _lines(text)
    spans: list[Span] = []
    index = 0
    while index < len(lines):
        start, end, kind, level, blank_before = lines[index]
        if kind != "label":
            spans += _line_spans(text, start, end, kind, level, index)
            index += 1
            continue
        run_end = index + 1
        while run_end < len(lines) and lines[run_end][2] == "label":
            run_end += 1
        followed_by_text = run_end < len(lines) and lines[run_end][2] in ("text", "item")
        spans += _labels(lines, index, run_end, followed_by_text)
        index = run_end
    return spans


def _lines(text: str) -> list[tuple[int, int, str, int, bool]]:
    """(start, end, kind, heading level, blank line before) of each non-empty logical line."""
    out = []
    offset, blank = 0, True
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()
        start = offset + len(raw) - len(raw.lstrip())
        offset += len(raw)
        if not stripped or _TOC_ROW.fullmatch(stripped):
            blank = True
            continue
        kind, level = _classify(stripped)
        out.append((start, start + len(stripped), kind, level, blank))
        blank = False
    return out


def _classify(line: str) -> tuple[str, int]:
    if (md := markdown_heading(line)) is not None:
        return "heading", md[0]
    if (numbered := numbered_heading(line)) is not None:
        return "heading", numbered[0].count(".") + 1
    if section_mark(line):
        return "heading", 1
    if is_list_item(line):
        return "item", 0
    if is_table_row(line):
        return "row", 0
    if len(line) <= _LABEL_MAX_CHARS and line.rstrip("”\"’»)")[-1:] not in ".!?:;,":
        return "label", 0
    return "text", 0


def _line_spans(text: str, start: int, end: int, kind: str, level: int, line: int) -> list[Span]:
    if kind in ("heading", "row"):
        return [Span(start, end, kind, level, line)]  # type: ignore[arg-type]
    pieces = _sentences(text, start, end)
    first: Kind = "item" if kind == "item" else "sentence"
    return [Span(s, e, first if i == 0 else "sentence", 0, line) for i, (s, e) in enumerate(pieces)]


def _labels(lines: list, lo: int, hi: int, followed_by_text: bool) -> list[Span]:
    """Resolve a run of label lines (see ``segment``)."""
    groups: list[list[int]] = []
    for index in range(lo, hi):
        if lines[index][4] or not groups:
            groups.append([])
        groups[-1].append(index)
    spans: list[Span] = []
    if all(len(group) == 1 for group in groups) and len(groups) > 1:
        box = [group[0] for group in groups]
        tail = box.pop() if followed_by_text else None
        if len(box) == 1:
            spans.append(Span(lines[box[0]][0], lines[box[0]][1], "heading", LABEL_LEVEL, box[0]))
        elif box:
            spans.append(Span(lines[box[0]][0], lines[box[-1]][1], "fragment", 0, box[0]))
        if tail is not None:
            spans.append(Span(lines[tail][0], lines[tail][1], "heading", LABEL_LEVEL, tail))
        return spans
    for group in groups:
        head, *rest = group
        spans.append(Span(lines[head][0], lines[head][1], "heading", LABEL_LEVEL, head))
        spans += [Span(lines[i][0], lines[i][1], "item", 0, i) for i in rest]
    return spans


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence offsets within one paragraph; abbreviations (bl.a., t.ex., s.k.) and initials end none."""
    pieces, current = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.group()[0] == "." and _is_abbreviation(text[current:match.start() + 1]):
            continue
        stop = match.start() + len(match.group().rstrip())
        pieces.append((current, stop))
        current = match.end()
    pieces.append((current, end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


def _is_abbreviation(before: str) -> bool:
    words = before.split()
    word = words[-1].lstrip("(”\"«").rstrip(".").lower() if words else ""
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def plain(text: str) -> str:
    """A span as an answer shows it: no heading or bullet marks, one line."""
    return " ".join(_LEADING_MARKS.sub("", text).replace("**", "").split())


# ------------------------------------------------------------------------------ citation markers

# [1], [1, 2], [1-3], [^1], [Källa 1], [source 2]; (1) and (1, 2) only in text without brackets.
_BRACKET = re.compile(
    r"(\s*)\[\s*\^?\s*(?:(?:källa|källor|source|sources|ref|utdrag|excerpt|passage)\s*)?"
    r"(\d{1,3}(?:\s*(?:[,;–-]|and|och)\s*\^?\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_PAREN = re.compile(r"(\s*)\((\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\)")
_GROUP = re.compile(r"\[\d+\](?:\s*\[\d+\])*")


def _numbers(listed: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:[,;]|and|och)\s*", listed, flags=re.IGNORECASE):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] <= 10:
            numbers += range(bounds[0], bounds[1] + 1)
        else:
            numbers += bounds
    return numbers


def _canonical(text: str, n_passages: int) -> str:
    """Every marker variant as ``[n][m]``; numbers that name no passage are dropped with their marker."""

    def bracket(match: re.Match[str]) -> str:
        kept = [n for n in dict.fromkeys(_numbers(match.group(2))) if 1 <= n <= n_passages]
        return match.group(1) + "".join(f"[{n}]" for n in kept) if kept else ""

    def paren(match: re.Match[str]) -> str:
        numbers = _numbers(match.group(2))
        if not all(1 <= n <= n_passages for n in numbers):
            return match.group(0)  # "(2026)" or "(3 kommuner)" is text, not a citation
        return match.group(1) + "".join(f"[{n}]" for n in dict.fromkeys(numbers))

    if _BRACKET.search(text):
        return _BRACKET.sub(bracket, text)
    return _PAREN.sub(paren, text)


def has_unresolved_markers(text: str, n_passages: int) -> bool:
    """Whether a bracket marker names a passage that was not given (an LLM citing from memory)."""
    return any(not 1 <= n <= n_passages for m in _BRACKET.finditer(text) for n in _numbers(m.group(2)))


_NUMBER = re.compile(r"\d+(?:[ \u00a0.,]\d{3})*(?:,\d+)?")


def _numbers_in(text: str) -> set[str]:
    return {re.sub(r"[ \u00a0.,]", "", n) for n in _NUMBER.findall(text)}


def has_unsupported_numbers(text: str, passages: list[Passage]) -> bool:
    """Whether the answer states a number that none of the given passages contains.

    A small LLM writes fluent figures it did not read ("7,5 miljoner" for a turnover); markers alone
    cannot catch that, the passages can. Years and figures are compared digit for digit.
    """
    given = set().union(*(_numbers_in(p.text) | _numbers_in(p.title) | _numbers_in(p.date or "")
                          for p in passages)) if passages else set()
    stated = _numbers_in(_BRACKET.sub(" ", text))
    return bool(stated - given)


def finalize(text: str, passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Normalise markers, renumber them 1..m by first appearance, and quote what each one cites."""
    text = _canonical(text, len(passages))
    order = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", text)))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    claims: dict[int, str] = {}
    out, last, claim = [], 0, ""
    for match in _GROUP.finditer(text):
        cited = list(dict.fromkeys(int(n) for n in re.findall(r"\d+", match.group())))
        claim = _claim(text[last:match.start()]) or claim or _claim(text[match.end():], first=True)
        for old in cited:
            claims.setdefault(old, claim)
        out.append(text[last:match.start()] + "".join(f"[{renumber[old]}]" for old in cited))
        last = match.end()
    out.append(text[last:])
    citations = []
    for old in order:
        passage = passages[old - 1]
        start, end = best_quote(claims[old], passage.text)
        citations.append(_citation(renumber[old], passage, start, end))
    return "".join(out), citations


def _claim(text: str, first: bool = False) -> str:
    """The sentence a marker stands behind (or, for a marker that opens the text, the one after it)."""
    spans = [s for s in segment(text) if analyze(text[s.start:s.end])]
    if not spans:
        return ""
    span = spans[0] if first else spans[-1]
    return text[span.start:span.end]


def best_quote(claim: str, text: str) -> tuple[int, int]:
    """Offsets in ``text`` of the sentence (or two) that best supports ``claim``.

    A span the claim repeats verbatim wins (an extracted sentence is its own quote); otherwise
    the span sharing most of the claim's terms (the tighter one, by Dice, on a tie), joined by a
    neighbour that adds two or more of them. A heading alone proves nothing, so it comes with the
    sentence after it.
    """
    spans = segment(text)
    if not spans:
        stripped = text.strip()
        start = text.find(stripped[:1]) if stripped else 0
        return start, start + len(stripped)
    said = plain(claim).casefold()
    claim_terms = set(analyze(claim))
    terms = [set(analyze(text[s.start:s.end])) for s in spans]
    verbatim = [
        i for i, s in enumerate(spans)
        if (shown := plain(text[s.start:s.end]).casefold()) and shown in said
        and (len(shown) >= 40 or len(shown) >= 0.5 * len(said))
    ]
    if verbatim:
        best = max(verbatim, key=lambda i: spans[i].end - spans[i].start)
        return _with_context(spans, best, best)
    shared = [len(t & claim_terms) for t in terms]
    dice = [2 * shared[i] / (len(t) + len(claim_terms) or 1) for i, t in enumerate(terms)]
    best = max(range(len(spans)), key=lambda i: (shared[i], dice[i], spans[i].kind != "heading", -i))
    lo = hi = best
    gains = {i: len((terms[i] & claim_terms) - terms[best])
             for i in (best - 1, best + 1) if 0 <= i < len(spans)}
    if gains and max(gains.values()) >= 2 and spans[best].kind != "heading":
        neighbour = max(gains, key=lambda i: gains[i])
        lo, hi = min(best, neighbour), max(best, neighbour)
    return _with_context(spans, lo, hi)


def _with_context(spans: list[Span], lo: int, hi: int) -> tuple[int, int]:
    if spans[hi].kind == "heading" and hi + 1 < len(spans):
        hi += 1
    return spans[lo].start, spans[hi].end


def _citation(n: int, passage: Passage, start: int, end: int) -> Citation:
    return Citation(
        n=n, doc_id=passage.doc_id, file=passage.file, title=passage.title, doc_type=passage.doc_type,
        date=passage.date, section=passage.section, page=passage.page, quote=passage.text[start:end],
        score=passage.score, start=passage.start + start, end=passage.start + end,
    )


def related_sources(passages: list[Passage], k: int = 3) -> list[Citation]:
    """The top passages of distinct sections, each quoted by its opening (~200 characters, whole
    sentences)."""
    related: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for passage in passages:
        if (passage.doc_id, passage.section) in seen or not passage.text.strip():
            continue
        seen.add((passage.doc_id, passage.section))
        start, end = _opening(passage.text)
        related.append(_citation(len(related) + 1, passage, start, end))
        if len(related) == k:
            break
    return related


def _opening(text: str, limit: int = 200) -> tuple[int, int]:
    spans = segment(text) or [Span(0, len(text), "sentence")]
    start = spans[0].start
    ends = [s.end for s in spans if s.end - start <= limit]
    if ends:
        return start, max(ends)
    cut = text.rfind(" ", start, start + limit)
    return start, cut if cut > start else min(len(text), start + limit)
