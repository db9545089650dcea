"""The assistant: one request in, one grounded answer out, the same path for HTTP, CLI, UI and eval.

Retrieval, the chosen backend, then grounding: every ``[n]`` must resolve to a retrieved passage,
otherwise the LLM answer is replaced by the extractive one. An unreachable LLM degrades to the
extractive answer (flagged), never to an error; an unreachable Qdrant, or an index not built yet,
is a ServiceUnavailable; bad input is an InvalidRequest, never reported as an outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from assistant.answering.base import AnswerBackend, BackendUnavailable
from assistant.answering.draft import draft_reply, merge_sources
from assistant.answering.evidence import Chapter, HeadingKey, concerns, join_chapter, select, similarity_floor
from assistant.answering.extractive import ExtractiveBackend
from assistant.answering.grounding import (
    finalize,
    has_unresolved_markers,
    has_unsupported_numbers,
    related_sources,
)
from assistant.answering.llm import OpenAIBackend
from assistant.answering.prompts import REFUSAL, is_refusal
from ingest.language import detect_language
from assistant.query import asks_list, contextualize, dated, later_questions, wants_latest, years_mentioned
from assistant.retrieval import retrieve_passages
from assistant.schemas import Answer, AskRequest, Backend, Filters, Message, Passage, Timings
from assistant.settings import Settings
from ingest.embedding import Embedder, TitledText
from ingest.store import IndexMismatch, IndexMissing, IndexUnavailable, Store, open_store


# How a remote Qdrant fails in transport (qdrant-client wraps httpx errors in ResponseHandlingException).
_QDRANT_DOWN = (ResponseHandlingException, httpx.TransportError, ConnectionError, TimeoutError)
_RUN_INGEST = "the index holds no collection yet: run `python -m ingest` first"


class InvalidRequest(ValueError):
    """The request cannot be answered as asked (HTTP 422)."""


class ServiceUnavailable(RuntimeError):
    """A dependency the answer needs is down (HTTP 503)."""


@dataclass(frozen=True)
class Token:
    text: str


class Assistant:
    def __init__(self, settings: Settings, store: Store, embedder: Embedder,
                 backends: dict[str, AnswerBackend]):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.backends = backends
        self._extractive = backends["extractive"]
        # The corpus's headings, embedded when an answer first weighs them (evidence.select):
        # at most one vector per heading of the corpus.
        self._heading_vectors: dict[HeadingKey, np.ndarray] = {}

    # -- validation -----------------------------------------------------------------------------
    def validate(self, request: AskRequest) -> AskRequest:
        question = request.question.strip()
        if not question:
            raise InvalidRequest("the question is empty")
        limit = self.settings.api.max_question_chars
        if len(question) > limit:
            raise InvalidRequest(f"the question is {len(question)} characters long; the limit is {limit}")
        self.validate_filters(request.filters)
        backend = request.backend or self.settings.backend
        if backend not in self.backends:
            raise InvalidRequest(
                f"backend '{backend}' is not offered here; available: {', '.join(sorted(self.backends))} "
                "(the operator offers more with the setting selectable_backends)"
            )
        history = within_budget(request.history[-2 * self.settings.api.max_history_turns:],
                                self.settings.api.max_history_chars)
        return request.model_copy(update={"question": question, "history": history})

    def uses_llm(self, request: AskRequest) -> bool:
        """Whether answering waits on an LLM endpoint (the API serves those on threads of their own)."""
        return (request.backend or self.settings.backend) != "extractive"

    def validate_filters(self, filters: Filters) -> None:
        year_from, year_to = filters.year_from, filters.year_to
        if year_from is not None and year_to is not None and year_from > year_to:
            raise InvalidRequest(f"year_from {filters.year_from} is after year_to {filters.year_to}")
        if not (filters.doc_ids or filters.organisations):
            return
        records = self._document_records()
        unknown = sorted(set(filters.doc_ids) - set(records))
        if unknown:
            raise InvalidRequest(f"unknown document id(s): {', '.join(unknown)}; see GET /v1/documents")
        organisations = {r.get("organisation") for r in records.values()}
        unknown = sorted(set(filters.organisations) - organisations)
        if unknown:
            raise InvalidRequest(
                f"unknown organisation(s): {', '.join(unknown)}; known: {', '.join(sorted(organisations))}"
            )

    # -- retrieval ------------------------------------------------------------------------------
    def retrieve(self, request: AskRequest) -> list[Passage]:
        filters = self._scope(request)
        query = contextualize(request.question, request.history)
        passages = self._search_for(request, query, filters)
        if query == request.question and not _close_enough(passages, request.question, self.settings):
            # Asked in a conversation, a question whose own words find nothing close enough to answer
            # (a second question about the same subject that names it nowhere) is read with the conversation.
            if (context := contextualize(request.question, request.history, always=True)) != query:
                passages = self._search_for(request, context, filters)
        return passages

    def _scope(self, request: AskRequest) -> Filters:
        filters = request.filters
        if request.mode == "draft" and not filters.organisations:
            # A reply a staff member sends speaks for the association: other organisations' documents
            # only when the question is about them.
            organisations = {r.get("organisation") for r in self._document_records().values()}
            filters = filters.model_copy(update={"organisations": sorted(
                o for o in organisations if o and concerns(request.question, o))})
        return filters

    def _search_for(self, request: AskRequest, query: str, filters: Filters) -> list[Passage]:
        settings = self.settings.retrieval
        return self.search(
            query,
            filters,
            # A list question needs breadth: its entries sit in several sections and documents.
            top_k=settings.list_top_k if asks_list(request.question) else settings.top_k,
            prefer_latest=wants_latest(request.question),
            years=years_mentioned(request.question),
        )

    def search(self, query: str, filters: Filters, *, top_k: int | None = None,
               prefer_latest: bool = False, years: list[int] | None = None) -> list[Passage]:
        settings = self.settings.retrieval
        english = detect_language(query) == "en"
        with self._index_errors():
            return retrieve_passages(
                self.store, self.embedder, query, filters=filters, top_k=top_k or settings.top_k,
                prefetch_k=settings.prefetch_k, prefer_latest=prefer_latest, years=years or (),
                sparse_weight=settings.sparse_weight_english if english else settings.sparse_weight,
                units_weight=settings.units_weight,
            )

    def _elsewhere(self, request: AskRequest, chapter: Chapter, held: list[Passage]) -> list[Passage]:
        """What each document says of a chapter a list question names, searched by the chapter's name:
        the 2021 report's "5.6 Skola" lists its services (the passages read may hold only some of them),
        the 2026 plan's services for schools stand in no chapter. Each document on its own, or the largest
        one's words take every place."""
        filters = self._scope(request)
        seen = {c for p in held for c in p.chunk_ids}
        found = [p for doc_id in self._document_records() if not filters.doc_ids or doc_id in filters.doc_ids
                 for p in self.search(chapter.label, filters.model_copy(update={"doc_ids": [doc_id]}),
                                      top_k=self.settings.retrieval.list_top_k)]
        return [p for p in found if seen.isdisjoint(p.chunk_ids)]

    @contextmanager
    def _index_errors(self) -> Iterator[None]:
        """Qdrant down or no index yet: 503 with what to do. Anything else is a bug and stays one (500)."""
        try:
            yield
        except (IndexMissing, IndexMismatch) as exc:
            raise ServiceUnavailable(str(exc)) from exc
        except _QDRANT_DOWN as exc:
            raise ServiceUnavailable(f"the search index (Qdrant) is not reachable: {exc}") from exc
        except (ValueError, UnexpectedResponse) as exc:
            # Local mode says a missing collection with a ValueError, a server with a 404.
            if not self._collection_exists():
                raise ServiceUnavailable(_RUN_INGEST) from exc
            if isinstance(exc, UnexpectedResponse) and (exc.status_code or 500) >= 500:
                raise ServiceUnavailable(f"the search index (Qdrant) failed: {exc}") from exc
            raise

    def _collection_exists(self) -> bool:
        try:
            return self.store.exists()
        except _QDRANT_DOWN as exc:
            raise ServiceUnavailable(f"the search index (Qdrant) is not reachable: {exc}") from exc

    # -- answering ------------------------------------------------------------------------------
    def _heading_scores(self, question: str, keys: list[HeadingKey]) -> dict[HeadingKey, float]:
        """The headings' cosines to the question, for evidence to weigh units by (it asks only for an English
        question about one item of the minutes): one model call for the question, and one for headings not
        seen before."""
        if new := [k for k in keys if k not in self._heading_vectors]:
            vectors = self.embedder.embed_documents([TitledText(title, label) for title, label in new])
            self._heading_vectors.update(zip(new, vectors, strict=True))
        query = self.embedder.embed_query(question)
        return {k: float(self._heading_vectors[k] @ query) for k in keys}

    def _likeness(self, phrase: str, texts: list[str]) -> list[float]:
        """Cosines of a phrase, asked as a query, to short texts (one model call for them all)."""
        vectors = self.embedder.embed_documents([TitledText("none", text) for text in texts])
        return [float(v) for v in vectors @ self.embedder.embed_query(phrase)]

    def ask(self, request: AskRequest, passages: list[Passage] | None = None) -> Answer:
        answer = None
        for event in self.stream(request, passages):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, request: AskRequest, passages: list[Passage] | None = None) -> Iterator[Token | Answer]:
        """Tokens as the backend produces them, then the final, grounded Answer."""
        started = time.perf_counter()
        request = self.validate(request)
        request = request.model_copy(update={"question": dated(request.question, request.history)})
        if passages is None:
            passages = self.retrieve(request)
        retrieval_ms = (time.perf_counter() - started) * 1000
        language = detect_language(request.question)
        backend_name: Backend = request.backend or self.settings.backend
        backend = self.backends[backend_name]
        evidence = select(request.question, passages, self.settings.answer, language=language,
                          draft=request.mode == "draft",
                          heading_scores=lambda keys: self._heading_scores(request.question, keys),
                          later=[self.embedder.embed_query(q) for q in later_questions(request.question)],
                          likeness=self._likeness, embed_query=self.embedder.embed_query)
        if evidence.chapter is not None:
            more = self._elsewhere(request, evidence.chapter, passages)
            passages = [*passages, *more]
            evidence = join_chapter(request.question, evidence, passages, len(passages) - len(more),
                                    self.settings.answer)
        pieces: list[str] = []
        first_token_ms = None
        degraded = False
        try:
            for piece in backend.stream(request.question, passages, evidence, language=language,
                                        history=request.history, mode=request.mode):
                if first_token_ms is None:
                    first_token_ms = (time.perf_counter() - started) * 1000
                pieces.append(piece)
                yield Token(piece)
        except BackendUnavailable:
            degraded = True
        text = "".join(pieces).strip()
        if backend is not self._extractive and (degraded or self._needs_repair(text, passages)):
            # The LLM was down, or cited what it was not given: the extractive answer is always grounded.
            text = "".join(self._extractive.stream(request.question, passages, evidence, language=language,
                                                   history=request.history)).strip()
            backend_name, degraded = "extractive", True
        refused = not passages or is_refusal(text)
        if refused:
            text, citations, related = REFUSAL[language], [], related_sources(passages)
        else:
            text, citations = finalize(text, passages)
            related = []
        if request.mode == "draft":
            text, citations = merge_sources(text, citations)
            text = draft_reply(text, citations, refused=refused)
        yield Answer(
            text=text, citations=citations, refused=refused, related=related, backend=backend_name,
            degraded=degraded, language=language, mode=request.mode,
            timings=Timings(retrieval_ms=retrieval_ms, first_token_ms=first_token_ms,
                            total_ms=(time.perf_counter() - started) * 1000),
        )

    @staticmethod
    def _needs_repair(text: str, passages: list[Passage]) -> bool:
        if is_refusal(text):
            return False
        return (not text or "[" not in text or has_unresolved_markers(text, len(passages))
                or has_unsupported_numbers(text, passages))

    # -- documents and passages -----------------------------------------------------------------
    def _document_records(self) -> dict[str, dict[str, Any]]:
        with self._index_errors():
            return self.store.document_records()

    def documents(self) -> list[dict[str, Any]]:
        keys = ("doc_id", "file", "title", "doc_type", "organisation", "date", "year", "language", "chunks",
                "ingested_at")
        records = self._document_records().values()
        return sorted(({k: r.get(k) for k in keys} for r in records), key=lambda r: r["doc_id"])

    def source_file(self, doc_id: str) -> Path:
        record = self._document_records().get(doc_id)
        if record is None:
            raise LookupError(f"unknown document id '{doc_id}'; see GET /v1/documents")
        corpus = self.settings.corpus_dir.resolve()
        path = (corpus / record["file"]).resolve()
        if corpus not in path.parents or not path.is_file():
            raise LookupError(f"the file of '{doc_id}' is no longer in the corpus folder")
        return path

    def passage(self, doc_id: str, start: int, end: int, context: int = 600) -> dict[str, Any]:
        """A cited span with the text around it, rebuilt from the document's chunks."""
        record = self._document_records().get(doc_id)
        if record is None:
            raise LookupError(f"unknown document id '{doc_id}'; see GET /v1/documents")
        chunks = self.store.document_chunks(doc_id)
        text = document_text(chunks)
        if not 0 <= start < end <= len(text):
            raise InvalidRequest(f"span {start}-{end} is outside the document (length {len(text)})")
        lo, hi = max(0, start - context), min(len(text), end + context)
        section = next((c["section"] for c in chunks if c["start"] <= start < c["end"]), "")
        page = next((c.get("page") for c in chunks if c["start"] <= start < c["end"]), None)
        return {
            "doc_id": doc_id, "title": record.get("title"), "doc_type": record.get("doc_type"),
            "date": record.get("date"), "file": record.get("file"), "section": section, "page": page,
            "start": start, "end": end, "before": text[lo:start], "quote": text[start:end], "after": text[end:hi],
        }

    def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {"embedding_model": self.embedder.name}
        try:
            checks["qdrant"] = "ok" if self.store.exists() else "collection missing: run `python -m ingest`"
            checks["chunks"] = self.store.count() if self.store.exists() else 0
        except Exception as exc:
            checks["qdrant"] = f"unreachable: {exc}"
        for name, backend in self.backends.items():
            if isinstance(backend, OpenAIBackend):
                checks[f"llm_{name}"] = "ok" if backend.ping() else "unreachable (answers degrade to extractive)"
        checks["ready"] = checks["qdrant"] == "ok"
        return checks


