"""The chat in a real browser: Debian's Chromium driven by Playwright against a live server on 127.0.0.1.

Desktop: logs in, asks a starter question against the real index (no raw ``[n]`` marker shows while it
streams), opens a source chip and sees the cited passage highlighted, gives thumbs-up feedback with a
comment (checked in the SQLite file), and reopens the conversation from the history.
Login page: its image loads and nothing on it is English.
Phone (390x844, touch): no source panel opens by itself and the question field stays usable, the
draft mode shows beside the question field and reaches the server, addresses from the documents are
text, a chip opens one source whose long title wraps, and no tooltip stays after a tap.
Every page is checked for the English of Chainlit's own interface, read from its bundle at test time.
The README's screenshots are taken by ``python -m eval.screenshots`` with the same helpers.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from functools import cache
from pathlib import Path

import pytest
from test_ui import _leaves

import ui.mount  # first: points Chainlit at ui/ before anything imports it
from eval.live_server import LiveServer
from eval.screenshots import CHIP, DESKTOP, PHONE, REPLY, STARTER, ask, choose_mode, launch, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USER, PASSWORD = "sambruk", "sambruk"
# Its answer quotes an address from the 2026 plan (https://support.sambruk.se).
ADDRESS_QUESTION = "Var finns Sambruks samverkansplattform och supportsystem?"


@pytest.fixture(scope="module")
def chat_server(gemma_settings, assistant, tmp_path_factory):
    from assistant.api import create_app

    # Its own data folder: a fresh chainlit.db (history, feedback) and auth secret per run.
    settings = gemma_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("chat-data")})
    app = create_app(settings, assistant)
    ui.mount.mount_ui(app, settings, assistant, users={USER: PASSWORD})
    with LiveServer(app) as live:
        yield live, settings.data_dir / "chainlit.db"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            chromium = launch(p)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield chromium
        chromium.close()


def _rows(db: Path, query: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(query, params).fetchall()


def _wait_for_rows(db: Path, query: str, params: tuple = (), timeout: float = 10.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(db, query, params)
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


# -- the English of Chainlit's own interface ------------------------------------------------------------
# Where the bundle hard-codes English instead of taking a translation key.
_HARD_CODED = [
    r'className:"sr-only",children:"([^"]+)"', r'"aria-label":"([^"]+)"', r'\balt:"([^"]+)"',
    r'\btitle:"([^"]+)"', r'\bplaceholder:"([^"]+)"', r'\bchildren:"([A-Z][^"]{2,})"',
    r'\.(?:error|success|info|warning)\("([^"]+)"', r'\b(?:loading|success):"([A-Z][^"]+)"',
]
_HARD_CODED_TEMPLATE = r'(?:\balt|\btitle|\bplaceholder|"aria-label"):`([^`$]+)\$\{'


@cache
def english_ui_strings() -> tuple[frozenset[str], tuple[str, ...]]:
    """(whole texts, text beginnings) of Chainlit's interface in English.

    The en-US translation's texts that our sv-SE.json says differently, and the texts the bundle
    hard-codes (screen-reader labels, alt texts, tooltips, toasts).
    """
    import chainlit

    package = Path(chainlit.__file__).parent
    english = _leaves(json.loads((package / "translations" / "en-US.json").read_text(encoding="utf-8")))
    swedish = _leaves(json.loads((ui.mount.UI_DIR / ".chainlit" / "translations" / "sv-SE.json")
                                  .read_text(encoding="utf-8")))
    whole = {text for key, text in english.items() if swedish.get(key) != text and "{{" not in text}
    starts = {text.split("{{")[0] for key, text in english.items() if "{{" in text and swedish.get(key) != text}
    bundle = "\n".join(path.read_text(encoding="utf-8") for path in (package / "frontend" / "dist" / "assets")
                       .glob("index-*.js"))
    for pattern in _HARD_CODED:
        whole |= set(re.findall(pattern, bundle))
    starts |= set(re.findall(_HARD_CODED_TEMPLATE, bundle))
    whole = {text.strip() for text in whole if re.search(r"[A-Za-z]{2}", text)} - set(swedish.values())
    return frozenset(whole), tuple(sorted(start for start in starts if len(start.strip()) > 3))


_PAGE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent && parent.closest('script, style, noscript')) continue;
    const text = walker.currentNode.nodeValue.trim();
    if (text) out.push(text);
  }
  for (const element of document.querySelectorAll('[aria-label], [title], [alt], [placeholder]'))
    for (const name of ['aria-label', 'title', 'alt', 'placeholder'])
      if (element.getAttribute(name)) out.push(element.getAttribute(name).trim());
  return out;
}"""


