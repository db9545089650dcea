"""The assistant beside the reference llama-index peer, on the same gold set, machine and run.

    .venv/bin/python -m eval.bench_peer [--budgets 1,2,5] [--write-md] [--out eval/out/bench_peer.json]

Needs the `peer` extra (llama-index-embeddings-huggingface, llama-index-retrievers-bm25).
The peer script (../shared/peer/llamaindex_peer.py) prints only aggregates and a rank per question, not
the retrieved chunks, so its retrieval is rebuilt here with exactly its calls (SimpleDirectoryReader,
SentenceSplitter 1024/200, in-memory VectorStoreIndex with EmbeddingGemma and its prompts, BM25 with
the Swedish Snowball stemmer, QueryFusionRetriever reciprocal rank, top 10, follow-ups with the previous
question prepended) and its own ``covers`` rule, imported from its module. Unless
``--no-peer-script-check``, the unmodified peer script is then run on the index built here (its
``--cache``), and its per-question ranks are compared with the rebuilt ones.

Retrieval quality at an EQUAL amount of retrieved text: the peer's chunks are ~2,800 characters, so for
each answerable question and each k in --budgets, the budget is the length of the peer's top-k chunks
for that question; the assistant gets as many of its top passages (``Assistant.retrieve`` with a deeper
top_k) as fit whole in that many characters. A hit: one retrieved text of the right file holds >= 80 %
of a gold quote's normalised words (``eval.scoring.covers``, the peer's rule). Also: MRR, hit@1 and hit@5
in each system's own unit, ingest time (fresh, model load excluded and reported apart) and query latency
(the two systems' queries interleaved question by question, so background load hits both alike).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eval.bench_ingest import (  # noqa: E402
    CORPUS,
    GOLD,
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

PEER = Path(os.environ.get("SAMBRUK_PEER_SCRIPT", ROOT.parent / "shared" / "peer" / "llamaindex_peer.py"))
PEER_TOP_K = 10  # the peer script's default --top-k
ASSISTANT_DEEP_TOP_K = 20


def load_peer_module():
    spec = importlib.util.spec_from_file_location("llamaindex_peer", PEER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # top level imports only the standard library
    return module


# -- the assistant ---------------------------------------------------------------------------------------

def build_assistant_side(data_dir: Path) -> dict[str, Any]:
    from assistant.service import build_assistant
    from ingest.embedding import Embedder
    from ingest.pipeline import Ingestor
    from ingest.store import open_store

    settings = make_settings(data_dir)
    import sentence_transformers  # noqa: F401  (imports not counted as model load, for either side)

    started = time.perf_counter()
    embedder = Embedder(settings.embedding_model_path, settings.embedding)
    model_load_s = time.perf_counter() - started
    store = open_store(settings.qdrant)
    with CpuMonitor() as monitor:
        report = Ingestor(settings, store, lambda: embedder).run()
    if not report.ok:
        raise RuntimeError(f"ingest failed: {report.failed}")
    deployed = build_assistant(settings, store=store, embedder=embedder)
    deep_settings = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"top_k": ASSISTANT_DEEP_TOP_K})})
    deep = build_assistant(deep_settings, store=store, embedder=embedder)
    return {
        "deployed": deployed, "deep": deep, "top_k": settings.retrieval.top_k,
        "model_load_s": round(model_load_s, 2), "ingest_s": round(report.seconds, 1),
        "chunks": report.total_chunks, "chunks_embedded": report.chunks_embedded,
        "chunks_per_s": round(report.chunks_written / report.seconds, 2) if report.chunks_written else None,
        "ingest_cpu": monitor.result, "embedding_runtime": settings.embedding.backend,
    }


# -- the peer, rebuilt with its own calls ----------------------------------------------------------------

def build_peer_side(model: Path, corpus: Path, top_k: int) -> dict[str, Any]:
    import Stemmer
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.retrievers.bm25 import BM25Retriever

    LlamaSettings.llm = None
    started = time.perf_counter()
    LlamaSettings.embed_model = HuggingFaceEmbedding(
        model_name=str(model), device="cpu",
        query_instruction="task: search result | query: ", text_instruction="title: none | text: ")
    model_load_s = time.perf_counter() - started
    with CpuMonitor() as monitor:
        t0 = time.time()  # the peer's ingest_s: reading, splitting and embedding (model load excluded)
        docs = SimpleDirectoryReader(str(corpus)).load_data()
        nodes = SentenceSplitter(chunk_size=1024, chunk_overlap=200).get_nodes_from_documents(docs)
        index = VectorStoreIndex(nodes, show_progress=False)
        ingest_s = time.time() - t0
    started = time.perf_counter()
    dense = index.as_retriever(similarity_top_k=top_k)
    sparse = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=top_k,
                                         stemmer=Stemmer.Stemmer("swedish"), language="swedish")
    fused = QueryFusionRetriever([dense, sparse], similarity_top_k=top_k, num_queries=1,
                                 mode="reciprocal_rerank", use_async=False)
    bm25_s = time.perf_counter() - started
    lengths = [len(n.get_content()) for n in nodes]
    return {
        "index": index, "retriever": fused, "model_load_s": round(model_load_s, 2),
        "ingest_s": round(ingest_s, 1), "bm25_build_s": round(bm25_s, 2), "chunks": len(nodes),
        "chunks_per_s": round(len(nodes) / ingest_s, 2), "ingest_cpu": monitor.result,
        "mean_chunk_chars": round(sum(lengths) / len(lengths)), "documents_read": len(docs),
    }


# -- scoring -------------------------------------------------------------------------------------------------

def assistant_rank(passages, sources) -> int | None:
    from eval.scoring import Evidence, first_hit_rank

    return first_hit_rank([Evidence(p.file, p.text) for p in passages], sources)


def peer_rank(peer_module, hits, sources) -> int | None:
    """The peer script's own rule, with its own functions."""
    return next((i + 1 for i, h in enumerate(hits)
                 if any(peer_module.covers(set(peer_module.norm_words(h.node.get_content())), s.quote)
                        and h.node.metadata.get("file_name") == s.file for s in sources)), None)


