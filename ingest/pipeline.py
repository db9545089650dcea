"""Incremental ingestion: corpus files -> cleaned, chunked, embedded points in Qdrant.

A file is re-processed only when its fingerprint (bytes, catalog entry, chunking settings) changed;
within a changed file, chunks whose text is unchanged reuse their stored vectors, so an edit of
one paragraph embeds a handful of chunks. Files that disappeared leave the index. A file that
fails to load, or is a text file over ``ingest.max_text_file_bytes``, is reported and keeps whatever
it had in the index before.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import ChunkRecord, DocumentMeta
from ingest.settings import IndexSettings
from ingest.catalog import doc_id_for, document_meta, load_catalog
from ingest.chunking import ChunkSpan, chunk_text
from ingest.cleaning import clean_pages
from ingest.embedding import Embedder, TitledText, index_name
from ingest.loading import SUPPORTED_SUFFIXES, LoadError, LoadedFile, check_size, load_file
from ingest.screening import INSTRUCTION, is_instruction
from ingest.segmenting import VERSION as SEGMENTER_VERSION
from ingest.segmenting import Span, plain, points_back, segment, table_heads
from ingest.sparse import document_vector
from ingest.store import UNIT_SCHEME, ChunkPoint, Store, point_id


@dataclass
class IngestReport:
    files: int = 0
    unchanged: int = 0
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # file -> sentences that speak to the assistant (ingest.screening): indexed, never used as evidence
    instructions: dict[str, list[str]] = field(default_factory=dict)
    chunks_written: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    total_chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "unchanged": self.unchanged, "updated": self.updated,
            "removed": self.removed, "failed": self.failed, "instructions": self.instructions,
            "chunks_written": self.chunks_written,
            "chunks_embedded": self.chunks_embedded, "chunks_reused": self.chunks_reused,
            "total_chunks": self.total_chunks, "seconds": round(self.seconds, 2),
            "chunks_per_second": round(self.chunks_written / self.seconds, 2) if self.chunks_written else None,
        }


@dataclass
class PreparedDocument:
    meta: DocumentMeta
    fingerprint: str
    records: list[ChunkRecord]
    inputs: list[TitledText]
    text_shas: list[str]  # of the embedded text (title + section + chunk): equal sha, reusable vectors


class Progress:
    """What the pipeline reports while it works; the CLI draws it, tests ignore it."""

    def start_embedding(self, total: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def message(self, text: str) -> None: ...


def discover(corpus_dir: Path, catalog_file: Path) -> list[str]:
    """Supported files under the corpus folder, as POSIX paths relative to it."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
    found = []
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and path != catalog_file \
                and not any(part.startswith(".") for part in rel.parts):
            found.append(rel.as_posix())
    return found


def fingerprint(data: bytes, catalog_entry: dict | None, settings: IndexSettings) -> str:
    digest = hashlib.sha256(data)
    digest.update(json.dumps(catalog_entry or {}, sort_keys=True, ensure_ascii=False).encode())
    digest.update(settings.chunking.model_dump_json().encode())
    digest.update(f"segmenting {SEGMENTER_VERSION}".encode())
    return digest.hexdigest()


def embedded_text_sha(item: TitledText, units: list[tuple[int, int, str, int]]) -> str:
    """Names what a chunk's vectors were made from, its units' cuts and the segmenter that reads them
    too: equal hash, reusable vectors (another cut, or another reading of the same cut, must not inherit
    the old unit vectors)."""
    cuts = ",".join(f"{start}:{end}" for start, end, _, _ in units)
    return hashlib.sha256(f"{item.title}\n{item.text}\n{cuts}\n{SEGMENTER_VERSION}".encode("utf-8")).hexdigest()


