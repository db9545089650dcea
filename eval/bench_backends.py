"""Embedding backends (issue 10 item 5): speed and agreement on a fixed sample, then a whole-corpus fresh
ingest per backend, all in one run on the same machine state.

    .venv/bin/python -m eval.bench_backends [--sample 300] [--backends torch,onnx,onnx:int8,openvino]
                                            [--ingest torch,openvino] [--write-md]

Sample: ``--sample`` real embedding inputs (chunks and answer units as ``ingest.pipeline.texts_to_embed``
makes them, a fixed random draw) embedded first by PyTorch in float32, the reference, then by each
backend (``name`` or ``name:int8``) through ``Embedder.embed_documents`` (the ingest path: batches of
``embedding.batch_tokens``, sorted by token count): texts/s after a warm-up batch, and each vector's cosine to
its float32 reference. Ingest: per backend in ``--ingest``, ``Ingestor.run`` of the whole corpus into a
fresh Qdrant folder (model load and ONNX export check included, and also timed on their own).
Prints one JSON object; ``--write-md`` writes the section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench_ingest import (
    CORPUS,
    CpuMonitor,
    busy_processes,
    fmt,
    invocation,
    make_settings,
    today,
    write_section,
)
from ingest.catalog import document_meta, load_catalog
from ingest.embedding import Embedder, TitledText
from ingest.loading import load_file
from ingest.pipeline import Ingestor, Progress, discover, fingerprint, prepare, texts_to_embed
from ingest.settings import EmbeddingSettings
from ingest.store import open_store

SEED = 10


def embedding_settings(base: EmbeddingSettings, spec: str) -> EmbeddingSettings:
    """``torch``, ``onnx``, ``openvino``, each optionally ``:int8``; ``torch:float32`` is the reference."""
    backend, _, variant = spec.partition(":")
    update: dict[str, Any] = {"backend": backend, "quantization": "int8" if variant == "int8" else "none"}
    if variant == "float32":
        update = {"backend": backend, "dtype": "float32"}
    return EmbeddingSettings.model_validate(base.model_dump() | update)


def corpus_inputs(settings) -> list[TitledText]:
    catalog = load_catalog(settings.catalog_file)
    texts: list[TitledText] = []
    for rel in discover(settings.corpus_dir, settings.catalog_file):
        path = settings.corpus_dir / rel
        loaded = load_file(path)
        meta = document_meta(rel, "\n".join(loaded.pages), catalog)
        doc = prepare(loaded, rel, meta, fingerprint(path.read_bytes(), catalog.get(rel), settings), settings)
        texts += texts_to_embed(doc.inputs, doc.records)[0]
    return texts


def sample_run(settings, specs: list[str], size: int) -> dict[str, Any]:
    import numpy as np

    sample = random.Random(SEED).sample(corpus_inputs(settings), size)
    rows, reference = {}, None
    for spec in ["torch:float32", *specs]:
        loaded = time.perf_counter()
        embedder = Embedder(settings.embedding_model_path, embedding_settings(settings.embedding, spec))
        load_s = time.perf_counter() - loaded
        embedder.embed_documents(sample[:16])  # warm-up
        with CpuMonitor() as cpu:
            vectors = embedder.embed_documents(sample)
        row = {"load_s": round(load_s, 1), "seconds": cpu.result["wall_s"],
               "texts_per_s": round(size / cpu.result["wall_s"], 1), "index_name": embedder.name,
               "other_cpu_cores": cpu.result["other_cpu_cores"], "loadavg_1m": cpu.result["loadavg_1m_after"]}
        if reference is None:
            reference = vectors
        else:
            cosines = np.sum(vectors * reference, axis=1)
            row |= {"cosine_mean": round(float(cosines.mean()), 5), "cosine_min": round(float(cosines.min()), 5)}
        rows[spec] = row
        print(json.dumps({spec: row}), file=sys.stderr)
        del embedder
        gc.collect()
    return {"texts": size, "seed": SEED, "backends": rows}


class _Counted(Progress):
    def start_embedding(self, total: int) -> None:
        self.total = total


def ingest_run(specs: list[str]) -> dict[str, Any]:
    rows = {}
    for spec in specs:
        with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
            settings = make_settings(Path(tmp))
            settings = settings.model_copy(update={"embedding": embedding_settings(settings.embedding, spec)})
            loads: list[float] = []

            def load(settings=settings, loads=loads) -> Embedder:
                started = time.perf_counter()
                embedder = Embedder(settings.embedding_model_path, settings.embedding)
                loads.append(time.perf_counter() - started)
                return embedder

            ingestor, progress = Ingestor(settings, open_store(settings.qdrant), load), _Counted()
            with CpuMonitor() as cpu:
                report = ingestor.run(progress=progress)
            ingestor.store.close()
        rows[spec] = {"seconds": cpu.result["wall_s"], "model_load_s": round(loads[0], 1),
                      "chunks": report.total_chunks, "texts_embedded": progress.total,
                      "other_cpu_cores": cpu.result["other_cpu_cores"],
                      "loadavg_1m_before": cpu.result["loadavg_1m_before"],
                      "loadavg_1m_after": cpu.result["loadavg_1m_after"]}
        print(json.dumps({spec: rows[spec]}), file=sys.stderr)
        del ingestor
        gc.collect()
    return rows


def render_markdown(out: dict[str, Any], command: str) -> str:
    lines = ["## Embedding backends (issue 10)", "",
             (f"`{command}` — {out['date']}, one process, EmbeddingGemma-300M on the 2 cores. "
              "`torch` is the path before issue 10 (sentence-transformers, bfloat16 on this CPU); the others run "
              "the ONNX export of the same weights (`ingest/model_export.py`): `onnx` in ONNX Runtime (float32), "
              "`openvino` in OpenVINO (bfloat16 on this CPU, like torch), `:int8` with dynamic int8 linear "
              "layers (the MLP output projections kept in float).")]
    if sample := out.get("sample"):
        ref = sample["backends"]["torch:float32"]["texts_per_s"]
        today_rate = sample["backends"].get("torch", {}).get("texts_per_s")
        lines += ["", (f"A fixed sample of {sample['texts']} real embedding inputs (chunks and answer units, "
                       f"seed {sample['seed']}), embedded as ingest does; cosine to the float32 PyTorch vector "
                       "of the same text:"), "",
                  ("| backend | texts/s | vs torch (today) | cosine mean | cosine min | index records | "
                   "load (s) | other CPU (cores) |"), "|---|---|---|---|---|---|---|---|"]
        for spec, row in sample["backends"].items():
            speed = f"{row['texts_per_s'] / today_rate:.2f}×" if today_rate else "–"
            label = "torch float32 (reference)" if spec == "torch:float32" else spec
            lines.append(f"| {label} | {fmt(row['texts_per_s'])} | {speed} | {fmt(row.get('cosine_mean'), 5)} | "
                         f"{fmt(row.get('cosine_min'), 5)} | {row['index_name']} | {fmt(row['load_s'])} | "
                         f"{fmt(row['other_cpu_cores'], 2)} |")
        lines += ["", f"(float32 PyTorch: {fmt(ref)} texts/s.)"]
    if ingest := out.get("ingest"):
        lines += ["", ("Whole-corpus fresh ingest (chunks and their answer-unit vectors) into a fresh Qdrant "
                       "Edge folder, one backend after the other in the same run:"), "",
                  ("| backend | texts embedded | chunks | ingest | of which model load | load average before / "
                   "after | other CPU (cores) |"), "|---|---|---|---|---|---|---|"]
        for spec, row in ingest.items():
            lines.append(f"| {spec} | {fmt(row['texts_embedded'])} | {fmt(row['chunks'])} | "
                         f"**{fmt(row['seconds'])} s** | {fmt(row['model_load_s'])} s | "
                         f"{fmt(row['loadavg_1m_before'], 2)} / {fmt(row['loadavg_1m_after'], 2)} | "
                         f"{fmt(row['other_cpu_cores'], 2)} |")
    lines += ["", f"Busy at start: {', '.join(out['busy_at_start']) or 'nothing above 5 %'}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_backends", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="texts in the sample (0: no sample run)")
    parser.add_argument("--backends", default="torch,onnx,onnx:int8,openvino",
                        help="backends for the sample, besides the float32 reference")
    parser.add_argument("--ingest", default="torch,openvino", help="backends for a whole-corpus ingest ('': none)")
    parser.add_argument("--write-md", action="store_true", help="write the section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    settings = make_settings(Path(tempfile.gettempdir()), corpus_dir=CORPUS)
    out: dict[str, Any] = {"date": today(), "busy_at_start": busy_processes()}
    if args.sample:
        out["sample"] = sample_run(settings, [s for s in args.backends.split(",") if s], args.sample)
    if specs := [s for s in args.ingest.split(",") if s]:
        out["ingest"] = ingest_run(specs)
    print(json.dumps(out, indent=1))
    if args.write_md:
        write_section("bench_backends", render_markdown(out, invocation("eval.bench_backends", sys.argv[1:])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
