"""One chat turn without Chainlit: the AskRequest from question, history and settings; Swedish messages.

Kept free of Chainlit imports so the rules are unit-tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from assistant.schemas import MAX_HISTORY_MESSAGES, AskRequest, DocType, Filters, Message

MSG_INDEX_DOWN = ("Sökindexet är inte tillgängligt just nu, så frågan kan inte besvaras. Försök igen om en "
                  "stund, eller kontakta den som driver assistenten.")
MSG_EMPTY = "Frågan är tom. Skriv en fråga om Sambruk, till exempel om en tjänst, ett beslut eller en siffra."
MSG_TOO_LONG = ("Frågan är för lång ({length} tecken; högst {limit} går att ta emot). Korta ned den och "
                "fråga igen.")
MSG_YEARS = "Årsintervallet är bakvänt: ”Från år” ({year_from}) ligger efter ”Till år” ({year_to})."
MSG_INVALID = ("Frågan kunde inte tas emot som den ställdes. Kontrollera inställningarna och försök igen.")
MSG_UNEXPECTED = ("Något gick fel när svaret skulle tas fram. Försök igen; om felet kvarstår, kontakta den "
                  "som driver assistenten.")

MODE_ITEMS = {"Svar": "answer", "Utkast till svar": "draft"}
BACKEND_LABELS = {
    "extractive": "Extraktiv (citat direkt ur dokumenten)",
    "openai": "Språkmodell (OpenAI-kompatibel server)",
    "local": "Lokal språkmodell (på den här datorn)",
}
ALL_YEARS = "alla"

def _year(value: Any) -> int | None:
    if value in (None, "", ALL_YEARS):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def build_request(question: str, history: list[Message], chat_settings: dict[str, Any] | None) -> AskRequest:
    """The AskRequest of one chat turn, from the question, the session's history and its settings."""
    chat_settings = chat_settings or {}
    doc_types = [t for t in (chat_settings.get("doc_types") or []) if t in get_args(DocType)]
    mode = chat_settings.get("mode") if chat_settings.get("mode") in ("answer", "draft") else "answer"
    backend = chat_settings.get("backend") if chat_settings.get("backend") in BACKEND_LABELS else None
    return AskRequest(
        question=question,
        history=list(history)[-MAX_HISTORY_MESSAGES:],  # the service reads only the last turns anyway
        filters=Filters(doc_types=doc_types, year_from=_year(chat_settings.get("year_from")),
                        year_to=_year(chat_settings.get("year_to"))),
        mode=mode,
        backend=backend,
    )


def check_request(request: AskRequest, max_chars: int) -> str | None:
    """A Swedish message for a request the service would reject, or None."""
    question = request.question.strip()
    if not question:
        return MSG_EMPTY
    if len(question) > max_chars:
        return MSG_TOO_LONG.format(length=len(question), limit=max_chars)
    f = request.filters
    if f.year_from is not None and f.year_to is not None and f.year_from > f.year_to:
        return MSG_YEARS.format(year_from=f.year_from, year_to=f.year_to)
    return None


def history_from_steps(steps: Iterable[dict[str, Any]]) -> list[Message]:
    """The question/answer turns of a stored thread (error replies left out), for a resumed chat."""
    history: list[Message] = []
    for step in steps:
        metadata = step.get("metadata") or {}
        if not isinstance(metadata, dict) or metadata.get("error") or not step.get("output"):
            continue
        if step.get("type") == "user_message":
            history.append(Message(role="user", content=step["output"]))
        elif step.get("type") == "assistant_message":
            history.append(Message(role="assistant", content=metadata.get("answer_text") or step["output"]))
    return history
