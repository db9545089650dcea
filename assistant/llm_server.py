"""The packaged GGUF behind llama.cpp's OpenAI-compatible HTTP server, in-process via xllamacpp.

The assistant only ever talks to an LLM over the OpenAI API; locally that API is this server, on
127.0.0.1 only. One slot with prompt caching on: every request starts with the same system prompt
and worked example, so llama.cpp reuses their KV cache and only evaluates what follows.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import httpx

from assistant.settings import LocalLLMSettings, Settings


class ModelMissing(FileNotFoundError):
    """The GGUF is not where settings say; it is fetched, never downloaded implicitly."""


def build_params(settings: LocalLLMSettings, model_path: Path):
    """llama.cpp server parameters: one slot, prompt cache on, bounded host-RAM prompt cache."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = settings.n_ctx
    params.n_parallel = 1  # one slot: its KV cache keeps the shared prefix; CPU cannot batch usefully anyway
    params.cpuparams.n_threads = settings.threads
    params.cpuparams_batch.n_threads = settings.threads
    params.cache_prompt = True  # reuse the KV cache of the longest common prefix with the previous request
    params.n_cache_reuse = 64  # and shift-reuse chunks of >= 64 tokens past the first difference
    params.cache_ram_mib = 512  # saved prompt states in RAM; llama.cpp's 8 GiB default is too much here
    params.hostnames = [settings.host]
    params.port = settings.port
    params.ui = False
    params.n_gpu_layers = 0
    return params


def start(settings: LocalLLMSettings, model_path: Path):
    """Load the model and start serving (returns once the HTTP server listens); keep the result alive."""
    if not model_path.is_file():
        raise ModelMissing(f"local LLM weights not found at {model_path}: run `python -m assistant fetch-models`")
    import xllamacpp

    return xllamacpp.Server(build_params(settings, model_path))


def serve(settings: LocalLLMSettings, model_path: Path) -> None:
    """Serve until SIGINT or SIGTERM, then free the model."""
    stop = {signal.SIGINT, signal.SIGTERM}
    # Blocked before the server's threads exist, so they inherit the mask and sigwait() below receives it.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    started = time.perf_counter()
    server = start(settings, model_path)
    print(f"local LLM {model_path.name} serving at http://{settings.host}:{settings.port}/v1 "
          f"(loaded in {time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    received = signal.sigwait(stop)
    print(f"local LLM: {signal.Signals(received).name}, stopping", file=sys.stderr, flush=True)
    del server


def wait_ready(base_url: str, timeout_s: float = 120.0) -> None:
    """Poll /health until the model is loaded; ``base_url`` may end in /v1 (the OpenAI base URL)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{root}/health", timeout=2.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = str(exc) or type(exc).__name__
        time.sleep(0.25)
    raise TimeoutError(f"LLM server at {root} not ready after {timeout_s:.0f} s ({last})")


def main() -> int:
    settings = Settings()
    try:
        serve(settings.local_llm, settings.local_llm_path)
    except ModelMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
