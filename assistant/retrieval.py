"""Hybrid retrieval as llama-index components: a retriever over Qdrant and three postprocessors.

The retriever runs dense (EmbeddingGemma) and Swedish BM25 sparse search in one Qdrant query fused
by RRF, on whichever engine the store has. The postprocessors then prefer newer documents for
"today/latest" questions, merge neighbouring chunks of one section into one passage, and drop
near-duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import ConfigDict, PrivateAttr

from assistant.schemas import Filters, Passage
from ingest.embedding import Embedder
from ingest.sparse import analyze, query_vector
from ingest.store import DENSE, UNITS, ChunkFilter, Store

_NODE_META_EXCLUDE = ("text", "text_sha")


def qdrant_filter(filters: Filters) -> ChunkFilter | None:
    any_of = {key: list(values) for key, values in (("doc_type", filters.doc_types),
                                                    ("organisation", filters.organisations),
                                                    ("doc_id", filters.doc_ids)) if values}
    ranges = {}
    if filters.year_from is not None or filters.year_to is not None:
        ranges["year"] = (filters.year_from, filters.year_to)
    return ChunkFilter(any_of=any_of, ranges=ranges) if any_of or ranges else None


class HybridRetriever(BaseRetriever):
    def __init__(self, store: Store, embedder: Embedder, *, limit: int, prefetch_limit: int,
                 flt: ChunkFilter | None = None, sparse_weight: float = 1.0, units_weight: float = 0.0):
        super().__init__()
        self._sparse_weight = sparse_weight
        self._units_weight = units_weight
        self._store = store
        self._embedder = embedder
        self._limit = limit
        self._prefetch_limit = prefetch_limit
        self._filter = flt

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str
        dense = np.asarray(query_bundle.embedding or self._embedder.embed_query(query), dtype=np.float32)
        points = self._store.hybrid_search(
            dense, query_vector(query), limit=self._limit, prefetch_limit=self._prefetch_limit,
            flt=self._filter, with_vectors=(DENSE, UNITS), sparse_weight=self._sparse_weight,
            units_weight=self._units_weight,
        )
        nodes = []
        for point in points:
            vector = np.asarray(point.vector[DENSE], dtype=np.float32)
            similarity = float(vector @ dense / (np.linalg.norm(vector) * np.linalg.norm(dense) or 1.0))
            metadata = {k: v for k, v in point.payload.items() if k not in _NODE_META_EXCLUDE}
            metadata["similarity"] = similarity
            units = np.asarray(point.vector[UNITS], dtype=np.float32)
            metadata["unit_vectors"] = units
            metadata["unit_scores"] = units @ dense  # both normalised: the cosine answers rank units by
            node = TextNode(id_=str(point.id), text=point.payload["text"], metadata=metadata)
            nodes.append(NodeWithScore(node=node, score=point.score))
        # Rank fusion ties often (first in one list and absent from the other): the dense cosine breaks
        # them, so that equal questions get equal passages in the same order on every run.
        return sorted(nodes, key=lambda n: (-(n.score or 0.0), -n.node.metadata["similarity"]))


class RecencyPostprocessor(BaseNodePostprocessor):
    """For "today/latest" questions, lift newer documents so their figures come first."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    weight: float = 0.5

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None):
        keys = [_date_key(n.node.metadata) for n in nodes]
        if len(set(keys)) < 2:
            return nodes
        ranked = sorted(set(keys))
        for node, key in zip(nodes, keys, strict=True):
            node.score = (node.score or 0.0) * (1 + self.weight * ranked.index(key) / (len(ranked) - 1))
        return sorted(nodes, key=lambda n: n.score or 0.0, reverse=True)


class YearPostprocessor(BaseNodePostprocessor):
    """A question that names a year ("verksamhetsplanen 2026") lifts documents about that year."""

    years: list[int]
    weight: float = 0.5

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None):
        for node in nodes:
            if node.node.metadata.get("year") in self.years:
                node.score = (node.score or 0.0) * (1 + self.weight)
        return sorted(nodes, key=lambda n: n.score or 0.0, reverse=True)


class NeighbourMerger(BaseNodePostprocessor):
    """Adjacent chunks of one section become one passage, so evidence is not cut mid-thought."""

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None):
        merged: list[NodeWithScore] = []
        for node in nodes:
            partner = next((m for m in merged if _adjacent(m.node, node.node)), None)
            if partner is None:
                merged.append(node)
            else:
                partner.node = _join(partner.node, node.node)
                partner.score = max(partner.score or 0.0, node.score or 0.0)
        return merged


class NearDuplicateFilter(BaseNodePostprocessor):
    """Drop a passage whose words are mostly in a higher-ranked one (repeated boilerplate across years)."""

    threshold: float = 0.8
    _cache: dict = PrivateAttr(default_factory=dict)

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None):
        kept: list[tuple[NodeWithScore, set[str]]] = []
        for node in nodes:
            words = set(analyze(node.node.get_content()))
            if not any(_containment(words, other) >= self.threshold for _, other in kept):
                kept.append((node, words))
        return [node for node, _ in kept]


def _containment(words: set[str], other: set[str]) -> float:
    return len(words & other) / len(words) if words else 1.0


def _date_key(meta: dict) -> str:
    return str(meta.get("date") or meta.get("year") or "")