def english_left(page) -> list[str]:
    """Texts of the page, visible or read aloud (sr-only text, aria-label, title, alt), still in English."""
    whole, starts = english_ui_strings()
    return sorted({text for text in page.evaluate(_PAGE_TEXTS) if text in whole or text.startswith(starts)})


def test_the_english_list_comes_from_the_bundle():
    whole, starts = english_ui_strings()
    # The strings issue 11 found on screen: if the bundle's format changed, this list would be empty.
    assert {"Toggle Sidebar", "Toggle theme", "Close", "Image", "Loading..."} <= whole
    assert "Avatar for " in starts
    assert "Skicka" not in whole and "Info" not in whole  # Swedish or the same in both


# -- pages -------------------------------------------------------------------------------------------------
def test_login_page_shows_its_image_and_no_english(chat_server, browser):
    from playwright.sync_api import expect

    live, _ = chat_server
    page = browser.new_context(**DESKTOP).new_page()
    page.goto(f"{live.url}/chat/")
    expect(page.get_by_text("Logga in för att använda Sambruk Assistent")).to_be_visible()
    image = page.locator("img[src$='login.svg']")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.get_attribute("alt") != "Image"
    assert english_left(page) == []


def test_ask_open_source_give_feedback_and_reopen(chat_server, browser, assistant):
    from playwright.sync_api import expect

    from ui.chat import BACKEND_LABELS

    live, db = chat_server
    comment = f"Tydligt svar med källa ({uuid.uuid4().hex[:8]})"
    page = browser.new_context(**DESKTOP).new_page()
    page.set_default_timeout(30_000)
    log_in(page, live.url, USER, PASSWORD)
    assert english_left(page) == []

    # Every state of the reply while it streams, to catch a raw [n] before it becomes a chip.
    page.evaluate("""() => {
      window.rawMarkers = [];
      new MutationObserver(() => {
        for (const m of document.querySelectorAll('.message-content'))
          if (/\\[\\d+/.test(m.innerText)) window.rawMarkers.push(m.innerText);
      }).observe(document.body, {childList: true, subtree: true, characterData: true});
    }""")
    page.evaluate(_WATCH_PANEL)
    page.locator("#starters button", has_text=STARTER).click()

    # The answer arrives with source chips ("Källa n"), its [n] markers replaced, each source once per run.
    chip = page.locator(CHIP, has_text=re.compile(r"Källa \d+", re.IGNORECASE)).first
    chip.wait_for(timeout=90_000)
    assert page.evaluate("window.rawMarkers") == []
    assert not re.search(r"\[\d{1,2}\]", page.locator("body").inner_text())
    chip_name = chip.text_content().strip()
    # Chainlit would open every source of the conversation in the side panel by itself;
    # ui/public/sambruk.js closes that, so a panel opens only for the chip the user clicks.
    page.wait_for_timeout(1000)
    expect(page.locator("#side-view-title")).to_have_count(0)
    assert page.evaluate(_PANEL_FRAMES) == 0

    # The chip opens the source in the side panel, the cited passage highlighted in its context.
    chip.click()
    side = page.locator("#side-view-content")
    expect(page.locator("#side-view-title")).to_contain_text(chip_name, ignore_case=True)
    expect(side.locator("h3")).to_have_count(1)  # one source, not every source of the conversation
    expect(side).to_contain_text("Typ:")
    expect(side).to_contain_text("Avsnitt:")
    mark = side.locator(".side-text span.font-bold").first
    expect(mark).to_be_visible()
    assert len(mark.inner_text().strip()) > 10
    background = mark.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background  # highlighted by our CSS
    expect(side.get_by_role("link", name=re.compile("Öppna"))).to_have_attribute(
        "href", re.compile(r"^/v1/documents/[^/]+/file"))
    assert english_left(page) == []

    # The settings dialog: Swedish, the backend first, only reachable backends.
    checks = assistant.readiness()
    unreachable = {BACKEND_LABELS[name] for name in assistant.backends if checks.get(f"llm_{name}", "ok") != "ok"}
    page.locator("#chat-settings-open-modal").click()
    dialog = page.locator("#chat-settings")
    expect(dialog.locator("label").first).to_have_text("Svarsmotor")
    assert english_left(page) == []
    for label in unreachable:
        expect(dialog).to_contain_text("inte går att nå: ")
        expect(dialog).to_contain_text(label)
    dialog.locator("#backend").click()
    offered = set(page.get_by_role("option").all_inner_texts())
    assert BACKEND_LABELS["extractive"] in offered and not offered & unreachable, offered
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # Thumbs up with a comment.
    page.locator(".positive-feedback-off").last.click()
    page.get_by_placeholder("Din återkoppling...").fill(comment)
    page.locator("#submit-feedback").click()
    expect(page.locator(".positive-feedback-on").last).to_be_visible()

    # Persisted: the feedback row. Chainlit attaches it to the run step of the turn (on_message),
    # whose child is the assistant message, in this user's thread.
    rows = _wait_for_rows(db, """
        SELECT f."value", a."type", t."userIdentifier" FROM feedbacks f
        JOIN steps s ON s."id" = f."forId"
        JOIN steps a ON (a."id" = s."id" OR a."parentId" = s."id") AND a."type" = 'assistant_message'
        JOIN threads t ON t."id" = s."threadId"
        WHERE f."comment" = ?""", (comment,))
    assert rows == [(1, "assistant_message", USER)]

    # History: a fresh page lists the conversation; reopening it shows the answer, its chips and
    # the feedback, and the source still opens (its passage is stored in the database).
    page.goto(f"{live.url}/chat/")
    page.locator("a[href*='/thread/']", has_text="Vilka tjänster").first.click()
    chip = page.locator(CHIP, has_text=re.compile(r"Källa \d+", re.IGNORECASE)).first
    expect(chip).to_be_visible()
    expect(page.locator(".positive-feedback-on").last).to_be_visible()
    page.wait_for_timeout(1000)
    expect(page.locator("#side-view-title")).to_have_count(0)  # not opened by itself on resume either
    chip.click()
    expect(page.locator("#side-view-content .side-text span.font-bold").first).to_be_visible()
    assert english_left(page) == []


