"""OpenAI-compatible `/v1/chat/completions` and `/v1/models`, so existing chat clients use the assistant.

The reply is the grounded answer of `/v1/ask` (``Assistant.ask``, the one code path) as plain text: the
answer with its ``[n]`` markers, then the sources with a link to each cited passage. The structured
citations travel beside it in the extra field ``citations`` (the rest of the Answer in ``sambruk``),
which OpenAI clients ignore. A stream sends that same text in pieces once the answer is grounded: an
LLM's text can still be renumbered, replaced by the extractive answer or refused after its last token,
and the concatenated deltas must equal the non-streaming reply.

(No `from __future__ import annotations`: FastAPI must resolve the route signatures built in
`openai_router`.)
"""

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException

from assistant.answering.prompts import PAGE, RELATED_HEADING, SOURCES_HEADING
from assistant.schemas import Answer, AskRequest, Citation, Mode
from assistant.service import Assistant, InvalidRequest, ServiceUnavailable

MODELS: dict[str, Mode] = {"sambruk-assistent": "answer", "sambruk-assistent-utkast": "draft"}


class UnknownModel(LookupError):
    """A model id this server does not offer (HTTP 404, code model_not_found)."""


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """The fields of OpenAI's request that clients send; the rest (top_p, stop, user, ...) is ignored.

    ``max_tokens`` and ``temperature`` are accepted and checked but do not change the answer: its
    length and wording are those of the grounded answer, whose backend the server chooses.
    """

    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    n: int = Field(default=1, ge=1, le=1, description="only one choice is offered")


def _text(message: ChatMessage) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    other = sorted({part.type for part in message.content if part.type != "text"})
    if other:
        raise InvalidRequest(f"only text content is supported, not {', '.join(other)}")
    return "\n".join(part.text or "" for part in message.content)


def model_mode(model: str) -> Mode:
    if model not in MODELS:
        raise UnknownModel(f"The model '{model}' does not exist; available: {', '.join(MODELS)}")
    return MODELS[model]


def ask_request(body: ChatCompletionRequest) -> AskRequest:
    """The last message is the question, earlier user and assistant turns the history.

    System and developer messages are ignored: what the assistant may say comes from the documents.
    """
    mode = model_mode(body.model)
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise InvalidRequest("the last message (after system messages) must be the user's question")
    history = [{"role": m.role, "content": _text(m)} for m in turns[:-1]]
    return AskRequest.model_validate({"question": _text(turns[-1]), "history": history, "mode": mode})


def reply_text(answer: Answer, base_url: str) -> str:
    """The answer, then its sources (on a refusal, the possibly related ones) as plain-text lines.

    A staff draft is returned as written: it already closes with its numbered sources, ready to send.
    """
    sources = answer.related if answer.refused else answer.citations
    if answer.mode == "draft" or not sources:
        return answer.text
    heading = (RELATED_HEADING if answer.refused else SOURCES_HEADING)[answer.language]
    lines = [source_line(c, answer.language, base_url) for c in sources]
    return f"{answer.text}\n\n{heading}\n" + "\n".join(lines)


def source_line(citation: Citation, language: str, base_url: str) -> str:
    """`- [n] title, section, page, date: link`: a list item in markdown, a plain line elsewhere."""
    details = [citation.title, citation.section] if citation.section else [citation.title]
    if citation.page is not None:
        details.append(f"{PAGE[language]} {citation.page}")
    if citation.date and citation.date not in citation.title:  # "Verksamhetsplan 2026" is dated already
        details.append(citation.date)
    link = (f"{base_url}/v1/documents/{quote(citation.doc_id, safe='')}/passage"
            f"?start={citation.start}&end={citation.end}")
    return f"- [{citation.n}] {', '.join(details)}: {link}"


def _extras(answer: Answer) -> dict[str, Any]:
    return {"citations": [c.model_dump(mode="json") for c in answer.citations],
            "sambruk": answer.model_dump(mode="json", exclude={"text", "citations"})}


