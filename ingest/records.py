"""What the index stores about documents and chunks: the records ingest writes and answering reads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

DocType = Literal["verksamhetsberättelse", "verksamhetsplan", "presentation", "protokoll", "övrigt"]
Language = Literal["sv", "en"]


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
