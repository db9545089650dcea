"""The HTTP API on a real uvicorn server on 127.0.0.1, over the real corpus index and model."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from qdrant_client import QdrantClient

from assistant.api import create_app
from assistant.service import build_assistant
from eval.live_server import LiveServer, free_port
from ingest.store import Store
from ingest.store_client import ClientEngine

pytestmark = pytest.mark.slow


def ask(http, question, **body):
    return http.post("/v1/ask", json={"question": question, **body})


def assert_grounded(answer: dict) -> None:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["text"])}
    assert markers, answer["text"]
    assert markers == {c["n"] for c in answer["citations"]}
    for c in answer["citations"]:
        assert c["quote"].strip() and c["title"] and c["section"] is not None


def test_swedish_question_answered_with_checkable_citations(http):
    response = ask(http, "Vad beslutade e-nämnden om budgeten för 2023?")
    assert response.status_code == 200
    answer = response.json()
    assert not answer["refused"] and answer["language"] == "sv" and answer["backend"] == "extractive"
    assert_grounded(answer)
    assert any(c["doc_type"] == "protokoll" and "§ 12" in c["section"] for c in answer["citations"])
    first = answer["citations"][0]
    span = http.get(f"/v1/documents/{first['doc_id']}/passage",
                    params={"start": first["start"], "end": first["end"]}).json()
    assert span["quote"] == first["quote"] and span["before"] and span["section"]


def test_english_question_answered_in_english_with_the_current_figure(http):
    answer = ask(http, "How many members does Sambruk have today?").json()
    assert answer["language"] == "en" and not answer["refused"]
    assert_grounded(answer)
    assert "152" in answer["text"] or "158" in answer["text"]
    assert answer["citations"][0]["date"].startswith("2026")
    # an older document's figure is no answer for today, however close its sentence is
    assert not any("2011" in c["file"] for c in answer["citations"]), answer["text"]


def test_unanswerable_question_is_refused_with_related_sources(http):
    answer = ask(http, "Vem vann Allsvenskan i fotboll 2019?").json()
    assert answer["refused"] and answer["citations"] == []
    assert answer["text"].startswith("Det framgår inte av underlaget")


@pytest.mark.xfail(strict=True, reason="issue 9 open: an English near-miss is answered with the office's "
                   "contact details; English questions have no stem-coverage check, and a member count "
                   "passes for the asked number")
def test_english_near_miss_is_refused(http):
    english = ask(http, "What is the phone number of Sambruk's chairman?").json()
    assert english["refused"] and english["text"].startswith("The documents do not say")


def test_follow_up_is_resolved_through_history(http):
    answer = ask(http, "Hur många kommuner samverkar kring det?",
                 history=[{"role": "user", "content": "Vad är Provisum?"}]).json()
    assert not answer["refused"] and "44" in answer["text"]


def test_filters_are_applied(http):
    answer = ask(http, "Vad har beslutats om budget?", filters={"doc_types": ["protokoll"]}).json()
    assert answer["citations"] and {c["doc_type"] for c in answer["citations"]} == {"protokoll"}
    hits = http.get("/v1/search", params={"q": "medlemmar", "year_from": 2011, "year_to": 2011}).json()
    assert hits and {h["year"] for h in hits} == {2011}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": ""}, 422, "empty"),
        ({"question": "   \n\t "}, 422, "empty"),
        ({"question": "x" * 2001}, 422, "limit is 2000"),
        ({"question": "Budget?", "filters": {"doc_ids": ["finns-inte"]}}, 422, "unknown document id"),
        ({"question": "Budget?", "filters": {"organisations": ["Okänd"]}}, 422, "unknown organisation"),
        ({"question": "Budget?", "filters": {"doc_types": ["roman"]}}, 422, "doc_types"),
        ({"question": "Budget?", "filters": {"year_from": 2026, "year_to": 2011}}, 422, "after year_to"),
    ],
)
def test_bad_input_gets_a_clear_422(http, body, status, message):
    response = http.post("/v1/ask", json=body)
    assert response.status_code == status
    assert message in json.dumps(response.json(), ensure_ascii=False)


def test_chat_streams_tokens_then_the_answer(http):
    events = []
    with http.stream("POST", "/v1/chat", json={"question": "Vad är Provisum?"}) as response:
        assert response.status_code == 200
        event = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
    kinds = [e for e, _ in events]
    assert kinds[0] == "token" and kinds[-1] == "answer" and kinds.count("answer") == 1
    final = events[-1][1]
    assert "Provisum" in final["text"] and final["citations"]
    assert final["timings"]["first_token_ms"] <= final["timings"]["total_ms"]


def test_documents_search_and_files(http):
    docs = http.get("/v1/documents").json()
    assert {d["doc_id"] for d in docs} >= {"sambruk-verksamhetsplan-2026", "norrbottens-e-namnd-protokoll-2022"}
    assert all(d["chunks"] > 0 for d in docs)
    hits = http.get("/v1/search", params={"q": "Egil elevkonton", "top_k": 3}).json()
    assert len(hits) <= 3 and hits[0]["similarity"] > 0
    original = http.get("/v1/documents/sambruk-verksamhetsplan-2026/file")
    assert original.status_code == 200 and "Verksamhetsplan 2026" in original.text
    assert http.get("/v1/documents/finns-inte/file").status_code == 404
    assert http.get("/v1/documents/finns-inte/passage", params={"start": 0, "end": 5}).status_code == 404


def test_health_and_readiness(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["qdrant"] == "ok" and ready.json()["chunks"] > 100


def test_unreachable_llm_degrades_to_extractive(gemma_settings, real_store, gemma):
    settings = gemma_settings.model_copy(deep=True)
    settings.llm.base_url = f"http://127.0.0.1:{free_port()}/v1"
    settings.selectable_backends = ["openai"]
    degraded_assistant = build_assistant(settings, store=real_store, embedder=gemma)
    with LiveServer(create_app(settings, degraded_assistant)) as live:
        response = httpx.post(f"{live.url}/v1/ask", json={"question": "Vad är Provisum?", "backend": "openai"},
                              timeout=60)
    answer = response.json()
    assert response.status_code == 200 and answer["degraded"] and answer["backend"] == "extractive"
    assert_grounded(answer)


def test_unreachable_qdrant_is_a_503_with_a_message(gemma_settings, gemma):
    down = Store(ClientEngine(QdrantClient(url=f"http://127.0.0.1:{free_port()}", timeout=2), "sambruk"))
    from assistant.service import Assistant
    from assistant.answering.extractive import ExtractiveBackend

    app = create_app(gemma_settings, Assistant(gemma_settings, down, gemma, {"extractive": ExtractiveBackend()}))
    with LiveServer(app) as live:
        response = httpx.post(f"{live.url}/v1/ask", json={"question": "Vad är Provisum?"}, timeout=30)
        ready = httpx.get(f"{live.url}/readyz", timeout=30)
    assert response.status_code == 503 and "Qdrant" in response.json()["detail"]
    assert ready.status_code == 503


def test_api_key_is_required_when_configured(gemma_settings, assistant):
    settings = gemma_settings.model_copy(deep=True)
    from pydantic import SecretStr

    settings.api.api_key = SecretStr("hemligt")
    with LiveServer(create_app(settings, assistant)) as live:
        assert httpx.get(f"{live.url}/v1/documents").status_code == 401
        assert httpx.get(f"{live.url}/v1/documents", headers={"X-API-Key": "hemligt"}).status_code == 200
        assert httpx.get(f"{live.url}/healthz").status_code == 200
