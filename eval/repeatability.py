"""Whether one question gets the same passages, in the same order, every time it is asked.

    .venv/bin/python -m eval.repeatability [--gold eval/gold/dev.jsonl eval/gold/test.jsonl] [--runs 5]

Retrieves every gold question ``--runs`` times in one process and prints one JSON object: the questions,
and those whose passages (chunk ids, in order) differed between runs. A tie between two chunks that an
engine orders as it finds it shows here, as an answer that changes when the same question is asked
again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.settings import Settings
from eval.run import load_gold, to_request

_GOLD = [Path("eval/gold/dev.jsonl"), Path("eval/gold/test.jsonl")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.repeatability", description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, nargs="+", default=_GOLD)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from assistant.service import build_assistant

    assistant = build_assistant(Settings())
    questions = [gold for path in args.gold for gold in load_gold(path)]
    differing = []
    for gold in questions:
        request = to_request(gold, None)
        seen = {tuple(tuple(p.chunk_ids) for p in assistant.retrieve(request)) for _ in range(args.runs)}
        if len(seen) > 1:
            differing.append({"id": gold.id, "question": gold.question, "orders": len(seen)})
    print(json.dumps({"questions": len(questions), "runs": args.runs, "differing": differing},
                     ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
