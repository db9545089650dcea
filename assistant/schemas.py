"""The objects that cross module and HTTP boundaries: documents, passages, questions, answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

DocType = Literal["verksamhetsberättelse", "verksamhetsplan", "presentation", "protokoll", "övrigt"]
Language = Literal["sv", "en"]
Mode = Literal["answer", "draft"]
Backend = Literal["extractive", "openai", "local"]


class DocumentMeta(BaseModel):
    """What the catalog (or inference) says about one corpus file."""

    doc_id: str
    file: str
    title: str
    doc_type: DocType = "övrigt"
    organisation: str = "Sambruk"
    date: str | None = None  # ISO date or year, as precise as the document says
    year: int | None = None
    language: Language = "sv"


class ChunkRecord(DocumentMeta):
    """One indexed chunk: its document's metadata plus where it sits in the cleaned text."""

    chunk_id: str
    ordinal: int
    section: str  # section path joined with " > "
    section_number: str | None = None  # "5.6.1", "§ 8", slide "3"
    page: int | None = None
    start: int
    end: int
    text: str
    # Answer units (ingest.segmenting): document offsets, kind, heading level; one vector each in Qdrant.
    units: list[tuple[int, int, str, int]] = []


class Passage(DocumentMeta):
    """Retrieved evidence: one chunk or several neighbouring chunks of a section merged."""

    chunk_ids: list[str]
    section: str
    page: int | None = None
    start: int
    end: int
    text: str
    score: float  # fused rank score (RRF), comparable within one query only
    similarity: float = 0.0  # cosine of query and passage embeddings: an absolute relevance signal
    units: list[tuple[int, int, str, int]] = Field(default_factory=list, exclude=True)  # as in ChunkRecord
    # Per unit: its normalised vector (numpy, units x dim) and its cosine to the question, computed
    # with the query vector retrieval already had. Internal evidence, never serialised.
    unit_vectors: Any = Field(default=None, exclude=True, repr=False)
    unit_scores: Any = Field(default=None, exclude=True, repr=False)


class Citation(BaseModel):
    n: int
    doc_id: str
    file: str
    title: str
    doc_type: DocType
    date: str | None
    section: str
    page: int | None
    quote: str
    score: float
    start: int
    end: int


class Timings(BaseModel):
    retrieval_ms: float = 0.0
    first_token_ms: float | None = None
    total_ms: float = 0.0


class Answer(BaseModel):
    text: str
    citations: list[Citation] = []
    refused: bool = False
    related: list[Citation] = Field(default_factory=list, description="Nearest sources offered on refusal")
    backend: Backend
    degraded: bool = False
    language: Language
    mode: Mode = "answer"
    timings: Timings = Timings()


class Message(BaseModel):
    role: Literal["user", "assistant"] = "user"
    content: str


class Filters(BaseModel):
    doc_types: list[DocType] = []
    organisations: list[str] = []
    doc_ids: list[str] = []
    year_from: int | None = None
    year_to: int | None = None


class AskRequest(BaseModel):
    question: str
    history: list[Message] = []
    filters: Filters = Filters()
    mode: Mode = "answer"
    backend: Backend | None = None
