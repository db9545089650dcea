"""`python -m eval run --gold FILE --out DIR [--backend B] [--limit N] [--check FILE]`."""

from __future__ import annotations

import argparse
import sys

from eval import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Score the assistant on a gold set.")
    commands = parser.add_subparsers(dest="command", required=True)
    run.add_arguments(commands.add_parser("run", help="answer every gold question and score the answers"))
    args = parser.parse_args(argv)
    return run.main(args)


if __name__ == "__main__":
    sys.exit(main())