def fitting(passages, budget: int) -> int:
    """How many of the leading passages fit whole in `budget` characters."""
    used = n = 0
    for p in passages:
        if used + len(p.text) > budget:
            break
        used += len(p.text)
        n += 1
    return n


def run_questions(assistant: dict[str, Any], peer: dict[str, Any], peer_module, questions, budgets: list[int],
                  warmup: int) -> list[dict[str, Any]]:
    from eval.run import to_request

    rows = []
    retriever = peer["retriever"]
    for i, gold in enumerate(questions):
        request = to_request(gold, None)
        started = time.perf_counter()
        deployed = assistant["deployed"].retrieve(request)
        assistant_ms = (time.perf_counter() - started) * 1000
        deep = assistant["deep"].retrieve(request)
        peer_query = " ".join(list(gold.history[-1:]) + [gold.question])  # as the peer script builds it
        started = time.perf_counter()
        hits = retriever.retrieve(peer_query)
        peer_ms = (time.perf_counter() - started) * 1000
        row: dict[str, Any] = {
            "id": gold.id, "type": gold.type, "language": gold.language, "warmup": i < warmup,
            "assistant_ms": round(assistant_ms, 1), "peer_ms": round(peer_ms, 1),
            "assistant_rank_deployed": assistant_rank(deployed, gold.sources),
            "assistant_rank_deep": assistant_rank(deep, gold.sources),
            "peer_rank": peer_rank(peer_module, hits, gold.sources),
            "peer_chunk_chars": [len(h.node.get_content()) for h in hits],
            "assistant_passage_chars": [len(p.text) for p in deep],
            "budgets": {},
        }
        for k in budgets:
            budget = sum(row["peer_chunk_chars"][:k])
            n = fitting(deep, budget)
            rank = row["assistant_rank_deep"]
            row["budgets"][str(k)] = {
                "chars": budget, "assistant_passages": n,
                "assistant_chars": sum(row["assistant_passage_chars"][:n]),
                "assistant_hit": rank is not None and rank <= n,
                "peer_hit": row["peer_rank"] is not None and row["peer_rank"] <= k,
            }
        rows.append(row)
    return rows


def _mean(values) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 3) if values else None


def _mrr(ranks) -> float:
    ranks = list(ranks)
    return round(sum(1 / r for r in ranks if r) / len(ranks), 3)


def aggregate(rows: list[dict[str, Any]], budgets: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"answerable_questions": len(rows), "budgets": {}}
    for k in budgets:
        b = [r["budgets"][str(k)] for r in rows]
        out["budgets"][str(k)] = {
            "mean_chars": round(_mean(x["chars"] for x in b)),
            "peer_hit": _mean(x["peer_hit"] for x in b),
            "assistant_hit": _mean(x["assistant_hit"] for x in b),
            "assistant_mean_passages": round(_mean(x["assistant_passages"] for x in b), 2),
            "assistant_mean_chars": round(_mean(x["assistant_chars"] for x in b)),
            "assistant_zero_passages_fit": sum(x["assistant_passages"] == 0 for x in b),
        }
    dep = [r["assistant_rank_deployed"] for r in rows]
    deep = [r["assistant_rank_deep"] for r in rows]
    peer = [r["peer_rank"] for r in rows]
    timed = [r for r in rows if not r["warmup"]]
    out["assistant"] = {
        "hit_at_1": _mean(r == 1 for r in dep), "hit_at_5": _mean(r is not None and r <= 5 for r in dep),
        "mrr_at_top_k": _mrr(dep), "mrr_at_20": _mrr(deep),
        "hit_at_20": _mean(r is not None for r in deep),
        "mean_passage_chars": round(_mean(c for r in rows for c in r["assistant_passage_chars"][:6])),
        "retrieval_p50_ms": pct([r["assistant_ms"] for r in timed], 50),
        "retrieval_p95_ms": pct([r["assistant_ms"] for r in timed], 95),
    }
    out["peer"] = {
        "hit_at_1": _mean(r == 1 for r in peer), "hit_at_5": _mean(r is not None and r <= 5 for r in peer),
        "hit_at_10": _mean(r is not None for r in peer), "mrr_at_10": _mrr(peer),
        "mean_chunk_chars": round(_mean(c for r in rows for c in r["peer_chunk_chars"])),
        "retrieval_p50_ms": pct([r["peer_ms"] for r in timed], 50),
        "retrieval_p95_ms": pct([r["peer_ms"] for r in timed], 95),
    }
    out["timed_questions"] = len(timed)
    return out