def prepare(loaded: LoadedFile, rel: str, meta: DocumentMeta, fp: str, settings: IndexSettings) -> PreparedDocument:
    """Clean and chunk one loaded file into chunk records and the texts to embed (pure)."""
    text, page_starts = clean_pages(loaded.pages)
    spans = chunk_text(
        text,
        page_starts=page_starts if loaded.kind == "pdf" else None,
        target_tokens=settings.chunking.target_tokens,
        max_tokens=settings.chunking.max_tokens,
        overlap_tokens=settings.chunking.overlap_tokens,
        min_tokens=settings.chunking.min_tokens,
    )
    records, inputs, shas = [], [], []
    for ordinal, span in enumerate(spans):
        section = " > ".join(span.section_path)
        # The two innermost headings say what a chunk is about; the full path only costs tokens.
        heading = " > ".join(span.section_path[-2:])
        title = f"{meta.title} > {heading}" if heading else meta.title
        item = TitledText(title=title, text=span.text)
        units = _units(span)
        sha = embedded_text_sha(item, units)
        inputs.append(item)
        shas.append(sha)
        records.append(_record(meta, ordinal, span, section, sha, units))
    return PreparedDocument(meta=meta, fingerprint=fp, records=records, inputs=inputs, text_shas=shas)


def _record(meta: DocumentMeta, ordinal: int, span: ChunkSpan, section: str, text_sha: str,
            units: list[tuple[int, int, str, int]]) -> ChunkRecord:
    return ChunkRecord(
        **meta.model_dump(),
        chunk_id=point_id(meta.doc_id, ordinal, text_sha),
        ordinal=ordinal,
        section=section,
        section_number=span.section_number,
        page=span.page,
        start=span.start,
        end=span.end,
        text=span.text,
        units=units,
    )


def texts_to_embed(inputs: list[TitledText],
                   records: list[ChunkRecord]) -> tuple[list[TitledText], list[list[int]]]:
    """The chunks, then their units, each unit on its own under its chunk's title (a unit two
    overlapping chunks share, once); and per chunk, the indexes of its units' texts.

    A heading unit takes its chunk's vector: answers read headings as labels and never rank them,
    and embedding them on their own cost a sixth of the ingest's time (docs/PERFORMANCE.md)."""
    texts = list(inputs)  # two equal chunks are still two entries: the caller counts on the chunks' places
    known: dict[TitledText, int] = {}
    for k, item in enumerate(inputs):
        known.setdefault(item, k)

    def place(key: TitledText) -> int:
        if key not in known:
            known[key] = len(texts)
            texts.append(key)
        return known[key]

    owners = [[k if kind == "heading" else place(key)
               for (_, _, kind, _), key in zip(record.units, unit_inputs(item, record), strict=True)]
              for k, (item, record) in enumerate(zip(inputs, records, strict=True))]
    return texts, owners


def unit_inputs(item: TitledText, record: ChunkRecord) -> list[TitledText]:
    """What each unit of a chunk is embedded as: its text under the chunk's title and, for a nested list
    item, the items it is nested in ("• Gemensam E-arkiv" / "o I drift sedan 2019": the point says
    what is in operation only under its parent); for a table row, the line naming its columns; for a
    sentence that points back (``ingest.segmenting.points_back``), the sentence before it in its
    paragraph ("Kalkylen bygger på antagandet att kostnaderna fördelas ..." / "Det är en 50/50-modell ...":
    what is split is said only before). Those sentences met the questions asking them only through their
    neighbour (read probes: the cost split asked by two writers; blind probe 12-02c +1; dev -1, crowded
    out)."""
    out, parents = [], []
    texts = [_unit_text(record, start, end) or record.text for start, end, _, _ in record.units]
    heads = table_heads([(kind, text) for (_, _, kind, _), text in zip(record.units, texts, strict=True)])
    for k, ((_, _, kind, level), text, head) in enumerate(zip(record.units, texts, heads, strict=True)):
        title = item.title
        if kind == "sentence" and points_back(text) and _follows_sentence(record, k):
            title = " > ".join([item.title, texts[k - 1]])
        elif kind == "item":  # a label between the two ("STATUS:") does not end the parent's list
            parents = [*parents[:level], text]
            title = " > ".join([item.title, *parents[:-1]])
        elif kind == "heading":
            parents = []
        elif head:
            title = " > ".join([item.title, *(texts[j] for j in head)])
        out.append(TitledText(title, text))
    return out


