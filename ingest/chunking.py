"""Structure-aware chunking of cleaned text (see ``ingest.cleaning``) into retrieval passages.

Sections come from the document's own structure: ``§ N`` items in minutes, numbered headings
whose numbers fit the hierarchy (``5.6`` -> ``5.6.1``), markdown ``#`` headings, titles listed in
a table of contents, or slides delimited by slide numbers. Chunks never straddle two sections,
except that a section too small to stand alone (a bare heading) is carried into the next one.
Every chunk is an exact slice of the cleaned text: ``cleaned[start:end] == text``.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

from ingest.cleaning import (
    is_list_item,
    is_table_row,
    markdown_heading,
    numbered_heading,
    section_mark,
    slide_numbers,
)
from ingest.segmenting import sentences

# Measured with the embedding model's tokenizer (embeddinggemma) on this corpus: Swedish runs at
# about 3.5 characters, or 2.1 tokens per word (compounds split into several pieces), so the
# English rules of thumb (chars/4, words*1.35) would undercount by 15-35%.
CHARS_PER_TOKEN = 3.5


@dataclass(frozen=True)
class ChunkSpan:
    section_path: tuple[str, ...]
    section_number: str | None  # "5.6.1", "§ 8", or a slide number such as "3"
    start: int
    end: int
    page: int | None  # 1-based page where the chunk starts; None without page_starts
    text: str


def estimate_tokens(text: str) -> int:
    stripped = text.strip()
    return math.ceil(len(stripped) / CHARS_PER_TOKEN) if stripped else 0


def chunk_text(
    text: str,
    *,
    page_starts: list[int] | None = None,
    target_tokens: int = 260,
    max_tokens: int = 350,
    overlap_tokens: int = 40,
    min_tokens: int = 25,
) -> list[ChunkSpan]:
    if not 0 < min_tokens <= target_tokens <= max_tokens or not 0 <= overlap_tokens < target_tokens:
        raise ValueError("need 0 < min_tokens <= target_tokens <= max_tokens, overlap_tokens < target_tokens")
    limits = _Limits(target_tokens, max_tokens, overlap_tokens, min_tokens)
    chunks = []
    pages = page_starts or [0]
    for section in _merge_tiny(text, _sections(text), min_tokens):
        for start, end in _section_chunks(text, section, limits, pages):
            start += len(text[start:end]) - len(text[start:end].lstrip())
            page = bisect.bisect_right(page_starts, start) if page_starts else None
            chunks.append(ChunkSpan(section.path, section.number, start, end, page, text[start:end]))
    return chunks


@dataclass(frozen=True)
class _Limits:
    target: int
    max: int
    overlap: int
    min: int


# ---------------------------------------------------------------- lines


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # excludes the newline
    text: str


def _split_lines(text: str, start: int = 0, end: int | None = None) -> list[_Line]:
    end = len(text) if end is None else end
    lines, pos = [], start
    while pos <= end:
        stop = text.find("\n", pos, end)
        stop = end if stop == -1 else stop
        lines.append(_Line(pos, stop, text[pos:stop]))
        pos = stop + 1
    return lines


def _tokens(text: str, start: int, end: int) -> int:
    return estimate_tokens(text[start:end])


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class _Heading:
    line: int  # index of the heading's first line
    rank: int  # 0: § item; 1...: heading depth
    title: str
    number: str | None
    restarts: bool = False  # a new document's numbering: closes every heading still open, § item too


@dataclass(frozen=True)
class _Section:
    start: int
    end: int
    path: tuple[str, ...]
    number: str | None


def _sections(text: str) -> list[_Section]:
    """Partition the text into sections, a heading-less preamble included."""
    lines = _split_lines(text)
    slides = slide_numbers([line.text for line in lines])
    if slides:
        return _slide_sections(text, lines, slides)
    headings = _headings(lines)
    starts = [lines[heading.line].start for heading in headings] + [len(text)]
    sections = [_Section(0, starts[0], (), None)] if text[: starts[0]].strip() else []
    stack: list[_Heading] = []
    for index, heading in enumerate(headings):
        while stack and (stack[-1].rank >= heading.rank or heading.restarts):
            stack.pop()
        stack.append(heading)
        number = next((h.number for h in reversed(stack) if h.number), None)
        sections.append(_Section(starts[index], starts[index + 1], tuple(h.title for h in stack), number))
    return sections


def _headings(lines: list[_Line]) -> list[_Heading]:
    texts = [line.text.strip() for line in lines]
    contents = _table_of_contents_lines(texts)
    listed_titles, after_toc = _listed_titles(texts)
    headings: list[_Heading] = []
    numbering: tuple[int, ...] | None = None
    in_item = False
    skip: set[int] = set()
    for index, text in enumerate(texts):
        if not text or index in skip or index in contents:
            continue
        item, md, numbered = section_mark(text), markdown_heading(text), numbered_heading(text)
        if item:  # the item's title is the next non-empty line
            title_index = next((i for i in range(index + 1, len(texts)) if texts[i]), index)
            skip.add(title_index)
            title = texts[title_index] if title_index != index else ""
            headings.append(_Heading(index, 0, f"§ {item} {title}".strip(), f"§ {item}"))
            numbering, in_item = None, True
        elif md:
            headings.append(_Heading(index, md[0], md[1], None))
        elif numbered:
            parts = tuple(int(part) for part in numbered[0].split("."))
            restarts = _restarts(numbering, parts, in_item)
            if restarts or _follows(numbering, parts):
                headings.append(_Heading(index, len(parts), text, numbered[0], restarts))
                numbering, in_item = parts, False
        elif index > after_toc and text in listed_titles and _stands_alone(texts, index):
            headings.append(_Heading(index, 1, text, None))
    return headings


def _follows(previous: tuple[int, ...] | None, number: tuple[int, ...]) -> bool:
    """Whether a heading number continues the numbering so far (tolerating one missed heading).

    Numbers that jump around (``6.1`` then ``2.2.1``) are table cells or references, not headings.
    """
    if previous is None:
        return (len(number) == 1 and number[0] <= 3) or all(part == 1 for part in number)
    shorter = min(len(previous), len(number))
    common = next((i for i in range(shorter) if previous[i] != number[i]), shorter)
    if common == len(previous):
        return len(number) == common + 1 and number[-1] <= 2
    if common == len(number):
        return False
    step = number[common] - previous[common]
    return 0 < step <= (4 if common == 0 else 2) and all(part == 1 for part in number[common + 1 :])


def _restarts(previous: tuple[int, ...] | None, number: tuple[int, ...], in_item: bool) -> bool:
    """``1`` or ``1.1`` out of sequence, or in a § item, starts a new document: minutes carry their
    attachments (a revision memo, a pre-study report) after the last item, each numbering its own
    chapters. Left nested, a report on e-learning would be cited as part of the last item."""
    if not all(part == 1 for part in number):
        return False
    return in_item or (previous is not None and not _follows(previous, number))


def _table_of_contents_lines(texts: list[str]) -> set[int]:
    """Numbered heading lines that follow one another with nothing in between: a contents list."""
    contents: set[int] = set()
    run: list[int] = []
    for index, text in enumerate([*texts, "end"]):
        if not text:
            continue
        if numbered_heading(text):
            run.append(index)
            continue
        if len(run) >= 4:
            contents.update(run)
        run = []
    return contents


_CONTENTS_ENTRY = re.compile(r"(.+?) \| (\d{1,3})")


def _listed_titles(texts: list[str]) -> tuple[set[str], int]:
    """Titles from a "Title | page" contents table and the line where the table ends.

    Documents exported without numbered headings (the 2026 plan) name their sections only here.
    """
    entries = [(index, _CONTENTS_ENTRY.fullmatch(text)) for index, text in enumerate(texts) if text]
    titles: set[str] = set()
    last = -1
    run: list[tuple[int, str]] = []
    for index, match in [*entries, (len(texts), None)]:
        if match:
            run.append((index, match.group(1)))
            continue
        if len(run) >= 3 and not titles:
            titles, last = {title for _, title in run}, run[-1][0]
        run = []
    return titles, last


def _stands_alone(texts: list[str], index: int) -> bool:
    before = texts[index - 1] if index > 0 else ""
    after = texts[index + 1] if index + 1 < len(texts) else ""
    return not before and not after


def _slide_sections(text: str, lines: list[_Line], slides: dict[int, int]) -> list[_Section]:
    """One section per slide; a slide's number line closes it, as in the exported decks."""
    sections = []
    start = 0
    markers = sorted(slides)
    for position, marker in enumerate(markers):
        end = len(text) if position == len(markers) - 1 else lines[marker].end
        title = _slide_title(lines, start, end)
        sections.append(_Section(start, end, (title,) if title else (), str(slides[marker])))
        start = end
    return sections


