"""`python -m eval compare BEFORE AFTER`: what a change did, question by question.

Two output folders of `python -m eval run` on the same gold file: every headline metric before and
after, and each question whose outcome moved (right / wrong, refused, citation support, first hit rank),
so a change is judged by the questions it turned and not only by a rounded rate. Pure reading: no
model, no index.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from eval.scoring import METRIC_KEYS

_WATCHED = ("correct", "refused", "citation_supported", "rank")


@dataclass(frozen=True)
class Change:
    id: str
    type: str
    language: str
    question: str
    moved: dict[str, tuple[object, object]]  # field -> (before, after)
    missing: list[str]  # the gold terms the answer still lacks, after
    answer: str  # after


def changes(before: list[dict], after: list[dict]) -> list[Change]:
    """The questions of ``after`` whose watched fields differ from ``before`` (matched by id)."""
    earlier = {row["id"]: row for row in before}
    out = []
    for row in after:
        old = earlier.get(row["id"])
        if old is None:
            continue
        moved = {key: (old.get(key), row.get(key)) for key in _WATCHED if old.get(key) != row.get(key)}
        if moved:
            out.append(Change(row["id"], row["type"], row["language"], row["question"], moved,
                              list(row.get("missing") or []), row.get("answer", "")))
    return out


def render(before_metrics: dict, after_metrics: dict, moved: list[Change], *, answers: bool = False) -> str:
    lines = ["| metric | before | after | change |", "|---|---|---|---|"]
    for key in METRIC_KEYS:
        old, new = before_metrics.get(key), after_metrics.get(key)
        delta = f"{new - old:+.4g}" if isinstance(old, int | float) and isinstance(new, int | float) else ""
        lines.append(f"| {key} | {old} | {new} | {delta} |")
    gained = sum(1 for c in moved if c.moved.get("correct") == (False, True))
    lost = sum(1 for c in moved if c.moved.get("correct") == (True, False))
    lines += ["", f"{len(moved)} questions moved: {gained} now right, {lost} now wrong."]
    for change in moved:
        fields = ", ".join(f"{key} {old} -> {new}" for key, (old, new) in change.moved.items())
        lines.append(f"- {change.id} ({change.type}, {change.language}) {fields}: {change.question}")
        if change.missing:
            lines.append(f"  still missing: {', '.join(change.missing)}")
        if answers:
            lines.append("  " + change.answer.replace("\n", "\n  "))
    return "\n".join(lines)


def load(folder: Path) -> tuple[dict, list[dict]]:
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    with (folder / "results.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return metrics, rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("before", type=Path, help="output folder of the earlier `python -m eval run`")
    parser.add_argument("after", type=Path, help="output folder of the later run, same gold file")
    parser.add_argument("--answers", action="store_true", help="print each moved question's new answer")


def main(args: argparse.Namespace) -> int:
    try:
        (before_metrics, before), (after_metrics, after) = load(args.before), load(args.after)
    except (OSError, ValueError) as exc:
        print(f"error: {exc} (each folder needs the metrics.json and results.jsonl of `python -m eval run`)")
        return 2
    print(render(before_metrics, after_metrics, changes(before, after), answers=args.answers))
    return 0
