"""Mount the Chainlit chat inside the FastAPI app at /chat: one process, one port.

Chainlit 2.12 reads its configuration at import time from ``$CHAINLIT_APP_ROOT`` (default: the
working directory): ``.chainlit/config.toml``, ``.chainlit/translations/``, ``chainlit.md``,
``public/`` and the ``.files/`` upload folder. This module points it at ``ui/`` before Chainlit is
imported, so ``python -m ui`` uses ``ui/.chainlit/`` from any working directory.

Login: users come from ``settings.ui.users`` (env ``SAMBRUK_UI__USERS``, "name:password,name2:password2").
Unset, there is no default password: the single user ``sambruk`` gets one generated at first start into
``<data_dir>/chat_password`` (mode 0600) and printed then. An empty string turns login off (no chat
history then; feedback is still saved), which is refused while ``api.api_key`` protects the API: one
access rule for API and chat. A logged-in chat session also opens the API's reading routes (the chat
links to passages and original files). The JWT secret is ``CHAINLIT_AUTH_SECRET`` or, when unset, one
generated into ``<data_dir>/.chainlit_secret``. History and feedback live in ``<data_dir>/chainlit.db``.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

UI_DIR = Path(__file__).resolve().parent
APP_FILE = UI_DIR / "app.py"
CHAT_PATH = "/chat"
DEFAULT_USER = "sambruk"

if "chainlit.config" not in sys.modules:
    os.environ["CHAINLIT_APP_ROOT"] = str(UI_DIR)

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

    from assistant.service import Assistant
    from assistant.settings import Settings

logger = logging.getLogger(__name__)


def parse_users(spec: str) -> dict[str, str]:
    """``"anna:hemligt,erik:lösen"`` -> {"anna": "hemligt", "erik": "lösen"}; "" -> no login."""
    users: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, password = entry.partition(":")
        if not sep or not name.strip() or not password:
            raise ValueError(f"SAMBRUK_UI__USERS: expected 'name:password' entries separated by commas, got '{entry}'")
        users[name.strip()] = password
    return users


def resolve_users(settings: Settings) -> dict[str, str]:
    """The chat's users: ``settings.ui.users``, or ``sambruk`` with a generated password when unset."""
    if settings.ui.users is None:
        path = Path(settings.data_dir).resolve() / "chat_password"
        password, created = _stored_secret(path, 12)
        if created:
            print(f"Chat login: user '{DEFAULT_USER}', password '{password}' (generated into {path}; "
                  "set SAMBRUK_UI__USERS to choose users)", file=sys.stderr, flush=True)
        else:
            print(f"Chat login: user '{DEFAULT_USER}', password in {path}", file=sys.stderr, flush=True)
        return {DEFAULT_USER: password}
    return parse_users(settings.ui.users)


def auth_secret(data_dir: Path, environ: Mapping[str, str] = os.environ) -> str:
    """CHAINLIT_AUTH_SECRET, or a secret generated once into <data_dir>/.chainlit_secret."""
    if environ.get("CHAINLIT_AUTH_SECRET"):
        return environ["CHAINLIT_AUTH_SECRET"]
    return _stored_secret(data_dir / ".chainlit_secret", 48)[0]


def _stored_secret(path: Path, nbytes: int) -> tuple[str, bool]:
    """The secret kept in ``path``, or a new one written there (mode 0600); and whether it is new."""
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret, True


def _session_user(users: Mapping[str, str]):
    """The API's view of a chat login: the user of a request's valid session cookie, or None."""
    import jwt
    from chainlit.auth.cookie import get_token_from_cookies
    from chainlit.auth.jwt import decode_jwt

    def chat_user(request: Request) -> str | None:
        token = get_token_from_cookies(request.cookies)
        if not token:
            return None
        try:
            identifier = decode_jwt(token).identifier
        except jwt.PyJWTError:
            return None
        return identifier if identifier in users else None  # a user since removed is out at once

    return chat_user


def _forget_earlier_mount() -> None:
    """Chainlit's app is one per process: after an earlier mount has served requests (tests, screenshots)
    it has built its middleware and refuses more, and it keeps the data layer it opened first; let it
    build both afresh, without the earlier path guard, so this mount's history goes to its own database."""
    import chainlit.data as chainlit_data
    from chainlit.server import app as chainlit_app

    chainlit_data._data_layer, chainlit_data._data_layer_initialized = None, False

    chainlit_app.middleware_stack = None
    chainlit_app.user_middleware = [m for m in chainlit_app.user_middleware
                                    if m.cls.__name__ != "ChainlitMiddleware"]


def _check_chainlit_root() -> None:
    import chainlit.config as chainlit_config

    if Path(chainlit_config.APP_ROOT).resolve() != UI_DIR:
        raise RuntimeError(
            f"Chainlit was imported before ui.mount and reads its config from {chainlit_config.APP_ROOT}; "
            f"import ui.mount first (or set CHAINLIT_APP_ROOT={UI_DIR})"
        )


def _drop_external_assets() -> None:
    """Chainlit's index.html links a CDN stylesheet (KaTeX) and preconnects to Google Fonts; we use neither."""
    import chainlit.server as chainlit_server

    original = chainlit_server.get_html_template
    if getattr(original, "_sambruk_offline", False):
        return

    def offline_html_template(root_path: str) -> str:
        html = original(root_path).replace('<html lang="en">', '<html lang="sv">', 1)
        return re.sub(r"\s*<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>", "", html)

    offline_html_template._sambruk_offline = True  # type: ignore[attr-defined]
    chainlit_server.get_html_template = offline_html_template


def mount_ui(app: FastAPI, settings: Settings, assistant: Assistant | None, *,
             users: Mapping[str, str] | None = None) -> None:
    """Serve the Swedish chat at /chat of ``app``, answering with ``assistant`` (None: index down)."""
    from ui import runtime
    from ui.db import create_schema

    data_dir = Path(settings.data_dir).resolve()
    db_path = data_dir / "chainlit.db"
    create_schema(db_path)
    resolved_users = dict(users) if users is not None else resolve_users(settings)
    if not resolved_users and settings.api.api_key is not None:
        raise ValueError(
            "SAMBRUK_UI__USERS is empty (a chat without login) while SAMBRUK_API__API_KEY protects the API: "
            "the chat would show anyone what the key protects. Set chat users, or serve with --no-ui."
        )
    if resolved_users:
        # Chainlit reads the secret from the environment when it signs and checks login tokens.
        os.environ["CHAINLIT_AUTH_SECRET"] = auth_secret(data_dir)
    runtime.configure(runtime.UIRuntime(
        settings=settings,
        assistant=assistant,
        startup_error=getattr(app.state, "startup_error", None),
        users=resolved_users,
        db_path=db_path,
    ))

    _check_chainlit_root()
    _drop_external_assets()
    app.state.chat_user = _session_user(resolved_users) if resolved_users else None
    from chainlit.config import config as chainlit_config
    from chainlit.utils import mount_chainlit

    # ui/app.py registers the login callback only when there are users; forget one from an earlier mount.
    chainlit_config.code.password_auth_callback = None
    _forget_earlier_mount()

    mount_chainlit(app, target=str(APP_FILE), path=CHAT_PATH)
    logger.info("chat UI mounted at %s (login %s, history in %s)", CHAT_PATH,
                "on" if resolved_users else "off", db_path)
