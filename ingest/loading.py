"""Reading corpus files into raw page texts: the only I/O in the ingestion text layer.

Every failure is a ``LoadError`` whose message says the reason in plain English, so the ingest
run can report "skipped x.pdf: encrypted PDF" and carry on with the next file.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")

# C0 controls other than tab, newline, carriage return and form feed never occur in real text:
# finding them after a decode means the bytes were binary, not text in another encoding.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class LoadError(Exception):
    """A file that cannot be turned into text; the message is the reason."""


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    kind: str  # "txt" | "md" | "pdf"
    pages: list[str]  # one entry for txt/md; one per PDF page


def check_size(path: Path, max_text_bytes: int) -> None:
    """Refuse a text file too large to embed in reasonable time, before reading it."""
    size = path.stat().st_size
    if path.suffix.lower() != ".pdf" and size > max_text_bytes:
        raise LoadError(
            f"text file of {size / 1e6:.1f} MB is over the limit of {max_text_bytes / 1e6:.1f} MB "
            "(SAMBRUK_INGEST__MAX_TEXT_FILE_BYTES): split it or raise the limit"
        )


def load_file(path: Path) -> LoadedFile:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type: {suffix or 'no suffix'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError("empty file")
    kind = suffix.lstrip(".")
    pages = _pdf_pages(path) if kind == "pdf" else [_decode_text(data)]
    if not pages[0].strip() and len(pages) == 1:
        raise LoadError("empty file")  # a byte-order mark and nothing else
    return LoadedFile(path=path, kind=kind, pages=pages)


def _decode_text(data: bytes) -> str:
    """UTF-8 (BOM tolerated) first; cp1252 second, because Windows tools still write it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "cp1252")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _CONTROL_CHARS.search(text):
            return text
    raise LoadError("not valid UTF-8 text")


def _pdf_pages(path: Path) -> list[str]:
    """Page texts via pypdf; any pypdf failure, of whatever type, becomes a LoadError."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            _open_without_password(reader)
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise LoadError("encrypted PDF") from exc
    except PdfReadError as exc:
        raise LoadError(f"broken PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises plain KeyError/ValueError/... on damaged files
        raise LoadError(f"broken PDF: {type(exc).__name__}: {exc}") from exc
    if not pages:
        raise LoadError("broken PDF: no pages")
    if not any(page.strip() for page in pages):
        raise LoadError("no extractable text (scanned?)")
    return pages


def _open_without_password(reader: PdfReader) -> None:
    """Many PDFs are encrypted only against editing: they open with the empty user password."""
    try:
        opened = reader.decrypt("")
    except Exception as exc:  # an encryption scheme pypdf cannot handle
        raise LoadError(f"encrypted PDF: {exc}") from exc
    if not opened:
        raise LoadError("encrypted PDF")
