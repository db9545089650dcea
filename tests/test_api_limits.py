"""What a probe sent the API: oversized requests, hostile numbers and characters, a missing index.

Each is a bad request (413/422) or a clear 503 with what to do; none is a crash, a long CPU burn or
an outage report. The server is the real uvicorn on 127.0.0.1 over the real index, started with an
API key as in production.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from pydantic import SecretStr
from qdrant_client import QdrantClient

from assistant.answering.extractive import ExtractiveBackend
from assistant.api import create_app
from assistant.schemas import MAX_FILTER_VALUES, MAX_HISTORY_MESSAGES, MAX_MESSAGE_CHARS, AskRequest, Message
from assistant.service import Assistant, ServiceUnavailable, build_assistant
from conftest import make_settings
from eval.live_server import LiveServer
from ingest.store import Store
from ingest.store_client import ClientEngine

pytestmark = pytest.mark.slow

KEY = "nyckel-for-test"


@pytest.fixture(scope="module")
def keyed_settings(gemma_settings):
    settings = gemma_settings.model_copy(deep=True)
    settings.api.api_key = SecretStr(KEY)
    return settings


@pytest.fixture(scope="module")
def http(keyed_settings, assistant):
    with LiveServer(create_app(keyed_settings, assistant)) as live, \
            httpx.Client(base_url=live.url, timeout=60, headers={"X-API-Key": KEY}) as client:
        yield client


def detail(response: httpx.Response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


# -- item 7: one request cannot exhaust memory or CPU ----------------------------------------------------
def test_two_megabyte_history_message_is_refused_within_two_seconds(http):
    body = {"question": "Hur många kommuner samverkar kring det?",
            "history": [{"role": "user", "content": "Vad är Provisum? " * 120_000}]}  # ~2 MB
    started = time.monotonic()
    response = http.post("/v1/ask", json=body)
    assert response.status_code == 413 and time.monotonic() - started < 2


def test_a_chunked_body_without_length_is_cut_off_too(http):
    def chunks():
        yield b'{"question": "Budget?", "history": [{"content": "'
        for _ in range(64):
            yield b"x" * 8192

    response = http.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"history": [{"content": "x" * (MAX_MESSAGE_CHARS + 1)}]}, "at most 20000 characters"),
        ({"history": [{"content": "Budget?"}] * (MAX_HISTORY_MESSAGES + 1)}, "at most 100 items"),
        ({"filters": {"doc_ids": ["a"] * (MAX_FILTER_VALUES + 1)}}, "at most 50 items"),
        ({"filters": {"organisations": ["x" * 201]}}, "at most 200 characters"),
        ({"filters": {"year_from": 10**400}}, "less than or equal to 9999"),
        ({"filters": {"year_from": -1}}, "greater than or equal to 0"),
    ],
    ids=["message-size", "message-count", "filter-values", "name-length", "huge-year", "negative-year"],
)
def test_every_field_is_bounded(http, body, message):
    response = http.post("/v1/ask", json={"question": "Vad har beslutats om budget?"} | body)
    assert response.status_code == 422 and message in detail(response)


def test_history_is_read_within_a_character_budget(assistant):
    budget = assistant.settings.api.max_history_chars
    turns = [Message(role=role, content=f"{n} " + "ord " * (budget // 12))
             for n in range(6) for role in ("user", "assistant")]
    kept = assistant.validate(AskRequest(question="Och det?", history=turns)).history
    assert kept and sum(len(m.content) for m in kept) <= budget
    assert kept == turns[-len(kept):]  # the newest messages, in order; the oldest went first


def test_a_long_chat_stays_within_the_history_bound():
    from ui.chat import build_request

    turns = [Message(role=role, content=f"Fråga {n}") for n in range(80) for role in ("user", "assistant")]
    request = build_request("Och sedan?", turns, None)  # raised a ValidationError past 100 messages
    assert request.history == turns[-MAX_HISTORY_MESSAGES:]


# -- item 11: bad input is a 422, never an outage --------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"question": "Vad \\ud800 är Provisum?"}', "question"),
        ('{"question": "\\u0000\\u0000\\u0000"}', "question"),
        ('{"question": "Vad är\\u0007 Provisum?"}', "question"),
        ('{"question": "Budget?", "history": [{"content": "Vad \\ud83d?"}]}', "content"),
        ('{"question": "Budget?", "filters": {"year_from": 1e400}}', "year_from"),
    ],
    ids=["lone-surrogate", "nul-bytes", "control-character", "surrogate-in-history", "infinite-year"],
)
def test_hostile_characters_and_numbers_are_422(http, raw, field):
    response = http.post("/v1/ask", content=raw.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field


def test_search_parameters_are_checked_not_reported_as_an_outage(http, keyed_settings):
    huge = http.get("/v1/search", params={"q": "medlemmar", "year_from": "1" + "0" * 400})
    assert huge.status_code == 422 and "9999" in detail(huge)
    nul = http.get("/v1/search", params={"q": "medlemmar\x00"})
    assert nul.status_code == 422 and "U+0000" in detail(nul)
    cap = keyed_settings.retrieval.max_top_k
    over = http.get("/v1/search", params={"q": "medlemmar", "top_k": cap + 1})
    assert over.status_code == 422 and f"less than or equal to {cap}" in detail(over)
    at_cap = http.get("/v1/search", params={"q": "medlemmar", "top_k": cap})
    assert at_cap.status_code == 200 and 6 < len(at_cap.json()) <= cap


def test_year_to_zero_is_range_checked(http):
    backwards = http.post("/v1/ask", json={"question": "Budget?", "filters": {"year_from": 2011, "year_to": 0}})
    assert backwards.status_code == 422 and "after year_to" in detail(backwards)
    hits = http.get("/v1/search", params={"q": "medlemmar", "year_from": 2011, "year_to": 0})
    assert hits.status_code == 422


def test_missing_index_folder_says_run_ingest_and_is_not_created(tmp_path, gemma):
    settings = make_settings(tmp_path / "data")
    with pytest.raises(ServiceUnavailable, match="python -m ingest"):
        build_assistant(settings, embedder=gemma)
    assert not settings.qdrant.path.exists()
    with LiveServer(create_app(settings, None, "there is no index: run `python -m ingest` first")) as live:
        response = httpx.post(f"{live.url}/v1/ask", json={"question": "Vad är Provisum?"}, timeout=30)
    assert response.status_code == 503 and "python -m ingest" in response.json()["detail"]


def test_empty_index_says_run_ingest_not_unreachable(tmp_path, gemma_settings, gemma):
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    empty = Assistant(gemma_settings, Store(ClientEngine(client, "sambruk")), gemma, {"extractive": ExtractiveBackend()})
    with LiveServer(create_app(gemma_settings, empty)) as live:
        search = httpx.get(f"{live.url}/v1/search", params={"q": "Provisum"}, timeout=30)
        documents = httpx.get(f"{live.url}/v1/documents", timeout=30)
    client.close()
    for response in (search, documents):
        assert response.status_code == 503
        assert "python -m ingest" in response.json()["detail"] and "reachable" not in response.json()["detail"]
