"""`python -m ui`: the composition root, the one place that knows both the API and the chat.

Builds the assistant, its HTTP API (``assistant.api``) and mounts the Chainlit chat on it, then
serves both on settings.api.host:port. ``--no-ui`` serves the API alone.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from assistant.settings import Settings, load_settings
from ui.mount import mount_ui

console = Console(stderr=True)


def serve(settings: Settings, args: argparse.Namespace) -> int:
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
        try:
            mount_ui(app, settings, assistant)
        except ValueError as exc:  # a configuration the chat must not run with
            console.print(f"[red]error:[/] {exc}")
            return 2
    console.print(f"API docs: http://{settings.api.host}:{settings.api.port}/docs"
                  + ("" if args.no_ui else f"  ·  Chat: http://{settings.api.host}:{settings.api.port}/chat"))
    uvicorn.run(app, host=settings.api.host, port=settings.api.port, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description=__doc__.splitlines()[0])
    parser.add_argument("--no-ui", action="store_true", help="serve the API only, without the chat")
    args = parser.parse_args(argv)
    settings = load_settings(lambda problem: console.print(f"[red]{problem}[/]", markup=True))
    if settings is None:
        return 2
    return serve(settings, args)


if __name__ == "__main__":
    sys.exit(main())
