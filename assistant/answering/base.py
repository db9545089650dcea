"""What every answer backend provides: the answer text, streamed, with [n] markers into the passages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.answering.evidence import Evidence
from assistant.schemas import Language, Message, Mode, Passage


class BackendUnavailable(RuntimeError):
    """The backend cannot answer now (LLM down, timeout): the service degrades to extractive."""


class AnswerBackend(Protocol):
    name: str

    def stream(
        self,
        question: str,
        passages: list[Passage],
        evidence: Evidence,
        *,
        language: Language,
        history: Sequence[Message] = (),
        mode: Mode = "answer",
    ) -> Iterator[str]:
        """Yield the answer, told from ``evidence``, in pieces; ``[n]`` cites ``passages[n - 1]``.

        Raise BackendUnavailable to degrade to the extractive answer.
        """
        ...
