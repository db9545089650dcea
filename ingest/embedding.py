"""Dense embeddings through sentence-transformers, with the model's own query/document prompts.

EmbeddingGemma's document prompt has a title slot (``title: none | text: ``); we fill it with
the document title and section path, so a chunk about EGIL is found by a question about schools.
Other models get the title line prepended to the text instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.settings import EmbeddingSettings


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
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            out.append(self._encode(batch))
            if on_batch:
                on_batch(len(batch))
        return np.vstack(out) if out else np.zeros((0, self.dimension), dtype=np.float32)

    def embed_query(self, query: str) -> np.ndarray:
        return self._encode([self._query_prompt + query])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)


def _resolve(configured: str | None, prompts: dict[str, str], name: str) -> str:
    if configured is None:
        return prompts.get(name, "")
    return prompts.get(configured, configured)
