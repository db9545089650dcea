"""HTTP API (FastAPI): ask, stream, search, documents, passages, health.

(No `from __future__ import annotations` here: FastAPI must evaluate the route signatures, whose
Query bounds come from the settings in create_app.)

The Assistant is built once per process (the embedding model takes seconds to load) and handed
to routes through a dependency, so tests and the UI can share one instance.

Limits: a body over ``api.max_body_bytes`` is a 413 before it is read; every field has a bound
(assistant.schemas). Requests answered by an LLM run on threads of their own
(``api.llm_request_threads``), so a slow or hanging LLM never delays extractive answers or search.
"""


import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import anyio
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.schemas import (
    MAX_FILTER_VALUES, Answer, AskRequest, DocType, Filters, Name, Passage, Text, Year,
)
from assistant.service import Assistant, InvalidRequest, ServiceUnavailable, Token
from assistant.settings import Settings

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False, description="The same API key, as `Authorization: Bearer <key>`")
_SAFE_METHODS = ("GET", "HEAD")
_END = object()


def get_assistant(request: Request) -> Assistant:
    assistant = request.app.state.assistant
    if assistant is None:
        raise ServiceUnavailable(request.app.state.startup_error or "the assistant is not ready")
    return assistant


def require_access(
    request: Request,
    key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """The one access rule of /v1/*: with ``api.api_key`` set, that key (``X-API-Key`` or
    ``Authorization: Bearer``); a reading request (GET) also passes with a logged-in chat session,
    so the chat's links to passages and original files work. Without a key the API is open."""
    expected = request.app.state.settings.api.api_key
    if expected is None:
        return
    given = key if key is not None else (bearer.credentials if bearer else None)
    # Header values arrive decoded as latin-1: back to their bytes, compared in constant time.
    if given is not None and hmac.compare_digest(given.encode("latin-1"),
                                                 expected.get_secret_value().encode()):
        return
    chat_user: Callable[[Request], str | None] | None = request.app.state.chat_user
    if request.method in _SAFE_METHODS and chat_user is not None and chat_user(request):
        return
    raise HTTPException(status_code=401,
                        detail="missing or wrong API key (X-API-Key or Authorization: Bearer)",
                        headers={"WWW-Authenticate": "Bearer"})


async def _iterate(iterator: Iterator[Any], limiter: anyio.CapacityLimiter | None) -> AsyncIterator[Any]:
    """``iterate_in_threadpool`` on a chosen set of threads."""
    while True:
        item = await anyio.to_thread.run_sync(next, iterator, _END, limiter=limiter)
        if item is _END:
            return
        yield item


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


def create_app(settings: Settings, assistant: Assistant | None = None, startup_error: str | None = None) -> FastAPI:
    app = FastAPI(
        title="Sambruk Assistent API",
        version="0.1.0",
        description="Answers questions about Sambruk from its own documents, with checkable citations.",
        max_body_size=settings.api.max_body_bytes,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.startup_error = startup_error
    app.state.chat_user = None  # ui.mount sets it: the logged-in chat user of a request, or None
    llm_threads = anyio.CapacityLimiter(settings.api.llm_request_threads)

    def threads_for(assistant: Assistant, body: AskRequest) -> anyio.CapacityLimiter | None:
        return llm_threads if assistant.uses_llm(body) else None  # None: the shared default threads

    @app.exception_handler(RequestValidationError)
    async def _malformed(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Without the offending input: it may be megabytes, or a lone surrogate that UTF-8 cannot encode.
        errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(LookupError)
    async def _not_found(_: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc).strip("'\"")})

    v1 = [Depends(require_access)]

    @app.post("/v1/ask", response_model=Answer, dependencies=v1, tags=["answers"])
    async def ask(body: AskRequest, assistant: AssistantDep) -> Answer:
        """A grounded answer with numbered citations, or a refusal with possibly related sources."""
        return await anyio.to_thread.run_sync(assistant.ask, body, limiter=threads_for(assistant, body))

    @app.post("/v1/chat", dependencies=v1, tags=["answers"])
    async def chat(body: AskRequest, assistant: AssistantDep) -> EventSourceResponse:
        """Server-sent events: `token` events as the answer is written, then one `answer` event."""
        await run_in_threadpool(assistant.validate, body)  # bad input is a 422, not a broken stream

        async def events() -> AsyncIterator[dict]:
            try:
                async for event in _iterate(assistant.stream(body), threads_for(assistant, body)):
                    if isinstance(event, Token):
                        yield {"event": "token", "data": json.dumps({"text": event.text}, ensure_ascii=False)}
                    else:
                        yield {"event": "answer", "data": event.model_dump_json()}
            except (ServiceUnavailable, InvalidRequest) as exc:
                yield {"event": "error", "data": json.dumps({"detail": str(exc)}, ensure_ascii=False)}

        return EventSourceResponse(events())

    @app.get("/v1/search", response_model=list[Passage], dependencies=v1, tags=["retrieval"])
    async def search(
        assistant: AssistantDep,
        q: Annotated[Text, Query(min_length=1, max_length=settings.api.max_question_chars)],
        top_k: Annotated[int, Query(ge=1, le=settings.retrieval.max_top_k)] = settings.retrieval.top_k,
        doc_type: Annotated[list[DocType] | None, Query(max_length=MAX_FILTER_VALUES)] = None,
        organisation: Annotated[list[Name] | None, Query(max_length=MAX_FILTER_VALUES)] = None,
        doc_id: Annotated[list[Name] | None, Query(max_length=MAX_FILTER_VALUES)] = None,
        year_from: Annotated[Year | None, Query()] = None,
        year_to: Annotated[Year | None, Query()] = None,
    ) -> list[Passage]:
        """Retrieval only: at most `top_k` ranked passages (fewer when neighbouring chunks merge or
        near-duplicates drop) with their fused score and cosine similarity."""
        if not q.strip():
            raise InvalidRequest("the query is empty")
        filters = Filters(doc_types=doc_type or [], organisations=organisation or [], doc_ids=doc_id or [],
                          year_from=year_from, year_to=year_to)
        assistant.validate_filters(filters)
        return await run_in_threadpool(assistant.search, q.strip(), filters, top_k=top_k)

    @app.get("/v1/documents", dependencies=v1, tags=["documents"])
    async def documents(assistant: AssistantDep) -> list[dict]:
        """The ingested documents with their metadata and chunk counts."""
        return await run_in_threadpool(assistant.documents)

    @app.get("/v1/documents/{doc_id}/passage", dependencies=v1, tags=["documents"])
    async def passage(
        doc_id: str,
        assistant: AssistantDep,
        start: Annotated[int, Query(ge=0, le=2**31)],
        end: Annotated[int, Query(ge=1, le=2**31)],
        context: Annotated[int, Query(ge=0, le=5000)] = 600,
    ) -> dict:
        """A cited span with its surrounding text, for checking a citation."""
        return await run_in_threadpool(assistant.passage, doc_id, start, end, context)

    @app.get("/v1/documents/{doc_id}/file", dependencies=v1, tags=["documents"])
    async def original_file(doc_id: str, assistant: AssistantDep) -> FileResponse:
        """The original corpus file (a PDF opens at a page with `#page=N`)."""
        path = await run_in_threadpool(assistant.source_file, doc_id)
        return FileResponse(path, filename=path.name, content_disposition_type="inline")

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        assistant = request.app.state.assistant
        if assistant is None:
            return JSONResponse(status_code=503, content={"ready": False, "error": request.app.state.startup_error})
        checks = await run_in_threadpool(assistant.readiness)
        return JSONResponse(status_code=200 if checks["ready"] else 503, content=checks)

    return app
