"""The index: one chunk collection (named dense, sparse and multivector vectors) and its document manifest.

The same layout on two engines (``ingest.store_edge``: Qdrant Edge in process, the embedded default;
``ingest.store_client``: qdrant-client against a Qdrant server, or its local mode), so retrieval and
answering never know which one runs. The manifest lives in the index itself (one record per document
with its file hash), so the index and the record of what it holds can never diverge. A document's
record is written only after all its chunks are in place: an interrupted run (an exception, or kill -9)
leaves a document whose record is missing, and the next run redoes exactly that document.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ingest.settings import QdrantSettings
from ingest.sparse import ANALYZER_ID, SparseVector

DENSE = "dense"
SPARSE = "bm25"
UNITS = "units"  # one vector per answer unit of the chunk (embedded on its own, see ingest.pipeline), MaxSim
# changes when units are cut, embedded or compared otherwise (repeats discounted: ingest.pipeline)
UNIT_SCHEME = "segmenting-v1+own-embedding+dot-repeats-discounted"
_ID_NAMESPACE = uuid.UUID("6f1c1a52-3f0e-4f5e-9a57-5a3b1d0c2e11")
KEYWORD_FIELDS = ("doc_id", "file", "doc_type", "organisation", "language")
INTEGER_FIELDS = ("year", "ordinal")
# Reciprocal rank fusion constant, Qdrant's default on every engine: score = w / (rank / w + k - 1).
RRF_K = 2
# The answer-unit ranking (MaxSim) ranks again the dense and BM25 candidates of this many times the
# prefetch size: the units carry no HNSW graph, and a scan of every point grows with the corpus (x100:
# search p95 43 ms against 2.3 ms). At 4x it agrees with the full scan on 99.3 % of the top 10 and 98.4 %
# of the top 40 (dev questions, 2026-12-01; 1x: 92.5 % / 78.6 %). Two chunks holding one unit do not tie in
# it: the later one's copy counts a hair less (ingest.pipeline.REPEAT_DISCOUNT).
UNITS_CANDIDATES = 4


class IndexUnavailable(RuntimeError):
    """Qdrant cannot be reached or opened."""


class IndexMismatch(RuntimeError):
    """The collection was built with another embedding model, analyzer or unit scheme."""


class IndexMissing(RuntimeError):
    """The collection does not exist yet: nothing was ingested."""


@dataclass(frozen=True)
class ChunkPoint:
    chunk_id: str
    payload: dict[str, Any]
    dense: Sequence[float]
    sparse: SparseVector
    units: Sequence[Sequence[float]]  # one vector per entry of payload["units"]


@dataclass(frozen=True)
class ChunkFilter:
    """Which chunks a search may return: per field one of the listed values, inclusive integer ranges."""

    any_of: dict[str, list[str | int]] = field(default_factory=dict)
    ranges: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A search result or stored chunk, the same whichever engine produced it."""

    id: str
    score: float
    payload: dict[str, Any]
    vector: dict[str, Any]


class Engine(Protocol):
    """What Store needs from a Qdrant engine; both keep the chunks and the manifest records."""

    where: str

    def exists(self) -> bool: ...
    def metadata(self) -> dict[str, Any]: ...
    def legacy_note(self) -> str | None: ...
    def legacy_engine(self) -> Engine | None: ...
    def create(self, metadata: dict[str, Any], dimension: int) -> None: ...
    def drop(self) -> None: ...
    def records(self) -> list[dict[str, Any]]: ...
    def put_record(self, record_id: str, record: dict[str, Any]) -> None: ...
    def delete_record(self, record_id: str) -> None: ...
    def upsert(self, points: Sequence[ChunkPoint]) -> None: ...
    def delete_chunks(self, doc_id: str, keep: Sequence[str] | None = None) -> None: ...
    def chunks(self, doc_id: str, with_vectors: bool = False) -> Iterable[Hit]: ...
    def count(self) -> int: ...
    def search(self, dense: Sequence[float], sparse: SparseVector, *, limit: int, prefetch_limit: int,
               flt: ChunkFilter | None, with_vectors: Sequence[str], sparse_weight: float,
               units_weight: float) -> list[Hit]: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


