"""The answer layer without an LLM, on passages cut from the real, cleaned corpus at real offsets."""

from __future__ import annotations

import re
import time
from functools import lru_cache

import pytest

from assistant.answering.draft import draft_reply
from assistant.answering.extractive import ExtractiveBackend
from assistant.answering.grounding import (
    finalize,
    has_unresolved_markers,
    plain,
    related_sources,
    segment,
)
from assistant.answering.prompts import REFUSAL, is_refusal
from assistant.schemas import Message, Passage
from conftest import CORPUS, read_corpus
from ingest.catalog import document_meta, load_catalog
from ingest.cleaning import clean_text

REPORT_2011 = "sambruk-verksamhetsberattelse-2011.txt"
REPORT_2021 = "sambruk-verksamhetsberattelse-2021.txt"
PLAN_2026 = "sambruk-verksamhetsplan-2026.txt"
SLIDES_2026 = "sambruk-informationstraff-2026-06-15.txt"
MINUTES_2022 = "norrbottens-e-namnd-protokoll-2022.txt"


@lru_cache(maxsize=None)
def cleaned(file: str) -> str:
    return clean_text(read_corpus(file))


def passage(file: str, begin: str, end: str, section: str) -> Passage:
    """The cleaned document from the first ``begin`` up to the next ``end``, with the catalog's metadata."""
    text = cleaned(file)
    start = text.index(begin)
    stop = text.index(end, start)
    meta = document_meta(file, text, load_catalog(CORPUS / "catalog.toml"))
    return Passage(**meta.model_dump(), chunk_ids=[f"{meta.doc_id}:{start}"], section=section,
                   start=start, end=stop, text=text[start:stop], score=0.5, similarity=0.6)


@pytest.fixture(scope="module")
def members() -> list[Passage]:
    """Member counts in three documents, oldest first, as a retriever might rank them."""
    return [
        passage(REPORT_2011, "5 Föreningens medlemmar", "6 Föreningens organisation",
                "5 Föreningens medlemmar"),
        passage(REPORT_2021, "3 Föreningens medlemmar", "4 Föreningens organisation",
                "3 Föreningens medlemmar"),
        passage(SLIDES_2026, "# Föreningen Sambruk - nuläge", "## En nationell arena",
                "Föreningen Sambruk - nuläge"),
    ]


@pytest.fixture(scope="module")
def school() -> list[Passage]:
    """The 2021 report's Skola section and the 2026 plan's services, Egil to Tjänstekollen."""
    return [
        passage(REPORT_2021, "5.6 Skola", "6 Digital utveckling",
                "5 Förvaltning/förädling av resultat och tjänster > 5.6 Skola"),
        passage(PLAN_2026, "Egil\n\nEgil är", "MedborgarPC\n\n", "Samverkanstjänster"),
    ]


backend = ExtractiveBackend()


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


# ---------------------------------------------------------------------------------------- extractive


def test_member_count_puts_the_newest_figure_first_and_names_every_year(members):
    text = backend.answer("Hur många medlemmar har Sambruk i dag?", members, language="sv")
    assert text.startswith("Enligt Informationsträff för formella medlemsrepresentanter i Sambruk, "
                           "2026-06-15: 152 kommuner")
    assert text.index("152") < text.index("109") < text.index("95")
    for year, figure in (("2021", "109"), ("2011", "95")):
        intro = text.index(f"Enligt Sambruk verksamhetsberättelse {year}:")
        assert intro < text.index(figure)
    assert set(markers(text)) == {1, 2, 3}


def test_without_a_time_word_figures_of_different_years_are_still_attributed(members):
    text = backend.answer("Hur många medlemmar har Sambruk?", members, language="sv")
    assert "95 medlemmar" in text and "109 medlemmar" in text
    for line in text.splitlines():
        assert re.match(r"Enligt [^:]+(2011|2021|2026)[^:]*: ", line), line


def test_english_question_quotes_the_swedish_evidence_in_english_framing(members):
    text = backend.answer("How many members does Sambruk have today?", members, language="en")
    first = text.splitlines()[0]
    assert re.fullmatch(r'According to Informationsträff [^:]+, 2026-06-15: "152 kommuner [^"]+" \[3\]',
                        first)
    final, citations = finalize(text, members)
    assert final.startswith("According to") and markers(final)[0] == 1
    assert citations[0].date == "2026-06-15" and "152" in citations[0].quote