def _adjacent(a: TextNode, b: TextNode) -> bool:
    ma, mb = a.metadata, b.metadata
    if ma["doc_id"] != mb["doc_id"] or ma["section"] != mb["section"]:
        return False
    first, last = ma.get("ordinal_first", ma["ordinal"]), ma.get("ordinal_last", ma["ordinal"])
    return mb["ordinal"] in (first - 1, last + 1)


def _join(a: TextNode, b: TextNode) -> TextNode:
    """Union of two neighbouring spans of the cleaned text, using their exact offsets."""
    first, second = (a, b) if a.metadata["start"] <= b.metadata["start"] else (b, a)
    f, s = first.metadata, second.metadata
    if s["start"] >= f["end"]:
        # Chunks leave out only whitespace between them; padding keeps every offset exact.
        text = first.text + "\n" * (s["start"] - f["end"]) + second.text
    else:
        text = first.text + second.text[f["end"] - s["start"]:]
    meta = dict(f)
    seen = {tuple(u[:2]) for u in f["units"]}
    extra = [k for k, u in enumerate(s["units"]) if tuple(u[:2]) not in seen]  # the overlap is in both
    meta.update(
        units=[*f["units"], *(s["units"][k] for k in extra)],
        unit_vectors=np.concatenate([f["unit_vectors"], s["unit_vectors"][extra]]),
        unit_scores=np.concatenate([f["unit_scores"], s["unit_scores"][extra]]),
        start=f["start"], end=max(f["end"], s["end"]),
        ordinal_first=min(f.get("ordinal_first", f["ordinal"]), s.get("ordinal_first", s["ordinal"])),
        ordinal_last=max(f.get("ordinal_last", f["ordinal"]), s.get("ordinal_last", s["ordinal"])),
        chunk_ids=[*f.get("chunk_ids", [f["chunk_id"]]), *s.get("chunk_ids", [s["chunk_id"]])],
        similarity=max(f["similarity"], s["similarity"]),
        page=f.get("page") if f.get("page") is not None else s.get("page"),
    )
    return TextNode(id_=a.node_id, text=text, metadata=meta)


def to_passage(node: NodeWithScore) -> Passage:
    meta = node.node.metadata
    return Passage(
        **{k: meta[k] for k in ("doc_id", "file", "title", "doc_type", "organisation", "date", "year",
                                "language", "section", "page", "start", "end", "similarity", "units",
                                "unit_vectors", "unit_scores") if k in meta},
        chunk_ids=_chunk_ids(node),
        text=node.node.get_content(),
        score=float(node.score or 0.0),
    )


def retrieve_passages(
    store: Store,
    embedder: Embedder,
    query: str,
    *,
    filters: Filters,
    top_k: int,
    prefetch_k: int,
    prefer_latest: bool,
    years: Sequence[int] = (),
    sparse_weight: float = 1.0,
    units_weight: float = 0.0,
    postprocessors: Sequence[BaseNodePostprocessor] = (),
) -> list[Passage]:
    """Ranked, merged, de-duplicated passages: the evidence an answer may cite."""
    # Fetch more chunks than passages wanted: merging and de-duplication shrink the list. The fusion
    # returns at most what the prefetches found, so they fetch at least that many.
    limit = max(top_k * 3, 12)
    bundle = QueryBundle(query, embedding=embedder.embed_query(query).tolist())  # embedded once
    steps: list[BaseNodePostprocessor] = [RecencyPostprocessor()] if prefer_latest else []
    if years:
        steps.append(YearPostprocessor(years=list(years)))
    steps += [NeighbourMerger(), NearDuplicateFilter(), *postprocessors]

    def search(flt: ChunkFilter | None) -> list[NodeWithScore]:
        found = HybridRetriever(store, embedder, limit=limit, prefetch_limit=max(prefetch_k, limit), flt=flt,
                                sparse_weight=sparse_weight, units_weight=units_weight).retrieve(bundle)
        for step in steps:
            found = step.postprocess_nodes(found, query_bundle=bundle)
        return found

    flt = qdrant_filter(filters)
    nodes = search(flt)[:top_k]
    # A question across years ("2011 ... 2021") is searched in each of its years too: the words of
    # one year's document can take every place, and the other years would not be heard. A year without
    # a passage gets its best one after the others (scores of two searches do not compare).
    for year in sorted(set(years)) if len(set(years)) > 1 else []:
        within = _in_year(flt, year)
        if within is None or any(n.node.metadata.get("year") == year for n in nodes):
            continue
        held = {c for n in nodes for c in _chunk_ids(n)}
        nodes += [n for n in search(within) if held.isdisjoint(_chunk_ids(n))][:1]
    return [to_passage(n) for n in nodes]


def _chunk_ids(node: NodeWithScore) -> list[str]:
    meta = node.node.metadata
    return meta.get("chunk_ids", [meta["chunk_id"]])


def _in_year(flt: ChunkFilter | None, year: int) -> ChunkFilter | None:
    """The filter narrowed to one year; None when it excludes that year."""
    flt = flt or ChunkFilter()
    low, high = flt.ranges.get("year", (None, None))
    if (low is not None and year < low) or (high is not None and year > high):
        return None
    return ChunkFilter(any_of=flt.any_of, ranges={**flt.ranges, "year": (year, year)})