def _close_enough(passages: list[Passage], question: str, settings: Settings) -> bool:
    """Whether any unit of the passages is as close to the question as an answer needs (the evidence's
    similarity floor)."""
    floor = similarity_floor(settings.answer, detect_language(question))
    return any(p.unit_scores is not None and len(p.unit_scores) and float(max(p.unit_scores)) >= floor
               for p in passages)


def within_budget(history: Sequence[Message], max_chars: int) -> list[Message]:
    """The newest messages whose lengths add up to at most ``max_chars`` (older context goes first)."""
    kept: list[Message] = []
    used = 0
    for message in reversed(history):
        used += len(message.content)
        if used > max_chars:
            break
        kept.append(message)
    return kept[::-1]


def document_text(chunks: list[dict[str, Any]]) -> str:
    """The cleaned document text, reassembled from chunk spans (whitespace-only gaps padded)."""
    buffer: list[str] = []
    length = 0
    for chunk in chunks:
        if chunk["end"] <= length:
            continue
        if chunk["start"] > length:
            buffer.append("\n" * (chunk["start"] - length))
            length = chunk["start"]
        buffer.append(chunk["text"][length - chunk["start"]:])
        length = chunk["end"]
    return "".join(buffer)


def build_assistant(settings: Settings, *, store: Store | None = None, embedder: Embedder | None = None) -> Assistant:
    """Wire the assistant from settings; the store and embedder can be shared (tests, eval)."""
    if store is None:
        try:
            store = open_store(settings.qdrant, create=False)
        except (IndexUnavailable, IndexMissing) as exc:
            raise ServiceUnavailable(str(exc)) from exc
    embedder = embedder or Embedder(settings.embedding_model_path, settings.embedding)
    if store.exists():
        store.check(embedder.name, embedder.dimension)
    local = settings.local_llm
    available: dict[str, Callable[[], AnswerBackend]] = {
        "extractive": ExtractiveBackend,
        "openai": lambda: OpenAIBackend(settings.llm, name="openai"),
        "local": lambda: OpenAIBackend(
            settings.llm.model_copy(update={
                "base_url": f"http://{local.host}:{local.port}/v1",
                "first_token_timeout_s": local.first_token_timeout_s, "deadline_s": local.deadline_s,
            }),
            name="local",
        ),
    }
    # Only what a request may pick: extractive (the fallback), the default, and those the operator offers.
    offered = {"extractive", settings.backend, *settings.selectable_backends}
    backends: dict[str, AnswerBackend] = {name: make() for name, make in available.items() if name in offered}
    return Assistant(settings, store, embedder, backends)