def check_with_peer_script(peer: dict[str, Any], model: Path, rows: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    """Run the unmodified peer script on the index built here and compare its ranks with ours."""
    cache = work / "peer-index"
    peer["index"].storage_context.persist(persist_dir=str(cache))
    out_file = work / "peer.json"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(PEER), "--corpus", str(CORPUS), "--gold", str(GOLD), "--model", str(model),
         "--cache", str(cache), "--out", str(out_file)],
        cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        return {"ok": False, "error": proc.stderr[-1500:]}
    theirs = json.loads(out_file.read_text(encoding="utf-8"))
    ours = {r["id"]: r["peer_rank"] for r in rows}
    compared = {qid: rank for qid, rank in theirs["per_question_rank"].items() if qid in ours}
    differ = {qid: {"script": rank, "rebuilt": ours[qid]} for qid, rank in compared.items() if ours[qid] != rank}
    summary = {k: theirs[k] for k in ("retrieval_hit_at_1", "retrieval_hit_at_5", "retrieval_hit_at_10",
                                      "retrieval_mrr", "retrieval_p50_ms", "answerable", "chunks")}
    return {"ok": True, "questions": len(compared), "ranks_equal": len(compared) - len(differ),
            "differ": differ, "script_summary": summary, "wall_s": round(wall, 1)}


def render_markdown(out: dict[str, Any]) -> str:
    agg, a, p = out["scores"], out["assistant"], out["peer"]
    lines = [
        "## Beside the reference peer (llama-index defaults)",
        "",
        f"`{out['command']}` — {out['date']}. Both systems in one process, on the same machine, over the same "
        f"{agg['answerable_questions']} answerable gold questions of `eval/gold/dev.jsonl`; the peer rebuilt with "
        "the exact calls of `../shared/peer/llamaindex_peer.py` "
        + (f"(its unmodified script, run on the index built here, gave the same rank for "
           f"{out['peer_script_check']['ranks_equal']} of {out['peer_script_check']['questions']} questions)"
           if out.get("peer_script_check", {}).get("ok") else "(not cross-checked with the script in this run)")
        + ". All figures measured.",
        "",
        "### Retrieval quality at an equal amount of retrieved text",
        "",
        "For each question the budget is the length of the peer's top-k chunks; the assistant gets as many of its "
        "top passages as fit whole in it. Hit: one retrieved text of the right file holds ≥ 80 % of a gold "
        "quote's normalised words (`eval.scoring.covers`, the peer's rule).",
        "",
        "| budget | mean characters | peer hit | assistant hit | assistant passages in it (mean) | assistant characters used (mean) |",
        "|---|---|---|---|---|---|",
    ]
    for k, b in agg["budgets"].items():
        lines.append(f"| peer's top {k} ({k} chunk{'s' if k != '1' else ''}) | {fmt(b['mean_chars'])} | "
                     f"{b['peer_hit']:.3f} | **{b['assistant_hit']:.3f}** | {b['assistant_mean_passages']:.2f} | "
                     f"{fmt(b['assistant_mean_chars'])} |")
    zero = {k: b["assistant_zero_passages_fit"] for k, b in agg["budgets"].items() if b["assistant_zero_passages_fit"]}
    if zero:
        lines.append("")
        lines.append("Questions where not even the assistant's first passage fitted (counted as misses): "
                     + ", ".join(f"top {k}: {v}" for k, v in zero.items()) + ".")
    sa, sp = agg["assistant"], agg["peer"]
    lines += [
        "",
        "### Side by side",
        "",
        "| | assistant | peer |",
        "|---|---|---|",
        f"| unit retrieved (mean characters) | passage, {fmt(sa['mean_passage_chars'])} | chunk, {fmt(sp['mean_chunk_chars'])} |",
        f"| hit@1 / hit@5 (own unit) | {sa['hit_at_1']:.3f} / {sa['hit_at_5']:.3f} | {sp['hit_at_1']:.3f} / {sp['hit_at_5']:.3f} |",
        f"| MRR (own unit) | {sa['mrr_at_top_k']:.3f} (top {a['top_k']}, as deployed); {sa['mrr_at_20']:.3f} (top 20) "
        f"| {sp['mrr_at_10']:.3f} (top 10) |",
        f"| ingest, fresh, model load excluded | {fmt(a['ingest_s'])} s ({a['chunks']} chunks, {fmt(a['chunks_per_s'], 2)} chunks/s) "
        f"| {fmt(p['ingest_s'])} s ({p['chunks']} chunks, {fmt(p['chunks_per_s'], 2)} chunks/s) |",
        f"| model load | {fmt(a['model_load_s'], 1)} s ({a['embedding_runtime']}) | {fmt(p['model_load_s'], 1)} s (float32) |",
        f"| query latency p50 / p95 ({agg['timed_questions']} questions, interleaved) | "
        f"{fmt(sa['retrieval_p50_ms'])} / {fmt(sa['retrieval_p95_ms'])} ms (`Assistant.retrieve`) | "
        f"{fmt(sp['retrieval_p50_ms'])} / {fmt(sp['retrieval_p95_ms'])} ms (`QueryFusionRetriever.retrieve`) |",
        "",
        f"Other processes' CPU (average cores of 2): assistant ingest {fmt(a['ingest_cpu']['other_cpu_cores'], 2)}, "
        f"peer ingest {fmt(p['ingest_cpu']['other_cpu_cores'], 2)}, queries {fmt(out['query_cpu']['other_cpu_cores'], 2)}. "
        "Busy at start: " + ("; ".join(out["busy_at_start"]) or "nothing above 5 %") + ".",
    ]
    return "\n".join(lines)


