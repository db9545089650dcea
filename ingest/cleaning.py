"""Cleaning of PDF-extracted and markdown-ish text: pure functions, no I/O.

The output keeps one logical line per paragraph, heading, list item or table row, with a single
blank line wherever the source had paragraph breaks. The chunker relies on these conventions:

* numbered headings (``5.6.1 EGIL ...``) and ``§ 8`` item lines stay on lines of their own;
* markdown ``#`` heading markers are kept, so a heading's level survives; ``**bold**``,
  ``__bold__``, ``*italic*`` and image syntax are removed, links become ``text (url)``;
* table cells (tab- or wide-space-separated) are joined with `` | ``, one row per line;
* lone numbers that count 1, 2, 3 ... through the document are slide numbers and are kept (they
  delimit slides); other lone numbers are page numbers and are dropped;
* short lines repeated at page edges (running headers/footers) are dropped.

Nothing else is removed: apart from those and image targets, every letter and digit of the
raw text survives, in order (tests/test_cleaning.py checks this on the whole corpus).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

# ---------------------------------------------------------------- line classes shared with chunking

# the title starts with a capital, or a small letter before one ("11.4 eMedborgaren")
_NUMBERED_HEADING = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,3})\s+((?:[A-ZÅÄÖÉÜ]|[a-zåäö][A-ZÅÄÖ]).*)")
_SECTION_MARK = re.compile(r"§\s*(\d{1,3})")
_MD_HEADING = re.compile(r"(#{1,6})\s+(\S.*)")
LONE_NUMBER = re.compile(r"\d{1,3}")
# a bullet, the letter "o" used as one, "1." or "a)"
_LIST_ITEM = re.compile(r"\s*(?:[•●▪◦■▶►✓*+\-–—]|o(?= [A-ZÅÄÖ])|\d{1,2}[.)]|[a-z]\))\s+\S")
_TERMINAL_PUNCT = ".!?"

# Swedish abbreviations whose period ends no sentence (compared without their final period).
ABBREVIATIONS = frozenset(
    "bl.a t.ex m.m ca kl d.v.s dvs s.k o.s.v osv f.d inkl exkl jfr resp st nr tel p.g.a pga m.fl fl "
    "t.o.m fr.o.m etc prop kap ev enl ang avd bl ex tex dyl o.dyl mm s sid tkr mkr milj forts obs"
    .split()
)
# Words a Swedish sentence does not end on (conjunctions, articles, prepositions): a paragraph
# stopping on one was cut by a page break.
_DANGLING_WORDS = frozenset(
    "och eller samt att av för i på med till om som den det de en ett från är "
    "under inom mellan genom vid efter över utan mot hos per enligt bland kring".split()
)


def numbered_heading(line: str) -> tuple[str, str] | None:
    """(number, title) when the line reads like ``5.6.1 EGIL – ...``, else None.

    Only the shape is checked here (short, capitalised title, no sentence-final period); whether
    the number fits the document's hierarchy is the chunker's business.
    """
    match = _NUMBERED_HEADING.fullmatch(line.strip())
    if not match or " | " in line:
        return None
    title = match.group(2).rstrip()
    ends_sentence = title[-1] == "." and not ends_with_abbreviation(title)
    if len(title) > 200 or len(title.split()) > 30 or title[-1] in ",;" or ends_sentence:
        return None
    return match.group(1), title


def ends_with_abbreviation(text: str) -> bool:
    """``... m.m.`` or ``... SKL m fl.``: the final period belongs to an abbreviation."""
    words = text.split()
    return bool(words) and words[-1].rstrip(".").lower() in ABBREVIATIONS


def section_mark(line: str) -> str | None:
    """The item number of a minutes line that is exactly ``§ 8``."""
    match = _SECTION_MARK.fullmatch(line.strip())
    return match.group(1) if match else None


def markdown_heading(line: str) -> tuple[int, str] | None:
    match = _MD_HEADING.fullmatch(line.strip())
    return (len(match.group(1)), match.group(2).strip()) if match else None


def is_list_item(line: str) -> bool:
    return bool(_LIST_ITEM.match(line))


def is_table_row(line: str) -> bool:
    return " | " in line or line.startswith("| ")


def slide_numbers(lines: list[str]) -> dict[int, int]:
    """Line index -> slide number for lone numbers counting 1, 2, 3 ... through a slide deck.

    Numbers that break the count (a bold "152" on a statistics slide) are skipped, not fatal.
    It takes three or more, the last one closing the document (the last slide's footer), so
    that a numbered column of a table is not mistaken for slides.
    """
    found: dict[int, int] = {}
    expected = 1
    for index, line in enumerate(lines):
        stripped = line.strip()
        if LONE_NUMBER.fullmatch(stripped) and int(stripped) == expected:
            found[index] = expected
            expected += 1
    filled = [index for index, line in enumerate(lines) if line.strip()]
    closes_document = bool(found) and max(found) >= filled[int(0.95 * (len(filled) - 1))]
    return found if len(found) >= 3 and closes_document else {}


# ---------------------------------------------------------------- public API


def clean_text(raw: str) -> str:
    """Clean one document whose page structure, if any, survives only as text artefacts."""
    lines = _normalise_characters(raw).split("\n")
    return _clean_lines(_drop_page_furniture(lines), _Vocabulary.of(lines))


def clean_pages(pages: list[str]) -> tuple[str, list[int]]:
    """Clean page by page; page_starts[i] is where page i+1 begins in the joined text.

    Running headers are found across the real pages; an empty page starts where the next
    non-empty page does, so a chunk's page lookup lands on the page that holds its text.
    A single page (a .txt or .md file) is cleaned as a flattened document, see clean_text.
    """
    if len(pages) == 1:
        return clean_text(pages[0]), [0]
    page_lines = [_strip_page_numbers(_normalise_characters(page).split("\n")) for page in pages]
    running = _running_lines([[line.strip() for line in lines if line.strip()] for lines in page_lines], 3)
    vocabulary = _Vocabulary.of([line for lines in page_lines for line in lines])
    cleaned = [_clean_lines(_drop_edge_lines(lines, running), vocabulary) for lines in page_lines]
    text, starts = "", []
    for page_text in cleaned:
        if page_text and text:
            text += "\n\n"
        starts.append(len(text))
        text += page_text
    for index in range(len(starts) - 2, -1, -1):  # empty pages: where the next page starts
        if not cleaned[index]:
            starts[index] = starts[index + 1]
    return text, starts


def _drop_edge_lines(lines: list[str], running: set[str]) -> list[str]:
    edges = _edge_indices(lines)
    return [line for index, line in enumerate(lines) if not (index in edges and line.strip() in running)]


def _edge_indices(lines: list[str]) -> list[int]:
    """Indices of the first and last non-empty line of a page (one index for a one-line page)."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    return sorted({filled[0], filled[-1]}) if filled else []


# ---------------------------------------------------------------- characters

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009"), " ")


def _normalise_characters(raw: str) -> str:
    """NFC, one newline convention, no invisible characters; form feeds become page breaks."""
    text = unicodedata.normalize("NFC", raw).translate(_INVISIBLE).translate(_SPACES)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\f\n")


# ---------------------------------------------------------------- page furniture


def _inferred_pages(lines: list[str]) -> list[list[int]]:
    """Indices of the non-empty lines of each page of a flattened PDF text.

    Pages leave traces: pypdf starts each page's text with a single space, pages often end in a
    lone page number, and form feeds, where present, are explicit. Noisy (tables also indent by
    one space), but only used to ask whether a repeated line sits at page edges.
    """
    pages: list[list[int]] = [[]]
    for index, line in enumerate(lines):
        if line == "\f" or LONE_NUMBER.fullmatch(line.strip()):
            pages.append([])
            continue
        if re.match(r" \S", line):
            pages.append([])
        if line.strip():
            pages[-1].append(index)
    return [page for page in pages if page]


def _running_lines(pages: list[list[str]], min_repeats: int) -> set[str]:
    """Short lines that repeat and mostly sit first or last on a page: headers and footers.

    Repetition alone would also catch sub-headings such as "E-nämndens beslut" that recur in
    every item of the minutes; requiring the page edge keeps those.
    """
    counts = Counter(line for page in pages for line in page)
    at_edge = Counter(line for page in pages if page for line in {page[0], page[-1]})
    return {
        line
        for line, count in counts.items()
        if count >= min_repeats
        and at_edge[line] >= 0.6 * count
        and len(line) <= 80
        and len(line.split()) <= 8
        and re.search(r"[^\W\d_]", line)
        and line[-1] not in ".:"
        and not (numbered_heading(line) or section_mark(line) or is_list_item(line))
    }


def _drop_page_furniture(lines: list[str]) -> list[str]:
    """Remove running headers/footers where they sit at a page edge, and page numbers.

    A running header's words inside running text ("granskning för Norrbottens e-nämnd år 2021")
    stay; lone numbers that count slides stay too.
    """
    pages = _inferred_pages(lines)
    running = _running_lines([[lines[index].strip() for index in page] for page in pages], min_repeats=4)
    edges = {index for page in pages for index in (page[0], page[-1]) if lines[index].strip() in running}
    slides = slide_numbers(lines)
    return [
        line
        for index, line in enumerate(lines)
        if line != "\f"
        and index not in edges
        and (index in slides or not LONE_NUMBER.fullmatch(line.strip()))
    ]


_PAGE_NUMBER = re.compile(
    r"(?:(?:sida|page)\s+)?\d{1,4}(?:\s*(?:/|av|of)\s*\d{1,4})?|[-–]\s*\d{1,4}\s*[-–]", re.I
)


def _strip_page_numbers(lines: list[str]) -> list[str]:
    """Drop a page-number line ("3", "Sida 3 av 12", "- 3 -") at the top or bottom of a page."""
    edges = set(_edge_indices(lines))
    return [line for i, line in enumerate(lines) if not (i in edges and _PAGE_NUMBER.fullmatch(line.strip()))]


# ---------------------------------------------------------------- hyphenation

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_SUSPENDED_BEFORE = ("och", "eller", "samt", "resp", "respektive", "till")
_HYPHEN_PREFIXES = ("icke",)


@dataclass(frozen=True)
class _Vocabulary:
    """How the whole document spells its words, to repair line-broken and letter-spaced ones."""

    compounds: Counter[str]  # words as written, hyphenated compounds included
    words: frozenset[str]  # plain words, for re-splitting OCR letter runs
    # a word and the capitalised one the document writes after it on a line ("datacenter",
    # "Norrbotten"): a page break between the two cut a name, not a paragraph from a label
    names: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, lines: list[str]) -> _Vocabulary:
        compounds = Counter(word.lower() for line in lines for word in _WORD.findall(line))
        plain = {word for compound in compounds for word in compound.split("-")}
        names = {(a.lower(), _bare(b)) for line in lines for a, b in pairwise(line.split())
                 if b[:1].isupper() and a[-1:].isalpha()}
        # single letters are left out but for Swedish one-letter words, or any run could be
        # "spelled" letter by letter
        return cls(compounds, frozenset(word for word in plain if len(word) > 1 or word in ("i", "å", "ö")),
                   frozenset(names))