def _slide_title(lines: list[_Line], start: int, end: int) -> str:
    """The slide's first markdown heading, else its first line with words (not the date)."""
    texts = [line.text.strip() for line in lines if start <= line.start < end and line.text.strip()]
    for text in texts:
        if md := markdown_heading(text):
            return md[1]
    return next((text for text in texts if len(re.findall(r"[^\W\d_]", text)) >= 2), "")


def _merge_tiny(text: str, sections: list[_Section], min_tokens: int) -> list[_Section]:
    """Carry sections too small to stand alone (a bare heading) into the next section.

    The merged section keeps the path of the section whose content it holds; a tiny last
    section joins the one before it.
    """
    merged: list[_Section] = []
    carried: int | None = None
    for index, section in enumerate(sections):
        start = section.start if carried is None else carried
        if _tokens(text, section.start, section.end) < min_tokens and index + 1 < len(sections):
            carried = start
            continue
        carried = None
        merged.append(_Section(start, section.end, section.path, section.number))
    if len(merged) >= 2 and _tokens(text, merged[-1].start, merged[-1].end) < min_tokens:
        last = merged.pop()
        merged[-1] = _Section(merged[-1].start, last.end, merged[-1].path, merged[-1].number)
    return merged


# ---------------------------------------------------------------- blocks and pieces


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    sticky: bool  # a heading or label: must not end a chunk


