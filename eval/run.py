"""`python -m eval run`: every gold question through the assistant's own path, scored and reported.

Each question goes through ``Assistant.retrieve`` and then ``Assistant.ask`` with those passages, the
path the HTTP API takes, so the figures describe what a user gets. Scoring rules live in eval.scoring.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, get_args

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

from assistant.schemas import Answer, AskRequest, Backend, Message, Passage
from eval import thresholds
from eval.scoring import (
    METRIC_KEYS,
    Evidence,
    GoldQuestion,
    Outcome,
    breakdown,
    check_thresholds,
    score_question,
    summarize,
)

TYPE_ORDER = (
    "factoid", "list", "numeric", "temporal", "multi_doc", "procedural", "minutes_decision",
    "conversational_followup", "unanswerable",
)


class AssistantLike(Protocol):
    def retrieve(self, request: AskRequest) -> list[Passage]: ...

    def ask(self, request: AskRequest, passages: list[Passage] | None = None) -> Answer: ...


@dataclass(frozen=True)
class Result:
    """A scored question with what the report shows about it."""

    gold: GoldQuestion
    outcome: Outcome
    answer_text: str
    backend: str
    degraded: bool


def load_gold(path: Path, limit: int | None = None) -> list[GoldQuestion]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [GoldQuestion.from_dict(row) for row in rows[:limit]]


def to_request(gold: GoldQuestion, backend: Backend | None) -> AskRequest:
    return AskRequest(
        question=gold.question,
        history=[Message(role="user", content=q) for q in gold.history],
        backend=backend,
    )


def cited_evidence(answer: Answer, passages: Sequence[Passage]) -> list[Evidence]:
    """What each citation shows: its quote, and every retrieved passage of its file whose span overlaps it."""
    evidence = []
    for citation in answer.citations:
        evidence.append(Evidence(citation.file, citation.quote))
        evidence.extend(
            Evidence(p.file, p.text)
            for p in passages
            if p.file == citation.file and p.start < citation.end and citation.start < p.end
        )
    return evidence


def evaluate(assistant: AssistantLike, gold: GoldQuestion, backend: Backend | None) -> Result:
    request = to_request(gold, backend)
    started = time.perf_counter()
    passages = assistant.retrieve(request)
    answer = assistant.ask(request, passages)
    latency_ms = (time.perf_counter() - started) * 1000
    outcome = score_question(
        gold,
        ranked=[Evidence(p.file, p.text) for p in passages],
        answer_text=answer.text,
        refused=answer.refused,
        citation_numbers={c.n for c in answer.citations},
        cited=cited_evidence(answer, passages),
        latency_ms=latency_ms,
    )
    return Result(gold, outcome, answer.text, answer.backend, answer.degraded)


def run_all(
    assistant: AssistantLike, questions: Sequence[GoldQuestion], backend: Backend | None, console: Console
) -> list[Result]:
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    results = []
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("gold questions", total=len(questions))
        for gold in questions:
            progress.update(task, description=f"{gold.id} {gold.type}")
            results.append(evaluate(assistant, gold, backend))
            progress.advance(task)
    return results


def metrics_document(outcomes: Sequence[Outcome]) -> dict:
    """metrics.json: the headline keys, then per-type and per-language breakdowns."""
    return {
        **summarize(outcomes),
        "by_type": breakdown(sorted(outcomes, key=_type_rank), lambda o: o.type),
        "by_language": breakdown(outcomes, lambda o: o.language),
    }


def _type_rank(outcome: Outcome) -> int:
    return TYPE_ORDER.index(outcome.type) if outcome.type in TYPE_ORDER else len(TYPE_ORDER)


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) and value <= 1 else f"{value}"


def _group_table(groups: dict[str, dict], label: str) -> list[str]:
    columns = ("questions", "retrieval_hit_at_5", "retrieval_mrr", "answer_accuracy", "refusal_recall",
               "citation_support_rate", "answer_chars_p50", "latency_p50_ms")
    lines = [f"| {label} | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 1)]
    lines += [f"| {name} | " + " | ".join(_fmt(m[c]) for c in columns) + " |" for name, m in groups.items()]
    return lines


def _failure_reason(outcome: Outcome) -> str:
    if not outcome.answerable:
        return "answered a question the corpus cannot answer (expected a refusal)"
    if outcome.refused:
        return "refused an answerable question"
    return "missing: " + ", ".join(f"`{m}`" for m in outcome.missing)


def render_report(metrics: dict, results: Sequence[Result], label: str) -> str:
    lines = [f"# Gold-set evaluation: {label}", "", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {_fmt(metrics[key])} |" for key in METRIC_KEYS]
    lines += ["", "## By type", "", *_group_table(metrics["by_type"], "type")]
    lines += ["", "## By language", "", *_group_table(metrics["by_language"], "language")]
    failed = [r for r in results if not r.outcome.correct]
    lines += ["", f"## Failed questions ({len(failed)})", ""]
    for r in failed:
        o = r.outcome
        rank = "n/a" if not o.answerable else (o.rank or "no passage holds a gold quote")
        lines += [f"### {o.id} ({o.type}, {o.language}): {r.gold.question}", ""]
        if r.gold.history:
            lines.append("History: " + " / ".join(r.gold.history) + "  ")
        lines += [
            f"Reason: {_failure_reason(o)}  ",
            f"Retrieval rank: {rank}; backend: {r.backend}{' (degraded)' if r.degraded else ''}  ",
            f"Reference: {r.gold.answer}",
            "",
            *("> " + line for line in (r.answer_text.strip() or "(empty)").splitlines()),
            "",
        ]
    misses = [r.outcome.id for r in results if r.outcome.answerable and r.outcome.rank is None]
    lines += [f"## Retrieval misses ({len(misses)})", "", ", ".join(misses) or "none", ""]
    return "\n".join(lines)


def draw_chart(outcomes: Sequence[Outcome], path: Path) -> None:
    """Share correct per type (for unanswerable: share refused) and the latency histogram."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers or in CI
    import matplotlib.pyplot as plt

    by_type: dict[str, list[bool]] = {}
    for o in sorted(outcomes, key=_type_rank):
        by_type.setdefault(o.type, []).append(o.correct)
    fig, (bars, hist) = plt.subplots(1, 2, figsize=(13, 5))
    names = list(by_type)
    bars.bar(range(len(names)), [sum(v) / len(v) for v in by_type.values()], color="#3b6ea5")
    bars.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=8)
    bars.set_ylim(0, 1)
    bars.set_ylabel("share correct (unanswerable: refused)")
    bars.set_title("Answer accuracy per question type")
    hist.hist([o.latency_ms for o in outcomes], bins=20, color="#a5713b")
    hist.set_xlabel("latency per question, retrieve + ask (ms)")
    hist.set_ylabel("questions")
    hist.set_title("Latency")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(out_dir: Path, results: Sequence[Result], label: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [r.outcome for r in results]
    metrics = metrics_document(outcomes)
    metrics_json = json.dumps(metrics, indent=2, ensure_ascii=False) + "\n"
    (out_dir / "metrics.json").write_text(metrics_json, encoding="utf-8")
    (out_dir / "report.md").write_text(render_report(metrics, results, label), encoding="utf-8")
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in results:
            row = {**asdict(r.outcome), "correct": r.outcome.correct, "question": r.gold.question,
                   "answer": r.answer_text, "backend": r.backend, "degraded": r.degraded}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    draw_chart(outcomes, out_dir / "chart.png")
    return metrics


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", type=Path, required=True,
                        help="gold JSONL file, e.g. eval/gold/dev.jsonl")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for metrics.json, report.md, results.jsonl and chart.png")
    parser.add_argument("--backend", choices=get_args(Backend),
                        help="answer backend; default: the configured one (SAMBRUK_BACKEND / sambruk.toml)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--check", type=Path,
                        help="thresholds JSON (eval/thresholds.json); exit 1 when a metric misses its limit")
    parser.add_argument("--split",
                        help="the split whose limits --check applies; default: the gold file's stem")