def _bare(word: str) -> str:
    return word.rstrip(".,;:!?)”\"'")


def _dehyphenate(lines: list[str], compounds: Counter[str]) -> list[str]:
    """Join words hyphenated across a line break (possibly across one blank line).

    ``verksamhets-|utveckling`` -> ``verksamhetsutveckling``; real hyphens stay:
    ``utrednings-|/utvecklingsprojekt``, ``planerings-|och``, ``IT-|tjänster``, ``e-|nämnd``,
    ``Claes-|Olof``, ``icke-|vinstdrivande``, and compounds the document itself spells with a
    hyphen elsewhere (``Sambruk-projekt``).
    """
    out: list[str] = []
    pending = list(reversed(lines))  # a stack, so a joined line can be examined again
    while pending:
        line = pending.pop()
        match = _HYPHEN_END.search(line.rstrip())
        nxt = _continuation_index(pending) if match else None
        if match is None or nxt is None:
            out.append(line)
            continue
        rest = pending[nxt].strip()
        del pending[nxt:]
        pending.append(line.rstrip()[:-1] + _hyphen_joiner(match.group(1), rest, compounds) + rest)
    return out


def _continuation_index(pending: list[str]) -> int | None:
    """Stack index of the line that carries on a word broken at a line end, if any.

    One blank line may intervene (table cells), but only before a lower-case continuation.
    """
    for depth in (1, 2):
        if len(pending) < depth:
            return None
        rest = pending[-depth].strip()
        if not rest:
            continue
        if rest[0].islower():
            return len(pending) - depth
        if depth == 1 and (rest[0].isupper() or rest[0] == "/") and not is_list_item(rest):
            return len(pending) - depth
        return None
    return None


