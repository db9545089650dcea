"""What the answer units cost at ingest: the whole corpus embedded as before (chunks only) and as now
(chunks and their answer units), in one process, one after the other, on the same model.

    .venv/bin/python -m eval.bench_units [--repeat 1] [--before-backend torch | --issue-day]

Prints one JSON object: the texts and wall seconds of each, and their ratio. Loading, cleaning,
chunking and Qdrant are left out: they are the same either way and take about a second.
``--before-backend`` embeds the "before" row with another backend (``torch``: the path of the day
issue 9 was filed, with today's batching, which only makes it faster), so that the ratio compares
the ingest of then with the ingest of now in one run. ``--issue-day`` embeds it exactly as ingest did
that day: sentence-transformers' own ``encode`` (PyTorch, bfloat16 as on this CPU that day), 16 texts
per batch in its length order.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

from assistant.settings import Settings
from ingest.catalog import document_meta, load_catalog
from ingest.embedding import Embedder
from ingest.loading import load_file
from ingest.pipeline import discover, fingerprint, prepare, texts_to_embed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_units", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="measure each this many times (best is kept)")
    before_row = parser.add_mutually_exclusive_group()
    before_row.add_argument("--before-backend", choices=["torch", "onnx", "openvino"],
                            help="embed the chunks-only row with this backend (default: the configured one)")
    before_row.add_argument("--issue-day", action="store_true",
                            help="embed the chunks-only row as ingest did when issue 9 was filed "
                                 "(PyTorch, 16 per batch)")
    args = parser.parse_args(argv)
    settings = Settings()
    backend = args.before_backend or settings.embedding.backend
    before = settings.embedding.model_copy(update={"backend": backend})
    catalog = load_catalog(settings.catalog_file)
    chunks, everything = [], []
    for rel in discover(settings.corpus_dir, settings.catalog_file):
        path = settings.corpus_dir / rel
        loaded = load_file(path)
        meta = document_meta(rel, "\n".join(loaded.pages), catalog)
        doc = prepare(loaded, rel, meta, fingerprint(path.read_bytes(), catalog.get(rel), settings), settings)
        chunks += doc.inputs
        everything += texts_to_embed(doc.inputs, doc.records)[0]
    now = Embedder(settings.embedding_model_path, settings.embedding)
    timings = {}
    if args.issue_day:
        timings["chunks_only"] = _issue_day(settings, [now.document_input(c) for c in chunks], args.repeat)
    else:
        then = now if before == settings.embedding else Embedder(settings.embedding_model_path, before)
        timings["chunks_only"] = _timed(then, chunks, args.repeat) | {"backend": before.backend}
    timings["chunks_and_units"] = _timed(now, everything, args.repeat) | {
        "backend": settings.embedding.backend}
    print(json.dumps({
        **timings,
        "ratio": round(timings["chunks_and_units"]["seconds"] / timings["chunks_only"]["seconds"], 2),
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "dtype": settings.embedding.dtype, "batch_tokens": settings.embedding.batch_tokens,
    }, indent=1))
    return 0


def _timed(embedder: Embedder, texts: list, repeat: int) -> dict:
    embedder.embed_documents(texts[:8])  # warm-up
    return {"texts": len(texts), "seconds": _best_seconds(lambda: embedder.embed_documents(texts), repeat)}


def _best_seconds(run: Callable[[], object], repeat: int) -> float:
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return round(best, 1)


def _issue_day(settings: Settings, inputs: list[str], repeat: int) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(settings.embedding_model_path), device="cpu", local_files_only=True)
    model.to(torch.bfloat16)
    model.encode(inputs[:8], batch_size=16)  # warm-up
    seconds = _best_seconds(lambda: model.encode(inputs, batch_size=16, normalize_embeddings=True,
                                                 show_progress_bar=False), repeat)
    return {"texts": len(inputs), "seconds": seconds, "backend": "torch bfloat16, 16 per batch (issue day)"}


if __name__ == "__main__":
    raise SystemExit(main())
