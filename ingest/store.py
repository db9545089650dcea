"""The Qdrant index: one chunk collection (named dense + sparse vectors) and its document manifest.

The manifest lives in Qdrant itself (a vectorless ``<collection>__documents`` collection, one point
per document with its file hash), so the index and the record of what it holds can never diverge,
whether Qdrant is the embedded local mode or a server shared by several machines. A document's
record is written only after all its chunks are in place: an interrupted run leaves a document
whose record is stale, and the next run redoes exactly that document.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qdrant_client import QdrantClient, models

from assistant.settings import QdrantSettings
from ingest.sparse import ANALYZER_ID, SparseVector

DENSE = "dense"
SPARSE = "bm25"
UNITS = "units"  # one vector per answer unit of the chunk (see ingest.embedding, late chunking)
UNIT_SCHEME = "segmenting-v1+own-embedding"  # changes when units are cut or embedded otherwise
_ID_NAMESPACE = uuid.UUID("6f1c1a52-3f0e-4f5e-9a57-5a3b1d0c2e11")
KEYWORD_FIELDS = ("doc_id", "file", "doc_type", "organisation", "language")
INTEGER_FIELDS = ("year", "ordinal")


class IndexUnavailable(RuntimeError):
    """Qdrant cannot be reached or opened."""


class IndexMismatch(RuntimeError):
    """The collection was built with another embedding model or analyzer."""


class IndexMissing(RuntimeError):
    """The collection does not exist yet: nothing was ingested."""


@dataclass(frozen=True)
class ChunkPoint:
    chunk_id: str
    payload: dict[str, Any]
    dense: Sequence[float]
    sparse: SparseVector
    units: Sequence[Sequence[float]]  # one vector per entry of payload["units"]


def point_id(doc_id: str, ordinal: int, text_sha: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{doc_id}\x00{ordinal}\x00{text_sha}"))


def _doc_point_id(doc_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"document\x00{doc_id}"))


def open_client(settings: QdrantSettings, *, create: bool = True) -> QdrantClient:
    """A client of the configured Qdrant; ``create=False`` (serving) never creates a local index folder."""
    if not (create or settings.url or settings.path.is_dir()):
        raise IndexMissing(f"there is no index at {settings.path}: run `python -m ingest` first")
    try:
        if settings.url:
            api_key = settings.api_key.get_secret_value() if settings.api_key else None
            client = QdrantClient(url=settings.url, api_key=api_key, timeout=int(settings.timeout_s))
            client.get_collections()  # fail here, with a clear message, rather than on first use
            return client
        settings.path.mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(settings.path))
    except Exception as exc:  # qdrant-client raises several transport and lock errors
        where = settings.url or settings.path
        raise IndexUnavailable(f"Qdrant at {where} is not available: {exc}") from exc


def _doc_filter(doc_id: str) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))])


class Store:
    def __init__(self, client: QdrantClient, collection: str):
        self.client = client
        self.collection = collection
        self.documents = f"{collection}__documents"

    # -- schema -------------------------------------------------------------------------------
    def expected_metadata(self, model_name: str, dimension: int | None) -> dict[str, Any]:
        return {"embedding_model": model_name, "dimension": dimension, "sparse_analyzer": ANALYZER_ID,
                "units": UNIT_SCHEME}

    def exists(self) -> bool:
        return self.client.collection_exists(self.collection) and self.client.collection_exists(self.documents)

    def check(self, model_name: str, dimension: int | None = None) -> None:
        """Refuse to mix vectors of two models in one collection (dimension None: not known yet)."""
        if not self.client.collection_exists(self.collection):
            raise IndexMissing(
                f"collection '{self.collection}' does not exist; run `python -m ingest` first"
            )
        found = self.client.get_collection(self.collection).config.metadata or {}
        expected = self.expected_metadata(model_name, dimension)
        if any(found.get(k) != v for k, v in expected.items() if v is not None):
            raise IndexMismatch(
                f"collection '{self.collection}' was built with {found.get('embedding_model')} "
                f"({found.get('dimension')} dims, {found.get('sparse_analyzer')}, units "
                f"{found.get('units')}); this version needs {model_name} ({dimension} dims, {ANALYZER_ID}, "
                f"units {UNIT_SCHEME}). Run `python -m ingest --rebuild` "
                "or choose another collection (SAMBRUK_QDRANT__COLLECTION)."
            )

    def create(self, model_name: str, dimension: int) -> None:
        self.client.create_collection(
            self.collection,
            vectors_config={
                DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE),
                UNITS: models.VectorParams(
                    size=dimension, distance=models.Distance.COSINE,
                    multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                ),
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata=self.expected_metadata(model_name, dimension),
        )
        with warnings.catch_warnings():
            # Local mode ignores payload indexes (and says so); a server needs them for filtered search.
            warnings.simplefilter("ignore", UserWarning)
            for field in KEYWORD_FIELDS:
                self.client.create_payload_index(self.collection, field, models.PayloadSchemaType.KEYWORD)
            for field in INTEGER_FIELDS:
                self.client.create_payload_index(self.collection, field, models.PayloadSchemaType.INTEGER)
        self.client.create_collection(self.documents, vectors_config={})

    def ensure(self, model_name: str, dimension: int) -> None:
        if self.exists():
            self.check(model_name, dimension)
        else:
            self.drop()
            self.create(model_name, dimension)

    def drop(self) -> None:
        for name in (self.collection, self.documents):
            if self.client.collection_exists(name):
                self.client.delete_collection(name)

    # -- manifest ---------------------------------------------------------------------------------
    def document_records(self) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        offset = None
        while True:
            points, offset = self.client.scroll(self.documents, limit=256, offset=offset, with_payload=True)
            for point in points:
                records[point.payload["doc_id"]] = point.payload
            if offset is None:
                return records

    # -- chunks -----------------------------------------------------------------------------------
    def existing_vectors(self, doc_id: str) -> dict[str, tuple[list[float], SparseVector, list[list[float]]]]:
        """Vectors of a document's current chunks by text hash, so unchanged chunks are not re-embedded."""
        reuse: dict[str, tuple[list[float], SparseVector, list[list[float]]]] = {}
        for point in self._scroll(_doc_filter(doc_id), with_vectors=True):
            sparse = point.vector[SPARSE]
            reuse[point.payload["text_sha"]] = (
                point.vector[DENSE],
                SparseVector(list(sparse.indices), list(sparse.values)),
                point.vector[UNITS],
            )
        return reuse

    def replace_document(self, record: dict[str, Any], points: Sequence[ChunkPoint], batch: int = 128,
                         *, had_chunks: bool = True) -> None:
        """Write a document's chunks, drop its stale ones, then its record (``had_chunks=False``: new)."""
        doc_id = record["doc_id"]
        # Invalidate first: if we stop half-way, the next run sees a stale record and redoes this document.
        self.client.delete(self.documents, [_doc_point_id(doc_id)])
        for start in range(0, len(points), batch):
            self.client.upsert(self.collection, [_to_point(p) for p in points[start : start + batch]])
        if had_chunks:
            # A filtered delete scans every point in local mode: only worth it when there is something stale.
            keep = [p.chunk_id for p in points]
            stale = models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))],
                must_not=[models.HasIdCondition(has_id=keep)] if keep else [],
            )
            self.client.delete(self.collection, models.FilterSelector(filter=stale))
        self.client.upsert(
            self.documents,
            [models.PointStruct(id=_doc_point_id(doc_id), vector={}, payload=record)],
        )

    def remove_document(self, doc_id: str) -> None:
        self.client.delete(self.documents, [_doc_point_id(doc_id)])
        self.client.delete(self.collection, models.FilterSelector(filter=_doc_filter(doc_id)))

    def document_chunks(self, doc_id: str) -> list[dict[str, Any]]:
        """All chunk payloads of a document in reading order."""
        return sorted((p.payload for p in self._scroll(_doc_filter(doc_id))), key=lambda p: p["ordinal"])

    def count(self) -> int:
        return self.client.count(self.collection, exact=True).count

    def _scroll(self, flt: models.Filter, with_vectors: bool = False) -> Iterable[models.Record]:
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.collection, scroll_filter=flt, limit=256, offset=offset,
                with_payload=True, with_vectors=with_vectors,
            )
            yield from points
            if offset is None:
                return

    # -- search -----------------------------------------------------------------------------------
    def hybrid_search(
        self,
        dense: Sequence[float],
        sparse: SparseVector,
        *,
        limit: int,
        prefetch_limit: int,
        flt: models.Filter | None = None,
        with_vectors: Sequence[str] = (),
        sparse_weight: float = 1.0,
    ) -> list[models.ScoredPoint]:
        """Dense and BM25 candidates fused by weighted reciprocal rank, in one request."""
        prefetch = [models.Prefetch(query=list(dense), using=DENSE, limit=prefetch_limit, filter=flt)]
        if sparse.indices:
            prefetch.append(
                models.Prefetch(
                    query=models.SparseVector(indices=sparse.indices, values=sparse.values),
                    using=SPARSE, limit=prefetch_limit, filter=flt,
                )
            )
        response = self.client.query_points(
            self.collection, prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(weights=[1.0, sparse_weight][: len(prefetch)])),
            limit=limit, with_payload=True, with_vectors=list(with_vectors) or False,
        )
        return response.points


def _to_point(point: ChunkPoint) -> models.PointStruct:
    return models.PointStruct(
        id=point.chunk_id,
        vector={
            DENSE: list(point.dense),
            SPARSE: models.SparseVector(indices=point.sparse.indices, values=point.sparse.values),
            UNITS: [list(v) for v in point.units],
        },
        payload=point.payload,
    )