def _is_label(text: str) -> bool:
    """Lines that introduce what follows: headings, "Nytta för medlemmarna", "... följande:"."""
    text = text.strip()
    if numbered_heading(text) or markdown_heading(text) or section_mark(text) or text.endswith(":"):
        return True
    return len(text.split()) <= 8 and text[-1] not in ".!?" and not is_list_item(text)


def _blocks(text: str, start: int, end: int) -> list[list[_Line]]:
    """Runs of non-blank lines; a list split by blank lines is one block, a label joins the next."""
    runs: list[list[_Line]] = [[]]
    for line in _split_lines(text, start, end):
        if line.text.strip():
            runs[-1].append(line)
        elif runs[-1]:
            runs.append([])
    runs = [run for run in runs if run]
    blocks: list[list[_Line]] = []
    for run in runs:
        previous = blocks[-1] if blocks else None
        continues_list = previous and is_list_item(previous[-1].text) and is_list_item(run[0].text)
        after_label = previous and len(previous) == 1 and _is_label(previous[0].text)
        if continues_list or after_label:
            previous.extend(run)
        else:
            blocks.append(run)
    return blocks


def _pieces(text: str, block: list[_Line], limits: _Limits) -> list[_Piece]:
    """Units the packer may not cut: a list or table whole up to the hard maximum, prose lines
    whole up to the target, longer prose by sentences."""
    start, end = block[0].start, block[-1].end
    size = _tokens(text, start, end)
    if size <= limits.target and len(block) == 1:
        return [_Piece(start, end, _is_label(block[0].text))]
    if _is_list_or_table(block) and size <= limits.max:
        return [_Piece(start, end, False)]
    if len(block) > 1:
        return [piece for line in block for piece in _pieces(text, [line], limits)]
    spans = []
    for sentence in sentences(text, start, end):
        too_long = _tokens(text, *sentence) > limits.target
        spans.extend(_word_groups(text, *sentence, limits.target) if too_long else [sentence])
    return [_Piece(s, e, False) for s, e in spans]


def _is_list_or_table(block: list[_Line]) -> bool:
    """Mostly list items or table rows (a label line before them does not count against it)."""
    items = sum(1 for line in block if is_list_item(line.text) or is_table_row(line.text))
    return len(block) > 1 and items >= (len(block) - 1) / 2 and items > 0


