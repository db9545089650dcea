"""From answer text to checkable citations: sentence spans, [n] markers, quotes with document offsets.

Pure functions over cleaned text. Quotes are found with ``ingest.segmenting.segment``, the same cut
that made the answer units, so an extracted sentence and the quote that cites it are the same span.
"""

from __future__ import annotations

import re

from assistant.schemas import Citation, Passage
from ingest.screening import is_instruction
from ingest.segmenting import Span, figure_columns, plain, row_run, segment
from ingest.sparse import analyze

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


def _given_numbers(text: str) -> set[str]:
    """The numbers a passage states, its table rows' figures told apart too ("53 000 145 200" gives
    "145 200", as the answer shows the row)."""
    rows = [figure_columns(text[span.start:span.end], row_run(text, span.start))
            for span in segment(text) if span.kind == "row"]
    return _numbers_in(text) | _numbers_in("\n".join(rows))


def has_unsupported_numbers(text: str, passages: list[Passage]) -> bool:
    """Whether the answer states a number that none of the given passages contains.

    A small LLM writes fluent figures it did not read ("7,5 miljoner" for a turnover); markers alone
    cannot catch that, the passages can. Years and figures are compared digit for digit.
    """
    given = set().union(*(_given_numbers(p.text) | _numbers_in(p.title) | _numbers_in(p.date or "")
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
    said = _as_quoted(claim)
    quoted = said.split(": ", 1)[-1]  # past "Enligt <dokument>: ", which a table row's claim keeps
    claim_terms = set(analyze(claim))
    terms = [set(analyze(text[s.start:s.end])) for s in spans]
    verbatim = [
        i for i, s in enumerate(spans)
        if (shown := _as_quoted(text[s.start:s.end])) and shown in said
        and (len(shown) >= 40 or len(shown) >= 0.5 * len(quoted))
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


def _as_quoted(text: str) -> str:
    """A span as an answer quotes it, table cells apart or not ("Piteå | 74 000 | 53 000" is the row
    "Piteå 74 000 53 000")."""
    return " ".join(plain(text).replace("|", " ").split()).casefold()


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
    # A sentence that speaks to the assistant (ingest.screening) is never shown as what a source says.
    spans = [s for s in segment(text) if not is_instruction(text[s.start:s.end])]
    spans = spans or [Span(0, len(text), "sentence")]
    start = spans[0].start
    ends = [s.end for s in spans if s.end - start <= limit]
    if ends:
        return start, max(ends)
    cut = text.rfind(" ", start, start + limit)
    return start, cut if cut > start else min(len(text), start + limit)