def _hyphen_joiner(prefix: str, rest: str, lexicon: Counter[str]) -> str:
    """What replaces the line-final hyphen: "" (wrap hyphen), "-" (real hyphen) or "- " (suspended)."""
    suffix_match = re.match(r"[^\W\d_]+", rest)
    suffix = suffix_match.group(0) if suffix_match else ""
    if suffix.lower() in _SUSPENDED_BEFORE:
        return "- "
    if (
        not suffix
        or rest[0].isupper()
        or len(prefix) == 1
        or prefix[-1].isupper()
        or prefix.lower() in _HYPHEN_PREFIXES
    ):
        return "-"
    joined, hyphenated = (prefix + suffix).lower(), f"{prefix}-{suffix}".lower()
    if lexicon[joined]:
        return ""
    if lexicon[hyphenated] or any(word.startswith(prefix.lower() + "-") for word in lexicon):
        return "-"
    return ""


# ---------------------------------------------------------------- lines and paragraphs


@dataclass
class _Line:
    kind: str  # "blank" | "heading" | "mark" | "table" | "list" | "text"
    text: str
    last_length: int  # length of the last physical line merged in: tells a wrapped line


_TAB_AS_SPACE_WORDS = re.compile(r"[^\W\d_][\w-]*,?")
_COLUMN_GAP = re.compile(r"(?<=\S) {3,}(?=\S)|(?<=[^\s.!?,;:]) {2}(?=[A-ZÅÄÖ0-9]|-\d)")
_BULLET_GAP = re.compile(r"^(\s*)([•●▪◦■▶►✓*+\-–—]|o(?=\s+[A-ZÅÄÖ]))\s+")


