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

import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.model_export import ExportError, ensure_export
from ingest.settings import EmbeddingSettings


class EmbeddingModelMissing(RuntimeError):
    """No model at the configured place, or its ONNX export could not be made."""


@dataclass(frozen=True)
class TitledText:
    title: str
    text: str


class Embedder:
    def __init__(self, model_path: Path, settings: EmbeddingSettings,
                 notify: Callable[[str], None] = lambda text: print(text, file=sys.stderr)):
        if not (model_path / "modules.json").exists() and not (model_path / "config.json").exists():
            raise EmbeddingModelMissing(
                f"no sentence-transformers model at {model_path}; run `python -m assistant fetch-models` "
                "or set SAMBRUK_EMBEDDING__MODEL to a model folder"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if settings.backend == "torch":
            self._runner: _TorchRunner | _GraphRunner = _TorchRunner(model_path, settings)
        else:
            try:
                graph = ensure_export(model_path, settings.quantization, notify)
            except ExportError as exc:
                raise EmbeddingModelMissing(str(exc)) from exc
            self._runner = _GraphRunner(model_path, graph, settings)
        self.name = index_name(model_path, settings)
        self.batch_tokens = settings.batch_tokens
        prompts = _model_prompts(model_path)
        self._query_prompt = _resolve(settings.query_prompt, prompts, "query")
        self._document_prompt = _resolve(settings.document_prompt, prompts, "document")
        self.dimension = self._runner.dimension
        # One answer embeds its question for retrieval, for headings, and for each document a list is
        # searched in: the vector is remembered.
        self.embed_query: Callable[[str], np.ndarray] = functools.lru_cache(maxsize=256)(self._embed_query)

    def document_input(self, item: TitledText) -> str:
        if "title: none" in self._document_prompt:
            return self._document_prompt.replace("title: none", f"title: {item.title}") + item.text
        return f"{self._document_prompt}{item.title}\n{item.text}"

    def embed_documents(
        self, items: Sequence[TitledText], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        texts = [self.document_input(item) for item in items]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for batch in token_batches(self._runner.token_counts(texts), self.batch_tokens):
            out[batch] = self._encode([texts[i] for i in batch])
            if on_batch:
                on_batch(len(batch))
        return out

    def _embed_query(self, query: str) -> np.ndarray:
        vector = self._encode([self._query_prompt + query])[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        return vector

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._runner.encode(texts)


def token_batches(counts: Sequence[int], budget: int) -> list[list[int]]:
    """Indexes sorted by token count, packed so that a batch padded to its longest text stays within
    ``budget`` tokens (a text longer than the budget goes alone): little is spent on padding."""
    batches: list[list[int]] = []
    for i in sorted(range(len(counts)), key=counts.__getitem__):
        if batches and (len(batches[-1]) + 1) * counts[i] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


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


def index_name(model_path: Path, settings: EmbeddingSettings) -> str:
    """What the index records as its embedding model. The float backends agree with each other to
    0.9999 cosine and share one name; int8 moves vectors to about 0.996, so its index is another."""
    return model_path.name + ("+int8" if settings.quantization == "int8" else "")


def _model_prompts(model_path: Path) -> dict[str, str]:
    """The model's own prompts, as sentence-transformers reads them (none when the file is absent)."""
    config = model_path / "config_sentence_transformers.json"
    return json.loads(config.read_text()).get("prompts") or {} if config.exists() else {}


def _token_counts(tokenizer, texts: list[str], limit: int | None) -> list[int]:
    if not texts:
        return []  # the tokenizer fails on an empty batch
    counts = [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
    return [min(count, limit) for count in counts] if limit else counts


class _TorchRunner:
    """The model in PyTorch through sentence-transformers (bfloat16 where the CPU computes it natively)."""

    def __init__(self, model_path: Path, settings: EmbeddingSettings):
        from sentence_transformers import SentenceTransformer  # heavy import, only when a model is used

        self._model = SentenceTransformer(str(model_path), device=settings.device, local_files_only=True,
                                          truncate_dim=settings.dimension)
        if _use_bfloat16(settings):
            import torch

            self._model.to(torch.bfloat16)
        self.dimension = int(self._model.get_embedding_dimension())

    def token_counts(self, texts: list[str]) -> list[int]:
        return _token_counts(self._model.tokenizer, texts, self._model.get_max_seq_length())

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, convert_to_tensor=True,
            show_progress_bar=False,
        )
        return vectors.float().cpu().numpy()


class _GraphRunner:
    """The exported pipeline (ingest.model_export) in ONNX Runtime or OpenVINO, fed by the model's own
    tokenizer with its sequence limit; Matryoshka truncation renormalizes as sentence-transformers does."""

    def __init__(self, model_path: Path, graph: Path, settings: EmbeddingSettings):
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        config = model_path / "sentence_bert_config.json"
        st_config = json.loads(config.read_text()) if config.exists() else {}
        self._max_length = st_config.get("max_seq_length") or self._tokenizer.model_max_length
        self._lower = bool(st_config.get("do_lower_case"))
        if settings.backend == "onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
            self._run = lambda feed: session.run(None, feed)[0]
        else:
            import openvino

            core = openvino.Core()
            # The same rule as PyTorch's dtype: bfloat16 only where the CPU computes it natively.
            precision = "bf16" if _use_bfloat16(settings) else "f32"
            compiled = core.compile_model(core.read_model(str(graph)), "CPU",
                                          {"INFERENCE_PRECISION_HINT": precision})
            request, lock = compiled.create_infer_request(), threading.Lock()

            def run(feed: dict[str, np.ndarray]) -> np.ndarray:
                with lock:  # one infer request, and queries may come from several threads
                    return request.infer(feed)[0].copy()

            self._run = run
        self.dimension = settings.dimension or int(self._infer(["dimension"]).shape[1])

    def token_counts(self, texts: list[str]) -> list[int]:
        return _token_counts(self._tokenizer, texts, self._max_length)

    def _infer(self, texts: list[str]) -> np.ndarray:
        tokens = self._tokenizer([t.lower() for t in texts] if self._lower else texts, padding=True,
                                 truncation=True, max_length=self._max_length, return_tensors="np")
        return self._run({"input_ids": tokens["input_ids"].astype(np.int64),
                          "attention_mask": tokens["attention_mask"].astype(np.int64)})

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._infer(texts)[:, : self.dimension].astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
