"""Chunking of the real, cleaned corpus: structure, exact offsets, coverage and size bounds."""

from __future__ import annotations

import re
from functools import cache

import pytest

from conftest import (
    CORPUS_FILES,
    MINUTES,
    PLAN_2026,
    REPORT_2011,
    REPORT_2021,
    SLIDES,
    read_corpus,
)
from ingest.chunking import ChunkSpan, chunk_text, estimate_tokens
from ingest.cleaning import clean_pages, clean_text

DEFAULTS = {"target_tokens": 260, "max_tokens": 350, "overlap_tokens": 40, "min_tokens": 25}


@cache
def cleaned(name: str) -> str:
    return clean_text(read_corpus(name))


@cache
def chunks(name: str) -> tuple[ChunkSpan, ...]:
    return tuple(chunk_text(cleaned(name), **DEFAULTS))


def containing(name: str, needle: str) -> list[ChunkSpan]:
    found = [chunk for chunk in chunks(name) if needle in chunk.text]
    assert found, needle
    return found


# ---------------------------------------------------------------- invariants on every corpus file


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_offsets_are_exact(name):
    text = cleaned(name)
    for chunk in chunks(name):
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_visible_character_is_in_some_chunk(name):
    text = cleaned(name)
    covered = bytearray(len(text))
    for chunk in chunks(name):
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not missing, text[missing[0] : missing[0] + 80]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_token_bounds(name):
    sizes = [estimate_tokens(chunk.text) for chunk in chunks(name)]
    assert max(sizes) <= DEFAULTS["max_tokens"]
    assert min(sizes) >= DEFAULTS["min_tokens"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_chunks_are_in_document_order(name):
    starts = [chunk.start for chunk in chunks(name)]
    ends = [chunk.end for chunk in chunks(name)]
    assert starts == sorted(starts) and ends == sorted(ends)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_no_chunk_is_only_headings(name):
    def is_heading(line: str) -> bool:
        return bool(re.match(r"(#{1,6} |§ \d+$|\d{1,2}(\.\d{1,2})* [A-ZÅÄÖ])", line)) and len(line) < 120

    for chunk in chunks(name):
        assert not all(is_heading(line) for line in chunk.text.split("\n") if line), chunk.text


def test_corpus_chunk_count_is_reasonable():
    total = sum(len(chunks(name)) for name in CORPUS_FILES)
    assert 250 <= total <= 520


# ---------------------------------------------------------------- structure: numbered reports


def test_egil_chunk_sits_under_5_6_skola():
    chunk = containing(REPORT_2021, "EGIL är en effektiv digital tjänst")[0]
    assert chunk.section_path == (
        "5 Förvaltning/förädling av resultat och tjänster",
        "5.6 Skola",
        "5.6.1 EGIL – Provisioneringstjänst för elever & grupper för externa digitala tjänster",
    )
    assert chunk.section_number == "5.6.1"
    assert chunk.text.startswith("5.6 Skola\n5.6.1 EGIL")  # the bare "5.6 Skola" heading came along


def test_every_chunk_of_the_2021_report_is_in_a_numbered_section_in_order():
    numbers = [chunk.section_number for chunk in chunks(REPORT_2021)]
    assert None not in numbers
    tops = list(dict.fromkeys(int(number.split(".")[0]) for number in numbers))
    assert tops == list(range(1, 11))  # the contents list at the end adds no sections


def test_years_and_table_numbers_are_not_headings():
    for name in (REPORT_2011, REPORT_2021, MINUTES):
        for chunk in chunks(name):
            number = chunk.section_number or ""
            if not number.startswith("§"):
                assert int(number.split(".")[0] or 0) <= 15, chunk.section_path
    assert not containing(MINUTES, "2.2.1 Nämnden ska se till")[0].section_number.startswith("2.2")


def test_2011_headings_with_abbreviations_and_lower_case_titles():
    chunk = containing(REPORT_2011, "Som komplement till tidigare framtaget broschyrmaterial")[0]
    assert chunk.section_path[-1] == "11.3 Information/marknadsföring, m.m."
    assert containing(REPORT_2011, "Dataföreningen Kompetens")[0].section_path[-1] == "11.4 eMedborgaren"


# ---------------------------------------------------------------- structure: minutes


@pytest.mark.parametrize(
    ("decision", "number", "title"),
    [
        ("E-nämnden beslutar att ta med", "§ 8", "Grundläggande granskning Kiruna och Gällivare kommun"),
        ("E- nämnden beslutar att godkänna budgeten för 2023", "§ 12", "Budget 2023"),
        ("E-nämnden beslutar att godkänna delårsrapporten", "§ 16", "Delårsrapport 2022"),
    ],
)
def test_minutes_decisions_are_under_their_paragraph(decision, number, title):
    chunk = containing(MINUTES, decision)[0]
    assert chunk.section_number == number
    assert chunk.section_path == (f"{number} {title}",)
    assert chunk.text.startswith(f"{number}\n\n{title}")


def test_every_paragraph_of_the_minutes_is_found_once():
    items = [chunk.section_path[0] for chunk in chunks(MINUTES) if chunk.section_path[0].startswith("§")]
    numbers = [int(re.match(r"§ (\d+)", item).group(1)) for item in dict.fromkeys(items)]
    assert numbers == list(range(8, 17))


def test_attachments_after_the_last_item_are_sections_of_their_own():
    # The revision memo and the e-learning report follow § 16; they are no part of it.
    chunk = containing(MINUTES, "Kommunallagen (KL 9 kap 9§) ger uttryck")[0]
    assert chunk.section_path == ("2 Inledning/bakgrund",)
    assert containing(MINUTES, "LMS")[0].section_path[0] != "§ 16 Delårsrapport 2022"
    assert containing(MINUTES, "E-nämnden beslutar att godkänna delårsrapporten")[0].section_number == "§ 16"
    chunk = containing(MINUTES, "Verksamhetens omfattning")[0]
    assert chunk.section_path[0].startswith("1.2 Verksamheten")  # not nested under "8 Övrigt"


# ---------------------------------------------------------------- structure: slides and unnumbered plans


def test_slides_are_sections_numbered_by_slide():
    chunk = containing(SLIDES, "Inget direkt privat ägarintresse")[0]
    assert chunk.section_path == ("Internupphandlingsundantaget (Teckal)",)
    assert chunk.section_number == "13"
    assert containing(SLIDES, "Statusuppdatering föreningen")[0].section_number == "2"
    title = containing(SLIDES, "Informationsträff för formella")[0]
    assert title.section_path == ("Informationsträff för formella medlemsrepresentanter i Sambruk",)


def test_slides_with_only_a_heading_merge_into_the_next_slide():
    chunk = containing(SLIDES, "## Aktiva tillsammans")[0]
    assert chunk.section_number == "9" and chunk.section_path == ("Möjliga nya nätverk?",)
    assert "## Samverkanstjänster" in chunk.text and "- Identitetshantering" in chunk.text


def test_plan_sections_come_from_its_table_of_contents():
    assert containing(PLAN_2026, "Egil är en mycket uppskattad tjänst")[0].section_path == ("Egil",)
    assert containing(PLAN_2026, "Köpta tjänster | -8 459 197")[0].section_path == ("Budget",)


# ---------------------------------------------------------------- packing


def test_lists_and_tables_are_kept_whole():
    chunk = containing(REPORT_2021, "• Bibblix är en tjänst som enbart riktar sig till barn")[0]
    assert "• Vidare så har Bibblix en unik fast kostnadsmodell" in chunk.text
    assert "Nytta för medlemmarna:" in chunk.text  # with the label that introduces it
    chunk = containing(SLIDES, "- Samverka – samarbetsplattform")[0]
    assert "- Stimma" in chunk.text
    chunk = containing(PLAN_2026, "Medlemsavgifter | 4 080 000")[0]
    assert "RESULTAT | 67 715" in chunk.text


def test_long_sections_are_split_with_whole_sentence_overlap():
    parts = [chunk for chunk in chunks(REPORT_2021) if chunk.section_number == "5.4.1"]
    assert len(parts) >= 3
    for previous, current in zip(parts, parts[1:]):
        assert current.start < previous.end  # overlap
        shared = cleaned(REPORT_2021)[current.start : previous.end]
        assert 0 < estimate_tokens(shared) <= 2 * DEFAULTS["overlap_tokens"]
        assert re.search(r"[.!?”:]$", shared) and shared[0].isupper()


def test_no_overlap_across_sections():
    text_chunks = chunks(REPORT_2021)
    for previous, current in zip(text_chunks, text_chunks[1:]):
        if previous.section_path != current.section_path:
            assert current.start >= previous.end


SENTENCES = (
    "Revisionskriterier i granskningen utgörs främst av kommunallagen 6:6 och följsamhet till fullmäktiges "
    "uppdrag. Enligt 6 kap. 6 § kommunallagen ska nämnden se till att verksamheten bedrivs enligt "
    "fullmäktiges mål. Lag (2026:578) - Prop. 2025/26:203 - Konkurrensverket LOS FAQ. Valberedning: "
    "Gert Åberg, (f.d.) Vellinge kommun, bl.a. ordförande. Budgeten exkl. Datacenter Norrbotten uppgår "
    "till ca. 5 034 tkr. Mötet hölls kl. 13 i Luleå. Det framgår även att nämnden, 2021-06-18, beslutat "
    "om en åtgärdsplan där bl.a. införandet av ett årshjul ingår."
)


def test_long_paragraphs_split_at_sentences_not_at_abbreviations():
    """Sentences assembled from real corpus lines that end in Swedish abbreviations."""
    pieces = chunk_text(SENTENCES, target_tokens=40, max_tokens=50, overlap_tokens=0, min_tokens=5)
    assert len(pieces) > 3
    for piece in pieces:
        assert piece.text.endswith("."), piece.text
        assert not re.search(r"\b(kap|Prop|f\.d|bl\.a|exkl|ca|kl)\.$", piece.text), piece.text
    assert "".join(piece.text for piece in pieces).replace(" ", "") == SENTENCES.replace(" ", "")


def test_tiny_trailing_piece_joins_the_previous_chunk():
    text = cleaned(REPORT_2021)
    start = text.index("5.2 Förvaltning av digitala tjänster")
    end = text.index("5.3 Information om Sambruks tjänster")
    section = text[start:end]
    pieces = chunk_text(section, target_tokens=150, max_tokens=220, overlap_tokens=0, min_tokens=40)
    assert all(estimate_tokens(piece.text) >= 40 for piece in pieces)


def test_empty_text_has_no_chunks_and_bad_limits_are_refused():
    assert chunk_text("") == [] and chunk_text(" \n\n ") == []
    with pytest.raises(ValueError):
        chunk_text("x", target_tokens=400, max_tokens=350)


def test_estimate_tokens_is_calibrated_for_swedish():
    paragraph = containing(REPORT_2021, "EGIL är en effektiv digital tjänst")[0].text.split("\n")[3]
    assert len(paragraph) / 4 < estimate_tokens(paragraph) <= len(paragraph) / 3.4
    assert estimate_tokens(" \n ") == 0


# ---------------------------------------------------------------- pages


def test_pages_come_from_page_starts_and_chunks_do_not_straddle_pages():
    pages = [
        read_corpus(REPORT_2021)[:1800],
        read_corpus(PLAN_2026)[3000:4800],
        "Sida tre handlar om Skolplattformen och elevhälsa i Norrbotten. Här står något om åäö ÅÄÖ.",
    ]
    text, starts = clean_pages(pages)
    spans = chunk_text(text, page_starts=starts, **DEFAULTS)
    assert [chunk.page for chunk in spans] == sorted(chunk.page for chunk in spans)
    assert {chunk.page for chunk in spans} == {1, 2, 3}
    for chunk in spans:
        page_end = starts[chunk.page] if chunk.page < len(starts) else len(text)
        assert chunk.end <= page_end
    last = next(chunk for chunk in spans if "Skolplattformen" in chunk.text)
    assert last.page == 3 and last.text.startswith("Sida tre")
    assert all(chunk.page is None for chunk in chunks(SLIDES))
