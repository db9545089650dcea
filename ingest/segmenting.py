"""The one segmenter: cleaned text cut into answer units (headings, sentences, list items, table rows,
slide fragments) with exact offsets.

Ingest cuts chunks along these sentences and embeds every unit; the answer layer picks units as
evidence and quotes them; citations find their quotes with the same spans. One cut everywhere, so
an extracted sentence and the quote that cites it are the same span. Pure functions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ingest.cleaning import (
    ABBREVIATIONS,
    LONE_NUMBER,
    is_list_item,
    is_table_row,
    markdown_heading,
    numbered_heading,
    section_mark,
)

Kind = Literal["heading", "sentence", "item", "row", "fragment"]
# Part of every file's ingest fingerprint and of every chunk's embedded-text hash: a new version re-reads
# and re-embeds everything, since the same cuts may now read otherwise (ingest.pipeline.embedded_text_sha).
# Raise it whenever cuts, kinds or the text a unit shows change.
# 3: list items carry their nesting level; a second-level "o" bullet is no text. 4: the cleaner joins a
# paragraph a page break cut after a preposition ("... under" / "2030."). 5: minutes' attachments are
# sections of their own, no longer of the last § item (ingest.chunking._restarts). 6: the cleaner joins
# a sentence or list item that blank lines cut before a lower-case word (double-spaced slides). 7: a
# sentence goes on past its page's footnotes, which follow it. 8: a name the document writes whole elsewhere
# is joined across blank lines ("alternativet Datacenter" / "Norrbotten ingå ..."). 9: a nested list item is
# embedded under the items it stands under (ingest.pipeline.unit_inputs). 10: a slide's number, which closes
# its chunk, is no unit ("2" was a heading, "Föreningen Sambruk" / "1" a fragment). 11: a table row is
# embedded under the line that names its columns (``table_heads``). 12: a sentence that points back is
# embedded under the sentence before it (ingest.pipeline.unit_inputs).
VERSION = 12


@dataclass(frozen=True)
class Span:
    """A unit of text: ``text[start:end]`` of the string it was cut from."""

    start: int
    end: int
    kind: Kind
    level: int = 0  # headings: 1 for "#" or "5", 2 for "##" or "5.6" ...; LABEL_LEVEL for plain labels;
    # list items: their nesting (0 for a top-level item, 1 under it ...)
    line: int = 0  # index of the logical line (paragraph, item, row) the span belongs to


LABEL_LEVEL = 9
# Demonstratives, which point at what was said before ("Detta är ...", "denna funktionalitet"): the
# grammar of reference in both languages; "det" and "de" open sentences that point at nothing too
# ("Det finns ...").
DEMONSTRATIVES = "detta|denna|dessa|this|these|those"
# A sentence that points back to the one before it: it opens with a pronoun ("Det är en 50/50-modell
# som ...") or names its subject with a demonstrative ("För iOS kommer denna funktionalitet ...").
_POINTS_BACK = re.compile(rf"(?:det|den|de|där|då|it|they|there)\b|.*?\b(?:{DEMONSTRATIVES})\b",
                          re.IGNORECASE)

_LABEL_MAX_CHARS = 60
_TOC_ROW = re.compile(r"[^|]+ \| \d{1,3}")  # "Egil | 11": a table of contents line
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’»)\]]*(?=\s+(\S))")
# A line ending in two or more figures is a table row of a PDF's financial statement ("Summa kostnader
# 5 034 600 6 193 400": this year and last), not a label; one figure ("Plan 2023") is not.
_FIGURES_TAIL = re.compile(r"(?:^|\s)-?\d[\d,.%-]*\s+-?\d[\d,.%-]*$")
_LEADING_MARKS = re.compile(r"^(?:\s*(?:#{1,6}|[•●▪◦■▶►✓*+\-–—]|o(?= [A-ZÅÄÖ])|\d{1,2}[.)])\s+)+")


def points_back(sentence: str) -> bool:
    """Whether a sentence says what it speaks of only with the sentence before it."""
    return bool(_POINTS_BACK.match(sentence))


def segment(text: str) -> list[Span]:
    """Headings, sentences, list items, table rows and slide fragments of cleaned text, in order.

    Short lines without final punctuation ("labels") are resolved by their neighbours: a label
    followed by text is a heading; a label directly followed by more labels heads a line list
    (board members, recipients); labels separated by blank lines are a slide's statistics box
    ("152" / "kommuner" / "3 regioner ...") and read as one fragment.
    """
    lines = _lines(text)
    if lines and LONE_NUMBER.fullmatch(text[lines[-1][0]:lines[-1][1]]):
        # a slide's number closes its chunk: no unit (ingest.cleaning drops other lone numbers, but for a bold
        # one such as a statistics slide's "152", which its words follow)
        lines.pop()
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
        if kind == "item":
            level = _item_depth(raw)
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
    if is_table_row(line) or _FIGURES_TAIL.search(line):
        return "row", 0
    if len(line) <= _LABEL_MAX_CHARS and line.rstrip("”\"’»)")[-1:] not in ".!?:;,":
        return "label", 0
    return "text", 0


def _item_depth(raw_line: str) -> int:
    """A list item's nesting: 1 when indented or marked with a word processor's second-level bullet
    ("o", "◦"; PDFs keep the glyph and lose the indent), 2 for its third-level "▪", else 0."""
    line = raw_line.rstrip("\n")
    glyph = line.lstrip()[:1]
    indented = len(line) - len(line.lstrip()) >= 2
    return 2 if glyph == "▪" else 1 if glyph in ("o", "◦") or indented else 0


def _line_spans(text: str, start: int, end: int, kind: str, level: int, line: int) -> list[Span]:
    if kind in ("heading", "row"):
        return [Span(start, end, kind, level, line)]  # type: ignore[arg-type]
    pieces = sentences(text, start, end)
    first: Kind = "item" if kind == "item" else "sentence"
    return [Span(s, e, first if i == 0 else "sentence", level if i == 0 and kind == "item" else 0, line)
            for i, (s, e) in enumerate(pieces)]


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


def sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in text[start:end]; a line break always ends one.

    A period after an abbreviation (bl.a., t.ex., m.m., ca., kl.) or an initial ends none, and
    neither does one followed by a lower-case word.
    """
    spans = []
    line_start = start
    while line_start <= end:
        line_end = text.find("\n", line_start, end)
        line_end = end if line_end == -1 else line_end
        line = text[line_start:line_end]
        segment_start = line_start + len(line) - len(line.lstrip())
        for match in _SENTENCE_END.finditer(line):
            follower = match.group(1)[0]
            if not (follower.isupper() or follower.isdigit() or follower in "\"”“'(•–-«"):
                continue
            word = line[: match.end()].split()[-1].strip("\"”’“'()[]«»").rstrip(".!?…").lower()
            if line[match.start()] == "." and (word in ABBREVIATIONS or len(word) == 1):
                continue
            spans.append((segment_start, line_start + match.end()))
            segment_start = line_start + match.end() + 1
            while segment_start < line_end and text[segment_start].isspace():
                segment_start += 1
        if text[segment_start:line_end].strip():
            spans.append((segment_start, line_end - (len(line) - len(line.rstrip()))))
        line_start = line_end + 1
    return spans


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# an amount, a decimal: what a row of data holds, and a caption ("Not 2") does not
_DATA = re.compile(r"\d{3}|\d[,.]\d")


