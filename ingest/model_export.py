"""An ONNX export of the embedding model, made once on this machine and hash-checked before each use.

ONNX Runtime and OpenVINO run the same weights several times faster than PyTorch on these CPUs
(docs/PERFORMANCE.md, "Embedding backends"). sentence-transformers' own ONNX/OpenVINO backends need
optimum-onnx or optimum-intel, which do not accept transformers 5, so the whole sentence-transformers
pipeline (transformer, mean pooling, dense layers, normalization) is exported here with
``torch.onnx.export`` from the verified safetensors: nothing comes from a model hub.

The export lies beside the weights (``<model>-onnx/`` or ``<model>-onnx-int8/``) with a manifest holding
the sha256 of each file it wrote and the size and mtime of the source files it was made from. A file
that no longer matches its sha256, or a source that changed, is exported anew with a message; the
source weights themselves are verified when they are fetched (``python -m assistant fetch-models``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

MANIFEST = "export.json"
GRAPH = "model.onnx"
FORMAT = 1  # changes when the export is made otherwise (the graph's inputs, the quantized layers)

Quantization = Literal["none", "int8"]


class ExportError(RuntimeError):
    pass


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def export_dir(model_path: Path, quantization: Quantization) -> Path:
    suffix = "-onnx-int8" if quantization == "int8" else "-onnx"
    return model_path.parent / f"{model_path.name}{suffix}"


def source_stamp(model_path: Path) -> dict[str, list[int]]:
    """Size and mtime of the files an export is made from: a re-fetched model is exported again."""
    files = sorted(p for p in model_path.rglob("*") if p.is_file() and p.suffix in {".safetensors", ".json"})
    return {p.relative_to(model_path).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns] for p in files}


def problems(folder: Path, model_path: Path, quantization: Quantization) -> list[str]:
    """Why the export in ``folder`` may not be used (empty: it is complete and unchanged)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return [f"no readable {MANIFEST}"]
    found = []
    if manifest.get("format") != FORMAT or manifest.get("quantization") != quantization:
        found.append("made by another version of this export")
    if manifest.get("source") != source_stamp(model_path):
        found.append(f"{model_path} changed since the export")
    for name, expected in (manifest.get("files") or {}).items():
        path = folder / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif sha256_file(path) != expected:
            found.append(f"{name} does not match the sha256 recorded at export")
    if GRAPH not in (manifest.get("files") or {}):
        found.append(f"the manifest names no {GRAPH}")
    return found


def ensure_export(model_path: Path, quantization: Quantization,
                  notify: Callable[[str], None] = lambda _: None) -> Path:
    """The verified ``model.onnx`` for ``model_path``; exported first when missing or not verified."""
    folder = export_dir(model_path, quantization)
    if folder.exists():
        found = problems(folder, model_path, quantization)
        if not found:
            return folder / GRAPH
        notify(f"the ONNX export at {folder} cannot be used ({'; '.join(found)}); exporting it again")
    notify(f"exporting {model_path.name} to ONNX{' (int8)' if quantization == 'int8' else ''} at {folder} "
           "(once; a minute or two and 4 to 7 GB of memory)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-") as tmp_name:
        staged = Path(tmp_name) / folder.name
        staged.mkdir()
        try:
            if quantization == "int8":  # from the float export, itself made first when missing
                _quantize(ensure_export(model_path, "none", notify), staged / GRAPH)
            else:
                _export_float(model_path, staged / GRAPH)
        except ExportError:
            raise
        except Exception as exc:  # the exporter's own errors are many and deep; say which step failed
            raise ExportError(f"exporting {model_path} to ONNX failed ({type(exc).__name__}: {exc}); "
                              "embedding.backend = 'torch' runs the model without an export") from exc
        files = {p.name: sha256_file(p) for p in sorted(staged.iterdir())}
        (staged / MANIFEST).write_text(json.dumps({
            "format": FORMAT, "quantization": quantization, "source": source_stamp(model_path), "files": files,
        }, indent=1) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staged.rename(folder)
    return folder / GRAPH


def _export_float(model_path: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    # Eager attention traces to plain ops; the exported graph computes what sdpa does.
    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True,
                                model_kwargs={"attn_implementation": "eager"}).eval()

    class Pipeline(torch.nn.Module):
        """Token ids and mask in, the normalized sentence embedding out (all modules of the model)."""

        def __init__(self) -> None:
            super().__init__()
            self.st = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.st({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    example = model.tokenizer(["title: a | text: two texts of unequal length", "one"], padding=True,
                              return_tensors="pt")
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    with torch.no_grad():
        torch.onnx.export(
            Pipeline().eval(), (example["input_ids"], example["attention_mask"]), str(target),
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            dynamo=True, external_data=True, verbose=False,
        )


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 (weights per channel, activations per batch) for the linear layers, except the MLP
    output projections: their inputs carry EmbeddingGemma's outlier activations, and quantizing them
    too brought the cosine to float32 from 0.996 down to 0.976 (docs/PERFORMANCE.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    nodes = [node.name for node in graph.node if node.op_type == "MatMul" and node.input[1] in weights
             and not _scope(node).endswith("down_proj")]
    quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes)


def _scope(node) -> str:
    """The module a node was traced from (e.g. ``st.0.model.layers.3.mlp.down_proj``)."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            scopes = json.loads(prop.value.replace("'", '"'))
            return scopes[-2] if len(scopes) > 1 else ""
    return ""
