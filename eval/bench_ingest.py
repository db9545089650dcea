"""Ingest benchmark: the whole corpus into a fresh embedded Qdrant with the real model, then growth.

    .venv/bin/python -m eval.bench_ingest --sizes 1,10,50 [--queries 30] [--write-md]

Prints one JSON object. Each size runs in its own child process (so peak RSS is that size's own,
read with ``getrusage(RUSAGE_SELF).ru_maxrss``), into a fresh embedded Qdrant folder (``path``; the engine
the settings name, Qdrant Edge by default):

* ×1: the real corpus with the real EmbeddingGemma; model load timed on its own; every chunk embedded.
  Then a no-change re-run in a fresh process (in-process timing, and the ``python -m ingest`` command's
  wall time); it must not load the model.
* ×N (N > 1): the corpus copied N times under other file names (distinct doc ids, same catalog
  entries), so every replica chunk has the same embedded input text as its ×1 original. Embedding
  15,000 chunks would take most of an hour on 2 cores, so the embedder is wrapped by a cache keyed by
  that input text, filled by the ×1 run: the ×N pipeline time is measured for everything except
  embedding (loading, cleaning, chunking, BM25, Qdrant upserts and deletes), and the full time is
  extrapolated as measured non-embedding time + chunks / the ×1 embedding throughput.
* At every size: hybrid query latency through ``Assistant.search`` over gold questions, with the time
  spent embedding the query separated from the time spent in Qdrant.

The helpers at the top (CPU monitor, settings, markdown sections) are shared by bench_query and bench_peer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # also runnable as `python eval/bench_ingest.py`
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold" / "dev.jsonl"
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"
PYTHON = ".venv/bin/python"

INTRO = """# Performance

Measured figures for Sambruk Assistent on the machine this project is built on: 2 CPU cores (AMD EPYC
with AVX512-BF16, so EmbeddingGemma runs in bfloat16), no GPU, the embedded Qdrant (a folder; each section
names its engine: qdrant-client's local mode until issue 10, Qdrant Edge since) and the real
EmbeddingGemma-300M model. Every section below is written by the script named in it
(`--write-md`), with the command, the date and how busy the machine was: the 2 cores are shared with
other work, so each section states the CPU that other processes used while it ran (in cores, averaged
over the measurement). **Measured** figures are timings of real runs; **extrapolated** figures are
marked as such and say how they were computed.
"""


# -- shared helpers -------------------------------------------------------------------------------

def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, **overrides: Any):
    """Settings for a private corpus and Qdrant folder (the pattern of tests/conftest.py)."""
    from assistant.settings import QdrantSettings, Settings

    return Settings(
        corpus_dir=corpus_dir,
        catalog_file=corpus_dir / "catalog.toml",
        data_dir=data_dir,
        qdrant=QdrantSettings(path=data_dir / "qdrant"),
        **overrides,
    )


def _busy_jiffies() -> int:
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy
    return sum(fields) - fields[3] - fields[4]


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuMonitor:
    """How much CPU other processes used while a measurement ran (average cores), from /proc/stat.

    Busy time of the whole machine minus this process's own (and its waited-for children's) CPU time.
    """

    def __init__(self) -> None:
        self.hz = os.sysconf("SC_CLK_TCK")
        self.cores = os.cpu_count() or 1

    def __enter__(self) -> CpuMonitor:
        self._wall, self._busy, self._own = time.perf_counter(), _busy_jiffies(), _own_cpu_s()
        self._load = os.getloadavg()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._wall
        busy = (_busy_jiffies() - self._busy) / self.hz
        own = _own_cpu_s() - self._own
        self.result = {
            "wall_s": round(wall, 2),
            "own_cpu_cores": round(own / wall, 2) if wall >= 1 else None,
            # /proc/stat ticks are 10 ms: below a second the share is noise
            "other_cpu_cores": round(max(0.0, busy - own) / wall, 2) if wall >= 1 else None,
            "machine_cores": self.cores,
            "loadavg_1m_before": round(self._load, 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
        }


def busy_processes(min_cpu: float = 5.0) -> list[str]:
    """Other processes using CPU right now (one `top` sample), to name what shared the machine."""
    try:
        out = subprocess.run(["top", "-b", "-c", "-n", "2", "-d", "1", "-w", "250"], capture_output=True,
                             text=True, timeout=15).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    last = out.split("top - ")[-1]  # the second sample: CPU over the last second
    lines, seen_header, found = last.splitlines(), False, []
    for line in lines:
        parts = line.split(None, 11)
        if parts[:1] == ["PID"]:
            seen_header = True
            continue
        if not seen_header or len(parts) < 12:
            continue
        try:
            cpu = float(parts[8].replace(",", "."))
        except ValueError:
            continue
        if cpu >= min_cpu and int(parts[0]) != os.getpid():
            found.append(f"{parts[11][:80]} ({cpu:.0f} %)")
    return found


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def pct(values: Sequence[float], q: float) -> float | None:
    from eval.scoring import percentile

    value = percentile(values, q)
    return None if value is None else round(value, 1)


def folder_mb(path: Path, allocated: bool = False) -> float:
    """Size of a folder's files; ``allocated``: blocks on disk (Qdrant Edge preallocates sparse files)."""
    files = [f.stat() for f in path.rglob("*") if f.is_file()]
    return round(sum(s.st_blocks * 512 if allocated else s.st_size for s in files) / 2**20, 1)


