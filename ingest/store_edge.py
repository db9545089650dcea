"""The index on Qdrant Edge: Qdrant's segment storage, HNSW, sparse and payload indexes, in process.

A folder per collection, ``<path>/<collection>/``: an Edge shard ``chunks/`` (the same named vectors
as on a server), a shard ``documents/`` for the manifest, and ``collection.json`` with the model
metadata, written last, so a folder without it is an unfinished create that the next ingest redoes.

Durability: every update goes to the shard's write-ahead log before it returns, so a process killed
mid-ingest (kill -9) loses nothing it was told was written; the next open replays the log. Edge runs
no optimizer in the background: ``optimize`` (called at the end of an ingest that wrote something)
builds the HNSW graph once the index is past Qdrant's indexing threshold; until then search is exact.

One process at a time: a shard locks its write-ahead log, and a second open (the API server and an
ingest run on the same folder) fails with IndexUnavailable saying so.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as edge

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
from ingest.store_client import ClientEngine

_METADATA = "collection.json"
# The manifest shard needs some vector config; its records carry none.
_NO_VECTOR = "none"


class EdgeEngine:
    def __init__(self, path: Path, collection: str):
        self.path = Path(path)
        self.collection = collection
        self.folder = self.path / collection
        self.where = str(self.folder)
        self._chunks: edge.EdgeShard | None = None
        self._documents: edge.EdgeShard | None = None
        if self.exists():
            self._chunks = self._load(self.folder / "chunks")
            self._documents = self._load(self.folder / "documents")

    def _load(self, shard: Path) -> edge.EdgeShard:
        try:
            return edge.EdgeShard.load(str(shard))
        except Exception as exc:  # the bindings raise a bare Exception
            if "WouldBlock" in str(exc):
                raise IndexUnavailable(
                    f"the index folder {self.folder} is open in another process (an API server or an ingest "
                    "run): Qdrant Edge lets one process open it at a time. Stop that process first, or use a "
                    "Qdrant server (SAMBRUK_QDRANT__URL) to ingest while serving."
                ) from exc
            raise IndexUnavailable(f"Qdrant Edge cannot open {shard}: {exc}") from exc

    # -- schema -------------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.folder / _METADATA).is_file()

    def metadata(self) -> dict[str, Any]:
        return json.loads((self.folder / _METADATA).read_text(encoding="utf-8"))

    def _legacy_collections(self) -> list[str]:
        """Collections of this name in a qdrant-client local-mode folder (its meta.json lists them)."""
        meta = self.path / "meta.json"
        if not meta.is_file():
            return []
        try:
            names = json.loads(meta.read_text(encoding="utf-8")).get("collections", {})
        except ValueError:
            return []
        return [n for n in (self.collection, f"{self.collection}__documents") if n in names]

    def legacy_note(self) -> str | None:
        if self.exists() or not self._legacy_collections():
            return None
        return (f"{self.path} holds collection '{self.collection}' built by qdrant-client's local mode, which "
                "the embedded Qdrant Edge replaces: `python -m ingest` moves it into Qdrant Edge (and removes the "
                "old one); SAMBRUK_QDRANT__ENGINE=client keeps using local mode.")

    def legacy_engine(self) -> ClientEngine | None:
        """The local-mode collection that legacy_note speaks of, opened with qdrant-client."""
        if self.legacy_note() is None:
            return None
        from qdrant_client import QdrantClient

        return ClientEngine(QdrantClient(path=str(self.path)), self.collection)

    def create(self, metadata: dict[str, Any], dimension: int) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)  # what an unfinished create left
        self.folder.mkdir(parents=True)
        self._chunks = edge.EdgeShard.create(str(self.folder / "chunks"), edge.EdgeConfig(
            vectors={
                DENSE: edge.EdgeVectorParams(size=dimension, distance=edge.Distance.Cosine),
                # Rescoring only (MaxSim over a point's own units): no HNSW graph to build (m=0).
                UNITS: edge.EdgeVectorParams(
                    size=dimension, distance=edge.Distance.Dot,  # unit length, a repeat a hair less
                    multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
                    hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
                ),
            },
            sparse_vectors={SPARSE: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
        ))
        for name in KEYWORD_FIELDS:
            self._chunks.update(edge.UpdateOperation.create_field_index(name, edge.PayloadSchemaType.Keyword))
        for name in INTEGER_FIELDS:
            self._chunks.update(edge.UpdateOperation.create_field_index(name, edge.PayloadSchemaType.Integer))
        self._documents = edge.EdgeShard.create(
            str(self.folder / "documents"),
            edge.EdgeConfig(sparse_vectors={_NO_VECTOR: edge.EdgeSparseVectorParams()}),
        )
        self._chunks.flush()
        self._documents.flush()
        tmp = self.folder / f"{_METADATA}.tmp"
        tmp.write_text(json.dumps(metadata), encoding="utf-8")
        os.replace(tmp, self.folder / _METADATA)

    def drop(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if (legacy := self.legacy_engine()) is not None:
            legacy.drop()
            legacy.close()

    def optimize(self) -> None:
        self._shard.optimize()
        self._shard.flush()

    def close(self) -> None:
        for shard in (self._chunks, self._documents):
            if shard is not None:
                shard.flush()
                shard.close()
        self._chunks = self._documents = None

    @property
    def _shard(self) -> edge.EdgeShard:
        if self._chunks is None:
            raise IndexMissing(self.legacy_note() or f"no index at {self.folder}; run `python -m ingest` first")
        return self._chunks

    @property
    def _manifest(self) -> edge.EdgeShard:
        if self._documents is None:
            raise IndexMissing(self.legacy_note() or f"no index at {self.folder}; run `python -m ingest` first")
        return self._documents

    # -- manifest ---------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        return [record.payload for record in _scroll(self._manifest, None)]

    def put_record(self, record_id: str, record: dict[str, Any]) -> None:
        self._manifest.update(edge.UpdateOperation.upsert_points([edge.Point(record_id, {}, record)]))

    def delete_record(self, record_id: str) -> None:
        self._manifest.update(edge.UpdateOperation.delete_points([record_id]))

    # -- chunks -----------------------------------------------------------------------------------
    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        self._shard.update(edge.UpdateOperation.upsert_points([_to_point(p) for p in points]))

    def delete_chunks(self, doc_id: str, keep: Sequence[str] | None = None) -> None:
        flt = _doc_filter(doc_id, keep)
        self._shard.update(edge.UpdateOperation.delete_points_by_filter(flt))

    def chunks(self, doc_id: str, with_vectors: bool = False) -> Iterable[Hit]:
        for record in _scroll(self._shard, _doc_filter(doc_id), with_vectors):
            yield Hit(id=str(record.id), score=0.0, payload=record.payload, vector=hit_vectors(record.vector))

    def count(self) -> int:
        return self._shard.count(edge.CountRequest(exact=True))

    def search(self, dense: Sequence[float], sparse: SparseVector, *, limit: int, prefetch_limit: int,
               flt: ChunkFilter | None, with_vectors: Sequence[str], sparse_weight: float,
               units_weight: float) -> list[Hit]:
        efilter = to_filter(flt)

        def candidates(size: int) -> list[edge.Prefetch]:
            found = [edge.Prefetch(limit=size, filter=efilter,
                                   query=edge.Query.Nearest(floats(dense), using=DENSE))]
            if sparse.indices:
                found.append(edge.Prefetch(limit=size, filter=efilter, query=edge.Query.Nearest(
                    edge.SparseVector(list(sparse.indices), list(sparse.values)), using=SPARSE)))
            return found

        prefetch = candidates(prefetch_limit)
        weights = [1.0, sparse_weight][: len(prefetch)]
        if units_weight:
            prefetch.append(edge.Prefetch(limit=prefetch_limit, filter=efilter,
                                          prefetches=candidates(prefetch_limit * UNITS_CANDIDATES),
                                          query=edge.Query.Nearest([floats(dense)], using=UNITS)))
            weights.append(units_weight)
        # Edge fuses with weighted RRF itself, by the same formula as a server and the client's local mode.
        points = self._shard.query(edge.QueryRequest(
            limit=limit, prefetches=prefetch,
            query=edge.Fusion.Rrf(k=RRF_K, weights=weights),
            with_payload=True, with_vector=list(with_vectors) or False,
        ))
        return [Hit(id=str(p.id), score=p.score, payload=p.payload, vector=hit_vectors(p.vector))
                for p in points]


def to_filter(flt: ChunkFilter | None) -> edge.Filter | None:
    if flt is None:
        return None
    must: list[Any] = [edge.FieldCondition(key, match=edge.MatchAny(list(values)))
                       for key, values in flt.any_of.items()]
    must += [edge.FieldCondition(key, range=edge.RangeFloat(gte=lo, lte=hi))
             for key, (lo, hi) in flt.ranges.items()]
    return edge.Filter(must=must) if must else None


def _doc_filter(doc_id: str, keep: Sequence[str] | None = None) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition("doc_id", match=edge.MatchValue(doc_id))],
                       must_not=[edge.HasIdCondition(set(keep))] if keep else None)


def _scroll(shard: edge.EdgeShard, flt: edge.Filter | None,
            with_vectors: bool = False) -> Iterable[edge.Record]:
    offset = None
    while True:
        request = edge.ScrollRequest(offset=offset, limit=256, filter=flt, with_payload=True, with_vector=with_vectors)
        records, offset = shard.scroll(request)
        yield from records
        if offset is None:
            return


def _to_point(point: ChunkPoint) -> edge.Point:
    vector: dict[str, Any] = {
        DENSE: floats(point.dense),
        SPARSE: edge.SparseVector(list(point.sparse.indices), list(point.sparse.values)),
    }
    vector[UNITS] = [floats(unit) for unit in point.units]
    return edge.Point(point.chunk_id, vector, point.payload)