def completion(answer: Answer, text: str, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                     "finish_reason": "stop"}],
        **_extras(answer),
    }


def chunks(answer: Answer, text: str, model: str) -> list[dict[str, Any]]:
    """The role, one delta per line of the reply, then the stop chunk with the citations."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def chunk(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**head, "choices": [choice]}

    pieces = re.findall(r"[^\n]*\n*", text)[:-1] or [""]  # the last match is always empty
    return [chunk({"role": "assistant", "content": ""}), *(chunk({"content": p}) for p in pieces),
            {**chunk({}, "stop"), **_extras(answer)}]


async def _sse(events: list[dict[str, Any]]) -> AsyncIterator[str]:
    for event in events:
        yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def openai_error(status: int, message: str, param: str | None = None) -> JSONResponse:
    """OpenAI's error body, with its type and code for the status, so SDKs raise the matching error."""
    kind, code = {
        401: ("invalid_request_error", "invalid_api_key"),
        404: ("invalid_request_error", "model_not_found"),
        503: ("server_error", "service_unavailable"),
    }.get(status, ("invalid_request_error" if status < 500 else "server_error", None))
    return JSONResponse(status_code=status,
                        content={"error": {"message": message, "type": kind, "param": param, "code": code}})


def _validation_error(errors: list[dict[str, Any]]) -> JSONResponse:
    where = [".".join(str(part) for part in e["loc"] if part != "body") for e in errors]
    message = "; ".join(f"{w}: {e['msg']}" if w else e["msg"] for w, e in zip(where, errors, strict=True))
    return openai_error(400, message, (where[0] or None) if where else None)


class OpenAIRoute(APIRoute):
    """Every error of these routes, the auth dependency's and request validation's included, in OpenAI's
    shape (the rest of the API keeps FastAPI's ``{"detail": ...}``)."""

    def get_route_handler(self) -> Callable:
        handle = super().get_route_handler()

        async def route(request: Request) -> Any:
            try:
                return await handle(request)
            except (RequestValidationError, ValidationError) as exc:
                return _validation_error(list(exc.errors()))
            except InvalidRequest as exc:
                return openai_error(400, str(exc))
            except UnknownModel as exc:
                return openai_error(404, str(exc), "model")
            except ServiceUnavailable as exc:
                return openai_error(503, str(exc))
            except HTTPException as exc:
                return openai_error(exc.status_code, str(exc.detail))

        return route


def openai_router(get_assistant: Callable[[Request], Assistant],
                  answer: Callable[[Assistant, AskRequest], Awaitable[Answer]]) -> APIRouter:
    """The routes; the app includes them behind its access rule and hands in its assistant and the
    way it runs an answer (LLM answers on their own threads, so they never starve extractive ones)."""
    router = APIRouter(route_class=OpenAIRoute, tags=["OpenAI-compatible"])
    started = int(time.time())
    AssistantDep = Annotated[Assistant, Depends(get_assistant)]

    def model_card(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": started, "owned_by": "sambruk"}

    @router.get("/v1/models")
    async def list_models() -> dict:
        """`sambruk-assistent` answers; `sambruk-assistent-utkast` writes staff drafts."""
        return {"object": "list", "data": [model_card(m) for m in MODELS]}

    @router.get("/v1/models/{model_id}")
    async def retrieve_model(model_id: str) -> dict:
        model_mode(model_id)
        return model_card(model_id)

    @router.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: ChatCompletionRequest, request: Request,
                               assistant: AssistantDep) -> JSONResponse | StreamingResponse:
        """The grounded answer as an OpenAI chat completion, streamed (`stream: true`) or not."""
        reply = await answer(assistant, ask_request(body))
        text = reply_text(reply, str(request.base_url).rstrip("/"))
        if not body.stream:
            return JSONResponse(completion(reply, text, body.model))
        return StreamingResponse(_sse(chunks(reply, text, body.model)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router