def hit_vectors(raw: Any) -> dict[str, Any]:
    """An engine's named vectors as plain lists, the sparse one as ``ingest.sparse.SparseVector``."""
    out = dict(raw or {})
    if SPARSE in out:
        out[SPARSE] = SparseVector(list(out[SPARSE].indices), list(out[SPARSE].values))
    return out


def floats(vector: Sequence[float]) -> list[float]:
    """A vector (numpy array or list) as a list of Python floats, which every engine accepts."""
    return vector.tolist() if hasattr(vector, "tolist") else [float(x) for x in vector]


def point_id(doc_id: str, ordinal: int, text_sha: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{doc_id}\x00{ordinal}\x00{text_sha}"))


def _doc_point_id(doc_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"document\x00{doc_id}"))


def open_store(settings: QdrantSettings, *, create: bool = True) -> Store:
    """The engine the settings name: a Qdrant server (url), Qdrant Edge (default) or client local mode.

    ``create=False`` (serving) never creates a local index folder.
    """
    if settings.url or settings.engine == "client":
        from ingest.store_client import ClientEngine, open_client

        return Store(ClientEngine(open_client(settings, create=create), settings.collection))
    if not (create or settings.path.is_dir()):
        raise IndexMissing(f"there is no index at {settings.path}: run `python -m ingest` first")
    from ingest.store_edge import EdgeEngine

    return Store(EdgeEngine(settings.path, settings.collection))


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- schema -------------------------------------------------------------------------------
    def expected_metadata(self, model_name: str, dimension: int | None) -> dict[str, Any]:
        return {"embedding_model": model_name, "dimension": dimension, "sparse_analyzer": ANALYZER_ID,
                "units": UNIT_SCHEME}

    def exists(self) -> bool:
        return self.engine.exists()

    def legacy_note(self) -> str | None:
        """Why an index found at the configured place must be moved to this engine (None: nothing)."""
        return self.engine.legacy_note()

    def migrate_legacy(self, model_name: str) -> str | None:
        """Move an index the engine replaces (client local mode, for Edge) into it; say what was done.

        Vectors made by the same model and analyzer are copied, not re-embedded; otherwise the old
        index is dropped and the ingest that follows embeds everything.
        """
        note, legacy = self.engine.legacy_note(), self.engine.legacy_engine()
        if legacy is None:
            return None
        source = Store(legacy)
        found = legacy.metadata()
        same_model = all(found.get(k) == v for k, v in self.expected_metadata(model_name, None).items() if v)
        if same_model:
            self.engine.create(found, found["dimension"])
            self.copy_from(source)
            self.optimize()
        source.drop()
        source.close()
        done = "its vectors were copied, nothing re-embedded" if same_model else (
            f"it was built with {found.get('embedding_model')} (units {found.get('units')}), so it was dropped "
            "and everything is embedded anew")
        return f"{note} Done: {done}."

    def copy_from(self, source: Store) -> int:
        """Every document of another store, chunks and vectors included; returns the chunks copied."""
        copied = 0
        for doc_id, record in source.document_records().items():
            points = [ChunkPoint(chunk_id=hit.id, payload=hit.payload, dense=hit.vector[DENSE],
                                 sparse=hit.vector[SPARSE], units=hit.vector[UNITS])
                      for hit in source.engine.chunks(doc_id, with_vectors=True)]
            self.replace_document(record, points, had_chunks=False)
            copied += len(points)
        return copied

    def outdated_units(self, model_name: str) -> str | None:
        """The unit scheme of an index made by the same model and analyzer with an older version, when
        it differs from this one's: every vector is made anew anyway, so ingest rebuilds it (None: not so)."""
        if not self.engine.exists():
            return None
        found = self.engine.metadata()
        same = all(found.get(k) == v for k, v in self.expected_metadata(model_name, None).items()
                   if v is not None and k != "units")
        return found.get("units") if same and found.get("units") != UNIT_SCHEME else None

    def check(self, model_name: str, dimension: int | None = None) -> None:
        """Refuse to mix vectors of two models in one collection (dimension None: not known yet)."""
        if not self.engine.exists():
            raise IndexMissing(self.legacy_note() or f"no index at {self.engine.where}; run `python -m ingest` first")
        found = self.engine.metadata()
        expected = self.expected_metadata(model_name, dimension)
        if any(found.get(k) != v for k, v in expected.items() if v is not None):
            raise IndexMismatch(
                f"the index at {self.engine.where} was built with {found.get('embedding_model')} "
                f"({found.get('dimension')} dims, {found.get('sparse_analyzer')}, units {found.get('units')}); "
                f"this version needs {model_name} ({dimension} dims, {ANALYZER_ID}, units {UNIT_SCHEME}). "
                + ("Run `python -m ingest` (it rebuilds an index of older units by itself)."
                   if self.outdated_units(model_name) is not None else
                   "Run `python -m ingest --rebuild` or choose another collection (SAMBRUK_QDRANT__COLLECTION).")
            )

    def create(self, model_name: str, dimension: int) -> None:
        self.engine.create(self.expected_metadata(model_name, dimension), dimension)

    def ensure(self, model_name: str, dimension: int) -> None:
        if self.exists():
            self.check(model_name, dimension)
        else:
            self.drop()
            self.create(model_name, dimension)

    def drop(self) -> None:
        self.engine.drop()

    def optimize(self) -> None:
        """Build the search indexes for what was written (Edge runs no optimizer in the background)."""
        self.engine.optimize()

    def close(self) -> None:
        self.engine.close()

    # -- manifest ---------------------------------------------------------------------------------
    def document_records(self) -> dict[str, dict[str, Any]]:
        return {record["doc_id"]: record for record in self.engine.records()}

    # -- chunks -----------------------------------------------------------------------------------
    def existing_vectors(self, doc_id: str) -> dict[str, tuple[list[float], SparseVector, list[list[float]]]]:
        """Vectors of a document's current chunks by text hash, so unchanged chunks are not re-embedded."""
        return {
            hit.payload["text_sha"]: (hit.vector[DENSE], hit.vector[SPARSE], hit.vector[UNITS])
            for hit in self.engine.chunks(doc_id, with_vectors=True)
        }

    def replace_document(self, record: dict[str, Any], points: Sequence[ChunkPoint], batch: int = 128,
                         *, had_chunks: bool = True) -> None:
        """Write a document's chunks, drop its stale ones, then its record (``had_chunks=False``: new)."""
        doc_id = record["doc_id"]
        # Invalidate first: if we stop half-way, the next run sees no record and redoes this document.
        self.engine.delete_record(_doc_point_id(doc_id))
        for start in range(0, len(points), batch):
            self.engine.upsert(points[start : start + batch])
        if had_chunks:
            # A filtered delete scans every point in client local mode: only worth it when something is stale.
            self.engine.delete_chunks(doc_id, keep=[p.chunk_id for p in points])
        self.engine.put_record(_doc_point_id(doc_id), record)

    def remove_document(self, doc_id: str) -> None:
        self.engine.delete_record(_doc_point_id(doc_id))
        self.engine.delete_chunks(doc_id)

    def document_chunks(self, doc_id: str) -> list[dict[str, Any]]:
        """All chunk payloads of a document in reading order."""
        return sorted((hit.payload for hit in self.engine.chunks(doc_id)), key=lambda p: p["ordinal"])

    def count(self) -> int:
        return self.engine.count()

    # -- search -----------------------------------------------------------------------------------
    def hybrid_search(
        self,
        dense: Sequence[float],
        sparse: SparseVector,
        *,
        limit: int,
        prefetch_limit: int,
        flt: ChunkFilter | None = None,
        with_vectors: Sequence[str] = (),
        sparse_weight: float = 1.0,
        units_weight: float = 0.0,
    ) -> list[Hit]:
        """Dense and BM25 candidates, and with ``units_weight`` the same kind of candidates
        (``UNITS_CANDIDATES`` times as many) ranked again by their best answer unit (MaxSim over
        ``UNITS``), fused by weighted reciprocal rank in the engine, in one request.

        ``with_vectors`` names the vectors to return with each hit (e.g. ``[DENSE, UNITS]``).
        """
        return self.engine.search(dense, sparse, limit=limit, prefetch_limit=prefetch_limit, flt=flt,
                                  with_vectors=with_vectors, sparse_weight=sparse_weight,
                                  units_weight=units_weight)