def test_list_question_merges_the_school_services_of_both_documents(school):
    text = backend.answer("Vilka tjänster erbjuder Sambruk för skolan?", school, language="sv")
    intro, *lines = text.splitlines()
    assert intro == "Enligt Sambruk verksamhetsberättelse 2021 och Sambruk verksamhetsplan 2026:"
    assert all(re.fullmatch(r"- .+ (\[[12]\])+", line) for line in lines), text
    for service in ("EGIL", "Tillarbetslivet", "UKA", "UKAA", "Inclubit", "Tjänstekollen"):
        assert service in text
    for other in ("Provisum", "FixaMinGata", "Multifråga"):  # services of the plan, but not for schools
        assert other not in text
    egil = next(line for line in lines if "EGIL" in line)
    assert egil.endswith("[1][2]")  # the same service in 2021 and 2026: one item, both sources
    assert sum("Egil" in line or "EGIL" in line for line in lines) == 1


def test_unrelated_question_is_refused_with_exactly_the_refusal_sentence(members, school):
    evidence = members + school
    assert backend.answer("Vem vann fotbollsmatchen mellan Sverige och Norge i går?", evidence,
                          language="sv") == REFUSAL["sv"]
    assert backend.answer("What was the final score of the football match?", evidence,
                          language="en") == REFUSAL["en"]
    assert backend.answer("Hur många medlemmar har Sambruk?", [], language="sv") == REFUSAL["sv"]


def test_weak_similarity_alone_refuses(members):
    unrelated = [p.model_copy(update={"similarity": 0.1}) for p in members]
    assert is_refusal(backend.answer("Hur många medlemmar har Sambruk?", unrelated, language="sv"))


def test_minutes_item_number_must_match():
    minutes = [passage(MINUTES_2022, "§ 10", "§ 11", "§ 10 Grundläggande granskning Älvsbyns kommun")]
    assert backend.answer("Vad beslutade e-nämnden i § 20?", minutes, language="sv") == REFUSAL["sv"]
    answer = backend.answer("Vad beslutade e-nämnden i § 10?", minutes, language="sv")
    assert "E-nämnden beslutar" in answer


def test_follow_up_borrows_the_subject_of_the_previous_question():
    from assistant.schemas import Message

    provisum = [passage(PLAN_2026, "Provisum\n\nProvisum är", "Tillarbetslivet\n\n", "Provisum")]
    text = "".join(backend.stream("Hur många kommuner samverkar kring det?", provisum, language="sv",
                                 history=[Message(content="Vad är Provisum?")]))
    assert "44 kommuner" in text


def test_stream_yields_the_answer_sentence_by_sentence(members):
    question = "Hur många medlemmar har Sambruk i dag?"
    pieces = list(backend.stream(question, members, language="sv"))
    assert len(pieces) >= 3 and all(re.search(r"\]\s*$", p) for p in pieces)
    assert "".join(pieces) == backend.answer(question, members, language="sv")


def test_answers_stay_short_and_fast(members, school):
    evidence = members + school
    started = time.perf_counter()
    for _ in range(10):
        text = backend.answer("Hur många medlemmar har Sambruk i dag?", evidence, language="sv")
    assert (time.perf_counter() - started) / 10 < 0.05
    assert len(markers(text)) <= backend.max_sentences
    evidence_text = re.sub(r"Enligt [^:\n]+2026-06-15: |Enligt [^:\n]+: | ?\[\d+\]\s*", "", text)
    assert len(evidence_text) <= 700


# ---------------------------------------------------------------------------------------- sentences


def test_segment_respects_abbreviations_numbers_and_list_items():
    text = cleaned(PLAN_2026)
    shown = [plain(text[s.start:s.end]) for s in segment(text)]
    egil = ("Ca 50 kommuner (inkl. några kommunalförbund) är idag i någon form med på samverkan "
            "runt Egil.")
    assert egil in shown
    assert "Generisk AI-plattform, t.ex Eneo som Sundsvalls kommun finansierat." in shown
    assert any(s.startswith("Systemkatalogen Samsyn – Under ca ett års tid") for s in shown)
    report = cleaned(REPORT_2011)
    assert any(s.startswith("Den nya grafiska layouten, med bl. a ny logotyp") and s.endswith("verksamhet.")
               for s in (plain(report[s.start:s.end]) for s in segment(report)))
    slides = cleaned(SLIDES_2026)
    kinds = {plain(slides[s.start:s.end]): s.kind for s in segment(slides)}
    assert kinds["Utvecklarnätverk"] == "item" and kinds["Möjliga nya nätverk?"] == "heading"
    box = next(t for t, k in kinds.items() if k == "fragment" and t.startswith("152 kommuner"))
    assert "7,5 miljoner invånare" in box


# ---------------------------------------------------------------------------------------- grounding