def _run(args, work: Path, peer_module, questions, budgets):
    try:
        print("[bench_peer] assistant: fresh ingest", file=sys.stderr, flush=True)
        assistant = build_assistant_side(work / "data")
        model = assistant["deployed"].settings.embedding_model_path
        print(f"[bench_peer] assistant ingest {assistant['ingest_s']} s; peer: fresh ingest", file=sys.stderr, flush=True)
        peer = build_peer_side(model, CORPUS, PEER_TOP_K)
        print(f"[bench_peer] peer ingest {peer['ingest_s']} s; questions", file=sys.stderr, flush=True)
        with CpuMonitor() as monitor:
            rows = run_questions(assistant, peer, peer_module, questions, budgets, args.warmup)
        check = None
        if not args.no_peer_script_check:
            print("[bench_peer] running the peer script on the same index", file=sys.stderr, flush=True)
            check = check_with_peer_script(peer, model, rows, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows, check, monitor, assistant, peer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_peer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", default="1,2,5", help="peer top-k chunk budgets, e.g. 1,2,5")
    parser.add_argument("--limit", type=int, help="only the first N answerable questions")
    parser.add_argument("--warmup", type=int, default=2, help="first questions left out of the latency figures")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "out" / "bench_peer.json",
                        help="JSON with the per-question detail")
    parser.add_argument("--no-peer-script-check", action="store_true",
                        help="skip running the unmodified peer script on the index built here")
    parser.add_argument("--write-md", action="store_true", help="update the peer section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    if not PEER.exists():
        parser.error(f"peer script not found at {PEER}")
    budgets = [int(k) for k in args.budgets.split(",") if k.strip()]
    if max(budgets) > PEER_TOP_K:
        parser.error(f"budgets go up to the peer's top {PEER_TOP_K}")
    peer_module = load_peer_module()
    questions = load_questions(args.limit, answerable_only=True)
    busy = busy_processes()
    work = Path(tempfile.mkdtemp(prefix="sambruk-bench-peer-"))
    # llama-index prints notices ("LLM is explicitly disabled") to stdout: keep stdout for the JSON.
    with contextlib.redirect_stdout(sys.stderr):
        rows, check, monitor, assistant, peer = _run(args, work, peer_module, questions, budgets)
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-md"]
    strip = lambda d: {k: v for k, v in d.items() if k not in ("deployed", "deep", "index", "retriever")}  # noqa: E731
    out = {
        "date": today(), "command": invocation("eval.bench_peer", shown),
        "scores": aggregate(rows, budgets), "assistant": strip(assistant), "peer": strip(peer),
        "query_cpu": monitor.result, "peer_script_check": check, "peak_rss_mb": peak_rss_mb(),
        "busy_at_start": busy, "busy_at_end": busy_processes(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**out, "per_question": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write_md:
        write_section("bench_peer", render_markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