# A unit that a later chunk repeats under the same title (two chunks' overlap, a line a table repeats) has
# the same vector in both: the chunks would tie exactly in the units ranking, and an engine orders a tie
# as it finds it, so ranks moved between runs of one question. Each repeat counts this much less than the
# one before (the units are compared by dot product, their vectors unit length): the first chunk holding
# a unit ranks first.
REPEAT_DISCOUNT = 1e-3


def discount_repeats(records: list[ChunkRecord], inputs: list[TitledText],
                     units: list[Any]) -> list[list[list[float]]]:
    """Each chunk's unit vectors at unit length, the n-th repeat of one its document holds earlier scaled
    by ``(1 - REPEAT_DISCOUNT) ** n`` (pure; vectors reused from the index are renormalised first)."""
    seen: dict[TitledText, int] = {}
    out = []
    for record, item, vectors in zip(records, inputs, units, strict=True):
        matrix = np.asarray(vectors, dtype=np.float64)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)
        for k, ((_, _, kind, _), key) in enumerate(zip(record.units, unit_inputs(item, record), strict=True)):
            if kind == "heading":
                continue  # it has its chunk's vector (texts_to_embed), shared with no other chunk
            matrix[k] *= (1 - REPEAT_DISCOUNT) ** seen.get(key, 0)  # the n-th repeat n times
            seen[key] = seen.get(key, 0) + 1
        out.append(matrix.astype(np.float32).tolist())
    return out


def _follows_sentence(record: ChunkRecord, k: int) -> bool:
    """The chunk's unit ``k`` comes after a sentence of its own paragraph (no line break between)."""
    if k == 0 or record.units[k - 1][2] != "sentence":
        return False
    return "\n" not in record.text[record.units[k - 1][1] - record.start:record.units[k][0] - record.start]


def _unit_text(record: ChunkRecord, start: int, end: int) -> str:
    """A unit (document offsets) of a chunk as it is embedded and reported: one plain line."""
    return plain(record.text[start - record.start:end - record.start])


def _units(span: ChunkSpan) -> list[tuple[int, int, str, int]]:
    """A chunk's answer units in document offsets; a chunk with none (a contents list) is one fragment,
    because Qdrant stores at least one unit vector per point."""
    units = segment(span.text) or [Span(0, len(span.text), "fragment")]
    return [(span.start + u.start, span.start + u.end,
             INSTRUCTION if is_instruction(span.text[u.start:u.end]) else u.kind, u.level) for u in units]


