"""Answers written by an LLM behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp).

The local llama.cpp server (`python -m assistant llm-server`) is the same backend pointed at
127.0.0.1. Every failure to get an answer raises BackendUnavailable, so the service falls back
to the extractive answer instead of failing the request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import openai

from assistant.answering.base import BackendUnavailable
from assistant.answering.evidence import Evidence
from assistant.answering.llm_prompts import build_messages, refusal_sentence
from assistant.schemas import Language, Message, Mode, Passage
from assistant.settings import LLMSettings

_CONNECT_TIMEOUT_S = 5.0
_PING_TIMEOUT_S = 2.0


class OpenAIBackend:
    """A grounded, cited answer streamed from a chat-completions endpoint."""

    def __init__(self, settings: LLMSettings, name: str = "openai"):
        self.name = name
        self.settings = settings
        self._client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key.get_secret_value(),
            # A refused or unroutable host fails fast; a slow CPU model may still think for long.
            timeout=httpx.Timeout(settings.timeout_s, connect=min(_CONNECT_TIMEOUT_S, settings.timeout_s)),
            # No retries: the extractive fallback answers at once, a retry only delays it.
            max_retries=0,
        )

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
        where = f"LLM '{self.name}' at {self.settings.base_url}"
        try:
            chunks = self._client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature,
                stream=True,
            )
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.APITimeoutError as exc:
            raise BackendUnavailable(f"{where} timed out after {self.settings.timeout_s:.0f} s") from exc
        except openai.APIConnectionError as exc:
            raise BackendUnavailable(f"{where} is unreachable: {exc}") from exc
        except openai.APIStatusError as exc:
            raise BackendUnavailable(f"{where} answered HTTP {exc.status_code}: {exc.message}") from exc
        except (openai.APIError, httpx.HTTPError) as exc:  # a stream cut mid-answer
            raise BackendUnavailable(f"{where}: the stream failed: {exc}") from exc

    def ping(self) -> bool:
        """Whether the endpoint answers GET /models within a couple of seconds (for /readyz)."""
        try:
            self._client.with_options(timeout=_PING_TIMEOUT_S).models.list()
        except (openai.APIError, httpx.HTTPError):
            return False
        return True