def _classify(raw_line: str) -> _Line:
    """Turn one physical line into a classified, whitespace-normalised line."""
    line = raw_line.rstrip()
    if not line.strip():
        return _Line("blank", "", 0)
    indent = "  " if re.match(r"(?: {2,}|\t+)(?:[-*+]|\d{1,2}\.)\s", line) else ""
    # a leading tab is an empty first cell in a table row, mere indentation elsewhere
    line = line.lstrip(" ") if "\t" in line.strip() else line.strip()
    line = _BULLET_GAP.sub(lambda m: m.group(1) + m.group(2) + " ", line)
    cells = _table_cells(line)
    if cells is not None:
        return _Line("table", " | ".join(cells).strip(), len(line))
    text = indent + re.sub(r"\s+", " ", line)
    stripped = text.strip()
    if section_mark(stripped):
        kind = "mark"
    elif numbered_heading(stripped) or markdown_heading(stripped):
        kind = "heading"
    elif is_list_item(text):
        kind = "list"
    else:
        kind = "text"
    return _Line(kind, text, len(text))


def _table_cells(line: str) -> list[str] | None:
    """Cells of a table row, or None when the line is not one.

    Tabs separate columns, except where a word processor used them as word spaces
    (``4.2 Beaktade<TAB>alternativ``). Three or more spaces separate columns; two do when they
    are not sentence spacing (``Boden  Provisum``, ``1 792  1 673 120``).
    """
    if "\t" in line:
        spaced = re.sub(r"\t+", " ", line).strip()
        cells = line.split("\t")
        words_only = all(_TAB_AS_SPACE_WORDS.fullmatch(cell) for cell in cells if cell)
        if numbered_heading(spaced) or (words_only and any(cell[:1].islower() for cell in cells)):
            return None
        cells = [re.sub(r"\s+", " ", cell).strip() for cell in cells]
    elif _COLUMN_GAP.search(line) and not numbered_heading(line):
        cells = [re.sub(r"\s+", " ", cell).strip() for cell in _COLUMN_GAP.split(line)]
    else:
        return None
    while cells and not cells[-1]:
        cells.pop()
    return cells if len(cells) >= 2 else None


