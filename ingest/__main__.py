"""`python -m ingest`: bring the Qdrant index in line with the corpus folder."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ingest.settings import IndexSettings
from ingest.catalog import CatalogError
from ingest.embedding import Embedder, EmbeddingModelMissing
from ingest.pipeline import IngestReport, Ingestor
from ingest.pipeline import Progress as PipelineProgress
from ingest.store import IndexMismatch, IndexUnavailable, open_store


class RichProgress(PipelineProgress):
    def __init__(self, console: Console):
        self.console = console
        self.bar = Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        )
        self.task = None

    def start_embedding(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("embedding chunks and answer units", total=total)

    def advance(self, n: int) -> None:
        self.bar.advance(self.task, n)

    def message(self, text: str) -> None:
        self.bar.console.print(text)

    def stop(self) -> None:
        self.bar.stop()


class LineProgress(PipelineProgress):
    """Progress as plain lines every few seconds, for logs and CI, where a live bar cannot redraw."""

    def __init__(self, console: Console, every_s: float = 10.0):
        self.console = console
        self.every_s = every_s
        self.total = self.done = 0
        self.started = self.last = 0.0

    def start_embedding(self, total: int) -> None:
        self.total, self.done = total, 0
        self.started = self.last = time.monotonic()
        self.console.print(f"embedding {total} texts (chunks and answer units)")

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every_s or self.done >= self.total:
            self.last = now
            self.console.print(f"embedded {self.done}/{self.total} texts "
                               f"({100 * self.done / max(self.total, 1):.0f} %, {now - self.started:.0f} s)")

    def message(self, text: str) -> None:
        self.console.print(text)

    def stop(self) -> None:
        pass


def build_ingestor(settings: IndexSettings) -> Ingestor:
    return Ingestor(settings, open_store(settings.qdrant),
                    lambda: Embedder(settings.embedding_model_path, settings.embedding))


def summary_table(report: IngestReport) -> Table:
    table = Table(title="Ingest summary", show_header=False)
    for key, value in report.as_dict().items():
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        elif isinstance(value, list):
            value = ", ".join(value) or "none"
        table.add_row(key.replace("_", " "), str(value))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("--rebuild", action="store_true", help="drop the collection and ingest everything anew")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    settings = IndexSettings()
    progress = RichProgress(console) if console.is_terminal else LineProgress(console)
    try:
        ingestor = build_ingestor(settings)
    except IndexUnavailable as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    try:
        report = ingestor.run(rebuild=args.rebuild, progress=progress)
    except (IndexUnavailable, IndexMismatch, EmbeddingModelMissing, CatalogError, FileNotFoundError) as exc:
        progress.stop()
        console.print(f"[red]error:[/] {exc}")
        return 2
    finally:
        ingestor.store.close()
    progress.stop()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        console.print(summary_table(report))
    for rel, reason in report.failed.items():
        console.print(f"[red]failed:[/] {rel}: {reason}")
    for rel, sentences in report.instructions.items():
        console.print(f"[yellow]instructions to an assistant in {rel}[/] (indexed, never used as evidence):")
        for sentence in sentences:
            console.print(f"  {sentence}", markup=False)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