# Counts the frames in which a source panel is shown: one that Chainlit opens by itself may be
# closed again by Radix when focus returns to the question field, so "not open now" is not enough.
_WATCH_PANEL = """() => {
  window.panelFrames = 0;
  const tick = () => {
    const title = document.getElementById('side-view-title');
    if (title && title.getBoundingClientRect().width > 0) window.panelFrames++;
    window.panelWatch = requestAnimationFrame(tick);
  };
  tick();
}"""
_PANEL_FRAMES = "() => { cancelAnimationFrame(window.panelWatch); return window.panelFrames; }"


def _covering_element_is(page, selector: str) -> bool:
    """Whether the element at the centre of ``selector`` is that element (or inside it): nothing covers it."""
    return page.locator(selector).evaluate("""e => {
      const r = e.getBoundingClientRect();
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return r.bottom <= window.innerHeight && !!top && (top === e || e.contains(top));
    }""")


def test_phone_source_panel_draft_mode_and_links(chat_server, browser):
    from playwright.sync_api import expect

    live, db = chat_server
    page = browser.new_context(**PHONE).new_page()
    page.set_default_timeout(30_000)
    log_in(page, live.url, USER, PASSWORD)
    assert english_left(page) == []

    # Draft mode is picked beside the question field and stays visible there.
    choose_mode(page, "Utkast till svar")
    expect(page.locator("[id^='mode-picker-trigger-']")).to_have_text("Utkast till svar")
    assert _covering_element_is(page, "[id^='mode-picker-trigger-']")

    page.evaluate(_WATCH_PANEL)
    reply = ask(page, ADDRESS_QUESTION)
    # No sheet opens by itself over the chat, not even for a moment; the question field stays usable.
    page.wait_for_timeout(2000)
    expect(page.locator("#side-view-title")).to_have_count(0)
    assert page.evaluate(_PANEL_FRAMES) == 0
    assert _covering_element_is(page, "#chat-input")
    page.locator("#chat-input").fill("Nästa fråga")
    assert page.locator("#chat-input").evaluate("e => e.value ?? e.textContent") == "Nästa fråga"
    expect(page.locator("[id^='mode-picker-trigger-']")).to_have_text("Utkast till svar")

    # The draft mode reached the server: the stored reply was answered in draft mode.
    step_id = reply.locator("[id^='step-']").first.get_attribute("id").removeprefix("step-")
    modes = _wait_for_rows(db, """SELECT json_extract(s."metadata", '$.mode') FROM steps s
                                  WHERE s."id" = ? AND s."type" = 'assistant_message'""", (step_id,))
    assert modes == [("draft",)], modes

    # The document's address is shown as text: the only links in the reply are its source chips.
    expect(reply).to_contain_text("sambruk.se")
    for link in reply.locator("a").all():
        assert "element-link" in (link.get_attribute("class") or ""), link.evaluate("e => e.outerHTML")
    assert english_left(page) == []

    # A tap on a chip opens that one source; its long title wraps inside the sheet; Stäng closes it.
    chip = reply.locator(CHIP).first
    chip_name = chip.text_content().strip()
    chip.tap()
    title = page.locator("#side-view-title")
    expect(title).to_have_text(re.compile(chip_name, re.IGNORECASE))
    side = page.locator("#side-view-content")
    expect(side.locator("h3")).to_have_count(1)
    assert side.locator("h3").evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    for link in side.locator("a").all():
        assert (link.get_attribute("href") or "").startswith("/v1/documents/"), link.evaluate("e => e.outerHTML")
    assert english_left(page) == []
    page.get_by_role("button", name="Stäng").tap()
    expect(title).to_have_count(0)
    assert _covering_element_is(page, "#chat-input")

    # No tooltip stays after a tap on the sidebar button: Radix opens it on the tap and, with no hover
    # to end, it stayed over the opened sidebar ("Stäng sidopanelen").
    tooltips = page.locator("[data-radix-popper-content-wrapper]:has([role='tooltip'])")
    page.locator("#sidebar-trigger-button").tap()
    expect(page.locator("[data-sidebar='sidebar'][data-mobile='true']")).to_be_visible()
    page.wait_for_timeout(800)
    assert not [tip.inner_text() for tip in tooltips.all() if tip.is_visible()]
    assert english_left(page) == []
    page.touchscreen.tap(370, 420)
    expect(page.locator("[data-sidebar='sidebar'][data-mobile='true']")).to_have_count(0)
    page.wait_for_timeout(800)
    assert not [tip.inner_text() for tip in tooltips.all() if tip.is_visible()]
    assert page.locator(REPLY).count() == 1
