"""Pure scoring for the gold-set evaluation.

``norm_words``, ``covers`` and ``contains_all`` follow the reference peer (../shared/peer) to the letter,
so that the assistant's figures and the peer's are computed by the same rule and can be compared.
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
    "latency_p50_ms",
    "latency_p95_ms",
    "questions",
)

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


def missing_terms(answer: str, must_include: Iterable[str]) -> list[str]:
    """The must-include strings whose normalised words do not appear, in order, in the answer.

    A plain substring test on the space-joined words (as the peer does), so an inflected Swedish form
    ("Provisums", "budgeten") still counts for its stem.
    """
    joined = " ".join(norm_words(answer))
    return [m for m in must_include if " ".join(norm_words(m)) not in joined]


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

    Latencies (``*_ms``) are upper bounds, every other metric a lower bound.
    """
    failures = []
    for name, limit in thresholds.items():
        if limit is None:
            continue
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: not measured in this run (threshold {limit})")
        elif name.endswith("_ms") and value > limit:
            failures.append(f"{name}: {value} above the maximum {limit}")
        elif not name.endswith("_ms") and value < limit:
            failures.append(f"{name}: {value} below the minimum {limit}")
    return failures
