"""The embedding backends: an ONNX export of the real model runs in ONNX Runtime / OpenVINO, agrees
with PyTorch, and is hash-checked before use (ingest.model_export)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import read_corpus
from pydantic import ValidationError
from test_ingest import minilm_dir

from ingest.embedding import Embedder, TitledText, index_name
from ingest.model_export import GRAPH, ensure_export, export_dir, problems
from ingest.settings import EmbeddingSettings


def corpus_sentences(count: int) -> list[str]:
    """Real sentences of the corpus (lines long enough to say something), spread over a document."""
    lines = [line.strip() for line in read_corpus("sambruk-verksamhetsplan-2026.txt").splitlines()
             if len(line.split()) >= 8]
    return lines[:: max(1, len(lines) // count)][:count]


@pytest.mark.slow
def test_openvino_vectors_agree_with_torch(gemma_settings):
    path = gemma_settings.embedding_model_path
    torch_model = Embedder(path, gemma_settings.embedding.model_copy(update={"backend": "torch"}))
    graph_model = Embedder(path, gemma_settings.embedding.model_copy(update={"backend": "openvino"}))
    sentences = corpus_sentences(6)
    assert len(sentences) == 6
    queries = [(torch_model.embed_query(s), graph_model.embed_query(s)) for s in sentences]
    documents = zip(*(m.embed_documents([TitledText("Sambruk verksamhetsplan 2026", s) for s in sentences])
                      for m in (torch_model, graph_model)), strict=True)
    cosines = [float(a @ b) for a, b in [*queries, *documents]]
    assert min(cosines) >= 0.999, cosines
    # Same vectors within rounding: an index built by one backend is queried by the other.
    assert graph_model.name == torch_model.name


@pytest.fixture()
def small_model(tmp_path):
    """A copy of the small real model, so its export lands in tmp_path."""
    target = tmp_path / "models" / "minilm"
    shutil.copytree(minilm_dir(), target)
    return target


def test_export_is_verified_before_use_and_made_again_when_changed(small_model):
    messages: list[str] = []
    graph = ensure_export(small_model, "none", messages.append)
    assert graph.parent == export_dir(small_model, "none") and graph.name == GRAPH
    assert problems(graph.parent, small_model, "none") == []
    settings = EmbeddingSettings(model=str(small_model), backend="onnx")
    reference = Embedder(small_model, settings).embed_query("Vilka kommuner är medlemmar i Sambruk?")

    data = next(p for p in graph.parent.iterdir() if p.name.startswith(GRAPH) and p.stat().st_size > 1e6)
    with data.open("r+b") as handle:  # one flipped byte deep in the weights
        handle.seek(data.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    assert problems(graph.parent, small_model, "none") == [f"{data.name} does not match the sha256 recorded at export"]

    messages.clear()
    again = Embedder(small_model, settings, notify=messages.append)
    assert any("cannot be used" in m and data.name in m for m in messages), messages
    assert problems(graph.parent, small_model, "none") == []
    assert float(again.embed_query("Vilka kommuner är medlemmar i Sambruk?") @ reference) > 0.9999

    (small_model / "config.json").write_text((small_model / "config.json").read_text() + "\n")
    assert problems(graph.parent, small_model, "none") == [f"{small_model} changed since the export"]


def test_int8_is_another_index_and_needs_an_export():
    assert index_name(minilm_dir(), EmbeddingSettings(backend="onnx", quantization="int8")) == \
        index_name(minilm_dir(), EmbeddingSettings()) + "+int8"
    assert index_name(minilm_dir(), EmbeddingSettings(backend="openvino")) == minilm_dir().name
    with pytest.raises(ValidationError, match="needs backend"):
        EmbeddingSettings(backend="torch", quantization="int8")


def test_the_export_computes_what_torch_computes(small_model):
    # In float32 on every backend, so that what is compared is the exported graph, not the precision.
    sentences = corpus_sentences(8)
    vectors = {backend: Embedder(small_model, EmbeddingSettings(model=str(small_model), backend=backend,
                                                                dtype="float32"))
               .embed_documents([TitledText("Sambruk", s) for s in sentences])
               for backend in ("torch", "onnx", "openvino")}
    for backend in ("onnx", "openvino"):
        cosines = np.sum(vectors[backend] * vectors["torch"], axis=1)
        assert cosines.min() > 0.9999, (backend, cosines)


def test_int8_is_quantized_from_the_verified_float_export(small_model):
    messages: list[str] = []
    graph = ensure_export(small_model, "int8", messages.append)
    assert graph.parent == export_dir(small_model, "int8") != export_dir(small_model, "none")
    assert problems(graph.parent, small_model, "int8") == []
    assert problems(export_dir(small_model, "none"), small_model, "none") == []  # made on the way
    sentences = corpus_sentences(4)
    vectors = [Embedder(small_model, EmbeddingSettings(model=str(small_model), backend="onnx", quantization=q))
               .embed_documents([TitledText("Sambruk", s) for s in sentences]) for q in ("none", "int8")]
    cosines = np.sum(vectors[0] * vectors[1], axis=1)
    assert 0.95 < cosines.min() and cosines.max() < 0.99999, cosines  # close, and really quantized
