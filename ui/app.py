"""The Chainlit handlers of the Swedish chat: starters, settings, streaming answers with source chips.

Loaded by Chainlit (``mount_chainlit`` in ``ui.mount``), which has stored the assistant and the
settings in ``ui.runtime`` first. Every failure reaches the user as a plain Swedish sentence.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, get_args

import chainlit as cl
from chainlit.input_widget import MultiSelect, Select
from starlette.concurrency import iterate_in_threadpool

from assistant.schemas import Answer, Citation, DocType, Message
from assistant.service import InvalidRequest, ServiceUnavailable, Token
from ui import runtime
from ui.chat import (
    ALL_YEARS,
    BACKEND_LABELS,
    MODE_OPTIONS,
    MSG_INDEX_DOWN,
    MSG_INVALID,
    MSG_UNEXPECTED,
    build_request,
    check_request,
    history_from_steps,
)
from ui.datalayer import SQLiteDataLayer
from ui.db import sqlalchemy_url
from ui.mount import CHAT_PATH
from ui.render import DOC_TYPE_LABELS, MarkerStream, render_answer

logger = logging.getLogger("ui.app")

ASSISTANT_NAME = "Sambruk Assistent"
STARTERS = [
    "Vilka tjänster erbjuder Sambruk för skolor?",
    "Hur många medlemmar har Sambruk i dag?",
    "Vad beslutade e-nämnden om budgeten för 2023?",
    "Hur startar vi en ny samverkan i Sambruk?",
]
WELCOME = (
    "**Välkommen till Sambruk Assistent!** Ställ en fråga om Sambruk – föreningens tjänster, "
    "medlemmar, beslut och verksamhet – så svarar assistenten utifrån Sambruks egna dokument. "
    "Varje påstående har en källa: klicka på **KÄLLA** för att se det citerade stycket. "
    "Du kan också fråga på engelska. Under frågefältet väljer du **Svar** eller **Utkast till svar**; "
    "dokumenttyper, år och svarsmotor finns under inställningarna (kugghjulet)."
)

CONTEXT_CHARS = 400  # text shown around a cited span


# -- persistence and login ----------------------------------------------------------------------
@cl.data_layer
def _data_layer() -> SQLiteDataLayer:
    db_path = runtime.get().db_path
    assert db_path is not None
    return SQLiteDataLayer(sqlalchemy_url(db_path))


if runtime.get().users:

    @cl.password_auth_callback
    async def _login(username: str, password: str) -> cl.User | None:
        expected = runtime.get().users.get(username)
        if expected is not None and secrets.compare_digest(expected.encode(), password.encode()):
            return cl.User(identifier=username, metadata={"provider": "credentials"})
        return None


# -- welcome screen -------------------------------------------------------------------------------
@cl.set_chat_profiles
async def _profiles(user: cl.User | None = None, language: str | None = None) -> list[cl.ChatProfile]:
    # One profile: its icon and description are the welcome text above the starters (the
    # profile picker only appears with two or more).
    return [cl.ChatProfile(name=ASSISTANT_NAME, markdown_description=WELCOME, icon=f"{CHAT_PATH}/public/icon.svg",
                           default=True)]


@cl.set_starters
async def _starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return [cl.Starter(label=text, message=text) for text in STARTERS]


# -- answer mode and settings --------------------------------------------------------------------
# The answer mode sits beside the question field (a Chainlit mode picker), so it is always visible
# whether the next reply is a short answer or a draft; the rest is in the settings dialog.
ANSWER_MODE = cl.Mode(id="mode", name="Svarsläge", options=[
    cl.ModeOption(id=mode_id, name=name, description=description, icon=icon, default=mode_id == "answer")
    for mode_id, (name, description, icon) in MODE_OPTIONS.items()
])


def _years(rt: runtime.UIRuntime) -> list[int]:
    years: set[int] = set()
    if rt.assistant is not None:
        try:
            years = {int(d["year"]) for d in rt.assistant.documents() if d.get("year")}
        except Exception:  # index down: the year lists offer "Alla år" only
            logger.warning("could not list document years", exc_info=True)
    if not years:
        return []
    return list(range(min(years), max(years) + 1))


def reachable_backends(rt: runtime.UIRuntime) -> tuple[list[str], list[str]]:
    """(backends to offer, language-model backends left out because /readyz finds them unreachable)."""
    if rt.assistant is None:
        return ["extractive"], []
    checks = rt.assistant.readiness()
    offered, unreachable = [], []
    for name in rt.assistant.backends:
        status = checks.get(f"llm_{name}", "ok")
        (offered if status == "ok" else unreachable).append(name)
    return offered, unreachable


def settings_widgets(rt: runtime.UIRuntime, years: list[int], backends: list[str], unreachable: list[str],
                     current: dict[str, Any] | None = None) -> list:
    current = current or {}
    default_backend = current.get("backend") or rt.settings.backend
    if default_backend not in backends:
        default_backend = "extractive" if "extractive" in backends else backends[0]
    year_items = {"Alla år": ALL_YEARS} | {str(y): str(y) for y in years}

    def year(key: str) -> str:
        value = str(current.get(key) or ALL_YEARS)
        return value if value in year_items.values() else ALL_YEARS

    backend_note = "Om språkmodellen inte svarar används den extraktiva motorn, och svaret säger det."
    if unreachable:
        names = ", ".join(BACKEND_LABELS.get(b, b) for b in unreachable)
        backend_note += f" Visas inte nu eftersom de inte går att nå: {names}."
    # The backend first: on a phone the dialog is taller than the screen and the last field is below the fold.
    return [
        Select(id="backend", label="Svarsmotor",
               items={BACKEND_LABELS.get(b, b): b for b in backends}, initial_value=default_backend,
               description=backend_note),
        MultiSelect(id="doc_types", label="Dokumenttyper",
                    items={DOC_TYPE_LABELS[t]: t for t in get_args(DocType)},
                    initial=list(current.get("doc_types") or []),
                    description="Inget val betyder alla dokumenttyper."),
        Select(id="year_from", label="Från år", items=year_items, initial_value=year("year_from")),
        Select(id="year_to", label="Till år", items=year_items, initial_value=year("year_to")),
    ]


async def _send_settings(current: dict[str, Any] | None = None) -> None:
    rt = runtime.get()
    years = await asyncio.to_thread(_years, rt)
    backends, unreachable = await asyncio.to_thread(reachable_backends, rt)
    await cl.context.emitter.set_modes([ANSWER_MODE])
    await cl.ChatSettings(settings_widgets(rt, years, backends, unreachable, current)).send()


# -- session lifecycle ----------------------------------------------------------------------------
@cl.on_chat_start
async def _start() -> None:
    cl.user_session.set("history", [])
    await _send_settings()


@cl.on_chat_resume
async def _resume(thread: dict[str, Any]) -> None:
    cl.user_session.set("history", history_from_steps(thread.get("steps", [])))
    await _send_settings(cl.user_session.get("chat_settings"))


# -- answering ------------------------------------------------------------------------------------
async def _finish(reply: cl.Message, content: str, *, error: bool = False) -> None:
    """End the (possibly streamed) reply with its final content: send() closes a stream and persists it."""
    reply.content = content
    if error:
        reply.metadata = {"error": True}
        reply.elements = []
    await reply.send()


@cl.on_message
async def _on_message(message: cl.Message) -> None:
    rt = runtime.get()
    reply = cl.Message(content="", author=ASSISTANT_NAME)
    if rt.assistant is None:
        await _finish(reply, MSG_INDEX_DOWN, error=True)
        return
    history: list[Message] = cl.user_session.get("history") or []
    request = build_request(message.content or "", history, cl.user_session.get("chat_settings"),
                            (message.modes or {}).get("mode"))
    problem = check_request(request, rt.settings.api.max_question_chars)
    if problem:
        await _finish(reply, problem, error=True)
        return

    answer: Answer | None = None
    streamed = MarkerStream()  # the [n] markers become chips when the answer is complete
    try:
        async for event in iterate_in_threadpool(rt.assistant.stream(request)):
            if isinstance(event, Token):
                if text := streamed.feed(event.text):
                    await reply.stream_token(text)
            elif isinstance(event, Answer):
                answer = event
        if answer is None:
            raise RuntimeError("the answer stream ended without an answer")
        assistant = rt.assistant

        def lookup(c: Citation) -> dict[str, Any] | None:
            try:
                return assistant.passage(c.doc_id, c.start, c.end, CONTEXT_CHARS)
            except Exception:
                logger.warning("passage %s %d-%d unavailable", c.doc_id, c.start, c.end, exc_info=True)
                return None

        rendered = await asyncio.to_thread(render_answer, answer, lookup)
    except ServiceUnavailable:
        logger.warning("index unavailable while answering", exc_info=True)
        await _finish(reply, MSG_INDEX_DOWN, error=True)
        return
    except InvalidRequest as exc:
        logger.info("invalid request: %s", exc)
        await _finish(reply, MSG_INVALID, error=True)
        return
    except Exception:
        logger.exception("unexpected error while answering")
        await _finish(reply, MSG_UNEXPECTED, error=True)
        return

    reply.elements = [cl.Text(name=s.name, content=s.content, display="side") for s in rendered.sources]
    reply.metadata = {
        "answer_text": answer.text, "backend": answer.backend, "degraded": answer.degraded,
        "refused": answer.refused, "mode": answer.mode,
        "sources": [f"{c.doc_id}:{c.start}-{c.end}" for c in (answer.related if answer.refused else answer.citations)],
    }
    await _finish(reply, rendered.text)
    cl.user_session.set("history", history + [Message(role="user", content=request.question.strip()),
                                              Message(role="assistant", content=answer.text)])