def _word_groups(text: str, start: int, end: int, target: int) -> list[tuple[int, int]]:
    """A sentence longer than the target, cut between words (a table flattened into one line)."""
    groups: list[tuple[int, int]] = []
    for word in re.finditer(r"\S+", text[start:end]):
        word_start, word_end = start + word.start(), start + word.end()
        if groups and _tokens(text, groups[-1][0], word_end) <= target:
            groups[-1] = (groups[-1][0], word_end)
        else:
            groups.append((word_start, word_end))
    return groups


# ---------------------------------------------------------------- packing


def _section_chunks(
    text: str, section: _Section, limits: _Limits, page_starts: list[int]
) -> list[tuple[int, int]]:
    blocks = _blocks(text, section.start, section.end)
    pieces = [piece for block in blocks for piece in _pieces(text, block, limits)]
    return _pack(text, pieces, limits, page_starts)


def _pack(text: str, pieces: list[_Piece], limits: _Limits, page_starts: list[int]) -> list[tuple[int, int]]:
    """Greedy packing to the target, with whole-sentence overlap from the previous chunk.

    A piece too small to matter (under min_tokens) still joins a full chunk while the hard
    maximum allows, so no chunk is a stray line, and a chunk holding only a heading takes its
    text along up to the maximum: a heading never stands alone or ends a chunk. A page break
    ends a chunk (and takes no overlap), so that a chunk's page is the page of all its text.
    """

    def page(piece: _Piece) -> int:
        return bisect.bisect_right(page_starts, piece.start)

    chunks: list[tuple[int, int, int]] = []  # (start, end, where the new content starts)
    index = 0
    while index < len(pieces):
        first = index
        content = pieces[index].start
        same_page = index > 0 and page(pieces[index - 1]) == page(pieces[index])
        overlap = _overlap_start(text, chunks[-1], limits) if chunks and same_page else None
        fits = overlap is not None and _tokens(text, overlap, pieces[index].end) <= limits.max
        start = overlap if fits else content
        index += 1
        while index < len(pieces):
            size = _tokens(text, start, pieces[index].end)
            small = _tokens(text, pieces[index].start, pieces[index].end) < limits.min
            only_labels = all(piece.sticky for piece in pieces[first:index])
            filled = _tokens(text, content, pieces[index - 1].end) >= limits.min
            new_page = page(pieces[index]) != page(pieces[first]) and filled
            if new_page or (size > limits.target and not ((small or only_labels) and size <= limits.max)):
                break
            index += 1
        index = _without_trailing_labels(text, pieces, first, index, start, limits)
        chunks.append((start, pieces[index - 1].end, content))
    if len(chunks) >= 2 and _tokens(text, chunks[-1][2], chunks[-1][1]) < limits.min:
        if _tokens(text, chunks[-2][0], chunks[-1][1]) <= limits.max:
            last = chunks.pop()
            chunks[-1] = (chunks[-1][0], last[1], chunks[-1][2])
    return [(start, end) for start, end, _ in chunks]


def _without_trailing_labels(
    text: str, pieces: list[_Piece], first: int, stop: int, start: int, limits: _Limits
) -> int:
    """Move a heading or label (one or two lines) that would end a chunk over to the next one.

    Only when what stays is substantial: in runs of short lines (signature pages, contents
    lists) everything looks like a label and nothing should move.
    """
    if stop == len(pieces):
        return stop
    cut = stop
    while cut - first > 1 and pieces[cut - 1].sticky:
        cut -= 1
    if stop - cut <= 2 and _tokens(text, start, pieces[cut - 1].end) >= limits.target // 2:
        return cut
    return stop


def _overlap_start(text: str, previous: tuple[int, int, int], limits: _Limits) -> int | None:
    """Where the last whole sentences (about overlap tokens) of the previous chunk begin.

    Never the previous chunk's first sentence, so a chunk is not repeated wholesale; when the
    last sentence alone is longer than the overlap, it is taken up to twice the overlap.
    """
    start, end, content = previous
    starts = [s for s, _ in sentences(text, start, end) if s > start and s >= content]
    if not starts or limits.overlap == 0:
        return None
    fitting = [s for s in starts if _tokens(text, s, end) <= limits.overlap]
    if fitting:
        return fitting[0]
    return starts[-1] if _tokens(text, starts[-1], end) <= 2 * limits.overlap else None
