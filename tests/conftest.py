"""Shared fixtures: the real corpus, the real models, a real Qdrant index of the real corpus.

The expensive ones are session-scoped: the EmbeddingGemma model is loaded once, and the real corpus
is ingested once into data/test/ (incrementally: a re-run on an unchanged corpus embeds nothing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold" / "dev.jsonl"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


CORPUS_FILES = sorted(path.name for path in CORPUS.glob("*.txt"))
MINUTES = "norrbottens-e-namnd-protokoll-2022.txt"
SLIDES = "sambruk-informationstraff-2026-06-15.txt"
REPORT_2011 = "sambruk-verksamhetsberattelse-2011.txt"
REPORT_2021 = "sambruk-verksamhetsberattelse-2021.txt"
PLAN_2026 = "sambruk-verksamhetsplan-2026.txt"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def read_corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def unicode_font() -> Path | None:
    """DejaVuSans if installed, else any TTF fontconfig knows; None falls back to latin-1 helvetica."""
    if DEJAVU.exists():
        return DEJAVU
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=sv", "file"], capture_output=True, text=True).stdout
        fonts = [line.split(":")[0] for line in listed.splitlines() if line.split(":")[0].endswith(".ttf")]
        if fonts:
            return Path(fonts[0])
    return None


def write_pdf(path: Path, pages: list[str], **encryption: str) -> Path:
    """A real multi-page PDF (fpdf2) of the given texts, one per page; optionally encrypted."""
    from fpdf import FPDF

    pdf = FPDF()
    font = unicode_font()
    if font:
        pdf.add_font("body", fname=str(font))
        pdf.set_font("body", size=10)
    else:
        pdf.set_font("helvetica", size=10)
    for text in pages:
        pdf.add_page()
        if text:
            text = text.replace("\t", " ")
            pdf.multi_cell(0, 5, text if font else text.encode("latin-1", "replace").decode("latin-1"))
    if encryption:
        pdf.set_encryption(**encryption)
    pdf.output(str(path))
    return path


def make_settings(data_dir: Path, corpus_dir: Path = CORPUS, engine: str = "edge", **overrides):
    from assistant.settings import QdrantSettings, Settings

    return Settings(
        corpus_dir=corpus_dir,
        catalog_file=corpus_dir / "catalog.toml",
        data_dir=data_dir,
        qdrant=QdrantSettings(path=data_dir / "qdrant", engine=engine),
        **overrides,
    )


@pytest.fixture(scope="session")
def gemma_settings():
    settings = make_settings(ROOT / "data" / "test")
    if not settings.embedding_model_path.exists():
        pytest.fail(f"EmbeddingGemma missing at {settings.embedding_model_path}: run scripts/bootstrap.sh")
    return settings


@pytest.fixture(scope="session")
def gemma(gemma_settings):
    from ingest.embedding import Embedder

    return Embedder(gemma_settings.embedding_model_path, gemma_settings.embedding)


@pytest.fixture(scope="session")
def real_store(gemma_settings, gemma):
    """The real corpus ingested with the real model into the embedded Qdrant (Edge)."""
    from ingest.pipeline import Ingestor
    from ingest.store import open_store

    store = open_store(gemma_settings.qdrant)
    report = Ingestor(gemma_settings, store, lambda: gemma).run()
    assert report.ok, report.failed
    yield store
    store.close()


@pytest.fixture(scope="session")
def assistant(gemma_settings, real_store, gemma):
    from assistant.service import build_assistant

    return build_assistant(gemma_settings, store=real_store, embedder=gemma)


@pytest.fixture(scope="module")
def server(gemma_settings, assistant):
    """The API (no key) on a real uvicorn server on 127.0.0.1 over the real index, one per test module."""
    from assistant.api import create_app
    from eval.live_server import LiveServer

    with LiveServer(create_app(gemma_settings, assistant)) as live:
        yield live


@pytest.fixture(scope="module")
def http(server):
    import httpx

    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture()
def tmp_corpus(tmp_path) -> Path:
    """A private copy of the corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
