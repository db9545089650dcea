"""A hanging LLM endpoint: answers degrade within the deadlines, and extractive requests stay fast.

The endpoints are real TCP servers on 127.0.0.1: one that accepts and never answers, one that answers
``200 text/event-stream`` and then trickles keep-alive comments forever (optionally after one token).
The API is the real uvicorn server over the real index, with the openai backend pointed at them.
"""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from assistant.api import create_app
from assistant.service import build_assistant
from eval.live_server import LiveServer

pytestmark = pytest.mark.slow

QUESTION = "Vad är Provisum?"


class FakeEndpoint:
    """A TCP server on 127.0.0.1; each connection is handled by ``serve(conn)`` on a thread of its own."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        self.accepted = 0
        self.closed_at: list[float] = []  # when a client was seen to hang up
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


class SilentEndpoint(FakeEndpoint):
    def serve(self, conn: socket.socket) -> None:
        conn.recv(65536)  # the request; then nothing, ever (until the client hangs up)
        conn.settimeout(1.0)
        while not self.stopped.is_set():
            try:
                if conn.recv(65536) == b"":
                    self.closed_at.append(time.monotonic())
                    return
            except TimeoutError:
                continue
            except OSError:
                self.closed_at.append(time.monotonic())
                return


class TricklingEndpoint(FakeEndpoint):
    def __init__(self, first_token: str | None = None) -> None:
        super().__init__()
        self.first_token = first_token

    def serve(self, conn: socket.socket) -> None:
        conn.recv(65536)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            if self.first_token:
                conn.sendall(b'data: {"choices": [{"delta": {"content": "%s"}}]}\n\n' % self.first_token.encode())
            while not self.stopped.is_set():
                conn.sendall(b": keep-alive\n\n")
                time.sleep(0.3)
        except OSError:
            self.closed_at.append(time.monotonic())
        finally:
            conn.close()


def llm_app(gemma_settings, real_store, gemma, endpoint_url: str, **llm):
    settings = gemma_settings.model_copy(deep=True)
    settings.selectable_backends = ["openai"]
    settings.llm.base_url = endpoint_url
    for key, value in llm.items():
        setattr(settings.llm, key, value)
    return settings, create_app(settings, build_assistant(settings, store=real_store, embedder=gemma))


def timed_ask(url: str, backend: str | None = None) -> tuple[float, httpx.Response]:
    body = {"question": QUESTION} | ({"backend": backend} if backend else {})
    started = time.monotonic()
    response = httpx.post(f"{url}/v1/ask", json=body, timeout=180)
    return time.monotonic() - started, response


def test_silent_endpoint_degrades_within_30_s_by_default_and_extractive_stays_fast(gemma_settings, real_store,
                                                                                   gemma):
    endpoint = SilentEndpoint()
    settings, app = llm_app(gemma_settings, real_store, gemma, endpoint.url)
    assert settings.llm.first_token_timeout_s <= settings.llm.deadline_s <= 30  # the defaults under test
    try:
        with LiveServer(app) as live, ThreadPoolExecutor(60) as pool:
            usual = [timed_ask(live.url)[0] for _ in range(3)]
            # More hanging LLM requests than the 40 threads that serve everything else.
            hanging = [pool.submit(timed_ask, live.url, "openai") for _ in range(45)]
            deadline = time.monotonic() + 30
            while endpoint.accepted < settings.llm.max_concurrent and time.monotonic() < deadline:
                time.sleep(0.1)
            assert endpoint.accepted == settings.llm.max_concurrent  # one connection per slot, the rest wait
            time.sleep(3)  # the 45 retrievals are done; everything now waits on the endpoint
            meanwhile = [timed_ask(live.url) for _ in range(5)]
            search_started = time.monotonic()
            search = httpx.get(f"{live.url}/v1/search", params={"q": "Egil"}, timeout=60)
            search_s = time.monotonic() - search_started
            results = [job.result() for job in hanging]
    finally:
        endpoint.close()
    assert all(r.status_code == 200 and r.json()["backend"] == "extractive" for _, r in meanwhile)
    # Usual speed while 45 LLM requests hang (before the fix these waited ~2 minutes for a thread).
    assert max(s for s, _ in meanwhile) < max(2.0, 5 * statistics.median(usual)), (usual, meanwhile)
    assert search.status_code == 200 and search_s < 2.0
    for seconds, response in results:
        answer = response.json()
        assert response.status_code == 200 and answer["degraded"] and answer["backend"] == "extractive"
        assert answer["citations"] and seconds < 30, seconds


@pytest.mark.parametrize("first_token", [None, "Provisum"], ids=["no-token", "one-token-then-silence"])
def test_trickling_endpoint_degrades_at_the_deadline_and_is_hung_up_on(gemma_settings, real_store, gemma,
                                                                         first_token):
    endpoint = TricklingEndpoint(first_token)
    settings, app = llm_app(gemma_settings, real_store, gemma, endpoint.url,
                            first_token_timeout_s=2.0, deadline_s=4.0)
    limit = settings.llm.deadline_s if first_token else settings.llm.first_token_timeout_s
    try:
        with LiveServer(app) as live:
            seconds, response = timed_ask(live.url, "openai")
            answered = time.monotonic()
            while not endpoint.closed_at and time.monotonic() < answered + 10:
                time.sleep(0.1)
    finally:
        endpoint.close()
    answer = response.json()
    assert response.status_code == 200 and answer["degraded"] and answer["backend"] == "extractive"
    assert limit <= seconds < limit + 3, seconds
    # The connection is dropped, not left trickling (before the fix: still open 5 minutes later).
    assert endpoint.closed_at and endpoint.closed_at[0] - answered < 3


def test_llm_backend_must_be_offered(gemma_settings, real_store, gemma):
    settings = gemma_settings.model_copy(deep=True)
    assert settings.selectable_backends == []  # the default: callers get the configured backend only
    with LiveServer(create_app(settings, build_assistant(settings, store=real_store, embedder=gemma))) as live:
        response = httpx.post(f"{live.url}/v1/ask", json={"question": QUESTION, "backend": "openai"}, timeout=60)
    assert response.status_code == 422 and "not offered" in response.json()["detail"]


def test_streamed_chat_degrades_at_the_deadline_too(gemma_settings, real_store, gemma):
    endpoint = TricklingEndpoint()
    settings, app = llm_app(gemma_settings, real_store, gemma, endpoint.url, first_token_timeout_s=2.0)
    events = []
    try:
        with LiveServer(app) as live:
            started = time.monotonic()
            with httpx.stream("POST", f"{live.url}/v1/chat", json={"question": QUESTION, "backend": "openai"},
                              timeout=60) as response:
                events = [line for line in response.iter_lines() if line.startswith("data:")]
            seconds = time.monotonic() - started
    finally:
        endpoint.close()
    final = json.loads(events[-1].removeprefix("data:"))
    assert final["degraded"] and final["backend"] == "extractive" and final["citations"]
    assert 2.0 <= seconds < 5.0, seconds