def _is_continuation(prev: _Line, line: _Line, width: float, stands_alone: bool) -> bool:
    """Whether a physical line carries on the previous one (a hard wrap) rather than starting anew.

    ``stands_alone``: the line is followed by a blank line, so if it is also short it is a label
    such as "Deltagande kommuner" even right after a full-width line.
    """
    if line.kind != "text" or prev.kind not in ("text", "list", "heading"):
        return False
    if prev.kind == "heading" and markdown_heading(prev.text):
        return False
    first, ending = line.text.lstrip()[0], prev.text[-1]
    if first.islower():
        return True
    if prev.kind == "heading" or ending == ":":
        return False
    if first in "(”\"'’«,;)%" and ending not in _TERMINAL_PUNCT:
        return True
    is_label = stands_alone and len(line.text.split()) <= 5 and line.text[-1] not in _TERMINAL_PUNCT
    return prev.last_length >= 0.6 * width and not is_label


def _line_width(lines: list[_Line]) -> float:
    """Typical wrap width of the document: the 90th percentile of prose line lengths."""
    lengths = sorted(line.last_length for line in lines if line.kind in ("text", "list"))
    return float(lengths[int(0.9 * (len(lengths) - 1))]) if lengths else 0.0


def _unwrap(lines: list[_Line]) -> list[_Line]:
    """Merge hard-wrapped physical lines into logical lines; blank lines stay."""
    width = _line_width(lines)
    out: list[_Line] = []
    for index, line in enumerate(lines):
        prev = out[-1] if out else None
        stands_alone = index + 1 == len(lines) or lines[index + 1].kind == "blank"
        if prev is not None and _is_continuation(prev, line, width, stands_alone):
            prev.text = f"{prev.text} {line.text.strip()}"
            prev.last_length = line.last_length
            if prev.kind == "heading" and not (numbered_heading(prev.text) or markdown_heading(prev.text)):
                prev.kind = "text"
        else:
            out.append(line)
    return out


def _join_page_breaks(lines: list[_Line], names: frozenset[tuple[str, str]]) -> list[_Line]:
    """Re-join a sentence split by a page break (blank lines between its two halves). The page's
    footnotes ("⁶ <https://…>") may stand between the halves; they follow the joined sentence."""
    out: list[_Line] = []
    for line in lines:
        last = len(out) - 1
        while last >= 0 and (out[last].kind == "blank" or _FOOTNOTE.match(out[last].text)):
            last -= 1
        prev = out[last] if last >= 0 else None
        if (
            prev is not None
            and last < len(out) - 1
            and prev.kind in ("text", "list")
            and line.kind == "text"
            and _cut_by_page_break(prev.text, line.text, names)
        ):
            notes = [note for note in out[last + 1 :] if note.kind != "blank"]
            del out[last + 1 :]
            prev.text = f"{prev.text} {line.text}"
            prev.last_length = line.last_length
            for note in notes:
                out += [_Line("blank", "", 0), note]
        else:
            out.append(line)
    return out


