"""Pure scoring for the gold-set evaluation.

``norm_words`` and ``covers`` follow the reference peer (../shared/peer) to the letter, so that retrieval
figures of the assistant and the peer are computed by the same rule and can be compared. ``missing_terms``
is stricter than the peer's substring test: a must-include term matches whole words, so "95" is not found
in "1995" (see its docstring).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

METRIC_KEYS = (
    "retrieval_hit_at_1",
    "retrieval_hit_at_5",
    "retrieval_mrr",
    "answer_accuracy",
    "refusal_precision",
    "refusal_recall",
    "citation_valid_rate",
    "citation_support_rate",
    "answer_chars_p50",
    "latency_p50_ms",
    "latency_p95_ms",
    "questions",
)

# Upper bounds in a thresholds file; every other metric is a lower bound. A short answer is a limit so that
# accuracy cannot be bought with length.
UPPER_BOUND_KEYS = ("answer_chars_p50", "latency_p50_ms", "latency_p95_ms")

# A term word of at least this many letters also matches an answer word it begins (Swedish inflection and
# compounds: "Provisum" in "Provisums", "Hamburg" in "Hamburgundantaget", "UKA" in "UKAA"); shorter words
# ("AI", "HR") and anything with a digit must match whole.
_MIN_PREFIX_LETTERS = 3

_THOUSANDS = re.compile(r"(?<!\d)\d{1,3}(?:[\s,.]\d{3})+(?!\d)")
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def norm_words(text: str) -> list[str]:
    """Lower-cased word tokens; digit groups are joined so 118 337, 118,337 and 118337 compare equal."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(\d)[\s,.](?=\d{3}\b)", r"\1", text)
    return re.findall(r"\w+", text)


def covers(chunk_text: str, quote: str) -> bool:
    """A text holds a quote when at least 80 % of the quote's words occur among its words."""
    quote_words = norm_words(quote)
    if not quote_words:
        return False
    chunk_words = set(norm_words(chunk_text))
    return sum(w in chunk_words for w in quote_words) / len(quote_words) >= 0.8


def contains_all(answer: str, must_include: Iterable[str]) -> bool:
    return not missing_terms(answer, must_include)


def term_words(text: str) -> list[str]:
    """Word tokens for must-include matching: case, width and accents folded, thousands groups joined.

    Unlike norm_words, only a real thousands grouping is joined (a lead of one to three digits, then groups
    of three), so "19 543 661" becomes one word but "2021 109 medlemmar" stays a year and a count.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group()), text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.findall(r"\w+", text)


def _word_matches(term_word: str, answer_word: str, *, last: bool) -> bool:
    if term_word == answer_word:
        return True
    return last and term_word.isalpha() and len(term_word) >= _MIN_PREFIX_LETTERS and answer_word.startswith(
        term_word
    )


def _holds_term(words: Sequence[str], term: Sequence[str]) -> bool:
    n = len(term)
    return any(
        all(_word_matches(t, w, last=i == n - 1) for i, (t, w) in enumerate(zip(term, words[at:at + n])))
        for at in range(len(words) - n + 1)
    )


def missing_terms(answer: str, must_include: Iterable[str]) -> list[str]:
    """The must-include terms whose words do not appear, consecutively and whole, in the answer.

    Case, width and accents are ignored and thousands groups joined (term_words), so "19 543 661" matches
    "19 543 661 kr" with plain or no-break spaces. Numbers match whole: "95" is not in "1995" nor "950".
    Only the term's last word, when it is letters only and at least three long, may match the start of an
    answer word, so Swedish inflections and compounds count. A term with no words can never be found.
    Citation markers are no words of the answer: "[2]" does not say "2 %".
    """
    words = term_words(_MARKER.sub(" ", answer))
    return [m for m in must_include if not (term := term_words(m)) or not _holds_term(words, term)]


@dataclass(frozen=True)
class Evidence:
    """A piece of text attributed to a corpus file: a retrieved passage or what a citation points at."""

    file: str
    text: str


@dataclass(frozen=True)
class GoldSource:
    file: str
    quote: str


@dataclass(frozen=True)
class GoldQuestion:
    """One line of a gold file (see tests/test_gold.py for the format's rules)."""

    id: str
    question: str
    language: str
    type: str
    answer: str
    must_include: tuple[str, ...]
    sources: tuple[GoldSource, ...]
    history: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.sources)

    @classmethod
    def from_dict(cls, row: dict) -> GoldQuestion:
        return cls(
            id=row["id"],
            question=row["question"],
            language=row["language"],
            type=row["type"],
            answer=row["answer"],
            must_include=tuple(row["must_include"]),
            sources=tuple(GoldSource(s["file"], s["quote"]) for s in row["sources"]),
            history=tuple(row["history"]),
        )


