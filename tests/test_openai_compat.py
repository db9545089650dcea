"""The OpenAI-compatible endpoint through the real `openai` SDK, on a real server on 127.0.0.1 over the real index."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from pydantic import SecretStr

from assistant.api import create_app
from eval.live_server import LiveServer

pytestmark = pytest.mark.slow

SCHOOLS = "Vilka tjänster erbjuder Sambruk för skolor?"
MODELS = {"sambruk-assistent", "sambruk-assistent-utkast"}


def sdk(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def client(server):
    with sdk(server.url) as client:
        yield client


def ask(client, question, model="sambruk-assistent", history=(), **options):
    messages = [*history, {"role": "user", "content": question}]
    return client.chat.completions.create(model=model, messages=messages, **options)


def split_sources(content: str, heading: str = "Källor:") -> tuple[str, list[str]]:
    text, _, sources = content.partition(f"\n\n{heading}\n")
    return text, sources.splitlines()


def test_both_models_are_listed(client):
    assert {m.id for m in client.models.list()} == MODELS
    assert client.models.retrieve("sambruk-assistent-utkast").owned_by == "sambruk"


def test_answer_is_the_ask_answer_with_checkable_sources(client, http):
    expected = http.post("/v1/ask", json={"question": SCHOOLS}).json()
    completion = client.chat.completions.create(
        model="sambruk-assistent",
        messages=[{"role": "system", "content": "Svara kort."}, {"role": "user", "content": SCHOOLS}],
        temperature=0.2, max_tokens=50,
    )
    assert completion.object == "chat.completion" and completion.model == "sambruk-assistent"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert not expected["refused"] and expected["citations"]
    text, sources = split_sources(choice.message.content)
    assert text == expected["text"]
    assert completion.model_extra["citations"] == expected["citations"]
    assert len(sources) == len(expected["citations"])
    for line, citation in zip(sources, expected["citations"], strict=True):
        assert line.startswith(f"- [{citation['n']}] {citation['title']}, {citation['section']}")
        assert citation["date"] in line
        passage = http.get(line.split()[-1])  # the link a reader clicks
        assert passage.status_code == 200 and passage.json()["quote"] == citation["quote"]


def test_streamed_deltas_equal_the_reply(client, http):
    reply = ask(client, SCHOOLS)
    stream = list(ask(client, SCHOOLS, stream=True))
    assert {chunk.object for chunk in stream} == {"chat.completion.chunk"}
    assert stream[0].choices[0].delta.role == "assistant"
    deltas = [chunk.choices[0].delta.content for chunk in stream if chunk.choices[0].delta.content]
    assert len(deltas) > 1
    assert "".join(deltas) == reply.choices[0].message.content
    assert [chunk.choices[0].finish_reason for chunk in stream][-1] == "stop"
    assert stream[-1].model_extra["citations"] == reply.model_extra["citations"]

    body = {"model": "sambruk-assistent", "messages": [{"role": "user", "content": SCHOOLS}], "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in data) and data[-1] == "data: [DONE]"
    assert json.loads(data[-2].removeprefix("data: "))["choices"][0]["finish_reason"] == "stop"


def test_follow_up_uses_the_history(client, http):
    first = ask(client, "Vad är Provisum?").choices[0].message.content
    history = [{"role": "user", "content": "Vad är Provisum?"}, {"role": "assistant", "content": first}]
    follow_up = ask(client, "Hur många kommuner samverkar kring det?", history=history)
    content = follow_up.choices[0].message.content
    expected = http.post("/v1/ask", json={"question": "Hur många kommuner samverkar kring det?",
                                          "history": history}).json()
    assert "44" in expected["text"] and split_sources(content)[0] == expected["text"]


def test_refusal_is_a_normal_message_with_related_sources(client):
    completion = ask(client, "Vem vann Allsvenskan i fotboll 2019?")
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert content.startswith("Det framgår inte av underlaget")
    extra = completion.model_extra
    assert extra["sambruk"]["refused"] and extra["citations"] == []
    text, related = split_sources(content, "Möjligen relaterade källor:")
    assert len(related) == len(extra["sambruk"]["related"]) > 0


def test_draft_model_gives_the_staff_draft(client, http):
    completion = ask(client, SCHOOLS, model="sambruk-assistent-utkast")
    expected = http.post("/v1/ask", json={"question": SCHOOLS, "mode": "draft"}).json()
    assert completion.model_extra["sambruk"]["mode"] == "draft"
    assert completion.choices[0].message.content == expected["text"] and expected["text"].startswith("Hej,")


def test_unknown_model_is_a_404(client):
    with pytest.raises(openai.NotFoundError) as raised:
        ask(client, SCHOOLS, model="gpt-4o")
    assert raised.value.code == "model_not_found" and "sambruk-assistent" in raised.value.message
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "sambruk-assistent", "messages": []}, "messages"),
        ({"model": "sambruk-assistent", "messages": [{"role": "user", "content": "  "}]}, "empty"),
        ({"model": "sambruk-assistent", "messages": [{"role": "user", "content": "x" * 2001}]}, "limit is 2000"),
        ({"model": "sambruk-assistent", "messages": [{"role": "assistant", "content": "Hej"}]}, "last message"),
        ({"model": "sambruk-assistent", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "http://127.0.0.1/x.png"}}]}]}, "image_url"),
        ({"model": "sambruk-assistent", "messages": [{"role": "user", "content": "Hej"}], "temperature": 5},
         "temperature"),
        ({"messages": [{"role": "user", "content": "Hej"}]}, "model"),
    ],
)
def test_bad_request_is_a_400_in_openai_shape(http, body, message):
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and message in error["message"]


def test_malformed_json_is_a_400(http):
    response = http.post("/v1/chat/completions", content=b'{"model": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


def test_key_is_checked_as_bearer_and_as_x_api_key(gemma_settings, assistant):
    settings = gemma_settings.model_copy(deep=True)
    settings.api.api_key = SecretStr("hemligt")
    with LiveServer(create_app(settings, assistant)) as live:
        with sdk(live.url, "fel") as wrong, pytest.raises(openai.AuthenticationError) as raised:
            wrong.models.list()
        assert raised.value.status_code == 401 and raised.value.code == "invalid_api_key"
        with sdk(live.url, "hemligt") as right:
            assert {m.id for m in right.models.list()} == MODELS
            assert "Provisum" in ask(right, "Vad är Provisum?").choices[0].message.content
        body = {"model": "sambruk-assistent", "messages": [{"role": "user", "content": "Vad är Provisum?"}]}
        plain = httpx.post(f"{live.url}/v1/chat/completions", json=body, headers={"X-API-Key": "hemligt"},
                           timeout=60)
        assert plain.status_code == 200
        missing = httpx.get(f"{live.url}/v1/models")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "invalid_api_key"


def test_not_ready_is_a_503(gemma_settings):
    with LiveServer(create_app(gemma_settings, None, "the index is missing: run `python -m ingest`")) as live:
        with sdk(live.url) as client, pytest.raises(openai.InternalServerError) as raised:
            ask(client, SCHOOLS)
    assert raised.value.status_code == 503 and raised.value.code == "service_unavailable"
    assert "python -m ingest" in raised.value.message
