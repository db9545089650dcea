"""Evidence: which answer units of the retrieved passages answer the question, chosen by the model.

Every unit (sentence, list item, table row, slide fragment; see ``ingest.segmenting``) carries its
cosine to the question, computed by retrieval with the query vector it already had. Selection adds
only structure that holds for any question: a list question is answered by the items or child
headings that fit it, each once, newest document first; a "how many / when" question by a unit that
holds a figure; a second document that fits nearly as well as the best one is heard too. The
refusal is decided by signals that do not depend on wording: the best unit's cosine, and whether the
evidence holds the names and years the question asks about. Every cut-off is a setting
(``AnswerSettings``), chosen on the dev split. Pure functions; no model call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from assistant.query import asks_list, asks_quantity, names_in, years_mentioned
from assistant.schemas import Passage
from assistant.settings import AnswerSettings
from ingest.segmenting import plain

Shape = Literal["sentences", "list", "refusal"]
_DIGIT = re.compile(r"\d")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|§\s*\d+)\s+")


@dataclass(frozen=True)
class Unit:
    passage: int  # index into the passages
    index: int  # index among the passage's units
    start: int  # offsets into passage.text
    end: int
    kind: str
    level: int
    score: float  # cosine to the question
    text: str  # as an answer shows it


@dataclass
class Item:
    """One entry of a list answer: a list item or table row, or a child heading with its opening."""

    label: str
    score: float
    units: list[Unit]  # what the entry is quoted from
    passages: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    shape: Shape
    units: list[Unit] = field(default_factory=list)  # sentences shape: in answer order
    items: list[Item] = field(default_factory=list)  # list shape
    best: float = 0.0  # the best unit's cosine (for diagnostics and the refusal)
    reason: str = ""  # why it refused


def passage_units(passages: list[Passage]) -> list[Unit]:
    """Every unit of every passage with its score; units without vectors (none indexed) are skipped."""
    units: list[Unit] = []
    for p, passage in enumerate(passages):
        if passage.unit_scores is None:
            continue
        for k, (start, end, kind, level) in enumerate(passage.units):
            lo, hi = start - passage.start, end - passage.start
            if lo < 0 or hi > len(passage.text):
                continue  # a unit of a neighbour chunk's overlap that this passage does not hold
            units.append(Unit(p, k, lo, hi, kind, level, float(passage.unit_scores[k]),
                              plain(passage.text[lo:hi])))
    return units


def select(question: str, passages: list[Passage], settings: AnswerSettings) -> Evidence:
    units = passage_units(passages)
    content = [u for u in units if u.kind != "heading" and len(u.text) >= settings.min_unit_chars]
    if not content:
        return Evidence("refusal", reason="no passage holds a sentence")
    content.sort(key=lambda u: u.score, reverse=True)
    best = content[0].score
    if best < settings.min_similarity:
        return Evidence("refusal", best=best, reason=f"best unit cosine {best:.2f} < {settings.min_similarity}")
    if asks_list(question):
        items = list_items(units, passages, settings)
        if len(items) >= 2:
            return _checked(question, passages, Evidence("list", items=items, best=best))
    chosen = _sentences(question, content, passages, settings)
    return _checked(question, passages, Evidence("sentences", units=chosen, best=best))


def _sentences(question: str, content: list[Unit], passages: list[Passage],
               settings: AnswerSettings) -> list[Unit]:
    """The best unit, then units close to it (another document's best one first), within a budget."""
    best = content[0].score
    pool = [u for u in content if u.score >= best - settings.margin]
    if asks_quantity(question):
        # The figure is the answer: the best unit holding one leads, if it fits nearly as well.
        figures = [u for u in content if _DIGIT.search(u.text) and u.score >= best - settings.figure_margin]
        if figures:
            pool = [figures[0], *(u for u in pool if u is not figures[0])]
    lead_document = _document(passages[pool[0].passage])
    others = [u for u in content if _document(passages[u.passage]) != lead_document
              and u.score >= best - settings.document_margin]
    if others and others[0] not in pool[:settings.max_units]:
        pool.insert(1, others[0])
    chosen: list[Unit] = []
    length = 0
    for unit in pool:
        if len(chosen) == settings.max_units:
            break
        if chosen and length + len(unit.text) > settings.max_chars:
            continue
        if any(_repeats(unit, c, passages) for c in chosen):
            continue
        chosen.append(unit)
        length += len(unit.text)
    return chosen


def list_items(units: list[Unit], passages: list[Passage], settings: AnswerSettings) -> list[Item]:
    """List entries that fit the question: items and rows, and headings judged by their opening.

    A heading's entry scores as the best of the heading and its first units, so "Inclubit" counts as
    what "Inclubit är en plattform för fjärrundervisning ..." says. Entries within the list margin
    of the best are kept, the same name once (citing every passage that has it), newest first.
    """
    entries: list[Item] = []
    by_passage: dict[int, list[Unit]] = {}
    for unit in units:
        by_passage.setdefault(unit.passage, []).append(unit)
    for p, own in by_passage.items():
        for k, unit in enumerate(own):
            if unit.kind in ("item", "row") and len(unit.text) >= settings.min_unit_chars // 3:
                entries.append(Item(unit.text, unit.score, [unit], [p]))
            elif unit.kind == "heading" and k + 1 < len(own) and own[k + 1].kind != "heading":
                body = []
                for follower in own[k + 1:]:
                    if follower.kind == "heading" or len(body) == settings.heading_opening:
                        break
                    body.append(follower)
                score = max(u.score for u in [unit, *body])
                entries.append(Item(_NUMBERING.sub("", unit.text), score, [unit, *body], [p]))
    if not entries:
        return []
    top = max(e.score for e in entries)
    kept = [e for e in entries if e.score >= top - settings.list_margin]
    kept.sort(key=lambda e: e.score, reverse=True)
    merged: list[Item] = []
    for entry in kept:
        same = next((m for m in merged if _same_name(m.label, entry.label)), None)
        if same is None:
            merged.append(entry)
        elif entry.passages[0] not in same.passages:
            same.passages.append(entry.passages[0])
    merged = merged[:settings.max_items]
    newest = sorted(merged, key=lambda e: max(_recency(passages[p]) for p in e.passages), reverse=True)
    return newest


def by_passage(evidence: Evidence) -> dict[int, list[Unit]]:
    """The units each passage contributes, in document order, best passage first: what an LLM reads."""
    grouped: dict[int, list[Unit]] = {}
    for unit in evidence.units + [u for item in evidence.items for u in item.units]:
        if unit not in grouped.setdefault(unit.passage, []):
            grouped[unit.passage].append(unit)
    return {p: sorted(units, key=lambda u: u.start) for p, units in grouped.items()}


def _checked(question: str, passages: list[Passage], evidence: Evidence) -> Evidence:
    """Refuse when the evidence does not hold a year or name the question asks about."""
    cited = evidence.units + [u for item in evidence.items for u in item.units]
    used = {u.passage for u in cited}
    said = " ".join([*(u.text for u in cited),
                     *(f"{passages[p].title} {passages[p].section} {passages[p].date or ''}" for p in used)])
    folded = _fold(said)
    missing_years = [y for y in years_mentioned(question) if str(y) not in said]
    if missing_years:
        return Evidence("refusal", best=evidence.best, reason=f"no evidence about {missing_years}")
    missing = [n for n in names_in(question) if _fold(n)[:max(4, len(n) - 2)] not in folded]
    if missing:
        return Evidence("refusal", best=evidence.best, reason=f"evidence never names {missing}")
    return evidence


def _repeats(unit: Unit, other: Unit, passages: list[Passage]) -> bool:
    a, b = passages[unit.passage].unit_vectors, passages[other.passage].unit_vectors
    if unit.text in other.text or other.text in unit.text:
        return True
    return bool(a is not None and b is not None and float(np.dot(a[unit.index], b[other.index])) > 0.95)


def _same_name(a: str, b: str) -> bool:
    """Two entries naming one thing: "EGIL – Provisioneringstjänst ..." and "Egil"; "UKA" and "UKAA"."""
    first_a, first_b = (_fold(x).split()[0] if x.split() else "" for x in (a, b))
    shorter, longer = sorted((first_a, first_b), key=len)
    return bool(shorter) and longer.startswith(shorter) and len(shorter) >= 3


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _document(passage: Passage) -> str:
    return passage.file or passage.title


def _recency(passage: Passage) -> tuple[str, int]:
    return passage.date or "", passage.year or 0

