"""The README's screenshots of the chat, desktop and phone, taken in Debian's Chromium against a live server.

    .venv/bin/python -m eval.screenshots [--out docs]

Writes ``screenshot-chat.png`` (1440x900: an answer with its source open in the side panel) and
``screenshot-phone.png`` (390x844, touch: a draft answer, the mode beside the question field). It
serves the configured index (``Settings()``: ``data/qdrant`` unless configured otherwise; stop a
running server first, the embedded Qdrant is one process's) on 127.0.0.1 with a throwaway chat
database and login. tests/test_ui_browser.py drives the chat with the same helpers.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import ui.mount  # first: points Chainlit at ui/ before anything imports it

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}, "locale": "sv-SE"}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "locale": "sv-SE", "is_mobile": True,
                         "has_touch": True, "device_scale_factor": 2}
STARTER = "Vilka tjänster erbjuder Sambruk för skolor?"
CHIP = "a.element-link"
REPLY = ".step[data-step-type='assistant_message']"
ANSWER_TIMEOUT_MS = 90_000


def launch(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} missing: apt-get install -y chromium (scripts/test.sh does it as root)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


def log_in(page: Any, base_url: str, user: str, password: str) -> None:
    """Open the chat and log in; returns on the welcome screen."""
    page.goto(f"{base_url}/chat/")
    page.fill("#email", user)
    page.fill("#password", password)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_text("Välkommen till Sambruk Assistent!").wait_for()


def choose_mode(page: Any, name: str) -> None:
    """Pick the answer mode ("Svar", "Utkast till svar") in the picker beside the question field."""
    page.locator("[id^='mode-picker-trigger-']").click()
    page.locator("[id^='mode-picker-popover-']").get_by_text(name, exact=True).click()


def ask(page: Any, question: str) -> Any:
    """Send a question from the question field; returns the reply's locator once its chips are there."""
    earlier = page.locator(REPLY).count()
    page.locator("#chat-input").fill(question)
    page.locator("#chat-submit").click()
    reply = page.locator(REPLY).nth(earlier)
    reply.locator(CHIP).first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return reply


def take(base_url: str, user: str, password: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    desktop, phone = out / "screenshot-chat.png", out / "screenshot-phone.png"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_context(**DESKTOP).new_page()
            log_in(page, base_url, user, password)
            page.locator("#starters button", has_text=STARTER).click()
            page.locator(CHIP).first.wait_for(timeout=ANSWER_TIMEOUT_MS)
            page.locator(CHIP).first.click()
            page.locator("#side-view-content h3").wait_for()
            page.wait_for_timeout(700)  # the side panel slides in
            page.screenshot(path=str(desktop))

            page = browser.new_context(**PHONE).new_page()
            log_in(page, base_url, user, password)
            choose_mode(page, "Utkast till svar")
            ask(page, STARTER)
            page.wait_for_timeout(500)
            page.screenshot(path=str(phone))
        finally:
            browser.close()
    return [desktop, phone]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the two PNG files")
    args = parser.parse_args(argv)

    from assistant.api import create_app
    from assistant.service import build_assistant
    from assistant.settings import Settings
    from eval.live_server import LiveServer

    settings = Settings()
    assistant = build_assistant(settings)
    if not assistant.store.exists():
        print("no index: run `python -m ingest` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="sambruk-screenshots-") as chat_data:
        ui_settings = settings.model_copy(update={"data_dir": Path(chat_data)})
        app = create_app(ui_settings, assistant)
        password = secrets.token_urlsafe(12)
        ui.mount.mount_ui(app, ui_settings, assistant, users={"sambruk": password})
        with LiveServer(app) as live:
            for path in take(live.url, "sambruk", password, args.out):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