def table_heads(units: list[tuple[str, str]]) -> list[list[int]]:
    """For each unit (kind, text) of a sequence, the units that name its columns when it is a table row:
    the fragment standing right over its run of rows ("Gemensamma tjänster 2023 /
    Räddningstjänsten verksamhetssystem / E-arkiv Datacenter Norrbotten grundplattform" over "Piteå 74 000
    53 000 145 200"), and the rows opening the run that hold no data, only years and captions ("Not 2 |
    Föreningens intäkter" / "kr 2011 2010 2009 2008" over "Medlemsavgifter 2 428 249 ..."). A row says
    which line of the table it is; what its figures measure, only its head does. A heading over the rows
    is no head: every unit under a heading has it for context already."""
    heads: list[list[int]] = []
    run: list[int] = []  # the head of the current run of rows
    opening = False  # whether every row of the run so far names columns
    for k, (kind, text) in enumerate(units):
        if kind != "row":
            heads.append([])
            continue
        if k == 0 or units[k - 1][0] != "row":
            run, opening = ([k - 1] if k > 0 and units[k - 1][0] == "fragment" else []), True
        heads.append(list(run))
        opening = opening and not _DATA.search(_YEAR.sub("", text))
        if opening:
            run.append(k)
    return heads


# The figures a table row ends with, as extraction leaves them: cells one space apart ("Piteå 74 000 53 000
# 145 200"), so that a reader cannot tell "53 000 | 145 200" from "53 000 145 | 200" by the row alone.
_FIGURE_RUN = re.compile(r"(?<!\S)[-–]?\d{1,3}(?: [-–]?\d{1,3})+$")
_MAX_GROUPS = 2  # thousands groups of one figure: up to 999 999 999 (a table writes billions as "mdr")
_MAX_RUN = 24  # cells of one row read apart; a longer run (no table of these documents has one) stays whole