def main(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    questions = load_gold(args.gold, args.limit)
    try:
        limits = thresholds.for_split(args.check, args.split or args.gold.stem) if args.check else None
    except KeyError as exc:
        console.print(f"[red]error:[/] {exc.args[0]}")
        return 2
    # Imported here: the service loads torch and the embedding model stack, which the pure parts don't need.
    from assistant.service import ServiceUnavailable, build_assistant
    from assistant.settings import Settings
    from ingest.embedding import EmbeddingModelMissing
    from ingest.store import IndexMismatch

    settings = Settings(backend=args.backend) if args.backend else Settings()
    try:
        assistant = build_assistant(settings)
        results = run_all(assistant, questions, args.backend, console)
    except (ServiceUnavailable, IndexMismatch, EmbeddingModelMissing) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    label = f"{args.gold.name}, {len(questions)} questions, backend {settings.backend}"
    metrics = write_outputs(args.out, results, label)
    console.print(" ".join(f"{k}={_fmt(metrics[k])}" for k in METRIC_KEYS))
    console.print(f"wrote {args.out}/metrics.json, report.md, results.jsonl, chart.png")
    if limits is not None:
        failures = check_thresholds(metrics, limits)
        for line in failures:
            console.print(f"[red]threshold missed:[/] {line}")
        if failures:
            return 1
    return 0