_FOOTNOTE = re.compile(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+ ")
_LOWER_WORD = re.compile(r"[a-zåäöéü]{2,}(?=[\s,.;:])(?!://)")  # a word, not an address


def _cut_by_page_break(before: str, after: str, names: frozenset[tuple[str, str]]) -> bool:
    """A paragraph that stops mid-sentence, followed after blank lines by one that goes on in lower
    case, or with a figure after a word that needs one ("införs under" / "2030.").

    Either it ends on a word no sentence ends on ("tjänste- och"); or what follows opens with a
    lower-case word (not a label such as "eAnsökan-EkBist®") and what stops is a sentence or a list
    item (slides double-spaced by the PDF: "o Kostnaderna faktureras direkt till respektive" /
    "kommun från leverantören."), not a title in lower case ("diwise – en komplett IoT-plattform");
    or both sides are long enough that a lower-case start cannot be a label; or a sentence or list item
    stops inside a name that the document writes whole elsewhere ("alternativet Datacenter" /
    "Norrbotten ingå inte i budgeten ...").
    """
    if before[-1] in _TERMINAL_PUNCT + ":;”\")":
        return False
    if before.split()[-1].lower() in _DANGLING_WORDS:
        return after[0].islower() or after[0] in "0123456789"
    sentence = before[0].isupper() or is_list_item(before)
    if _LOWER_WORD.match(after) and sentence:
        return True
    if (sentence and len(_LOWER_WORD.findall(after)) >= 3  # the name's sentence goes on: no title
            and (before.split()[-1].lower(), _bare(after.split()[0])) in names):
        return True
    return after[0].islower() and len(before.split()) >= 10 and len(after.split()) >= 4


# ---------------------------------------------------------------- inline markup

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
# [text](url), [text]( url ), [text](<url>) and [text](url "title"): the text and the real address stay
_LINK = re.compile(r"\[([^\]]+)\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_LETTER_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_] ){3,}[^\W\d_](?!\S)")


def _strip_markup(text: str) -> str:
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: f"{m.group(1)} ({(m.group(2) or m.group(3)).strip()})", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    return _ITALIC.sub(r"\1", text)


def _join_letter_spaced(text: str, lexicon: frozenset[str]) -> str:
    """``K o m m u n f u l l m ä k t i g e i G ä l l i v a r e`` -> ``Kommunfullmäktige i Gällivare``.

    OCR of spaced-out type loses the word spaces; the run is re-split into words the document
    uses elsewhere, falling back to splitting only before a capital that follows a small letter.
    """

    def join(match: re.Match[str]) -> str:
        letters = match.group(0).replace(" ", "")
        words = _split_into_words(letters, lexicon)
        if words:
            return " ".join(words)
        return re.sub(r"(?<=[^\W\d_])(?=[A-ZÅÄÖ])", " ", letters)

    return _LETTER_SPACED.sub(join, text)


def _split_into_words(letters: str, lexicon: frozenset[str]) -> list[str] | None:
    """Fewest lexicon words that spell ``letters`` exactly (case-insensitive), or None."""
    lower = letters.lower()
    best: list[list[str] | None] = [[]] + [None] * len(lower)
    for end in range(1, len(lower) + 1):
        for start in range(end):
            head = best[start]
            if head is not None and lower[start:end] in lexicon and (
                best[end] is None or len(head) + 1 < len(best[end])  # type: ignore[arg-type]
            ):
                best[end] = head + [letters[start:end]]
    return best[-1]


def _finish(line: _Line, lexicon: frozenset[str]) -> str:
    if line.kind == "blank":
        return ""
    indent = "  " if line.text.startswith("  ") else ""
    text = _join_letter_spaced(_strip_markup(line.text.strip()), lexicon)
    return indent + re.sub(r"(?<=\S) {2,}", " ", text)


# ---------------------------------------------------------------- pipeline


def _clean_lines(lines: list[str], vocabulary: _Vocabulary) -> str:
    physical = [_classify(line) for line in _dehyphenate(lines, vocabulary.compounds)]
    out: list[str] = []
    for line in _join_page_breaks(_unwrap(physical), vocabulary.names):
        text = _finish(line, vocabulary.words)
        if text or (out and out[-1]):
            out.append(text)
    return unicodedata.normalize("NFC", "\n".join(out).strip("\n"))