def figure_columns(row: str, table: Sequence[str] = ()) -> str:
    """A table row with its figures told apart by " | ": "Piteå | 74 000 | 53 000 | 145 200". Each
    figure is a lead of up to three digits and groups of three; of the readings, those whose figures have
    the most even number of digits (a table's amounts are of one size), and of those the one with as
    many figures as the rows of its ``table`` are read with ("Kiruna 75 900 91 109 167 009" can only be
    three, so "Piteå 110 500 132 642 243 142" is too). A row with one figure is left as it is."""
    run = _FIGURE_RUN.search(row)
    if run is None:
        return row
    readings = _even_readings(run.group())
    columns = _columns([*table, row])
    figures = readings[min(readings, key=lambda k: (abs(k - columns), k))]
    if len(figures) == 1:
        return row
    label = row[:run.start()].rstrip(" |")
    return " | ".join([label, *figures] if label else figures)


def _columns(rows: Sequence[str]) -> int:
    """How many figures a table's rows hold: the count that most of them can be read as most evenly."""
    runs = [run.group() for row in rows if (run := _FIGURE_RUN.search(row))]
    votes = Counter(k for run in runs for k in _even_readings(run))
    return max(votes, key=lambda k: (votes[k], -k))


@lru_cache(maxsize=256)
def _even_readings(run: str) -> dict[int, tuple[str, ...]]:
    """The readings of a run of digit groups as figures whose lengths in digits differ least, one a count."""
    tokens = run.split()
    if len(tokens) > _MAX_RUN:
        return {1: (run,)}
    found: dict[int, tuple[int, tuple[str, ...]]] = {}

    def read(at: int, figures: tuple[str, ...], digits: tuple[int, ...]) -> None:
        if at == len(tokens):
            spread = max(digits) - min(digits)
            if len(figures) not in found or spread < found[len(figures)][0]:
                found[len(figures)] = (spread, figures)
            return
        for extra in range(min(_MAX_GROUPS, len(tokens) - at - 1) + 1):
            part = tokens[at:at + extra + 1]
            if _is_figure(part):
                length = sum(c.isdigit() for c in "".join(part))
                read(at + extra + 1, (*figures, " ".join(part)), (*digits, length))

    read(0, (), ())
    if not found:  # "Kod 007 12": no reading as amounts
        return {1: (run,)}
    least = min(spread for spread, _ in found.values())
    return {k: figures for k, (spread, figures) in found.items() if spread == least}


def _is_figure(part: list[str]) -> bool:
    """A lead with no leading zero ("009" only ends a figure) and, after it, groups of three digits."""
    lead = part[0].lstrip("-–")
    if lead != "0" and lead.startswith("0"):
        return False
    return len(part) == 1 or (len(lead) <= 3 and all(len(t) == 3 and t.isdigit() for t in part[1:]))


def row_run(text: str, start: int) -> tuple[str, ...]:
    """The rows of the table whose row starts at ``start`` in ``text``: the run of row units around it."""
    return _row_runs(text).get(start, ())


@lru_cache(maxsize=32)  # an answer shows several rows of one passage: it is cut once
def _row_runs(text: str) -> dict[int, tuple[str, ...]]:
    runs: dict[int, tuple[str, ...]] = {}
    run: list[Span] = []
    for span in [*segment(text), None]:
        if span is not None and span.kind == "row":
            run.append(span)
            continue
        rows = tuple(text[r.start:r.end] for r in run)
        runs.update((r.start, rows) for r in run)
        run = []
    return runs


def plain(text: str) -> str:
    """A span as an answer shows it: no heading or bullet marks, one line."""
    return " ".join(_LEADING_MARKS.sub("", text).replace("**", "").split())
