"""`python -m eval tune --gold eval/gold/dev.jsonl`: choose the answer layer's cut-offs on one split.

Retrieval runs once per question; then each AnswerSettings field is swept over its grid in turn
(coordinate ascent, two rounds), every candidate answering every question through Assistant.ask.
The objective is the share of questions handled right: answerable ones answered correctly,
unanswerable ones refused; ties go to the shorter answers. Tune on dev only and report test with
`python -m eval run`: a value chosen on the split it is reported on flatters.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from assistant.service import build_assistant
from assistant.settings import AnswerSettings, Settings
from eval.run import cited_evidence, load_gold, to_request
from eval.scoring import Evidence, score_question, summarize

GRID: dict[str, list[float | int]] = {
    "lexical_weight": [0.0, 0.1, 0.2, 0.3, 0.5, 0.8],
    "min_similarity": [0.3, 0.35, 0.4, 0.45, 0.5, 0.55],
    "min_similarity_english": [0.35, 0.4, 0.45, 0.5, 0.55, 0.6],
    "margin": [0.02, 0.04, 0.06, 0.08, 0.1, 0.14],
    "min_coverage": [0.0, 0.2, 0.3, 0.4, 0.5, 0.6],
    "anchor_margin": [0.1, 0.2, 0.3, 0.4, 0.6, 1.0],
    "anchor_margin_several_years": [0.1, 0.2, 0.3, 0.4, 0.6, 1.0],
    "latest_margin": [0.0, 0.05, 0.1, 0.2, 0.3],
    "figure_margin": [0.0, 0.05, 0.1, 0.2, 0.3, 0.4],
    "document_margin": [0.0, 0.02, 0.04, 0.06, 0.1],
    "list_margin": [0.02, 0.04, 0.06, 0.08, 0.1, 0.14, 0.2],
    "heading_opening": [0, 1, 2, 3],
    "min_list_entries": [2, 3, 4],
    "max_units": [1, 2, 3, 4, 5],
    "max_chars": [250, 350, 450, 600],
    "announced_chars": [0, 100, 200, 300, 500],
    "lead_context_chars": [0, 60, 80, 100, 150],
    "heading_weight": [0.0, 0.2, 0.5, 1.0],
}


def evaluate(assistant, cases, answer: AnswerSettings) -> dict:
    assistant.settings.answer = answer
    outcomes = []
    for gold, request, passages in cases:
        reply = assistant.ask(request, passages)
        outcomes.append(score_question(
            gold, ranked=[Evidence(p.file, p.text) for p in passages], answer_text=reply.text,
            refused=reply.refused, citation_numbers={c.n for c in reply.citations},
            cited=cited_evidence(reply, passages), latency_ms=reply.timings.total_ms,
        ))
    handled = sum(o.correct if o.answerable else o.refused for o in outcomes)
    return {"objective": round(handled / len(outcomes), 4), **summarize(outcomes)}


def _key(metrics: dict) -> tuple[float, float]:
    return metrics["objective"], -(metrics["answer_chars_p50"] or 0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", type=Path, default=Path("eval/gold/dev.jsonl"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=sorted(GRID), help="sweep only these settings")
    parser.add_argument("--json", type=Path, help="write the chosen values and their figures here")


def main(args: argparse.Namespace) -> int:
    console = Console()
    assistant = build_assistant(Settings())
    cases = []
    for gold in load_gold(args.gold):
        request = assistant.validate(to_request(gold, "extractive"))
        cases.append((gold, request, assistant.retrieve(request)))
    best = AnswerSettings()
    best_metrics = evaluate(assistant, cases, best)
    console.print(f"start {best.model_dump()} -> {best_metrics['objective']}")
    for _ in range(args.rounds):
        for name, values in GRID.items():
            if args.only and name not in args.only:
                continue
            for value in values:
                candidate = best.model_copy(update={name: value})
                metrics = evaluate(assistant, cases, candidate)
                chosen = _key(metrics) > _key(best_metrics)
                if chosen:
                    best, best_metrics = candidate, metrics
                # Every grid point is shown (the chosen ones bold): a flat curve says a value hardly matters.
                console.print(f"{name}={value} -> objective {metrics['objective']}, accuracy "
                              f"{metrics['answer_accuracy']}, refusal {metrics['refusal_precision']}/"
                              f"{metrics['refusal_recall']}, chars {metrics['answer_chars_p50']}",
                              style="bold" if chosen else "dim", highlight=False)
    result = {"gold": str(args.gold), "settings": best.model_dump(), "metrics": best_metrics}
    console.print_json(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0
