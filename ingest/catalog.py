"""Document metadata: the corpus catalog first, inference from name and text for files it lacks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

from ingest.language import detect_language
from ingest.records import DocType, DocumentMeta

_TYPE_HINTS: tuple[tuple[str, DocType], ...] = (
    ("verksamhetsberattelse", "verksamhetsberättelse"),
    ("verksamhetsberättelse", "verksamhetsberättelse"),
    ("arsredovisning", "verksamhetsberättelse"),
    ("årsredovisning", "verksamhetsberättelse"),
    ("verksamhetsplan", "verksamhetsplan"),
    ("protokoll", "protokoll"),
    ("presentation", "presentation"),
    ("informationstraff", "presentation"),
    ("informationsträff", "presentation"),
    ("bilder", "presentation"),
)
_ISO_DATE = re.compile(r"(20\d{2}|19\d{2})-(0[1-9]|1[0-2])-([0-2]\d|3[01])")
_YEAR = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)")


class CatalogError(ValueError):
    pass


def doc_id_for(relative_path: str) -> str:
    """A stable id from the path inside the corpus: the same file always maps to the same id."""
    stem = str(PurePosixPath(relative_path).with_suffix(""))
    return re.sub(r"[^a-z0-9åäö]+", "-", stem.lower()).strip("-")


def load_catalog(path: Path) -> dict[str, dict]:
    """Catalog entries by file name (path relative to the corpus folder)."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    entries = {}
    for entry in data.get("document", []):
        if "file" not in entry:
            raise CatalogError(f"{path}: every [[document]] needs a 'file'")
        entries[entry["file"]] = entry
    return entries


def infer_meta(relative_path: str, text: str) -> DocumentMeta:
    """Best-effort metadata for a file without a catalog entry (pure: name and text only)."""
    name = PurePosixPath(relative_path).name
    lowered = name.lower()
    doc_type: DocType = next((t for hint, t in _TYPE_HINTS if hint in lowered), "övrigt")
    if doc_type == "övrigt":
        head = text[:2000].lower()
        doc_type = next((t for hint, t in _TYPE_HINTS if hint in head), "övrigt")
    date_match = _ISO_DATE.search(name) or _ISO_DATE.search(text[:1000])
    year_match = _YEAR.search(name) or _YEAR.search(text[:1000])
    date = date_match.group(0) if date_match else (year_match.group(0) if year_match else None)
    year = int(date[:4]) if date else None
    title = next((line.strip(" #*") for line in text.splitlines() if len(line.strip(" #*")) > 3), name)
    return DocumentMeta(
        doc_id=doc_id_for(relative_path),
        file=relative_path,
        title=title[:120],
        doc_type=doc_type,
        date=date,
        year=year,
        language=detect_language(text[:5000]),
    )


def document_meta(relative_path: str, text: str, catalog: dict[str, dict]) -> DocumentMeta:
    entry = catalog.get(relative_path)
    inferred = infer_meta(relative_path, text)
    if entry is None:
        return inferred
    fields = {k: v for k, v in entry.items() if k in DocumentMeta.model_fields and k not in ("file", "doc_id")}
    if "year" not in fields and fields.get("date"):
        fields["year"] = int(str(fields["date"])[:4])
    if fields.get("date") is not None:
        fields["date"] = str(fields["date"])
    try:
        return DocumentMeta.model_validate({**inferred.model_dump(), **fields})
    except ValueError as exc:
        raise CatalogError(f"catalog entry for {relative_path}: {exc}") from exc
