"""The index layer's settings: corpus, models, Qdrant, chunking (see ``assistant.settings.Settings``).

Values come, in rising priority, from the defaults here, an optional TOML file
(``SAMBRUK_CONFIG`` or ``./sambruk.toml``) and ``SAMBRUK_*`` environment variables
(nested fields use ``__``: ``SAMBRUK_QDRANT__URL``). Code receives a settings instance as an
argument; nothing deep inside reads the environment itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_models_dir() -> Path:
    # Outside the checkout, so a clean clone (CI) reuses weights already fetched and verified.
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "sambruk-assistent" / "models"


class EmbeddingSettings(BaseModel):
    # A folder name under models_dir, or a path to any sentence-transformers model folder.
    model: str = "embeddinggemma-300m"
    # Prompt names or literal prefixes; None uses the model's own prompts when it has them.
    query_prompt: str | None = None
    document_prompt: str | None = None
    # Matryoshka truncation (EmbeddingGemma supports 512/256/128); None keeps the full size.
    dimension: int | None = None
    # Padded tokens per batch at ingest: texts sorted by token count and packed up to this many, so
    # short answer units go in large batches and long chunks in small ones. An 800-text sample with
    # OpenVINO (2026-12-01): 16 texts per batch 28.2 s, 2048 tokens 21.0 s (1024: 22.6, 4096: 21.6).
    batch_tokens: int = 2048
    device: str = "cpu"
    # bfloat16 is ~1.6x faster on CPUs with AVX512-BF16/AMX and within 0.998 cosine of float32;
    # "auto" uses it only where the CPU has those instructions (float16 breaks EmbeddingGemma).
    # It applies to the torch and openvino backends; onnx runs float32.
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # What runs the model: PyTorch through sentence-transformers, or an ONNX export of the same weights
    # made once on this machine (ingest.model_export) run by ONNX Runtime or OpenVINO. OpenVINO: 1.7x
    # PyTorch's speed at ingest, far less slowdown when other work shares the cores, and on an index it
    # built every dev metric equal to PyTorch's, test hit@1 +0.013 (2026-12-01, docs/PERFORMANCE.md).
    backend: Literal["torch", "onnx", "openvino"] = "openvino"
    # int8: dynamic int8 linear layers (onnx/openvino only); its vectors make an index of their own.
    quantization: Literal["none", "int8"] = "none"

    @model_validator(mode="after")
    def _quantization_needs_export(self) -> EmbeddingSettings:
        if self.quantization != "none" and self.backend == "torch":
            raise ValueError(f"embedding.quantization {self.quantization!r} needs backend 'onnx' or 'openvino'")
        return self


class QdrantSettings(BaseModel):
    # Embedded by default: Qdrant Edge, in process, in the folder `path`. Set url (and api_key) to use a
    # Qdrant server or cluster through qdrant-client. engine "client" without url is qdrant-client's
    # local mode in `path` (the server's client API without a server; brute force, for tests).
    path: Path = Path("data/qdrant")
    url: str | None = None
    engine: Literal["edge", "client"] = "edge"
    api_key: SecretStr | None = None
    collection: str = "sambruk"
    timeout_s: float = 10.0


class ChunkSettings(BaseModel):
    target_tokens: int = 260
    max_tokens: int = 350
    overlap_tokens: int = 30
    min_tokens: int = 25


class IngestSettings(BaseModel):
    # A .txt/.md file above this size is reported as failed instead of embedded for hours.
    max_text_file_bytes: int = 5_000_000


class IndexSettings(BaseSettings):
    """What building and reading the index needs: the corpus, the models, Qdrant, chunking.

    The assistant's ``Settings`` extends it, so the one settings object reaches ingest too; ingest
    itself never needs (or imports) the assistant's part.
    """

    model_config = SettingsConfigDict(
        env_prefix="SAMBRUK_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    corpus_dir: Path = Path("corpus")
    catalog_file: Path = Path("corpus/catalog.toml")
    data_dir: Path = Path("data")
    models_dir: Path = Field(default_factory=_default_models_dir)

    embedding: EmbeddingSettings = EmbeddingSettings()
    qdrant: QdrantSettings = QdrantSettings()
    chunking: ChunkSettings = ChunkSettings()
    ingest: IngestSettings = IngestSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("SAMBRUK_CONFIG", "sambruk.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @property
    def embedding_model_path(self) -> Path:
        candidate = Path(self.embedding.model).expanduser()
        if candidate.is_absolute() or candidate.exists():
            return candidate
        return self.models_dir / self.embedding.model
