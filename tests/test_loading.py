"""Loading real files: PDFs built with fpdf2 from corpus text, and the ways a file can be unusable."""

from __future__ import annotations


import pytest
from pypdf import PdfWriter

from conftest import CORPUS, read_corpus, write_pdf
from ingest.loading import LoadError, load_file

PAGES = [
    read_corpus("sambruk-verksamhetsberattelse-2021.txt")[:1200],
    read_corpus("norrbottens-e-namnd-protokoll-2022.txt")[:900],
    read_corpus("sambruk-verksamhetsplan-2026.txt")[3200:4000],
]


def test_multi_page_pdf_loads_page_by_page_with_swedish_letters(tmp_path):
    loaded = load_file(write_pdf(tmp_path / "rapport.pdf", PAGES))
    assert loaded.kind == "pdf" and len(loaded.pages) == 3
    assert "Sambruk startade som ett nätverk 2002" in " ".join(loaded.pages[0].split())
    assert "Grundläggande granskning Kiruna och Gällivare kommun" in loaded.pages[1]
    assert "§ 8" in loaded.pages[1]
    for source, page in zip(PAGES, loaded.pages):
        assert [page.count(letter) for letter in "åäöÅÄÖ"] == [source.count(letter) for letter in "åäöÅÄÖ"]
    assert all(letter in "".join(loaded.pages) for letter in "åäöÄ")


def test_pdf_with_an_owner_password_only_opens(tmp_path):
    loaded = load_file(write_pdf(tmp_path / "skyddad.pdf", PAGES[:1], owner_password="ägare"))
    assert "Föreningen" in loaded.pages[0]


def test_encrypted_pdf_is_refused(tmp_path):
    path = write_pdf(tmp_path / "hemlig.pdf", PAGES[:1], owner_password="ägare", user_password="hemligt")
    with pytest.raises(LoadError, match="^encrypted PDF$"):
        load_file(path)


def test_garbage_pdf_is_refused_as_broken(tmp_path):
    path = tmp_path / "trasig.pdf"
    path.write_bytes(b"%PDF-1.7\nthis is not really a pdf\n")
    with pytest.raises(LoadError, match="^broken PDF: "):
        load_file(path)


def test_truncated_pdf_never_leaks_a_pypdf_exception(tmp_path):
    whole = write_pdf(tmp_path / "hel.pdf", PAGES).read_bytes()
    for cut in (len(whole) // 4, len(whole) // 2, len(whole) - 40):
        path = tmp_path / f"avklippt-{cut}.pdf"
        path.write_bytes(whole[:cut])
        try:
            load_file(path)
        except LoadError as exc:
            assert str(exc).startswith(("broken PDF", "no extractable text"))


def test_pdf_without_text_is_reported_as_probably_scanned(tmp_path):
    path = write_pdf(tmp_path / "skannad.pdf", ["", ""])
    with pytest.raises(LoadError, match=r"^no extractable text \(scanned\?\)$"):
        load_file(path)


def test_blank_page_between_text_pages_is_kept(tmp_path):
    loaded = load_file(write_pdf(tmp_path / "luft.pdf", [PAGES[0], "", PAGES[2]]))
    assert len(loaded.pages) == 3 and not loaded.pages[1].strip()


@pytest.mark.parametrize(
    ("name", "content"), [("tom.txt", b""), ("tom.pdf", b""), ("bara-bom.md", b"\xef\xbb\xbf\n")]
)
def test_empty_file_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match="^empty file$"):
        load_file(path)


def test_corpus_text_file_loads_as_one_page():
    path = CORPUS / "sambruk-informationstraff-2026-06-15.txt"
    loaded = load_file(path)
    assert loaded.kind == "txt" and loaded.pages == [path.read_text(encoding="utf-8")]


def test_markdown_kind_and_byte_order_mark(tmp_path):
    path = tmp_path / "bilder.md"
    slides = read_corpus("sambruk-informationstraff-2026-06-15.txt")
    path.write_bytes(b"\xef\xbb\xbf" + slides.encode("utf-8"))
    loaded = load_file(path)
    assert loaded.kind == "md" and loaded.pages[0].startswith("\n\n**2026-06-15**")


def test_windows_1252_text_falls_back(tmp_path):
    text = read_corpus("sambruk-verksamhetsberattelse-2011.txt")[:2000]
    path = tmp_path / "gammal.txt"
    path.write_bytes(text.encode("cp1252"))
    assert load_file(path).pages == [text]


def test_binary_file_named_txt_is_refused(tmp_path):
    path = tmp_path / "bild.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(LoadError, match="^not valid UTF-8 text$"):
        load_file(path)


def test_unsupported_and_missing_files_are_refused(tmp_path):
    with pytest.raises(LoadError, match="unsupported file type: .docx"):
        load_file(tmp_path / "rapport.docx")
    with pytest.raises(LoadError, match="^cannot read file"):
        load_file(tmp_path / "saknas.txt")


def test_pdf_written_by_pypdf_with_aes_encryption_is_refused(tmp_path):
    source = write_pdf(tmp_path / "källa.pdf", PAGES[:1])
    writer = PdfWriter(clone_from=source)
    writer.encrypt(user_password="hemligt", owner_password="ägare", algorithm="AES-256")
    path = tmp_path / "aes.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(LoadError, match="^encrypted PDF$"):
        load_file(path)
