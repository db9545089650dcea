"""The chat in a real browser: Debian's Chromium driven by Playwright against a live server on 127.0.0.1.

Logs in, asks a starter question against the real index, opens a source chip and sees the cited
passage highlighted, gives thumbs-up feedback with a comment (checked in the SQLite file), reopens
the conversation from the history, and saves docs/screenshot-chat.png for the README.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

import ui.mount  # first: points Chainlit at ui/ before anything imports it
from conftest import ROOT
from eval.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
USER, PASSWORD = "sambruk", "sambruk"
STARTER = "Vilka tjänster erbjuder Sambruk för skolor?"
SCREENSHOT = ROOT / "docs" / "screenshot-chat.png"


@pytest.fixture(scope="module")
def chat_server(gemma_settings, assistant, tmp_path_factory):
    from assistant.api import create_app

    # Its own data folder: a fresh chainlit.db (history, feedback) and auth secret per run.
    settings = gemma_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("chat-data")})
    app = create_app(settings, assistant)
    ui.mount.mount_ui(app, settings, assistant, users={USER: PASSWORD})
    with LiveServer(app) as live:
        yield live, settings.data_dir / "chainlit.db"


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


def test_ask_open_source_give_feedback_and_reopen(chat_server):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (scripts/test.sh does it as root)")
    from playwright.sync_api import expect, sync_playwright

    live, db = chat_server
    comment = f"Tydligt svar med källa ({uuid.uuid4().hex[:8]})"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="sv-SE")
            page.set_default_timeout(30_000)
            page.goto(f"{live.url}/chat/")

            # Swedish login page; the default internal user.
            expect(page.get_by_text("Logga in för att använda Sambruk Assistent")).to_be_visible()
            page.fill("#email", USER)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Logga in").click()

            # Swedish welcome text and starters; ask the first starter.
            expect(page.get_by_text("Välkommen till Sambruk Assistent!")).to_be_visible()
            page.locator("#starters button", has_text=STARTER).click()

            # The answer arrives with source chips ("Källa n"), its [n] markers replaced.
            chip = page.locator("a.element-link", has_text=re.compile(r"Källa \d+", re.I)).first
            chip.wait_for(timeout=90_000)
            assert not re.search(r"\[\d{1,2}\]", page.locator("body").inner_text())
            chip_name = chip.text_content().strip()
            # Chainlit would open every source of the conversation in the side panel by itself;
            # ui/public/sambruk.js closes that, so a panel opens only for the chip the user clicks.
            expect(page.locator("#side-view-title")).to_have_count(0)

            # The chip opens the source in the side panel, the cited passage highlighted in its context.
            chip.click()
            side = page.locator("#side-view-content")
            expect(page.locator("#side-view-title")).to_contain_text(chip_name, ignore_case=True)
            expect(side.locator("h3")).to_be_visible()
            expect(side).to_contain_text("Typ:")
            expect(side).to_contain_text("Avsnitt:")
            mark = side.locator(".side-text span.font-bold").first
            expect(mark).to_be_visible()
            assert len(mark.inner_text().strip()) > 10
            background = mark.evaluate("e => getComputedStyle(e).backgroundColor")
            assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background  # highlighted by our CSS
            expect(side.get_by_role("link", name=re.compile("Öppna"))).to_have_attribute(
                "href", re.compile(r"^/v1/documents/[^/]+/file"))
            page.wait_for_timeout(700)  # let the side panel finish sliding in
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))

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
            chip = page.locator("a.element-link", has_text=re.compile(r"Källa \d+", re.I)).first
            expect(chip).to_be_visible()
            expect(page.locator(".positive-feedback-on").last).to_be_visible()
            chip.click()
            expect(page.locator("#side-view-content .side-text span.font-bold").first).to_be_visible()
        finally:
            browser.close()
