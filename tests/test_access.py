"""One access rule for API and chat, on a real server started with an API key and the chat mounted.

No default password opens the chat; a logged-in chat user can follow the chat's links into the API
(the original file), but cannot use the session for anything else; odd or empty keys fail closed.
"""

from __future__ import annotations

import stat

import httpx
import jwt
import pytest
from pydantic import SecretStr, ValidationError

import ui.mount  # first: points Chainlit at ui/ before anything imports it
from assistant.api import create_app
from assistant.settings import APISettings, UISettings
from eval.live_server import LiveServer

pytestmark = pytest.mark.slow

KEY = "en-riktig-nyckel"
DOC = "sambruk-verksamhetsplan-2026"


@pytest.fixture(scope="module")
def guarded(gemma_settings, assistant, tmp_path_factory):
    settings = gemma_settings.model_copy(deep=True, update={"data_dir": tmp_path_factory.mktemp("access-data")})
    settings.api.api_key = SecretStr(KEY)
    assert settings.ui.users is None  # the default: no default password
    app = create_app(settings, assistant)
    ui.mount.mount_ui(app, settings, assistant)
    with LiveServer(app) as live:
        yield live.url, settings


def test_default_login_does_not_work_and_the_generated_one_does(guarded):
    url, settings = guarded
    password_file = settings.data_dir / "chat_password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert httpx.get(f"{url}/chat/auth/config", timeout=30).json()["requireLogin"] is True
    default = httpx.post(f"{url}/chat/login", data={"username": "sambruk", "password": "sambruk"}, timeout=30)
    assert default.status_code == 401 and "access_token" not in default.cookies
    generated = password_file.read_text(encoding="utf-8").strip()
    response = httpx.post(f"{url}/chat/login", data={"username": "sambruk", "password": generated}, timeout=30)
    assert response.status_code == 200 and response.cookies.get("access_token")


def test_logged_in_chat_user_opens_the_original_file_and_nothing_more(guarded):
    url, settings = guarded
    with httpx.Client(base_url=url, timeout=60) as anonymous:
        assert anonymous.get(f"/v1/documents/{DOC}/file").status_code == 401
    password = (settings.data_dir / "chat_password").read_text(encoding="utf-8").strip()
    with httpx.Client(base_url=url, timeout=60) as chat:
        assert chat.post("/chat/login", data={"username": "sambruk", "password": password}).status_code == 200
        original = chat.get(f"/v1/documents/{DOC}/file")
        assert original.status_code == 200 and "Verksamhetsplan 2026" in original.text
        assert chat.get(f"/v1/documents/{DOC}/passage", params={"start": 0, "end": 20}).status_code == 200
        # A session cookie is not an API key: no answers (and no cross-site POSTs) with it.
        assert chat.post("/v1/ask", json={"question": "Vad är Provisum?"}).status_code == 401


def test_forged_or_foreign_session_is_refused(guarded):
    url, _ = guarded
    forged = jwt.encode({"identifier": "sambruk", "metadata": {}, "exp": 4_102_444_800}, "en-annan-hemlighet-" * 3,
                        algorithm="HS256")
    response = httpx.get(f"{url}/v1/documents/{DOC}/file", cookies={"access_token": forged}, timeout=30)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header",
    [{"X-API-Key": "nyckel-för-test".encode()}, {"X-API-Key": "nyckel-f\xf6r".encode("latin-1")},
     {"X-API-Key": ""}, {"X-API-Key": KEY[:-1]}, {"Authorization": f"Basic {KEY}"}],
    ids=["utf-8", "latin-1", "empty", "prefix", "basic-scheme"],
)
def test_wrong_keys_get_401_not_500(guarded, header):
    url, _ = guarded
    assert httpx.get(f"{url}/v1/documents", headers=header, timeout=30).status_code == 401


def test_the_key_works_as_header_or_bearer(guarded):
    url, _ = guarded
    for header in ({"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        assert httpx.get(f"{url}/v1/documents", headers=header, timeout=30).status_code == 200


def test_an_empty_key_is_a_configuration_error_not_an_open_api():
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="SAMBRUK_API__API_KEY is empty"):
            APISettings(api_key=blank)


def test_a_chat_without_login_is_refused_while_the_key_protects_the_api(gemma_settings, assistant, tmp_path):
    settings = gemma_settings.model_copy(deep=True, update={"data_dir": tmp_path})
    settings.api.api_key = SecretStr(KEY)
    settings.ui.users = ""
    with pytest.raises(ValueError, match="without login"):
        ui.mount.mount_ui(create_app(settings, assistant), settings, assistant)


def test_generated_password_is_stable_and_printed_once(gemma_settings, tmp_path, capsys):
    settings = gemma_settings.model_copy(update={"data_dir": tmp_path})
    assert UISettings().users is None
    first = ui.mount.resolve_users(settings)
    password = first["sambruk"]
    assert len(password) >= 16 and password != "sambruk" and password in capsys.readouterr().err
    assert ui.mount.resolve_users(settings) == first  # the same after a restart
    assert password not in capsys.readouterr().err  # printed when generated, not on every start
