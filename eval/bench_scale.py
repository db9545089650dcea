"""Scale benchmark: the index as the corpus grows ×N, on Qdrant Edge (the embedded default) and client local mode.

    .venv/bin/python -m eval.bench_scale --sizes 1,10,100 --json FILE [--client-sizes 1,10] [--write-md]

It measures the store, not the embedder. First the real corpus is embedded once with the real
EmbeddingGemma into a cache keyed by the embedded input text (``bench_ingest.CachingEmbedder``). Then
each size and engine runs in its own child process (so its RSS is its own) into a fresh index folder:

* the corpus replicated N times under other file names, so other doc ids (``bench_ingest.replicate_corpus``),
  ingested by the real ``Ingestor``, every vector from the cache (the model is not loaded for it);
* upsert time: ``Store.replace_document`` (chunk upserts, stale delete, manifest record); index build:
  ``Store.optimize`` (Edge builds its HNSW graph there; local mode has nothing to build);
* open: a fresh ``open_store`` of the folder, as a starting server does;
* search only: ``Store.hybrid_search`` as the retriever calls it (dense + BM25 prefetch, weighted RRF,
  payload and dense vectors back), query vectors computed beforehand, each question three times;
* ask: ``POST /v1/ask`` with the extractive backend over HTTP to a real uvicorn server on 127.0.0.1
  (``eval.live_server.LiveServer``, in the child process), with the real EmbeddingGemma: query embedding,
  search, postprocessing, answer; client-side wall time.

Questions: the first ``--questions`` gold questions of eval/gold/dev.jsonl (follow-ups with their history).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # also runnable as `python eval/bench_scale.py`
    sys.path.insert(0, str(ROOT))

from eval.bench_ingest import (  # noqa: E402
    ENGINE_NAMES,
    CachingEmbedder,
    busy_processes,
    current_rss_mb,
    fmt,
    folder_mb,
    invocation,
    load_questions,
    make_settings,
    pct,
    peak_rss_mb,
    pipeline_stage_timer,
    replicate_corpus,
    run_child,
    today,
    write_section,
)

SEARCH_P95_TARGET_MS = 20.0
ASK_P95_TARGET_MS = 250.0
UPSERT = "Qdrant: upsert + delete stale"
BUILD = "Qdrant: build indexes"


def settings_for(work: Path, engine: str):
    settings = make_settings(work / "data", corpus_dir=work / "corpus")
    settings.qdrant.engine = engine
    return settings


def load_model(settings):
    from ingest.embedding import Embedder

    return Embedder(settings.embedding_model_path, settings.embedding)


def phase_fill(work: Path, cache_file: Path) -> dict[str, Any]:
    """The real corpus's vectors (chunks and answer units), embedded once by the real model; they
    serve every size and engine."""
    from ingest.pipeline import Ingestor
    from ingest.store import open_store

    replicate_corpus(work / "corpus", 1)
    settings = settings_for(work, "edge")
    real = load_model(settings)
    embedder = CachingEmbedder(real.name, real.dimension, None, {}, lambda: real)
    _ = embedder.real  # fixes the cache key template from the loaded model
    store = open_store(settings.qdrant)
    report = Ingestor(settings, store, lambda: embedder).run()
    store.close()
    if not report.ok:
        raise RuntimeError(f"ingest failed: {report.failed}")
    with cache_file.open("wb") as fh:
        pickle.dump({"cache": embedder.cache, "name": embedder.name, "dimension": embedder.dimension,
                     "template": embedder._template}, fh)
    return {"chunks": report.total_chunks, "embedded_by_model": embedder.embedded,
            "embedding_s": round(embedder.model_seconds, 1)}


def phase_run(work: Path, size: int, engine: str, cache_file: Path, questions: int) -> dict[str, Any]:
    from ingest.pipeline import Ingestor
    from ingest.store import Store, open_store

    files = replicate_corpus(work / "corpus", size)
    settings = settings_for(work, engine)
    with cache_file.open("rb") as fh:
        saved = pickle.load(fh)
    embedder = CachingEmbedder(saved["name"], saved["dimension"], saved["template"], saved["cache"],
                               lambda: load_model(settings))
    timer = pipeline_stage_timer()
    timer.wrap(Store, "optimize", BUILD)
    store = open_store(settings.qdrant)
    report = Ingestor(settings, store, lambda: embedder).run()
    timer.restore()
    if not report.ok or embedder.embedded:
        raise RuntimeError(f"ingest failed ({report.failed}) or missed the cache ({embedder.embedded} embedded)")
    store.close()
    result: dict[str, Any] = {
        "engine": engine, "files": files, "chunks": report.total_chunks,
        "ingest_s": round(report.seconds, 2),
        "upsert_s": round(timer.seconds[UPSERT], 2),
        "index_build_s": round(timer.seconds.get(BUILD, 0.0), 2),
        "embedding_cache_s": round(embedder.total_seconds, 2),
        "stages_s": timer.report(),
        "folder_mb": folder_mb(settings.qdrant.path, allocated=True),
        "folder_apparent_mb": folder_mb(settings.qdrant.path),
        "rss_after_ingest_mb": current_rss_mb(),
    }
    started = time.perf_counter()
    store = open_store(settings.qdrant)
    result["open_s"] = round(time.perf_counter() - started, 2)
    real = embedder.real  # the model, for the query side
    result["rss_open_with_model_mb"] = current_rss_mb()
    gold = load_questions(questions)
    result["search"] = search_latency(settings, store, real, gold)
    result["ask"] = ask_latency(settings, store, real, gold)
    result.update(
        search_p50_ms=result["search"]["p50_ms"], search_p95_ms=result["search"]["p95_ms"],
        ask_p50_ms=result["ask"]["p50_ms"], ask_p95_ms=result["ask"]["p95_ms"],
        peak_rss_mb=peak_rss_mb(),
    )
    store.close()
    return result


def search_latency(settings, store, embedder, gold, repeats: int = 3, warmup: int = 3) -> dict[str, Any]:
    from ingest.sparse import query_vector
    from ingest.store import DENSE, UNITS

    retrieval = settings.retrieval
    queries = [(embedder.embed_query(g.question), query_vector(g.question)) for g in gold]
    timings: list[float] = []
    for i, (dense, sparse) in enumerate(queries[:warmup] + queries * repeats):
        started = time.perf_counter()
        # As the retriever asks: three chunks per wanted passage (at least 12), the three rankings fused,
        # dense and unit vectors back.
        hits = store.hybrid_search(dense, sparse, limit=max(retrieval.top_k * 3, 12),
                                   prefetch_limit=retrieval.prefetch_k, with_vectors=[DENSE, UNITS],
                                   sparse_weight=retrieval.sparse_weight, units_weight=retrieval.units_weight)
        elapsed = (time.perf_counter() - started) * 1000
        assert hits, "no hits"
        if i >= warmup:
            timings.append(elapsed)
    return {"queries": len(timings), "p50_ms": pct(timings, 50), "p95_ms": pct(timings, 95),
            "max_ms": round(max(timings), 1)}


def ask_latency(settings, store, embedder, gold, warmup: int = 2) -> dict[str, Any]:
    import httpx

    from assistant.api import create_app
    from assistant.service import build_assistant
    from eval.live_server import LiveServer
    from eval.run import to_request

    assistant = build_assistant(settings, store=store, embedder=embedder)
    bodies = [to_request(g, "extractive").model_dump(mode="json", exclude_none=True) for g in gold]
    timings: list[float] = []
    server_ms: list[float] = []
    with LiveServer(create_app(settings, assistant)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        for i, body in enumerate(bodies[:warmup] + bodies):
            started = time.perf_counter()
            response = http.post("/v1/ask", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if i >= warmup:
                timings.append(elapsed)
                server_ms.append(response.json()["timings"]["retrieval_ms"])
    return {"questions": len(timings), "p50_ms": pct(timings, 50), "p95_ms": pct(timings, 95),
            "max_ms": round(max(timings), 1), "retrieval_p50_ms": pct(server_ms, 50),
            "retrieval_p95_ms": pct(server_ms, 95)}


def benchmark(sizes: list[int], client_sizes: set[int], questions: int, keep: Path | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="sambruk-bench-scale-", dir=keep))
    cache_file = root / "embedding-cache.pkl"
    out: dict[str, Any] = {"date": today(), "questions": questions,
                           "machine": {"cores": os.cpu_count(), "busy_at_start": busy_processes()}, "sizes": {}}
    try:
        print("[bench_scale] embedding the corpus once (real model)", file=sys.stderr, flush=True)
        fill = ["--phase", "fill", "--work", str(root / "fill"), "--cache", str(cache_file)]
        filled, cpu = run_child(fill, "eval.bench_scale")
        out["embedding"] = filled | {"cpu": cpu}
        for size in sizes:
            for engine in ("edge", "client"):
                if engine == "client" and size not in client_sizes:
                    continue
                work = root / f"{engine}-x{size}"
                print(f"[bench_scale] ×{size} {engine}", file=sys.stderr, flush=True)
                result, cpu = run_child(["--phase", "run", "--size", str(size), "--engine", engine,
                                         "--work", str(work), "--cache", str(cache_file),
                                         "--questions", str(questions)], "eval.bench_scale")
                result["cpu"] = cpu
                print(f"[bench_scale] ×{size} {engine}: {json.dumps(result, ensure_ascii=False)}",
                      file=sys.stderr, flush=True)
                if engine == "edge":
                    out["sizes"].setdefault(str(size), {}).update(result)
                else:
                    out["sizes"].setdefault(str(size), {})["client"] = result
                if keep is None:
                    shutil.rmtree(work, ignore_errors=True)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    out["machine"]["busy_at_end"] = busy_processes()
    return out


def render_markdown(out: dict[str, Any], command: str) -> str:
    lines = [
        "## Scale: Qdrant Edge and local mode as the corpus grows",
        "",
        f"`{command}` — {out['date']}. The corpus replicated N times under other file names (distinct doc ids), "
        "ingested by the real pipeline with every vector from a cache filled once by EmbeddingGemma (so this "
        "measures the store, not the embedder), each size and engine in a fresh process and folder. "
        f"Search only: `Store.hybrid_search` as the retriever calls it, {out['questions']} gold questions × 3. "
        f"Ask: `POST /v1/ask` extractive over HTTP to a real uvicorn server in the same process, the same "
        f"{out['questions']} questions, real EmbeddingGemma for the query. All figures measured.",
        "",
        "| corpus | engine | chunks | upsert | index build | ingest (cached vectors) | open | folder on disk | RSS after "
        "ingest (no model) | search p50 / p95 | ask p50 / p95 | peak RSS (with model) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, edge in out["sizes"].items():
        for r in (edge, edge.get("client")):
            if not r:
                continue
            lines.append(
                f"| ×{key} | {ENGINE_NAMES[r['engine']]} | {fmt(r['chunks'])} | {fmt(r['upsert_s'], 2)} s "
                f"| {fmt(r['index_build_s'], 2)} s | {fmt(r['ingest_s'], 1)} s | {fmt(r['open_s'], 2)} s "
                f"| {fmt(r['folder_mb'])} MB | {fmt(r['rss_after_ingest_mb'], 0)} MB "
                f"| {fmt(r['search_p50_ms'])} / {fmt(r['search_p95_ms'])} ms "
                f"| {fmt(r['ask_p50_ms'])} / {fmt(r['ask_p95_ms'])} ms | {fmt(r['peak_rss_mb'], 0)} MB |"
            )
    skipped = [k for k, e in out["sizes"].items() if "client" not in e]
    lines += [
        "",
        "- Every chunk point carries its dense vector, its BM25 sparse vector and its answer-unit multivector; "
        "search returns the dense and unit vectors of each hit, as the retriever asks.",
        "- upsert: `Store.replace_document` (chunk upserts, stale-chunk delete, manifest record); index build: "
        "`Store.optimize`, where Qdrant Edge builds its HNSW graph and merges segments (it runs no optimizer in "
        "the background; local mode has nothing to build). open: `open_store` of the finished folder.",
        "- folder on disk: allocated blocks; Qdrant Edge preallocates sparse files (write-ahead log, payload and "
        "sparse-vector pages), so `ls` shows more than the disk holds. RSS counts the vector pages Edge maps "
        "into memory once read.",
    ]
    if skipped:
        lines.append(f"- qdrant-client local mode not run at ×{', ×'.join(skipped)} (`--client-sizes`): it scores "
                     "every point in Python on every query and writes one SQLite transaction per point.")
    largest = max(out["sizes"], key=int)
    top = out["sizes"][largest]
    met = top["search_p95_ms"] <= SEARCH_P95_TARGET_MS and top["ask_p95_ms"] <= ASK_P95_TARGET_MS
    lines += [
        "",
        f"At ×{largest} on Qdrant Edge: search p95 {fmt(top['search_p95_ms'])} ms (target ≤ "
        f"{SEARCH_P95_TARGET_MS:.0f} ms), ask p95 {fmt(top['ask_p95_ms'])} ms (target ≤ {ASK_P95_TARGET_MS:.0f} ms): "
        + ("**both targets met**." if met else "**not met**."),
        "",
        "Other processes' CPU during each run (average cores of the machine's "
        f"{out['machine']['cores']}): "
        + ", ".join(f"×{k} {ENGINE_NAMES[r['engine']]} {fmt(r['cpu']['other_cpu_cores'], 2)}"
                    for k, e in out["sizes"].items() for r in (e, e.get("client")) if r) + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100", help="corpus replication factors, e.g. 1,10,100")
    parser.add_argument("--client-sizes", default="1,10",
                        help="sizes also run on qdrant-client local mode (it scans every point in Python)")
    parser.add_argument("--questions", type=int, default=40, help="gold questions per size")
    parser.add_argument("--json", type=Path, help="write the result here too")
    parser.add_argument("--write-md", action="store_true", help="update the scale section of docs/PERFORMANCE.md")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only rewrite the markdown section from the saved JSON output of an earlier run")
    parser.add_argument("--keep", type=Path, help="make the temp folder under this folder and keep it")
    parser.add_argument("--phase", choices=["fill", "run"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=["edge", "client"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "fill":
        print(json.dumps(phase_fill(args.work, args.cache)))
        return 0
    if args.phase == "run":
        print(json.dumps(phase_run(args.work, args.size, args.engine, args.cache, args.questions)))
        return 0
    if args.render:
        out = json.loads(args.render.read_text(encoding="utf-8"))
        write_section("bench_scale", render_markdown(out, out["command"]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    client_sizes = {int(s) for s in args.client_sizes.split(",") if s.strip()}
    out = benchmark(sizes, client_sizes, args.questions, args.keep)
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-md"]
    out["command"] = invocation("eval.bench_scale", shown)
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    if args.write_md:
        write_section("bench_scale", render_markdown(out, out["command"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
