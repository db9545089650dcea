"""The objects that cross module and HTTP boundaries: documents, passages, questions, answers."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from ingest.records import ChunkRecord, DocType, DocumentMeta, Language

__all__ = ["ChunkRecord", "DocType", "DocumentMeta", "Language"]  # re-exported with the rest below

Mode = Literal["answer", "draft"]
Backend = Literal["extractive", "openai", "local"]

# Hard bounds of a request, whatever the settings say: what one request may make the server hold.
# (The question's length and the history budget are settings: api.max_question_chars, max_history_*.)
MAX_MESSAGE_CHARS = 20_000
MAX_HISTORY_MESSAGES = 100
MAX_FILTER_VALUES = 50
MAX_NAME_CHARS = 200
MIN_YEAR, MAX_YEAR = 0, 9999

# C0 controls other than tab and line breaks, DEL, and lone UTF-16 surrogates (valid JSON escapes
# that are no text at all): people do not write them, and they break encoders further down.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _plain_text(value: str) -> str:
    found = _NOT_TEXT.search(value)
    if found:
        raise ValueError(f"contains the control character or lone surrogate U+{ord(found.group()):04X} "
                         f"at position {found.start()}")
    return value


Text = Annotated[str, AfterValidator(_plain_text)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(_plain_text)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]


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
    content: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS), AfterValidator(_plain_text)]


class Filters(BaseModel):
    doc_types: list[DocType] = Field(default=[], max_length=MAX_FILTER_VALUES)
    organisations: list[Name] = Field(default=[], max_length=MAX_FILTER_VALUES)
    doc_ids: list[Name] = Field(default=[], max_length=MAX_FILTER_VALUES)
    year_from: Year | None = None
    year_to: Year | None = None


class AskRequest(BaseModel):
    question: Text
    history: list[Message] = Field(default=[], max_length=MAX_HISTORY_MESSAGES,
                                   description="The conversation so far, oldest first; its last turns are read")
    filters: Filters = Filters()
    mode: Mode = "answer"
    backend: Backend | None = None
