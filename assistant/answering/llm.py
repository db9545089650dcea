"""Answers written by an LLM behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp).

The local llama.cpp server (`python -m assistant llm-server`) is the same backend pointed at
127.0.0.1. Every failure to get an answer raises BackendUnavailable, so the service falls back
to the extractive answer instead of failing the request.

An answer has two deadlines (no first token within ``first_token_timeout_s``, no complete answer
within ``deadline_s``) that hold however the endpoint stalls. The HTTP stream is read on one of
``max_concurrent`` slot threads of this backend and handed over through a queue, so the caller
stops waiting at the deadline to the millisecond; the slot reads the stream line by line with plain
httpx (keep-alive comments included, which an SDK would swallow) and drops the connection at the
next line or, for an endpoint that sends nothing at all, at the per-read timeout.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from assistant.answering.base import BackendUnavailable
from assistant.answering.evidence import Evidence
from assistant.answering.llm_prompts import build_messages, refusal_sentence
from assistant.schemas import Language, Message, Mode, Passage
from assistant.settings import LLMSettings

_CONNECT_TIMEOUT_S = 5.0
_PING_TIMEOUT_S = 2.0
_END = object()  # the stream finished normally


class OpenAIBackend:
    """A grounded, cited answer streamed from a chat-completions endpoint."""

    def __init__(self, settings: LLMSettings, name: str = "openai"):
        self.name = name
        self.settings = settings
        self._where = f"LLM '{name}' at {settings.base_url}"
        # The read timeout bounds how long a slot can sit on a silent connection after its caller gave up.
        read_s = min(settings.first_token_timeout_s, settings.deadline_s)
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {settings.api_key.get_secret_value()}"},
            timeout=httpx.Timeout(read_s, connect=min(_CONNECT_TIMEOUT_S, read_s)),
        )
        self._slots = ThreadPoolExecutor(settings.max_concurrent, thread_name_prefix=f"llm-{name}")

    def stream(
        self,
        question: str,
        passages: list[Passage],
        evidence: Evidence,
        *,
        language: Language,
        history: Sequence[Message] = (),
        mode: Mode = "answer",  # drafts are built by the service from this same grounded answer
    ) -> Iterator[str]:
        if evidence.shape == "refusal":  # nothing to ground an answer in: no seconds of LLM time spent
            yield refusal_sentence(language)
            return
        messages = build_messages(question, passages, evidence, language=language, history=history)
        body = {"model": self.settings.model, "messages": messages, "max_tokens": self.settings.max_tokens,
                "temperature": self.settings.temperature, "stream": True}
        yield from self._within_deadlines(body)

    def _within_deadlines(self, body: dict) -> Iterator[str]:
        """The pieces a slot relays, until the stream ends or a deadline passes (BackendUnavailable)."""
        pieces: queue.Queue = queue.Queue()
        stop = threading.Event()
        started = time.monotonic()
        job = self._slots.submit(self._relay, body, pieces, stop)
        limit_s, missing = self.settings.first_token_timeout_s, "no first token"
        try:
            while True:
                try:
                    item = pieces.get(timeout=max(0.0, started + limit_s - time.monotonic()))
                except queue.Empty:
                    raise BackendUnavailable(f"{self._where}: {missing} within {limit_s:g} s") from None
                if item is _END:
                    return
                if isinstance(item, BackendUnavailable):
                    raise item
                limit_s, missing = self.settings.deadline_s, "no complete answer"
                yield item
        finally:
            stop.set()  # the slot lets go of the connection at its next line
            job.cancel()  # or never starts, when it is still queued for a slot

    def _relay(self, body: dict, pieces: queue.Queue, stop: threading.Event) -> None:
        """On a slot thread: put each content piece, then _END or the BackendUnavailable, into ``pieces``."""
        if stop.is_set():  # the caller gave up while this waited for a slot
            return
        try:
            with self._http.stream("POST", "chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise BackendUnavailable(
                        f"{self._where} answered HTTP {response.status_code}: {response.text[:300]}"
                    )
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    piece = _content(line)
                    if piece is _END:
                        break
                    if piece:
                        pieces.put(piece)
            pieces.put(_END)
        except BackendUnavailable as exc:
            pieces.put(exc)
        except httpx.ConnectError as exc:
            pieces.put(BackendUnavailable(f"{self._where} is unreachable: {exc}"))
        except httpx.TimeoutException as exc:
            pieces.put(BackendUnavailable(f"{self._where} timed out: {type(exc).__name__}"))
        except (httpx.HTTPError, ValueError) as exc:  # a stream cut mid-answer, or not JSON
            pieces.put(BackendUnavailable(f"{self._where}: the stream failed: {exc}"))

    def ping(self) -> bool:
        """Whether the endpoint answers GET /models within a couple of seconds (for /readyz)."""
        try:
            return self._http.get("models", timeout=_PING_TIMEOUT_S).status_code < 400
        except httpx.HTTPError:
            return False


def _content(line: str) -> str | object | None:
    """The text of one server-sent event line of a chat-completions stream; _END at ``[DONE]``."""
    if not line.startswith("data:"):
        return None  # a blank line, an event name or a keep-alive comment
    data = line[5:].strip()
    if data == "[DONE]":
        return _END
    chunk = json.loads(data)
    if not isinstance(chunk, dict):
        return None
    if chunk.get("error"):
        raise BackendUnavailable(f"the LLM stream reported an error: {chunk['error']}")
    choices = chunk.get("choices") or []
    return (choices[0].get("delta") or {}).get("content") if choices else None