def load_questions(limit: int | None = None, answerable_only: bool = False):
    from eval.run import load_gold

    questions = load_gold(GOLD)
    if answerable_only:
        questions = [q for q in questions if q.answerable]
    return questions[:limit] if limit else questions


def invocation(module: str, argv: Sequence[str]) -> str:
    return " ".join([PYTHON, "-m", module, *argv])


def today() -> str:
    return dt.date.today().isoformat()


def write_section(name: str, markdown: str, path: Path = PERFORMANCE_MD) -> None:
    """Replace (or append) one script's section of docs/PERFORMANCE.md, between HTML-comment markers."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else INTRO
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    order = ["bench_ingest", "bench_backends", "bench_scale", "bench_query", "bench_load", "bench_peer"]
    text = _ordered(text, order)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _ordered(text: str, names: list[str]) -> str:
    """Keep the sections in a fixed order whichever script wrote last. The prose after a section's end
    marker, up to the next section, belongs to it and moves with it."""
    marks = list(_SECTION_START.finditer(text))
    if not marks:
        return text
    bounds = [m.start() for m in marks] + [len(text)]
    pieces = {m.group(1): text[bounds[i]:bounds[i + 1]].strip() for i, m in enumerate(marks)}
    rank = {name: i for i, name in enumerate(names)}
    order = sorted(pieces, key=lambda name: rank.get(name, len(names)))
    return text[:bounds[0]].rstrip() + "\n\n" + "\n\n".join(pieces[name] for name in order) + "\n"


_SECTION_START = re.compile(r"<!-- (\w+):start -->")


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ")
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return str(value)


# -- the embedder stand-in with a cache -----------------------------------------------------------

_TITLE_MARK, _TEXT_MARK = "\x00TITLE\x00", "\x00TEXT\x00"


class CachingEmbedder:
    """Stands in for ``ingest.embedding.Embedder`` in the Ingestor: the vectors of inputs (chunks and
    answer units) already embedded come from a cache keyed by the exact embedded input text; the rest
    go to the real model (loaded only on the first miss) and are timed. Time spent inside
    embed_documents is recorded either way."""

    def __init__(self, name: str, dimension: int, template: str | None,
                 cache: dict[Any, Any], load_real: Callable[[], Any]):
        self.name, self.dimension = name, dimension
        self.cache = cache
        self._template = template
        self._load_real = load_real
        self._real = None
        self.embedded = self.hits = 0
        self.model_seconds = 0.0  # inside the real model's embed_documents
        self.total_seconds = 0.0  # inside embed_documents, model and cache together

    @property
    def real(self):
        if self._real is None:
            self._real = self._load_real()
            self._template = self._real.document_input(_titled(_TITLE_MARK, _TEXT_MARK))
        return self._real

    def key(self, item) -> str:
        if self._template is None:
            _ = self.real
        key = self._template.replace(_TITLE_MARK, item.title).replace(_TEXT_MARK, item.text)
        if self._real is not None:
            assert key == self._real.document_input(item), "cache key differs from the embedded input"
        return key

    def embed_documents(self, items, on_batch=None):
        import numpy as np

        started = time.perf_counter()
        keys = [self.key(item) for item in items]
        missing = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if missing:
            first = {k: item for k, item in zip(keys, items, strict=True)}
            t = time.perf_counter()
            vectors = self.real.embed_documents([first[k] for k in missing])
            self.model_seconds += time.perf_counter() - t
            self.cache.update(zip(missing, vectors, strict=True))
            self.embedded += len(missing)
        self.hits += len(items) - len(missing)
        if on_batch:
            on_batch(len(items))
        self.total_seconds += time.perf_counter() - started
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, self.dimension), np.float32)


def _titled(title: str, text: str):
    from ingest.embedding import TitledText

    return TitledText(title=title, text=text)


# -- stage timers (wrap the pipeline's functions in this process only; no file is changed) ---------

class StageTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()

    def report(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])}


def pipeline_stage_timer() -> StageTimer:
    import ingest.pipeline as pipeline
    from ingest.store import Store

    timer = StageTimer()
    timer.wrap(pipeline, "load_file", "load files")
    timer.wrap(pipeline, "clean_pages", "cleaning")
    timer.wrap(pipeline, "chunk_text", "chunking")
    timer.wrap(pipeline, "document_vector", "BM25 vectors")
    timer.wrap(Store, "existing_vectors", "Qdrant: read reusable vectors")
    timer.wrap(Store, "replace_document", "Qdrant: upsert + delete stale")
    timer.wrap(Store, "document_records", "Qdrant: read manifest")
    timer.wrap(Store, "count", "Qdrant: count")
    return timer


# -- building a replicated corpus -------------------------------------------------------------------

def replicate_corpus(target: Path, copies: int) -> int:
    """The corpus `copies` times: copy 0 under its own names, copy i under `copy-NNN/` (own doc ids)."""
    target.mkdir(parents=True, exist_ok=True)
    catalog = tomllib.loads((CORPUS / "catalog.toml").read_text(encoding="utf-8")).get("document", [])
    by_file = {entry["file"]: entry for entry in catalog}
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "catalog.toml")
    entries = []
    for i in range(copies):
        folder = target if i == 0 else target / f"copy-{i:03d}"
        folder.mkdir(exist_ok=True)
        for path in files:
            rel = path.name if i == 0 else f"copy-{i:03d}/{path.name}"
            shutil.copyfile(path, folder / path.name)
            if path.name in by_file:
                entries.append({**by_file[path.name], "file": rel})
    lines = []
    for entry in entries:
        lines.append("[[document]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
        lines.append("")
    (target / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    return len(files) * copies


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


# -- one size, in a child process ---------------------------------------------------------------------

def phase_ingest(work: Path, size: int, cache_file: Path, queries: int) -> dict[str, Any]:
    from ingest.embedding import Embedder
    from ingest.pipeline import Ingestor
    from ingest.store import open_store

    corpus = work / "corpus"
    files = replicate_corpus(corpus, size)
    settings = make_settings(work / "data", corpus_dir=corpus)
    result: dict[str, Any] = {"size": size, "files": files}

    loaded: dict[str, Any] = {}

    def load_model():
        before = current_rss_mb()
        started = time.perf_counter()
        import sentence_transformers  # noqa: F401  (torch and friends: timed apart from the weights)

        imported = time.perf_counter()
        model = Embedder(settings.embedding_model_path, settings.embedding)
        loaded.update(seconds=round(time.perf_counter() - imported, 2), import_s=round(imported - started, 2),
                      rss_delta_mb=round(current_rss_mb() - before, 1))
        return model

    if size == 1:
        cache: dict[str, Any] = {}
        real = load_model()
        embedder = CachingEmbedder(real.name, real.dimension, None, cache, lambda: real)
        _ = embedder.real  # fixes the key template from the loaded model
        result["model_load_s"] = loaded["seconds"]
        result["model_import_s"] = loaded["import_s"]
        result["model_rss_mb"] = loaded["rss_delta_mb"]
    else:
        with cache_file.open("rb") as fh:
            saved = pickle.load(fh)
        cache = saved["cache"]
        embedder = CachingEmbedder(saved["name"], saved["dimension"], saved["template"], cache, load_model)

    timer = pipeline_stage_timer()
    store = open_store(settings.qdrant)
    report = Ingestor(settings, store, lambda: embedder).run()
    timer.restore()
    if not report.ok:
        raise RuntimeError(f"ingest failed: {report.failed}")
    chunks = report.chunks_written
    non_embedding = report.seconds - embedder.total_seconds
    result.update(
        chunks=chunks,
        total_chunks=report.total_chunks,
        ingest_s=round(report.seconds, 2),
        chunks_per_s=round(chunks / report.seconds, 2),
        embedded_by_model=embedder.embedded,
        served_from_cache=embedder.hits,
        embedding_model_s=round(embedder.model_seconds, 2),
        embedding_cache_s=round(embedder.total_seconds - embedder.model_seconds, 2),
        non_embedding_s=round(non_embedding, 2),
        stages_s=timer.report(),
        peak_rss_ingest_mb=peak_rss_mb(),
        model_loaded_during_ingest=embedder._real is not None,
        qdrant_mb=folder_mb(settings.qdrant.path),
        engine=settings.qdrant.engine,
    )
    if embedder.embedded:
        result["embedding_chunks_per_s"] = round(embedder.embedded / embedder.model_seconds, 3)
    if size == 1:
        with cache_file.open("wb") as fh:
            pickle.dump({"cache": cache, "name": embedder.name, "dimension": embedder.dimension,
                         "template": embedder._template}, fh)
    if queries:
        real = embedder.real  # loads the model now for the replicas (after the ingest's RSS was read)
        if "seconds" in loaded and size != 1:
            result["model_load_s"] = loaded["seconds"]
        try:
            result["query"] = query_latency(settings, store, real, queries)
        except Exception as exc:  # code under edit elsewhere must not throw away a long ingest run
            result["query"] = {"error": f"{type(exc).__name__}: {exc}"}
        result["peak_rss_serving_mb"] = peak_rss_mb()
    store.close()
    return result


def query_latency(settings, store, embedder, count: int, warmup: int = 2) -> dict[str, Any]:
    """Hybrid search latency through Assistant.search; query embedding timed apart from Qdrant."""
    from assistant.schemas import Filters
    from assistant.service import build_assistant

    assistant = build_assistant(settings, store=store, embedder=embedder)
    embed_ms: list[float] = []
    original = embedder.embed_query

    def timed_embed(query: str):
        started = time.perf_counter()
        try:
            return original(query)
        finally:
            embed_ms.append((time.perf_counter() - started) * 1000)

    embedder.embed_query = timed_embed
    questions = load_questions(count + warmup)
    total_ms: list[float] = []
    try:
        for i, gold in enumerate(questions):
            started = time.perf_counter()
            passages = assistant.search(gold.question, Filters())
            elapsed = (time.perf_counter() - started) * 1000
            assert passages, gold.id
            if i >= warmup:
                total_ms.append(elapsed)
    finally:
        embedder.embed_query = original
    embeds = embed_ms[warmup:]
    rest = [t - e for t, e in zip(total_ms, embeds, strict=True)]
    return {
        "questions": len(total_ms),
        "p50_ms": pct(total_ms, 50), "p95_ms": pct(total_ms, 95),
        "embed_query_p50_ms": pct(embeds, 50),
        "search_and_postprocess_p50_ms": pct(rest, 50), "search_and_postprocess_p95_ms": pct(rest, 95),
    }


def phase_rerun(work: Path) -> dict[str, Any]:
    """A no-change re-run in a fresh process, the way `python -m ingest` does it."""
    started = time.perf_counter()
    from ingest.__main__ import build_ingestor  # noqa: E402  (imports timed too)

    imported = time.perf_counter()
    settings = make_settings(work / "data", corpus_dir=work / "corpus")
    ingestor = build_ingestor(settings)  # opens the Qdrant folder (client local mode reads every point)
    opened = time.perf_counter()
    report = ingestor.run()
    done = time.perf_counter()
    return {
        "imports_s": round(imported - started, 2),
        "open_qdrant_s": round(opened - imported, 2),
        "run_s": round(done - opened, 2),
        "in_process_total_s": round(done - started, 2),
        "unchanged": report.unchanged, "files": report.files, "chunks_embedded": report.chunks_embedded,
        "model_loaded": ingestor._embedder is not None or "sentence_transformers" in sys.modules,
        "peak_rss_mb": peak_rss_mb(),
    }


def cli_rerun(work: Path) -> dict[str, Any]:
    env = dict(os.environ, SAMBRUK_CORPUS_DIR=str(work / "corpus"),
               SAMBRUK_CATALOG_FILE=str(work / "corpus" / "catalog.toml"),
               SAMBRUK_DATA_DIR=str(work / "data"), SAMBRUK_QDRANT__PATH=str(work / "data" / "qdrant"))
    env.pop("SAMBRUK_CONFIG", None)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ingest", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"python -m ingest failed: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"command_wall_s": round(wall, 2), "chunks_embedded": report["chunks_embedded"],
            "unchanged": report["unchanged"], "reported_s": report["seconds"]}


def run_child(args: list[str], module: str = "eval.bench_ingest") -> tuple[dict[str, Any], dict[str, Any]]:
    """One phase of a benchmark module in a child process: its JSON result and the CPU others used meanwhile."""
    with CpuMonitor() as monitor:
        proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child {' '.join(args)} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), monitor.result


# -- orchestration and report ----------------------------------------------------------------------------

def benchmark(sizes: list[int], queries: int, keep: Path | None) -> dict[str, Any]:
    if sizes[0] != 1:
        sizes = [1, *[s for s in sizes if s != 1]]  # the replicas need the ×1 run's embeddings
    root = Path(tempfile.mkdtemp(prefix="sambruk-bench-ingest-", dir=keep))
    cache_file = root / "embedding-cache.pkl"
    out: dict[str, Any] = {"date": today(), "machine": {"cores": os.cpu_count(),
                                                         "busy_at_start": busy_processes()}, "sizes": {}}
    try:
        for size in sizes:
            work = root / f"x{size}"
            work.mkdir()
            print(f"[bench_ingest] ×{size}: ingest", file=sys.stderr, flush=True)
            result, cpu = run_child(["--phase", "ingest", "--size", str(size), "--work", str(work),
                                     "--cache", str(cache_file), "--queries", str(queries)])
            result["cpu_during_ingest_and_queries"] = cpu
            print(f"[bench_ingest] ×{size}: no-change re-run", file=sys.stderr, flush=True)
            rerun, cpu = run_child(["--phase", "rerun", "--work", str(work)])
            rerun["cpu"] = cpu
            with CpuMonitor() as monitor:
                rerun["cli"] = cli_rerun(work)
            rerun["cli"]["cpu"] = monitor.result
            result["rerun"] = rerun
            out["sizes"][str(size)] = result
            print(f"[bench_ingest] ×{size}: {json.dumps(result, ensure_ascii=False)}", file=sys.stderr,
                  flush=True)
            if keep is None:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    base = out["sizes"]["1"]
    throughput = base["embedding_chunks_per_s"]
    out["embedding_chunks_per_s_x1"] = throughput
    for key, result in out["sizes"].items():
        result["extrapolated_full_ingest_s"] = round(result["non_embedding_s"] + result["chunks"] / throughput, 1)
        result["extrapolated_chunks_per_s"] = round(result["chunks"] / result["extrapolated_full_ingest_s"], 2)
        if key != "1":
            result["note"] = ("embedding served from a cache filled by the ×1 run; ingest_s and "
                              "non_embedding_s are measured, extrapolated_full_ingest_s adds chunks / the ×1 "
                              "embedding throughput")
    out["machine"]["busy_at_end"] = busy_processes()
    return out


def render_markdown(out: dict[str, Any], command: str) -> str:
    sizes = out["sizes"]
    base = sizes["1"]
    lines = [
        "## Ingest",
        "",
        f"`{command}` — {out['date']}. Each size ran in a fresh process into a fresh Qdrant folder "
        f"({ENGINE_NAMES[base.get('engine', 'client')]}). Peak RSS is `getrusage` maxrss of that process.",
        "",
        "| corpus | files | chunks | ingest, measured | of which embedding (model) | non-embedding, measured "
        "| full ingest | chunks/s | peak RSS ingest | Qdrant folder | no-change re-run (`python -m ingest`) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in sizes.items():
        measured_full = key == "1"
        full = f"{fmt(r['ingest_s'])} s (measured)" if measured_full else \
            f"**{fmt(r['extrapolated_full_ingest_s'])} s (extrapolated)**"
        rate = fmt(r["chunks_per_s"], 2) if measured_full else f"{fmt(r['extrapolated_chunks_per_s'], 2)} (extrap.)"
        embedding = f"{fmt(r['embedding_model_s'])} s" if measured_full else \
            f"0 s (cache: {fmt(r['embedding_cache_s'], 2)} s)"
        rss = f"{fmt(r['peak_rss_ingest_mb'], 0)} MB" + (" (with model)" if measured_full else " (no model)")
        rerun = r["rerun"]
        lines.append(
            f"| ×{key} | {r['files']} | {fmt(r['chunks'])} | {fmt(r['ingest_s'])} s | {embedding} "
            f"| {fmt(r['non_embedding_s'])} s | {full} | {rate} | {rss} | {fmt(r['qdrant_mb'])} MB "
            f"| {fmt(rerun['cli']['command_wall_s'])} s{' (< 10 s target met)' if rerun['cli']['command_wall_s'] < 10 else ' (**over the 10 s target**)'}, model loaded: {'yes' if rerun['model_loaded'] else 'no'} |"
        )
    lines += [
        "",
        f"- Model load (EmbeddingGemma, measured, not in the ingest time): {fmt(base['model_load_s'], 2)} s for the "
        f"weights after {fmt(base['model_import_s'], 2)} s importing torch and sentence-transformers; "
        f"+{fmt(base['model_rss_mb'], 0)} MB RSS for both. Embedding throughput (measured at ×1, the model alone): "
        f"**{fmt(out['embedding_chunks_per_s_x1'], 2)} chunks/s**.",
        "- ×N rows: the corpus copied N times under other names (distinct doc ids); embedding came from a cache "
        "keyed by the embedded input text, filled by the ×1 run (replica chunks have identical text). "
        "`full ingest` = measured non-embedding time + chunks / the ×1 embedding throughput "
        "(**extrapolated**). Everything else in those rows is measured.",
        "- No-change re-run: wall time of the whole `python -m ingest --json` command (interpreter start and "
        "imports included), in a fresh process; in-process split below. The model is not loaded.",
        "",
        "| corpus | re-run imports | open Qdrant folder | `Ingestor.run` | command wall time | chunks embedded |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in sizes.items():
        rr = r["rerun"]
        lines.append(f"| ×{key} | {fmt(rr['imports_s'], 2)} s | {fmt(rr['open_qdrant_s'], 2)} s | "
                     f"{fmt(rr['run_s'], 2)} s | {fmt(rr['cli']['command_wall_s'], 2)} s | "
                     f"{rr['cli']['chunks_embedded']} |")
    lines += ["", "Where the ingest time goes (measured, seconds; embedding excluded):", "",
              "| corpus | " + " | ".join(_stage_names(sizes)) + " |",
              "|---|" + "---|" * len(_stage_names(sizes))]
    for key, r in sizes.items():
        lines.append(f"| ×{key} | " + " | ".join(fmt(r["stages_s"].get(s), 2) for s in _stage_names(sizes)) + " |")
    lines += ["", "### Hybrid query latency as the index grows", "",
              "Through `Assistant.search` (dense + BM25 in one Qdrant `query_points`, RRF, merging, de-duplication), "
              "sequential, after 2 warm-up queries, measured:", "",
              "| corpus | chunks | questions | p50 | p95 | of which query embedding (p50) | Qdrant search + postprocess p50 / p95 "
              "| peak RSS serving |",
              "|---|---|---|---|---|---|---|---|"]
    for key, r in sizes.items():
        q = r.get("query")
        if q and "error" in q:
            lines.append(f"| ×{key} | {fmt(r['total_chunks'])} | failed: {q['error'][:120]} | | | | | |")
        elif q:
            lines.append(f"| ×{key} | {fmt(r['total_chunks'])} | {q['questions']} | {fmt(q['p50_ms'])} ms | "
                         f"{fmt(q['p95_ms'])} ms | {fmt(q['embed_query_p50_ms'])} ms | "
                         f"{fmt(q['search_and_postprocess_p50_ms'])} / {fmt(q['search_and_postprocess_p95_ms'])} ms | "
                         f"{fmt(r.get('peak_rss_serving_mb'), 0)} MB |")
    lines += _growth_lines(sizes)
    lines += ["", "Other processes' CPU during each size (average cores of the 2):",
              ", ".join(f"×{k} {fmt(r['cpu_during_ingest_and_queries']['other_cpu_cores'], 2)}"
                        for k, r in sizes.items()) + ".",
              "Busy at start: " + ("; ".join(out["machine"]["busy_at_start"]) or "nothing above 5 %") + "."]
    return "\n".join(lines)


RETRIEVAL_TARGET_MS = 250.0
ENGINE_NAMES = {"edge": "Qdrant Edge", "client": "qdrant-client local mode"}


def _growth_lines(sizes: dict[str, Any]) -> list[str]:
    """A least-squares line through the measured p50s: how fast search grows, where it crosses the target."""
    points = [(r["total_chunks"], r["query"]["p50_ms"]) for r in sizes.values()
              if r.get("query") and "error" not in r["query"]]
    if len(points) < 2 or sizes["1"].get("engine", "client") != "client":
        return []  # the fit explains local mode's scan; Qdrant Edge's growth is in the scale section
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    intercept = my - slope * mx
    cross = int((RETRIEVAL_TARGET_MS - intercept) / slope) if slope > 0 else None
    text = (f"The p50 grows about linearly with the index, **≈ {slope * 1000:.0f} ms per 1,000 chunks** "
            "(least-squares fit over the rows above): the embedded local mode scores every point in Python on "
            "every query, while the query embedding stays constant.")
    if cross and cross > 0:
        text += (f" The fit crosses the {RETRIEVAL_TARGET_MS:.0f} ms retrieval target at **about "
                 f"{fmt(int(round(cross, -2)))} chunks** (about {cross / max(1, sizes['1']['total_chunks']):.0f}× this "
                 "corpus; interpolated, not measured).")
    text += (" Beyond that, and for more than one serving process (local mode is a folder one process may open), "
             "the answer is a Qdrant server (`SAMBRUK_QDRANT__URL`, `deploy/docker-compose.yml`), whose HNSW "
             "index does not scan every point; no server binary is available here, so it is not measured.")
    return ["", text]


def _stage_names(sizes: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for r in sizes.values():
        names += [n for n in r["stages_s"] if n not in names]
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50", help="corpus replication factors, e.g. 1,10,50")
    parser.add_argument("--queries", type=int, default=30, help="gold questions timed per size (0: none)")
    parser.add_argument("--write-md", action="store_true", help="update the ingest section of docs/PERFORMANCE.md")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only rewrite the markdown section from the saved JSON output of an earlier run")
    parser.add_argument("--keep", type=Path, help="make the temp folder under this folder and keep it")
    parser.add_argument("--embedding-model", help="another sentence-transformers folder (smoke tests only; "
                        "the figures are for EmbeddingGemma)")
    parser.add_argument("--phase", choices=["ingest", "rerun"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.embedding_model:
        os.environ["SAMBRUK_EMBEDDING__MODEL"] = args.embedding_model  # children and `python -m ingest` inherit it
    if args.phase == "ingest":
        print(json.dumps(phase_ingest(args.work, args.size, args.cache, args.queries), ensure_ascii=False))
        return 0
    if args.phase == "rerun":
        print(json.dumps(phase_rerun(args.work), ensure_ascii=False))
        return 0
    if args.render:  # the markdown of a saved run (its own command and date), nothing measured anew
        out = json.loads(args.render.read_text(encoding="utf-8"))
        write_section("bench_ingest", render_markdown(out, out["command"]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    out = benchmark(sizes, args.queries, args.keep)
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-md"]
    out["command"] = invocation("eval.bench_ingest", shown)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write_md:
        write_section("bench_ingest", render_markdown(out, out["command"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
