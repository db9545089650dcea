"""The index on qdrant-client: a Qdrant server or cluster (``url``), or the client's local mode (``path``).

Two collections: ``<collection>`` for chunks and a vectorless ``<collection>__documents`` for the
manifest; the model metadata is the chunk collection's own metadata.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from ingest.settings import QdrantSettings
from ingest.sparse import SparseVector
from ingest.store import (
    DENSE,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    RRF_K,
    SPARSE,
    UNITS,
    UNITS_CANDIDATES,
    ChunkFilter,
    ChunkPoint,
    Hit,
    IndexMissing,
    IndexUnavailable,
    floats,
    hit_vectors,
)


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


def to_filter(flt: ChunkFilter | None) -> models.Filter | None:
    if flt is None:
        return None
    must: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))
        for key, values in flt.any_of.items()
    ]
    must += [models.FieldCondition(key=key, range=models.Range(gte=lo, lte=hi)) for key, (lo, hi) in flt.ranges.items()]
    return models.Filter(must=must) if must else None


def _doc_filter(doc_id: str) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))])


class ClientEngine:
    def __init__(self, client: QdrantClient, collection: str):
        self.client = client
        self.collection = collection
        self.documents = f"{collection}__documents"
        self.where = f"collection '{collection}'"

    def exists(self) -> bool:
        return self.client.collection_exists(self.collection) and self.client.collection_exists(self.documents)

    def metadata(self) -> dict[str, Any]:
        return self.client.get_collection(self.collection).config.metadata or {}

    def legacy_note(self) -> str | None:
        return None

    def legacy_engine(self) -> None:
        return None

    def create(self, metadata: dict[str, Any], dimension: int) -> None:
        self.client.create_collection(
            self.collection,
            vectors_config={
                DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE),
                # Rescoring only (MaxSim over a point's own units): no HNSW graph to build (m=0).
                UNITS: models.VectorParams(
                    size=dimension, distance=models.Distance.DOT,  # unit length, a repeat a hair less
                    multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                    hnsw_config=models.HnswConfigDiff(m=0),
                ),
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata=metadata,
        )
        with warnings.catch_warnings():
            # Local mode ignores payload indexes (and says so); a server needs them for filtered search.
            warnings.simplefilter("ignore", UserWarning)
            for name in KEYWORD_FIELDS:
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)
            for name in INTEGER_FIELDS:
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.INTEGER)
        self.client.create_collection(self.documents, vectors_config={})

    def drop(self) -> None:
        for name in (self.collection, self.documents):
            if self.client.collection_exists(name):
                self.client.delete_collection(name)

    def records(self) -> list[dict[str, Any]]:
        return [record.payload for record in self._scroll(self.documents, None)]

    def put_record(self, record_id: str, record: dict[str, Any]) -> None:
        self.client.upsert(self.documents, [models.PointStruct(id=record_id, vector={}, payload=record)])

    def delete_record(self, record_id: str) -> None:
        self.client.delete(self.documents, [record_id])

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        self.client.upsert(self.collection, [_to_point(p) for p in points])

    def delete_chunks(self, doc_id: str, keep: Sequence[str] | None = None) -> None:
        flt = _doc_filter(doc_id)
        if keep:
            flt.must_not = [models.HasIdCondition(has_id=list(keep))]
        self.client.delete(self.collection, models.FilterSelector(filter=flt))

    def chunks(self, doc_id: str, with_vectors: bool = False) -> Iterable[Hit]:
        for record in self._scroll(self.collection, _doc_filter(doc_id), with_vectors):
            yield Hit(id=str(record.id), score=0.0, payload=record.payload, vector=hit_vectors(record.vector))

    def count(self) -> int:
        return self.client.count(self.collection, exact=True).count

    def search(self, dense: Sequence[float], sparse: SparseVector, *, limit: int, prefetch_limit: int,
               flt: ChunkFilter | None, with_vectors: Sequence[str], sparse_weight: float,
               units_weight: float) -> list[Hit]:
        qfilter = to_filter(flt)

        def candidates(size: int) -> list[models.Prefetch]:
            found = [models.Prefetch(query=floats(dense), using=DENSE, limit=size, filter=qfilter)]
            if sparse.indices:
                found.append(models.Prefetch(
                    query=models.SparseVector(indices=sparse.indices, values=sparse.values),
                    using=SPARSE, limit=size, filter=qfilter))
            return found

        prefetch = candidates(prefetch_limit)
        weights = [1.0, sparse_weight][: len(prefetch)]
        if units_weight:
            pool = candidates(prefetch_limit * UNITS_CANDIDATES)
            prefetch.append(models.Prefetch(query=[floats(dense)], using=UNITS, limit=prefetch_limit,
                                            filter=qfilter, prefetch=pool))
            weights.append(units_weight)
        response = self.client.query_points(
            self.collection, prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K, weights=weights)),
            limit=limit, with_payload=True, with_vectors=list(with_vectors) or False,
        )
        return [Hit(id=str(p.id), score=p.score, payload=p.payload, vector=hit_vectors(p.vector))
                for p in response.points]

    def optimize(self) -> None:
        """A server optimizes in the background; local mode has no indexes to build."""

    def close(self) -> None:
        self.client.close()

    def _scroll(self, collection: str, flt: models.Filter | None,
                with_vectors: bool = False) -> Iterable[models.Record]:
        offset = None
        while True:
            points, offset = self.client.scroll(
                collection, scroll_filter=flt, limit=256, offset=offset,
                with_payload=True, with_vectors=with_vectors,
            )
            yield from points
            if offset is None:
                return



def _to_point(point: ChunkPoint) -> models.PointStruct:
    vector: dict[str, Any] = {
        DENSE: floats(point.dense),
        SPARSE: models.SparseVector(indices=point.sparse.indices, values=point.sparse.values),
    }
    vector[UNITS] = [floats(unit) for unit in point.units]
    return models.PointStruct(id=point.chunk_id, vector=vector, payload=point.payload)
