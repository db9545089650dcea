"""Load test: simulated users against the real API on 127.0.0.1, bounded in users and time.

    .venv/bin/python -m eval.bench_load --users 20 --seconds 60 [--write-md]

The real corpus index (``data/bench/qdrant``, ingested incrementally as for eval.bench_query) and the
real EmbeddingGemma serve through a real uvicorn server on 127.0.0.1 in this process (eval.live_server),
so the RSS figures are the server's. Each user is a thread with its own HTTP client that loops over the
gold questions from its own offset: ``POST /v1/ask`` (extractive, follow-ups with their history), then
``GET /v1/search`` for the same question, and every tenth turn ``GET /v1/documents``, until the time is
up. Prints one JSON object: requests, errors (transport failures and 5xx), status codes, latency
p50/p95/max overall and per route, RSS before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eval.bench_ingest import (  # noqa: E402
    CpuMonitor,
    busy_processes,
    current_rss_mb,
    fmt,
    invocation,
    load_questions,
    peak_rss_mb,
    pct,
    today,
    write_section,
)
from eval.bench_query import prepare  # noqa: E402
from eval.live_server import LiveServer  # noqa: E402

MAX_USERS = 100
MAX_SECONDS = 600


class Tally:
    """Latencies and outcomes from every user thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def record(self, route: str, ms: float, status: int | None, error: str | None = None) -> None:
        with self.lock:
            self.latencies.setdefault(route, []).append(ms)
            self.statuses[str(status) if status is not None else "transport error"] += 1
            if error is not None or (status is not None and status >= 500):
                self.errors[f"{route}: {error or status}"] += 1


def user_loop(url: str, offset: int, questions: list, until: float, tally: Tally) -> None:
    import httpx

    from eval.run import to_request

    with httpx.Client(base_url=url, timeout=60) as http:
        turn = 0
        while time.monotonic() < until:
            gold = questions[(offset + turn) % len(questions)]
            calls = [("POST /v1/ask", "POST", "/v1/ask",
                      {"json": to_request(gold, "extractive").model_dump(mode="json")}),
                     ("GET /v1/search", "GET", "/v1/search", {"params": {"q": gold.question}})]
            if turn % 10 == 0:
                calls.append(("GET /v1/documents", "GET", "/v1/documents", {}))
            for route, method, path, kwargs in calls:
                if time.monotonic() >= until:
                    return
                started = time.perf_counter()
                try:
                    status, error = http.request(method, path, **kwargs).status_code, None
                except httpx.HTTPError as exc:
                    status, error = None, type(exc).__name__
                tally.record(route, (time.perf_counter() - started) * 1000, status, error)
            turn += 1


def run_load(settings, assistant, questions: list, users: int, seconds: float) -> dict[str, Any]:
    import httpx

    from assistant.api import create_app

    tally = Tally()
    with LiveServer(create_app(settings, assistant)) as live:
        assert live.url.startswith("http://127.0.0.1:")
        httpx.post(f"{live.url}/v1/ask", json={"question": questions[0].question}, timeout=60)  # warm
        rss_before = current_rss_mb()
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=user_loop, args=(live.url, i * 7, questions, until, tally))
                   for i in range(users)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 120)
        elapsed = time.monotonic() - started
        rss_after = current_rss_mb()
    every = [ms for values in tally.latencies.values() for ms in values]
    return {
        "users": users, "seconds": round(elapsed, 1), "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1), "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors), "status_codes": dict(sorted(tally.statuses.items())),
        "p50_ms": pct(every, 50), "p95_ms": pct(every, 95), "max_ms": round(max(every), 1) if every else None,
        "routes": {route: {"requests": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95),
                           "max_ms": round(max(values), 1)} for route, values in sorted(tally.latencies.items())},
        "rss_before_mb": rss_before, "rss_after_mb": rss_after, "peak_rss_mb": peak_rss_mb(),
    }


def render_markdown(out: dict[str, Any]) -> str:
    r = out["load"]
    lines = [
        "## Load",
        "",
        f"`{out['command']}` — {out['date']}. {r['users']} simulated users, each its own httpx client in a "
        "thread of the benchmark process, against the real uvicorn server on 127.0.0.1 in the same process "
        f"(real EmbeddingGemma, the real index of {out['setup']['ingest']['total_chunks']} chunks, extractive "
        "answers). Each user loops over the gold questions: `POST /v1/ask`, `GET /v1/search` for the same "
        "question, and every tenth turn `GET /v1/documents`. All figures measured.",
        "",
        "| requests | errors | requests/s | p50 | p95 | max | RSS before | RSS after |",
        "|---|---|---|---|---|---|---|---|",
        f"| {r['requests']} in {r['seconds']} s | {r['errors']} | {r['requests_per_s']} | {fmt(r['p50_ms'])} ms | "
        f"{fmt(r['p95_ms'])} ms | {fmt(r['max_ms'])} ms | {fmt(r['rss_before_mb'], 0)} MB | "
        f"{fmt(r['rss_after_mb'], 0)} MB |",
        "",
        "| route | requests | p50 | p95 | max |",
        "|---|---|---|---|---|",
        *[f"| `{route}` | {v['requests']} | {fmt(v['p50_ms'])} ms | {fmt(v['p95_ms'])} ms | {fmt(v['max_ms'])} ms |"
          for route, v in r["routes"].items()],
        "",
        "Status codes: " + ", ".join(f"{k}: {v}" for k, v in r["status_codes"].items())
        + f". Other processes' CPU while it ran: {fmt(out['cpu']['other_cpu_cores'], 2)} of "
        f"{out['cpu']['machine_cores']} cores (the machine is shared; the latencies include that contention). "
        f"RSS changed by {r['rss_after_mb'] - r['rss_before_mb']:+.0f} MB over the run; peak "
        f"{fmt(r['peak_rss_mb'], 0)} MB.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help=f"concurrent users (1-{MAX_USERS})")
    parser.add_argument("--seconds", type=float, default=60, help=f"how long the load lasts (1-{MAX_SECONDS})")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "bench",
                        help="private data folder for the Qdrant index (incremental)")
    parser.add_argument("--write-md", action="store_true", help="update the load section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS or not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--users must be 1-{MAX_USERS} and --seconds 1-{MAX_SECONDS}")
    questions = load_questions()
    busy = busy_processes()
    settings, assistant, setup = prepare(args.data_dir)
    with CpuMonitor() as monitor:
        load = run_load(settings, assistant, questions, args.users, args.seconds)
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-md"]
    out = {"date": today(), "command": invocation("eval.bench_load", shown), "setup": setup, "load": load,
           "cpu": monitor.result, "busy_at_start": busy, "busy_at_end": busy_processes()}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write_md:
        write_section("bench_load", render_markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
