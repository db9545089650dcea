"""Dense embeddings through sentence-transformers, with the model's own query/document prompts.

EmbeddingGemma's document prompt has a title slot (``title: none | text: ``); we fill it with
the document title and section path, so a chunk about EGIL is found by a question about schools.
Other models get the title line prepended to the text instead.

Answer units (sentences, list items, rows) are embedded on their own, with their chunk's title
(document and section) in the title slot. Pooling a unit's tokens out of its chunk's pass ("late
chunking") would have cost nothing extra, but its vectors lean on the chunk's topic: on the dev split
the top 4 units so chosen held the gold terms for 0.34 of the questions, against 0.62 for units
embedded on their own (docs/PERFORMANCE.md, "Answer units at ingest").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.settings import EmbeddingSettings


class EmbeddingModelMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class TitledText:
    title: str
    text: str


class Embedder:
    def __init__(self, model_path: Path, settings: EmbeddingSettings):
        if not (model_path / "modules.json").exists() and not (model_path / "config.json").exists():
            raise EmbeddingModelMissing(
                f"no sentence-transformers model at {model_path}; run `python -m assistant fetch-models` "
                "or set SAMBRUK_EMBEDDING__MODEL to a model folder"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy import, only when a model is used

        self._model = SentenceTransformer(
            str(model_path),
            device=settings.device,
            local_files_only=True,
            truncate_dim=settings.dimension,
        )
        if _use_bfloat16(settings):
            import torch

            self._model.to(torch.bfloat16)
        self.name = model_path.name
        self.batch_size = settings.batch_size
        prompts = self._model.prompts or {}
        self._query_prompt = _resolve(settings.query_prompt, prompts, "query")
        self._document_prompt = _resolve(settings.document_prompt, prompts, "document")
        self.dimension = int(self._model.get_embedding_dimension())

    def document_input(self, item: TitledText) -> str:
        if "title: none" in self._document_prompt:
            return self._document_prompt.replace("title: none", f"title: {item.title}") + item.text
        return f"{self._document_prompt}{item.title}\n{item.text}"

    def embed_documents(
        self, items: Sequence[TitledText], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        texts = [self.document_input(item) for item in items]
        # Batches of similar length waste little on padding (~15 % faster on this corpus).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._encode([texts[i] for i in batch])
            if on_batch:
                on_batch(len(batch))
        return out

    def embed_query(self, query: str) -> np.ndarray:
        return self._encode([self._query_prompt + query])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_tensor=True,
            show_progress_bar=False,
        )
        return vectors.float().cpu().numpy()


def _use_bfloat16(settings: EmbeddingSettings) -> bool:
    if settings.dtype != "auto":
        return settings.dtype == "bfloat16"
    if settings.device != "cpu":
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _resolve(configured: str | None, prompts: dict[str, str], name: str) -> str:
    if configured is None:
        return prompts.get(name, "")
    return prompts.get(configured, configured)
