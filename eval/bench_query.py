"""Query benchmark: retrieval latency, the extractive answer through HTTP, and its first streamed token.

    .venv/bin/python -m eval.bench_query [--questions 60] [--max-seconds 300] [--write-md]

Prints one JSON object. The real corpus is ingested (incrementally) into a private Qdrant folder
(``data/bench/qdrant`` by default; a no-change re-run after the first time), with the real EmbeddingGemma.
Then, over the gold questions (``eval/gold/dev.jsonl``, follow-ups with their history, answerable or not):

* retrieval: ``Assistant.retrieve`` in this process, one question at a time;
* the extractive answer: ``POST /v1/ask`` (backend ``extractive``) with httpx against a real uvicorn
  server on 127.0.0.1 running in this process (the pattern of tests/conftest.py's LiveServer), timed at
  the client, with the server's own ``timings`` kept to separate HTTP overhead;
* the first streamed token: the same question through ``POST /v1/chat/completions`` with ``stream: true``
  until its first content delta, beside ``POST /v1/ask`` for it (alternating which goes first).

The loops stop at ``--questions`` or after ``--max-seconds``, whichever comes first; the first
``--warmup`` requests of each are not counted. Targets on 2 cores: retrieval p50 < 250 ms, extractive
answer p50 < 400 ms through HTTP; the first streamed token within the ``/v1/ask`` answer's time + 50 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eval.bench_ingest import (  # noqa: E402
    CpuMonitor,
    busy_processes,
    fmt,
    invocation,
    load_questions,
    make_settings,
    pct,
    peak_rss_mb,
    today,
    write_section,
)

from eval.live_server import LiveServer  # noqa: E402

TARGET_RETRIEVAL_P50_MS = 250.0
TARGET_ANSWER_P50_MS = 400.0
TARGET_FIRST_TOKEN_EXTRA_MS = 50.0  # a streamed first token may come this much after the whole /v1/ask answer


def prepare(data_dir: Path):
    """The real model, the real corpus in a private Qdrant folder (incremental ingest), the assistant."""
    from assistant.service import build_assistant
    from ingest.embedding import Embedder
    from ingest.pipeline import Ingestor
    from ingest.store import open_store

    settings = make_settings(data_dir)
    started = time.perf_counter()
    embedder = Embedder(settings.embedding_model_path, settings.embedding)
    model_load_s = time.perf_counter() - started
    store = open_store(settings.qdrant)
    with CpuMonitor() as monitor:
        report = Ingestor(settings, store, lambda: embedder).run()
    if not report.ok:
        raise RuntimeError(f"ingest failed: {report.failed}")
    assistant = build_assistant(settings, store=store, embedder=embedder)
    info = {"model_load_s": round(model_load_s, 2), "qdrant_path": str(settings.qdrant.path),
            "ingest": {k: report.as_dict()[k] for k in ("files", "unchanged", "chunks_embedded", "total_chunks",
                                                        "seconds")},
            "ingest_cpu": monitor.result}
    return settings, assistant, info


def _summary(latencies: list[float], stopped_by: str, extra: dict[str, list[float]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"questions": len(latencies), "p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95),
                           "max_ms": round(max(latencies), 1) if latencies else None, "stopped_by": stopped_by}
    for name, values in (extra or {}).items():
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = pct(values, 50), pct(values, 95)
    return out


def bench_retrieval(assistant, questions, warmup: int, max_seconds: float) -> dict[str, Any]:
    from eval.run import to_request
    from eval.scoring import Evidence, first_hit_rank

    latencies: list[float] = []
    ranks: list[int | None] = []
    deadline = time.monotonic() + max_seconds
    stopped_by = "count"
    for i, gold in enumerate(questions):
        if time.monotonic() > deadline:
            stopped_by = "time"
            break
        request = to_request(gold, None)
        started = time.perf_counter()
        passages = assistant.retrieve(request)
        elapsed = (time.perf_counter() - started) * 1000
        if i < warmup:
            continue
        latencies.append(elapsed)
        if gold.answerable:
            ranks.append(first_hit_rank([Evidence(p.file, p.text) for p in passages], gold.sources))
    out = _summary(latencies, stopped_by)
    if ranks:  # a side check that the index is the real one, not the gold evaluation
        out["answerable"] = len(ranks)
        out["hit_at_6"] = round(sum(r is not None for r in ranks) / len(ranks), 3)
    return out


def bench_http_ask(settings, assistant, questions, warmup: int, max_seconds: float) -> dict[str, Any]:
    import httpx

    from assistant.api import create_app
    from eval.run import to_request

    latencies: list[float] = []
    server_total: list[float] = []
    server_retrieval: list[float] = []
    overhead: list[float] = []
    statuses: dict[int, int] = {}
    refused = 0
    deadline = time.monotonic() + max_seconds
    stopped_by = "count"
    with LiveServer(create_app(settings, assistant)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        for i, gold in enumerate(questions):
            if time.monotonic() > deadline:
                stopped_by = "time"
                break
            body = to_request(gold, "extractive").model_dump(mode="json")
            started = time.perf_counter()
            response = http.post("/v1/ask", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            if i < warmup:
                continue
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            latencies.append(elapsed)
            if response.status_code == 200:
                answer = response.json()
                refused += bool(answer["refused"])
                server_total.append(answer["timings"]["total_ms"])
                server_retrieval.append(answer["timings"]["retrieval_ms"])
                overhead.append(elapsed - answer["timings"]["total_ms"])
    out = _summary(latencies, stopped_by, {"server_total": server_total, "server_retrieval": server_retrieval,
                                           "http_overhead": overhead})
    out["status_codes"] = {str(k): v for k, v in sorted(statuses.items())}
    out["refused"] = refused
    return out


def first_content_ms(http, body: dict[str, Any]) -> float:
    """Milliseconds from sending a streamed chat completion to its first non-empty content delta."""
    started = time.perf_counter()
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                return (time.perf_counter() - started) * 1000
    raise RuntimeError("the stream ended without content")


def bench_openai_stream(settings, assistant, questions, warmup: int, max_seconds: float) -> dict[str, Any]:
    """Per question, the extractive ``POST /v1/ask`` and the same question streamed through
    ``/v1/chat/completions`` (first content delta), alternating which goes first."""
    import httpx

    from assistant.api import create_app
    from eval.run import to_request

    ask_ms: list[float] = []
    first_ms: list[float] = []
    deadline = time.monotonic() + max_seconds
    stopped_by = "count"
    live = LiveServer(create_app(settings, assistant))
    with live, httpx.Client(base_url=live.url, timeout=60) as http:
        for i, gold in enumerate(questions):
            if time.monotonic() > deadline:
                stopped_by = "time"
                break
            request = to_request(gold, "extractive")
            question = {"role": "user", "content": request.question}
            stream_body = {"model": "sambruk-assistent", "stream": True,
                           "messages": [*(m.model_dump() for m in request.history), question]}
            timed: dict[str, float] = {}
            for kind in (("ask", "stream") if i % 2 == 0 else ("stream", "ask")):
                if kind == "stream":
                    timed[kind] = first_content_ms(http, stream_body)
                else:
                    started = time.perf_counter()
                    http.post("/v1/ask", json=request.model_dump(mode="json")).raise_for_status()
                    timed[kind] = (time.perf_counter() - started) * 1000
            if i >= warmup:
                ask_ms.append(timed["ask"])
                first_ms.append(timed["stream"])
    extra = [first - ask for first, ask in zip(first_ms, ask_ms, strict=True)]
    out = _summary(first_ms, stopped_by, {"ask": ask_ms, "first_minus_ask": extra})
    out["max_first_minus_ask_ms"] = round(max(extra), 1) if extra else None
    out["within_50_ms"] = sum(e <= TARGET_FIRST_TOKEN_EXTRA_MS for e in extra)
    return out


def render_markdown(out: dict[str, Any]) -> str:
    r, a, s = out["retrieval"], out["http_ask"], out["openai_stream"]
    ok = lambda value, target: "met" if value is not None and value < target else "**missed**"  # noqa: E731
    lines = [
        "## Query latency",
        "",
        f"`{out['command']}` — {out['date']}. Real EmbeddingGemma, the real corpus "
        f"({out['setup']['ingest']['total_chunks']} chunks) in the embedded Qdrant, gold questions from "
        "`eval/gold/dev.jsonl` (follow-ups with their history) one at a time, after "
        f"{out['warmup']} warm-up requests. All figures measured.",
        "",
        "| path | questions | p50 | p95 | max | target (p50) |",
        "|---|---|---|---|---|---|",
        f"| retrieval (`Assistant.retrieve`, in process) | {r['questions']} | {fmt(r['p50_ms'])} ms | "
        f"{fmt(r['p95_ms'])} ms | {fmt(r['max_ms'])} ms | < {TARGET_RETRIEVAL_P50_MS:.0f} ms: "
        f"{ok(r['p50_ms'], TARGET_RETRIEVAL_P50_MS)} |",
        f"| extractive answer, `POST /v1/ask` through HTTP (uvicorn on 127.0.0.1, httpx) | {a['questions']} | "
        f"{fmt(a['p50_ms'])} ms | {fmt(a['p95_ms'])} ms | {fmt(a['max_ms'])} ms | < {TARGET_ANSWER_P50_MS:.0f} ms: "
        f"{ok(a['p50_ms'], TARGET_ANSWER_P50_MS)} |",
        f"| first streamed token, `POST /v1/chat/completions` with `stream: true` (first content delta) | "
        f"{s['questions']} | {fmt(s['p50_ms'])} ms | {fmt(s['p95_ms'])} ms | {fmt(s['max_ms'])} ms | "
        f"≤ `/v1/ask` + {TARGET_FIRST_TOKEN_EXTRA_MS:.0f} ms: {s['within_50_ms']} of {s['questions']} |",
        "",
        f"The streamed first token against `/v1/ask` for the same question (the two requests alternating "
        f"which goes first): `/v1/ask` p50 {fmt(s.get('ask_p50_ms'))} ms, first token minus `/v1/ask` p50 "
        f"{fmt(s.get('first_minus_ask_p50_ms'))} ms, p95 {fmt(s.get('first_minus_ask_p95_ms'))} ms, max "
        f"{fmt(s['max_first_minus_ask_ms'])} ms.",
        "",
        f"Inside the HTTP figure (server-side `timings`, p50): retrieval {fmt(a.get('server_retrieval_p50_ms'))} ms, "
        f"retrieval + answer {fmt(a.get('server_total_p50_ms'))} ms, HTTP + JSON + client "
        f"{fmt(a.get('http_overhead_p50_ms'))} ms. Status codes: "
        + ", ".join(f"{k}: {v}" for k, v in a["status_codes"].items())
        + f"; refusals: {a['refused']} of {a['questions']}. Peak RSS of the process: {fmt(out['peak_rss_mb'], 0)} MB.",
        "",
        f"Other processes' CPU while it ran (average cores of {out['cpu']['retrieval']['machine_cores']}): "
        f"retrieval {fmt(out['cpu']['retrieval']['other_cpu_cores'], 2)}, HTTP "
        f"{fmt(out['cpu']['http_ask']['other_cpu_cores'], 2)}, stream "
        f"{fmt(out['cpu']['openai_stream']['other_cpu_cores'], 2)}. Busy at start: "
        + ("; ".join(out["busy_at_start"]) or "nothing above 5 %") + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_query", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=60, help="gold questions per loop (at least 30)")
    parser.add_argument("--max-seconds", type=float, default=300, help="time limit per loop")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted requests at the start of each loop")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "bench",
                        help="private data folder for the Qdrant index (incremental)")
    parser.add_argument("--write-md", action="store_true", help="update the query section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions + args.warmup)
    busy = busy_processes()
    settings, assistant, setup = prepare(args.data_dir)
    cpu: dict[str, Any] = {}
    with CpuMonitor() as monitor:
        retrieval = bench_retrieval(assistant, questions, args.warmup, args.max_seconds)
    cpu["retrieval"] = monitor.result
    with CpuMonitor() as monitor:
        http_ask = bench_http_ask(settings, assistant, questions, args.warmup, args.max_seconds)
    cpu["http_ask"] = monitor.result
    with CpuMonitor() as monitor:
        openai_stream = bench_openai_stream(settings, assistant, questions, args.warmup, args.max_seconds)
    cpu["openai_stream"] = monitor.result
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-md"]
    out = {
        "date": today(), "command": invocation("eval.bench_query", shown), "setup": setup,
        "warmup": args.warmup, "retrieval": retrieval, "http_ask": http_ask,
        "openai_stream": openai_stream,
        "targets": {"retrieval_p50_ms": TARGET_RETRIEVAL_P50_MS, "answer_p50_ms": TARGET_ANSWER_P50_MS,
                    "retrieval_met": retrieval["p50_ms"] is not None and retrieval["p50_ms"] < TARGET_RETRIEVAL_P50_MS,
                    "answer_met": http_ask["p50_ms"] is not None and http_ask["p50_ms"] < TARGET_ANSWER_P50_MS},
        "peak_rss_mb": peak_rss_mb(), "cpu": cpu, "busy_at_start": busy, "busy_at_end": busy_processes(),
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write_md:
        write_section("bench_query", render_markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
