"""The chat UI without a browser: answer rendering, chat turns, the SQLite data layer, config and locale."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import stat
import tomllib
import uuid
from pathlib import Path

import pytest

import ui.mount  # first: points Chainlit at ui/ before anything imports it
from assistant.schemas import Answer, Citation, Message
from ui.chat import (
    MSG_EMPTY,
    build_request,
    check_request,
    history_from_steps,
)
from ui.quotes import lay_out_quotes
from ui.render import (
    DEGRADED_NOTE,
    MarkerStream,
    escape_markdown,
    file_url,
    highlight,
    link_citations,
    render_answer,
    source_markdown,
    strip_markers,
    unlink,
)

UI_DIR = Path(ui.mount.__file__).resolve().parent


def citation(n: int, *, file: str = "sambruk-verksamhetsberattelse-2021.txt", page: int | None = None,
             quote: str = "Sambruk erbjuder e-tjänster för skolan.") -> Citation:
    return Citation(n=n, doc_id=f"doc-{n}", file=file, title="Sambruk verksamhetsberättelse 2021",
                    doc_type="verksamhetsberättelse", date="2021", section="5 Skola > 5.6 Digitala verktyg",
                    page=page, quote=quote, score=0.5, start=100, end=100 + len(quote))


# -- rendering --------------------------------------------------------------------------------------
def test_markers_become_chip_names():
    assert link_citations("Skolpeng finns [1]. Och mer [2].", {1, 2}) == \
        "Skolpeng finns Källa 1. Och mer Källa 2."
    assert link_citations("Två källor [1][2] och [2].", {1, 2}) == \
        "Två källor Källa 1, Källa 2 och Källa 2."
    assert link_citations("Tätt[1].", {1}) == "Tätt Källa 1."
    # A marker without a source is dropped, not shown as a dead chip.
    assert link_citations("Påstående [7].", {1}) == "Påstående."
    assert link_citations("Claim [1].", {1}, language="en") == "Claim Source 1."
    assert strip_markers("Påstående [1][2]. Till [3].") == "Påstående. Till."


def test_one_chip_per_run_of_claims_from_the_same_source():
    """Nine list items from one slide showed nine identical "KÄLLA 1" chips (issue 11)."""
    items = "\n".join(f"- Steg {i} [1]" for i in range(1, 10))
    linked = link_citations(f"Enligt bildspelet:\n{items}", {1})
    assert linked.count("Källa 1") == 1 and linked.endswith("- Steg 9 Källa 1")
    assert "- Steg 1\n" in linked  # no stray space where a marker went
    # Another source in between, or a new paragraph, shows the chip again: each claim keeps a source.
    assert link_citations("A [1]. B [1]. C [2]. D [1].", {1, 2}) == "A. B Källa 1. C Källa 2. D Källa 1."
    assert link_citations("A [1].\n\nB [1].", {1}) == "A Källa 1.\n\nB Källa 1."


def test_streamed_text_never_shows_a_raw_marker():
    stream = MarkerStream()
    tokens = ["Sambruk har ", "158 medlemmar [", "2", "]. Skolor [1", ", 3] och ", "[x] annat [2"]
    shown = "".join(stream.feed(token) for token in tokens)
    assert shown == "Sambruk har 158 medlemmar. Skolor och [x] annat"
    assert not re.search(r"\[\d", shown)


def test_links_in_answers_and_sources_are_text_with_their_real_address():
    """GFM links bare addresses by itself; set as code they stay text (tests/test_ui_browser.py checks the DOM)."""
    text = unlink("Se [sambruk.se](http://phish.example/login) eller <https://sambruk.se/kontakt>.")
    assert text == "Se sambruk.se (`http://phish.example/login`) eller `https://sambruk.se/kontakt`."
    assert unlink("www.sambruk.se, info@sambruk.se.") == "`www.sambruk.se`, `info@sambruk.se`."
    md = highlight("Kontakt: ", "info@sambruk.se (mailto:info@sambruk.se)", " eller https://sambruk.se/a_b")
    assert "`info@sambruk.se` \\(`mailto:info@sambruk.se`\\)" in md
    assert md.endswith("`https://sambruk.se/a_b`")  # no escapes inside code: the address reads as written


def test_quoted_table_rows_become_a_table_with_the_documents_header():
    before = ("Under verksamhetsåret har åtta kommuner antagits.\n\n"
              "Nya medlemmar 2021 | Anledning Utträde 2021 Anledning\nBoden | Provisum Kramfors, kostnad Kostnad\n")
    row = "Göteborg | EGIL (återinträde) Tre Stiftelser Kostnad"
    answer = Answer(text=f"{row} [1] Hedemora | EGIL, UKA [1]", citations=[citation(1, quote=row)],
                    backend="extractive", language="sv")
    rendered = render_answer(answer, lambda c: {"before": before, "quote": c.quote, "after": "", "page": None})
    assert rendered.text.split("\n") == [
        "| Nya medlemmar 2021 | Anledning Utträde 2021 Anledning |",
        "| --- | --- |",
        "| Göteborg | EGIL (återinträde) Tre Stiftelser Kostnad |",
        "| Hedemora | EGIL, UKA Källa 1 |",
    ]
    # The start of the table cut off the context: no header is invented, the rows become a list.
    cut = render_answer(answer, lambda c: {"before": "Boden | Provisum\n", "quote": c.quote, "after": ""})
    assert cut.text == "- Göteborg – EGIL (återinträde) Tre Stiftelser Kostnad\n- Hedemora – EGIL, UKA Källa 1"
    assert lay_out_quotes("Vanlig mening [1]. Inga celler.", {}) == "Vanlig mening [1]. Inga celler."


def test_rows_quoted_as_list_items_become_one_table_headed_by_the_first_row():
    header = "Nya medlemmar 2021 | Anledning"
    text = f"Enligt verksamhetsberättelsen:\n- {header} [1]\n- Boden | Provisum [1]\n- Kalix | Bibblix [1]\nSlut."
    cited = {1: (header, "Under året antogs åtta kommuner.\n\n")}  # the table starts with the cited row
    assert lay_out_quotes(text, cited) == (
        "Enligt verksamhetsberättelsen:\n\n| Nya medlemmar 2021 | Anledning [1] |\n| --- | --- |\n"
        "| Boden | Provisum [1] |\n| Kalix | Bibblix [1] |\n\nSlut.")


def test_rows_whose_figures_the_answer_told_apart_are_listed_after_their_lead_in():
    """The document writes "Piteå 74 000 53 000 145 200", the answer "Piteå | 74 000 | 53 000 | 145 200":
    the lead-in stays prose, and the document row over it ("Pajala ...") is no table header."""
    text = ("Enligt Protokoll 2022: Piteå | 74 000 | 53 000 | 145 200 [1] "
            "Luleå | 149 600 | 97 000 | 230 400 [1]"
            "\nGrundplattformen 1 208 400 kr för 2023. [1]")
    cited = {1: ("Piteå 74 000 53 000 145 200", "Gemensamma tjänster 2023\nPajala 40 600 8 000 57 600\n")}
    assert lay_out_quotes(text, cited) == (
        "Enligt Protokoll 2022:\n\n- Piteå – 74 000 – 53 000 – 145 200 [1]\n"
        "- Luleå – 149 600 – 97 000 – 230 400 [1]"
        "\n\nGrundplattformen 1 208 400 kr för 2023. [1]")


def test_quoted_slide_text_is_set_in_quotation_marks():
    slide = "152\n\nkommuner\n\n3 regioner • 5 förbund • 1 myndighet\n\n7,5 miljoner\n\ninvånare"
    flat = "152 kommuner 3 regioner • 5 förbund • 1 myndighet 7,5 miljoner invånare"
    text = f"Enligt Informationsträff 2026-06-15: {flat} [1]\nEnligt planen: Sambruk har 158 medlemmar. [2]"
    cited = {1: (slide, ""), 2: ("Sambruk har 158 medlemmar.", "")}
    assert lay_out_quotes(text, cited) == (
        f"Enligt Informationsträff 2026-06-15: ”{flat}” [1]\nEnligt planen: Sambruk har 158 medlemmar. [2]")


def test_passage_is_highlighted_in_its_context_and_corpus_text_is_escaped():
    md = highlight("före text *inte kursiv* ", "citerat [stycke]", " efter # text")
    assert "**citerat \\[stycke\\]**" in md
    assert "\\*inte kursiv\\*" in md
    assert "\\# text" in md
    # Bold cannot cross a paragraph break: each line of a multi-line quote is bolded on its own.
    assert highlight("", "rad ett\n\nrad två", "") == "**rad ett**\n\n**rad två**"
    assert escape_markdown("- punkt\n1. lista") == "\\- punkt\n1\\. lista"
    # Context cut out of a longer text starts and ends at word boundaries.
    assert highlight("rd före ", "citat", " efter me", cut_before=True, cut_after=True) == "… före **citat** efter …"


def test_source_panel_shows_metadata_passage_and_original_link():
    c = citation(1)
    md = source_markdown(c, {"before": "Inledning. ", "quote": c.quote, "after": " Slut.", "start": 11,
                             "section": c.section, "page": None})  # the document's first sentence precedes
    assert md.startswith("### Sambruk verksamhetsberättelse 2021")
    for expected in ("Typ: Verksamhetsberättelse", "Datum: 2021", "Avsnitt: 5 Skola › 5.6 Digitala verktyg",
                     "[Öppna originalfilen](/v1/documents/doc-1/file)", f"**{escape_markdown(c.quote)}**",
                     "Inledning"):
        assert expected in md
    pdf = citation(2, file="protokoll.pdf", page=4)
    assert file_url(pdf) == "/v1/documents/doc-2/file#page=4"
    md = source_markdown(pdf, None)
    assert "Sida: 4" in md and "(/v1/documents/doc-2/file#page=4)" in md
    assert f"**{escape_markdown(pdf.quote)}**" in md  # no context available: the quote alone


def test_rendered_answer_names_every_source_in_its_text():
    answer = Answer(text="Sambruk erbjuder Skolpeng [1]. Även elevhälsa [2].",
                    citations=[citation(1), citation(2)], backend="extractive", language="sv")
    looked_up = []

    def lookup(c: Citation) -> dict:
        looked_up.append(c.n)
        return {"before": "A ", "quote": c.quote, "after": " B", "section": c.section, "page": None}

    rendered = render_answer(answer, lookup)
    assert looked_up == [1, 2]
    assert [s.name for s in rendered.sources] == ["Källa 1", "Källa 2"]
    assert all(s.name in rendered.text for s in rendered.sources)  # a name in the text becomes a chip
    assert "[1]" not in rendered.text and DEGRADED_NOTE["sv"] not in rendered.text


def test_refusal_lists_related_sources_and_degraded_answer_says_so():
    refusal = Answer(text="Det framgår inte av Sambruks dokument.", refused=True, related=[citation(3)],
                     backend="extractive", language="sv")
    rendered = render_answer(refusal, lambda c: None)
    assert rendered.text.startswith("Det framgår inte")
    assert "Möjligen relaterade källor:** Källa 3" in rendered.text
    assert [s.name for s in rendered.sources] == ["Källa 3"]

    degraded = Answer(text="Svar [1].", citations=[citation(1)], backend="extractive", degraded=True,
                      language="sv")
    assert DEGRADED_NOTE["sv"] in render_answer(degraded, lambda c: None).text


# -- chat turns -------------------------------------------------------------------------------------
def test_request_from_settings_and_history():
    history = [Message(role="user", content="Vad är Sambruk?"), Message(role="assistant", content="En förening.")]
    request = build_request("Och skolor?", history, {
        "doc_types": ["protokoll", "okänd"], "year_from": "2020", "year_to": "alla", "backend": "openai",
    }, mode="draft")
    assert request.mode == "draft" and request.backend == "openai"
    assert request.filters.doc_types == ["protokoll"]
    assert (request.filters.year_from, request.filters.year_to) == (2020, None)
    assert request.history == history
    default = build_request("Fråga", [], None)
    assert (default.mode, default.backend, default.filters.doc_types) == ("answer", None, [])
    assert build_request("Fråga", [], None, mode="okänt").mode == "answer"


def test_requests_the_service_would_reject_get_swedish_messages():
    assert check_request(build_request("   ", [], {}), 2000) == MSG_EMPTY
    assert "för lång" in check_request(build_request("x" * 2001, [], {}), 2000)
    assert "bakvänt" in check_request(build_request("Fråga", [], {"year_from": "2024", "year_to": "2020"}), 2000)
    assert check_request(build_request("Fråga", [], {}), 2000) is None


def test_history_of_a_resumed_thread_skips_error_replies():
    steps = [
        {"type": "run", "output": ""},
        {"type": "user_message", "output": "Fråga ett", "metadata": {}},
        {"type": "assistant_message", "output": "Svar Källa 1.", "metadata": {"answer_text": "Svar [1]."}},
        {"type": "user_message", "output": "Fråga två", "metadata": {}},
        {"type": "assistant_message", "output": "Sökindexet är inte tillgängligt", "metadata": {"error": True}},
    ]
    assert history_from_steps(steps) == [
        Message(role="user", content="Fråga ett"), Message(role="assistant", content="Svar [1]."),
        Message(role="user", content="Fråga två"),
    ]


# -- mounting, login secret, config, locale -----------------------------------------------------------
def test_chainlit_reads_its_config_from_ui_whatever_the_cwd():
    import chainlit.config

    assert Path(chainlit.config.APP_ROOT).resolve() == UI_DIR
    assert chainlit.config.config.ui.name == "Sambruk Assistent"
    assert chainlit.config.config.ui.language == "sv-SE"
    assert chainlit.config.config.features.unsafe_allow_html is False


def test_users_and_generated_auth_secret(tmp_path):
    from assistant.settings import UISettings

    assert UISettings().users is None  # no default password: one is generated (tests/test_access.py)
    assert ui.mount.parse_users("") == {}
    assert ui.mount.parse_users("anna:hemligt, erik:lösen:med:kolon") == {"anna": "hemligt", "erik": "lösen:med:kolon"}
    with pytest.raises(ValueError):
        ui.mount.parse_users("utanlösen")
    first = ui.mount.auth_secret(tmp_path, environ={})
    path = tmp_path / ".chainlit_secret"
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ui.mount.auth_secret(tmp_path, environ={}) == first  # stable across restarts
    assert ui.mount.auth_secret(tmp_path, environ={"CHAINLIT_AUTH_SECRET": "från-miljön"}) == "från-miljön"


def _leaves(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out |= _leaves(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def test_swedish_translation_is_complete():
    import chainlit

    english = _leaves(json.loads((Path(chainlit.__file__).parent / "translations" / "en-US.json").read_text()))
    swedish = _leaves(json.loads((UI_DIR / ".chainlit" / "translations" / "sv-SE.json").read_text()))
    assert swedish.keys() == english.keys()
    assert all(value.strip() for value in swedish.values())
    unchanged = {k for k in english if english[k] == swedish[k]}
    assert unchanged <= {"alerts.info", "alerts.beta"}, unchanged  # words that are the same in Swedish
    assert "{{provider}}" in swedish["auth.provider.continue"]


def test_config_toml_is_offline_and_swedish():
    config = tomllib.loads((UI_DIR / ".chainlit" / "config.toml").read_text())
    assert config["UI"]["language"] == "sv-SE" and config["UI"]["name"] == "Sambruk Assistent"
    assert config["project"]["allow_origins"] == []
    theme = json.loads((UI_DIR / "public" / "theme.json").read_text())
    assert theme["custom_fonts"] == []  # replaces Chainlit's Google Fonts link


# -- SQLite data layer ------------------------------------------------------------------------------
def test_history_elements_and_feedback_survive_in_sqlite(tmp_path):
    import chainlit as cl
    from chainlit.types import Feedback
    from chainlit.user import User

    from ui.datalayer import SQLiteDataLayer
    from ui.db import create_schema, sqlalchemy_url

    db = tmp_path / "chainlit.db"
    create_schema(db)
    create_schema(db)  # idempotent at every start

    async def scenario() -> tuple[dict, list[dict]]:
        layer = SQLiteDataLayer(sqlalchemy_url(db))
        user = await layer.create_user(User(identifier="anna"))
        thread_id, question_id, answer_id = (str(uuid.uuid4()) for _ in range(3))
        await layer.update_thread(thread_id, name="Skolor", user_id=user.id, metadata={"chat_settings": {}},
                                  tags=["sambruk"])
        for step in (
            {"id": question_id, "threadId": thread_id, "type": "user_message", "name": "anna",
             "output": "Vilka tjänster finns för skolor?", "createdAt": "2026-01-01T10:00:00Z", "streaming": False,
             "metadata": {}},
            {"id": answer_id, "threadId": thread_id, "type": "assistant_message", "name": "Sambruk Assistent",
             "output": "Skolpeng Källa 1.", "createdAt": "2026-01-01T10:00:01Z", "streaming": False,
             "metadata": {"answer_text": "Skolpeng [1]."}, "tags": ["svar"]},
        ):
            await SQLiteDataLayer.create_step.__wrapped__(layer, step)
        element = cl.Text(name="Källa 1", content="### Titel\n\n**citat**", display="side",
                          thread_id=thread_id, for_id=answer_id, mime="text/plain")
        await SQLiteDataLayer.create_element.__wrapped__(layer, element)
        await layer.upsert_feedback(Feedback(forId=answer_id, threadId=thread_id, value=1, comment="Bra"))
        await layer.engine.dispose()

        # A new data layer (as after a restart) sees it all.
        reopened = SQLiteDataLayer(sqlalchemy_url(db))
        thread = await reopened.get_thread(thread_id)
        listed = await reopened.get_all_user_threads(user_id=user.id)
        await reopened.engine.dispose()
        return thread, listed

    thread, listed = asyncio.run(scenario())
    assert [t["id"] for t in listed] == [thread["id"]]
    assert thread["metadata"] == {"chat_settings": {}} and thread["tags"] == ["sambruk"]
    steps = {s["type"]: s for s in thread["steps"]}
    assert steps["assistant_message"]["metadata"]["answer_text"] == "Skolpeng [1]."
    assert steps["assistant_message"]["feedback"]["value"] == 1
    assert steps["assistant_message"]["feedback"]["comment"] == "Bra"
    [element] = thread["elements"]
    assert element["name"] == "Källa 1" and element["display"] == "side"
    header, payload = element["url"].split(",", 1)
    assert header.startswith("data:text/plain") and header.endswith(";base64")
    assert base64.b64decode(payload).decode("utf-8") == "### Titel\n\n**citat**"


def test_chainlit_root_is_ui_from_any_working_directory(tmp_path):
    import subprocess
    import sys

    code = "import ui.mount, chainlit.config as c; print(c.APP_ROOT)"
    env = {**os.environ, "PYTHONPATH": str(UI_DIR.parent)}
    env.pop("CHAINLIT_APP_ROOT", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip().splitlines()[-1] == str(UI_DIR)
    # Chainlit creates .chainlit/ and .files/ under its app root, never in the working directory.
    assert not (tmp_path / ".chainlit").exists() and not (tmp_path / ".files").exists()