class Ingestor:
    def __init__(self, settings: IndexSettings, store: Store, embedder_factory: Callable[[], Embedder]):
        self.settings = settings
        self.store = store
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None

    @property
    def model_name(self) -> str:
        """What the index records as its model, known before the model is loaded (it may never be)."""
        return index_name(self.settings.embedding_model_path, self.settings.embedding)

    @property
    def embedder(self) -> Embedder:
        # Loading the model costs seconds and a gigabyte: only when something must be embedded.
        if self._embedder is None:
            self._embedder = self._embedder_factory()
            self.store.ensure(self._embedder.name, self._embedder.dimension)
        return self._embedder

    def run(self, *, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        progress = progress or Progress()
        started = time.perf_counter()
        report = IngestReport()
        if rebuild:
            self.store.drop()
        elif note := self.store.migrate_legacy(self.model_name):
            progress.message(note)
        elif (old := self.store.outdated_units(self.model_name)) is not None:
            progress.message(f"The index's answer units were made as '{old}'; this version makes them as "
                             f"'{UNIT_SCHEME}', so the index is rebuilt and everything embedded anew.")
            self.store.drop()
        catalog = load_catalog(self.settings.catalog_file)
        files = discover(self.settings.corpus_dir, self.settings.catalog_file)
        report.files = len(files)
        known = self._known_records()
        pending: list[PreparedDocument] = []
        for rel in files:
            path = self.settings.corpus_dir / rel
            try:
                check_size(path, self.settings.ingest.max_text_file_bytes)
                fp = fingerprint(path.read_bytes(), catalog.get(rel), self.settings)
                record = known.get(doc_id_for(rel))
                if record and record.get("fingerprint") == fp:
                    report.unchanged += 1
                    continue
                loaded = load_file(path)
            except LoadError as exc:
                report.failed[rel] = str(exc)
                progress.message(f"[red]skipped[/] {rel}: {exc}")
                continue
            meta = document_meta(rel, "\n".join(loaded.pages), catalog)
            pending.append(prepare(loaded, rel, meta, fp, self.settings))
        current_ids = {doc_id_for(rel) for rel in files}
        for doc_id, record in known.items():
            if doc_id not in current_ids:
                self.store.remove_document(doc_id)
                report.removed.append(record.get("file", doc_id))
        if pending:
            self._write(pending, report, progress)
            self.store.optimize()
        report.total_chunks = self.store.count() if self.store.exists() else 0
        report.seconds = time.perf_counter() - started
        return report

    def _known_records(self) -> dict[str, dict[str, Any]]:
        if not self.store.exists():
            return {}
        # Before the model is loaded (it may never be): a model switch must stop the run, not skip files.
        self.store.check(self.model_name)
        return self.store.document_records()

    def _write(self, pending: list[PreparedDocument], report: IngestReport, progress: Progress) -> None:
        embedder = self.embedder
        reuse = {doc.meta.doc_id: self.store.existing_vectors(doc.meta.doc_id) for doc in pending}
        work = []
        for doc in pending:
            missing = [i for i, sha in enumerate(doc.text_shas) if sha not in reuse[doc.meta.doc_id]]
            work.append((doc, missing, texts_to_embed([doc.inputs[i] for i in missing],
                                                       [doc.records[i] for i in missing])))
        progress.start_embedding(sum(len(texts) for _, _, (texts, _) in work))  # chunks and their units
        for doc, missing, (texts, owners) in work:
            known = reuse[doc.meta.doc_id]
            vectors = embedder.embed_documents(texts, on_batch=progress.advance)
            embedded = {i: (vectors[k], vectors[owners[k]]) for k, i in enumerate(missing)}
            vectors_of = []
            for i, (item, sha) in enumerate(zip(doc.inputs, doc.text_shas, strict=True)):
                if i in embedded:
                    dense, units = embedded[i]
                    vectors_of.append((dense, document_vector(f"{item.title}\n{item.text}"), units))
                else:
                    vectors_of.append(known[sha])
            unit_vectors = discount_repeats(doc.records, doc.inputs, [units for _, _, units in vectors_of])
            points = [ChunkPoint(chunk_id=record.chunk_id, payload=record.model_dump() | {"text_sha": sha},
                                 dense=dense, sparse=sparse, units=units)
                      for record, sha, (dense, sparse, _), units
                      in zip(doc.records, doc.text_shas, vectors_of, unit_vectors, strict=True)]
            doc_record = doc.meta.model_dump() | {
                "fingerprint": doc.fingerprint,
                "chunks": len(points),
                "embedding_model": embedder.name,
                "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self.store.replace_document(doc_record, points, had_chunks=bool(known))
            report.updated.append(doc.meta.file)
            flagged = list(dict.fromkeys(_unit_text(r, s, e) for r in doc.records
                                         for s, e, kind, _ in r.units if kind == INSTRUCTION))
            if flagged:
                report.instructions[doc.meta.file] = flagged
            report.chunks_written += len(points)
            report.chunks_embedded += len(missing)
            report.chunks_reused += len(points) - len(missing)

