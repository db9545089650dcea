"""Answer-LLM benchmark: time to first token and generation speed of the local llama.cpp server.

    .venv/bin/python -m eval.bench_llm [--n 10] [--url http://127.0.0.1:8081/v1] [--fixed]

Prints one JSON object. Without --url it starts `python -m assistant.llm_server` on a free port and
times its start. Questions come from eval/gold/dev.jsonl (a few built-in ones if it is absent); each
is sent with the exact messages OpenAIBackend builds, over real retrieved passages when
``assistant.service.build_assistant`` can be built, else (or with --fixed) over one fixed corpus
excerpt, which keeps the prompt near 600 tokens. Token counts come from the server's usage report
(``stream_options.include_usage``); without one, each streamed chunk counts as one token. The first
request pays for the constant prompt prefix; ``cached_tokens`` shows what the later ones reused.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # also runnable as `python eval/bench_llm.py`
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import openai  # noqa: E402

from assistant.answering.llm_prompts import build_messages  # noqa: E402
from assistant.llm_server import wait_ready  # noqa: E402
from assistant.schemas import AskRequest, Language, Message, Passage  # noqa: E402
from assistant.settings import LLMSettings, Settings  # noqa: E402

GOLD = ROOT / "eval" / "gold" / "dev.jsonl"
BUILT_IN = [
    ("Hur många kommuner är medlemmar i Sambruk?", "sv"),
    ("Hur många invånare bor i Sambruks medlemskommuner?", "sv"),
    ("How many municipalities are members of Sambruk?", "en"),
    ("Sedan när finns Sambruk?", "sv"),
]


def load_questions(n: int) -> list[dict[str, Any]]:
    if GOLD.exists():
        rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [{"id": r["id"], "question": r["question"], "language": r["language"],
                 "history": r.get("history", [])} for r in rows[:n]]
    return [{"id": f"builtin{i}", "question": q, "language": lang, "history": []}
            for i, (q, lang) in enumerate(BUILT_IN[:n], start=1)]


def fixed_passages(settings: Settings) -> list[Passage]:
    """The slides' "Sambruk i siffror" block: real corpus text, the same for every question."""
    file = "sambruk-informationstraff-2026-06-15.txt"
    text = (settings.corpus_dir / file).read_text(encoding="utf-8")
    start = text.index("## Sambruk i siffror")
    end = text.index("## En nationell arena", start)
    return [Passage(doc_id=file.removesuffix(".txt"), file=file, doc_type="presentation", date="2026-06-15",
                    year=2026, title="Informationsträff för formella medlemsrepresentanter, 2026-06-15",
                    chunk_ids=[f"{file}:0"], section="Föreningen Sambruk - nuläge > Sambruk i siffror",
                    start=start, end=end, text=text[start:end], score=1.0)]


Retrieve = Callable[[str, list[Message]], list[Passage]]


def passage_source(settings: Settings, fixed: bool) -> tuple[Retrieve, str]:
    """A function (question, history) -> passages, and a line saying where the passages come from."""
    if fixed:
        reason = "fixed corpus excerpt (--fixed)"
    else:
        try:
            from assistant.service import build_assistant

            assistant = build_assistant(settings)
            return (lambda q, history: assistant.retrieve(AskRequest(question=q, history=history)),
                    "retrieved (assistant.service)")
        except Exception as exc:  # not written yet, index missing or locked: the LLM can still be measured
            reason = f"fixed corpus excerpt (retrieval unavailable: {type(exc).__name__}: {exc})"
            print(reason, file=sys.stderr)
    passages = fixed_passages(settings)
    return (lambda q, history: passages), reason


def measure(client: openai.OpenAI, llm: LLMSettings, messages: list[dict[str, str]]) -> dict[str, Any]:
    started = time.perf_counter()
    first: float | None = None
    chunks = 0
    usage = None
    text: list[str] = []
    for chunk in client.chat.completions.create(
        model=llm.model, messages=messages, max_tokens=llm.max_tokens, temperature=llm.temperature,
        stream=True, stream_options={"include_usage": True},
    ):
        if chunk.usage:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.perf_counter() - started
            chunks += 1
            text.append(chunk.choices[0].delta.content)
    total = time.perf_counter() - started
    completion = usage.completion_tokens if usage else chunks
    details = usage.prompt_tokens_details if usage else None
    decode_s = total - (first or total)
    return {
        "ttft_s": round(first, 3) if first is not None else None,
        "total_s": round(total, 3),
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "cached_tokens": details.cached_tokens if details else None,
        "completion_tokens": completion,
        "tokens_counted": "usage" if usage else "stream chunks",
        # The first token arrives with the prefill; the rate is over the tokens after it.
        "gen_tokens_per_s": round((completion - 1) / decode_s, 2) if completion > 1 and decode_s else None,
        "answer": "".join(text),
    }


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: with 10 samples p95 is the slowest one, which is what it should say."""
    ordered = sorted(v for v in values if v is not None)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else None


def summary(rows: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    values = [r[key] for r in rows]
    return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95)}


def start_server() -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "assistant.llm_server"], cwd=ROOT,
                               env={**os.environ, "SAMBRUK_LOCAL_LLM__PORT": str(port)})
    try:
        wait_ready(url, timeout_s=300, alive=lambda: process.poll() is None)
    except BaseException:
        process.terminate()
        raise
    return process, url, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="questions to send (default 10)")
    parser.add_argument("--url", help="an OpenAI-compatible base URL already serving; default: start one")
    parser.add_argument("--fixed", action="store_true", help="the fixed ~600-token excerpt, not retrieval")
    args = parser.parse_args(argv)

    settings = Settings()
    process, start_s = None, None
    if args.url:
        url = args.url
    else:
        process, url, start_s = start_server()
    try:
        llm = settings.llm.model_copy(update={"base_url": url})
        client = openai.OpenAI(base_url=url, api_key=llm.api_key.get_secret_value(),
                               timeout=settings.local_llm.deadline_s, max_retries=0)
        retrieve, source = passage_source(settings, args.fixed)
        load_before = os.getloadavg()[0]
        rows = []
        for q in load_questions(args.n):
            history = [Message(**m) for m in q["history"]]
            language: Language = q["language"]
            messages = build_messages(q["question"], retrieve(q["question"], history), language=language,
                                      history=history, max_passages=llm.context_passages,
                                      max_chars=llm.context_chars)
            row = {"id": q["id"], "language": language, **measure(client, llm, messages)}
            rows.append(row)
            print(f"{row['id']}: ttft {row['ttft_s']} s, {row['gen_tokens_per_s']} tok/s, prompt "
                  f"{row['prompt_tokens']} (cached {row['cached_tokens']})", file=sys.stderr, flush=True)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)

    print(json.dumps({
        "server": {"url": url, "started_by_bench": process is not None,
                   "start_s": round(start_s, 2) if start_s is not None else None},
        "model": settings.local_llm.model_file if process is not None else llm.model,
        "threads": settings.local_llm.threads,
        "passages": source,
        "settings": {"max_tokens": llm.max_tokens, "temperature": llm.temperature,
                     "context_passages": llm.context_passages, "context_chars": llm.context_chars},
        "n": len(rows),
        "loadavg_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "ttft_s": summary(rows, "ttft_s"),
        "gen_tokens_per_s": summary(rows, "gen_tokens_per_s"),
        "prompt_tokens": summary(rows, "prompt_tokens"),
        "cached_tokens": summary(rows, "cached_tokens"),
        "first_request": ({k: rows[0][k] for k in ("ttft_s", "prompt_tokens", "cached_tokens")}
                          if rows else None),
        "questions": rows,
    }, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
