"""`python -m eval run --gold FILE --out DIR [--backend B] [--limit N] [--check FILE]`;
`python -m eval tune --gold eval/gold/dev.jsonl` chooses the answer layer's cut-offs (eval/tune.py);
`python -m eval compare BEFORE AFTER` shows what a change did to each question (eval/compare.py)."""

from __future__ import annotations

import argparse
import sys

from eval import compare, run, tune


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Score the assistant on a gold set.")
    commands = parser.add_subparsers(dest="command", required=True)
    run.add_arguments(commands.add_parser("run", help="answer every gold question and score the answers"))
    tune.add_arguments(commands.add_parser("tune", help="choose the answer cut-offs on a gold split"))
    compare.add_arguments(commands.add_parser("compare", help="what a change did, question by question"))
    args = parser.parse_args(argv)
    return {"run": run, "tune": tune, "compare": compare}[args.command].main(args)


if __name__ == "__main__":
    sys.exit(main())