def test_finalize_normalises_renumbers_and_drops_unknown_markers(members):
    text = ("Sambruk har 152 kommuner som medlemmar [3]. År 2021 var de 109 [2, 3], "
            "år 2011 95 medlemmar [^1] och snart fler [9].")
    assert has_unresolved_markers(text, len(members)) and not has_unresolved_markers("a [1][3]", 3)
    final, citations = finalize(text, members)
    assert final == ("Sambruk har 152 kommuner som medlemmar [1]. År 2021 var de 109 [2][1], "
                     "år 2011 95 medlemmar [3] och snart fler.")
    assert [c.n for c in citations] == [1, 2, 3]
    assert [c.doc_id for c in citations] == [members[2].doc_id, members[1].doc_id, members[0].doc_id]
    assert "109" in citations[1].quote and "95" in citations[2].quote
    for citation in citations:
        document = cleaned(citation.file)
        assert document[citation.start:citation.end] == citation.quote


def test_finalize_accepts_parenthesised_markers_only_when_they_resolve(members):
    final, citations = finalize("Sambruk hade 95 medlemmar år 2011 (1) och 152 kommuner (2026).", members)
    assert final == "Sambruk hade 95 medlemmar år 2011 [1] och 152 kommuner (2026)."
    assert len(citations) == 1 and citations[0].doc_id == members[0].doc_id


def test_extractive_quotes_are_exactly_the_extracted_sentences(members, school):
    for question, language in (("Hur många medlemmar har Sambruk i dag?", "sv"),
                               ("How many members does Sambruk have today?", "en")):
        final, citations = finalize(backend.answer(question, members, language=language), members)
        assert sorted(set(markers(final))) == [c.n for c in citations]
        for citation in citations:
            assert cleaned(citation.file)[citation.start:citation.end] == citation.quote
            assert plain(citation.quote) in final


def test_list_items_are_quoted_with_their_section_opening(school):
    final, citations = finalize(backend.answer("Vilka tjänster erbjuder Sambruk för skolan?", school,
                                               language="sv"), school)
    assert [c.n for c in citations] == [1, 2]
    for citation in citations:
        assert cleaned(citation.file)[citation.start:citation.end] == citation.quote
        assert re.match(r"(5\.6\.1 )?EGIL\b", citation.quote, re.IGNORECASE)
        assert "Egil är" in citation.quote or "EGIL är" in citation.quote


def test_related_sources_quote_whole_sentences_of_distinct_sections(members):
    related = related_sources(members + members[:1], k=3)
    assert [r.n for r in related] == [1, 2, 3] and len({(r.doc_id, r.section) for r in related}) == 3
    for r in related:
        assert 0 < len(r.quote) <= 200
        assert cleaned(r.file)[r.start:r.end] == r.quote


def test_how_question_gets_the_steps_under_the_best_heading_not_an_agenda():
    slides = [
        passage(SLIDES_2026, "## Ny samverkan?", "## Internupphandlingsundantaget", "Ny samverkan?"),
        passage(SLIDES_2026, "Agenda", "# Föreningen Sambruk - nuläge", "Agenda"),
    ]
    text = backend.answer("Hur går man till väga för att starta en ny samverkan i Sambruk?", slides,
                          language="sv")
    intro, *lines = text.splitlines()
    assert intro.startswith("Enligt Informationsträff")
    assert lines[0] == "- Idé eller befintlig lösning [1]"
    assert lines[-1] == "- Sondera, skaka hand, besluta och kör! [1]"
    assert "Att starta en ny samverkan" not in text  # the agenda item restates the question: no step


def test_question_across_years_takes_a_sentence_from_each_document():
    organisation = [
        passage(REPORT_2021, "4 Föreningens organisation", "Gävle.", "4 Föreningens organisation"),
        passage(REPORT_2011, "6 Föreningens organisation", "Gävle.", "6 Föreningens organisation"),
        passage(REPORT_2011, "1 SAMMANFATTNING", "2 ", "1 SAMMANFATTNING"),
    ]
    text = backend.answer("Who was Sambruk's chief executive officer in 2011 and who was it in 2021?",
                          organisation, language="en")
    assert "Ulf Timerdahl" in text and "Claes-Olof Olsson" in text
    for name, year in (("Ulf Timerdahl", "2021"), ("Claes-Olof Olsson", "2011")):
        line = next(line for line in text.splitlines() if name in line)
        assert line.startswith(f"According to Sambruk verksamhetsberättelse {year}:")


def test_change_between_years_quotes_the_figure_of_each_year():
    biblix = [
        passage(PLAN_2026, "Biblix för folkbiblioteken i Sverige\n", "diwise – en komplett", "Biblix"),
        passage(REPORT_2021, "Användande kommuner:", "Stockholm, Malmö", "5.4.1 Bibblix"),
    ]
    text = backend.answer("How has the number of municipalities connected to Biblix changed between the "
                          "2021 annual report and the 2026 business plan?", biblix, language="en")
    assert "55 kommuner" in text and "39 kommuner" in text
    assert set(markers(text)) == {1, 2}