def holds_gold(evidence: Evidence, sources: Iterable[GoldSource]) -> bool:
    """Same file and covering one gold quote, the peer's rule for a retrieval hit."""
    return any(evidence.file == s.file and covers(evidence.text, s.quote) for s in sources)


def first_hit_rank(ranked: Sequence[Evidence], sources: Sequence[GoldSource]) -> int | None:
    """1-based rank of the first passage that holds a gold quote; None when none does."""
    return next((i for i, e in enumerate(ranked, 1) if holds_gold(e, sources)), None)


def marker_numbers(text: str) -> list[int]:
    """Every n in ``[n]`` and ``[n, m]`` markers, in order of appearance."""
    return [int(n) for group in _MARKER.findall(text) for n in group.split(",")]


def citations_resolve(text: str, citation_numbers: Collection[int]) -> bool:
    """Every marker in the text names a citation that exists (vacuously true without markers)."""
    return all(n in citation_numbers for n in marker_numbers(text))


@dataclass(frozen=True)
class Outcome:
    """One question's scored result; the metrics are aggregates over these."""

    id: str
    type: str
    language: str
    answerable: bool
    rank: int | None
    refused: bool
    missing: tuple[str, ...]
    citations_valid: bool
    citation_supported: bool
    latency_ms: float
    answer_chars: int

    @property
    def correct(self) -> bool:
        """Answerable: answered with every must-include term; unanswerable: refused."""
        if not self.answerable:
            return self.refused
        return not self.refused and not self.missing


def score_question(
    gold: GoldQuestion,
    *,
    ranked: Sequence[Evidence],
    answer_text: str,
    refused: bool,
    citation_numbers: Collection[int],
    cited: Sequence[Evidence],
    latency_ms: float,
) -> Outcome:
    """Score one answer: ``ranked`` is the retrieved evidence in order, ``cited`` what its citations show."""
    return Outcome(
        id=gold.id,
        type=gold.type,
        language=gold.language,
        answerable=gold.answerable,
        rank=first_hit_rank(ranked, gold.sources) if gold.answerable else None,
        refused=refused,
        missing=tuple(missing_terms(answer_text, gold.must_include)) if gold.answerable else (),
        citations_valid=citations_resolve(answer_text, citation_numbers),
        citation_supported=gold.answerable and any(holds_gold(e, gold.sources) for e in cited),
        latency_ms=latency_ms,
        answer_chars=len(answer_text.strip()),
    )


def _rate(flags: Iterable[bool]) -> float | None:
    """Share of true flags; None when there is nothing to measure (not 0, which would read as a failure)."""
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float | int | None]:
    """The headline metrics, keyed exactly as METRIC_KEYS; None where a metric has no denominator."""
    answerable = [o for o in outcomes if o.answerable]
    answered = [o for o in outcomes if not o.refused]
    refused = [o for o in outcomes if o.refused]
    latencies = [o.latency_ms for o in outcomes]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    chars_p50 = percentile([o.answer_chars for o in answered], 50)
    return {
        "retrieval_hit_at_1": _rate(o.rank == 1 for o in answerable),
        "retrieval_hit_at_5": _rate(o.rank is not None and o.rank <= 5 for o in answerable),
        "retrieval_mrr": round(sum(1 / o.rank for o in answerable if o.rank) / len(answerable), 4)
        if answerable
        else None,
        "answer_accuracy": _rate(o.correct for o in answerable),
        "refusal_precision": _rate(not o.answerable for o in refused),
        "refusal_recall": _rate(o.refused for o in outcomes if not o.answerable),
        "citation_valid_rate": _rate(o.citations_valid for o in answered),
        "citation_support_rate": _rate(o.citation_supported for o in answered if o.answerable),
        "answer_chars_p50": None if chars_p50 is None else round(chars_p50),
        "latency_p50_ms": None if p50 is None else round(p50, 1),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
        "questions": len(outcomes),
    }


def breakdown(outcomes: Sequence[Outcome], key: Callable[[Outcome], str]) -> dict[str, dict]:
    """summarize() per group (by type, by language), groups in first-seen order."""
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(key(outcome), []).append(outcome)
    return {name: summarize(members) for name, members in groups.items()}


def check_thresholds(
    metrics: dict[str, float | int | None], thresholds: dict[str, float | int | None]
) -> list[str]:
    """One line per metric that misses its threshold; null thresholds are not checked.

    UPPER_BOUND_KEYS (latencies, answer length) are upper bounds, every other metric a lower bound.
    """
    failures = []
    for name, limit in thresholds.items():
        if limit is None:
            continue
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: no value (limit {limit})")
        elif name in UPPER_BOUND_KEYS and value > limit:
            failures.append(f"{name}: {value} above the maximum {limit}")
        elif name not in UPPER_BOUND_KEYS and value < limit:
            failures.append(f"{name}: {value} below the minimum {limit}")
    return failures