def test_glossary_alternatives_are_either_or_in_an_english_follow_up():
    diwise = [passage(PLAN_2026, "diwise är sprunget", "Egil\n", "diwise – en komplett IoT-plattform")]
    text = "".join(backend.stream("Which municipalities have joined that collaboration?", diwise,
                                  language="en", history=[Message(role="user", content="What is diwise?")]))
    assert not is_refusal(text)  # "collaboration": "samverkan" or "samarbete", not both
    assert "Göteborg och senare Alingsås har anslutit till samverkan." in text


def test_how_question_without_steps_gets_more_sentences():
    pc = [passage(PLAN_2026, "MedborgarPC\n\nMedborgarPC är", "Mål för samverkanstjänsterna", "MedborgarPC")]
    text = backend.answer("How does a municipality turn an ordinary PC into a MedborgarPC for public use?",
                          pc, language="en")
    assert "görs enkelt om till en MedborgarPC" in text
    assert "Ubuntu-baserad klient" in text  # the step after the one that restates the question


def test_month_of_the_meeting_and_a_cue_verb_do_not_hide_the_listed_networks():
    networks = [passage(SLIDES_2026, "## Möjliga nya nätverk?", "\n9\n", "Möjliga nya nätverk?")]
    text = backend.answer("Vilka möjliga nya nätverk togs upp på informationsträffen för "
                          "medlemsrepresentanter i juni 2026?", networks, language="sv")
    assert not is_refusal(text)
    for network in ("Utvecklarnätverk", "Välfärdsbrottslighet", "IT Säkerhet", "Identitetshantering"):
        assert network in text


def test_a_question_word_the_documents_say_otherwise_still_finds_the_figure():
    provisum = [passage(PLAN_2026, "Provisum\n\nProvisum är", "Tillarbetslivet\n", "Provisum")]
    text = "".join(backend.stream("Hur många kommuner använder det?", provisum, language="sv",
                                  history=[Message(role="user", content="Vad är Provisum?")]))
    assert not is_refusal(text)  # "använder": the plan says "samverkar 44 kommuner kring tjänsten"
    assert "44 kommuner" in text


def test_refusal_is_recognised_in_either_language():
    assert is_refusal(REFUSAL["sv"]) and is_refusal(REFUSAL["en"])
    assert is_refusal("Det framgår inte av underlaget.") and is_refusal(" The documents do not say [1].")
    assert not is_refusal("Sambruk har 158 medlemmar [1].")


# ---------------------------------------------------------------------------------------- drafts


def test_draft_is_a_formal_reply_with_the_answer_and_its_sources(members):
    paged = [members[0].model_copy(update={"page": 4}), *members[1:]]  # a PDF page for the 2011 report
    answer, citations = finalize(backend.answer("Hur många medlemmar har Sambruk i dag?", paged,
                                                language="sv"), paged)
    draft = draft_reply("Hur många medlemmar har Sambruk i dag?", answer, citations, refused=False)
    assert draft.startswith("Hej,\n\nTack för din fråga")
    assert answer in draft and "Med vänliga hälsningar,\nFöreningen Sambruk" in draft
    assert draft.index(answer) < draft.index("Med vänliga hälsningar") < draft.index("Källor:")
    sources = draft.split("Källor:\n", 1)[1].splitlines()
    assert sources == [
        "[1] Informationsträff för formella medlemsrepresentanter i Sambruk, 2026-06-15, "
        "Föreningen Sambruk - nuläge (2026-06-15)",
        "[2] Sambruk verksamhetsberättelse 2021, 3 Föreningens medlemmar (2021)",
        "[3] Sambruk verksamhetsberättelse 2011, 5 Föreningens medlemmar, s. 4 (2011)",
    ]


def test_refused_draft_forwards_the_question_and_states_no_facts():
    draft = draft_reply("Vad kostar Inclubit?", REFUSAL["sv"], [], refused=True)
    assert draft.startswith("Hej,") and "vidare" in draft and "Källor" not in draft
    assert not re.search(r"\d", draft)


def test_numbers_an_llm_did_not_read_are_caught(members):
    from assistant.answering.grounding import has_unsupported_numbers

    assert not has_unsupported_numbers("Sambruk har 152 kommuner som medlemmar [1].", members)
    assert has_unsupported_numbers("Sambruk har 731 kommuner som medlemmar [1].", members)
    assert not has_unsupported_numbers("Se källa [2] och [3].", members)  # markers are not figures
