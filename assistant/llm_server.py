"""The packaged GGUF behind llama.cpp's OpenAI-compatible HTTP server, in-process via xllamacpp.

The assistant only ever talks to an LLM over the OpenAI API; locally that API is this server, on
127.0.0.1 only. One slot with prompt caching on: every request starts with the same system prompt
and worked example, so llama.cpp reuses their KV cache and only evaluates what follows.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from assistant.settings import LocalLLMSettings, Settings

if TYPE_CHECKING:  # imported lazily below: clients of wait_ready() need not load llama.cpp
    import xllamacpp


class LLMServerError(RuntimeError):
    """The server cannot start; the message says what to do."""


class ModelMissing(LLMServerError):
    """The GGUF is not where settings say; it is fetched, never downloaded implicitly."""


def build_params(settings: LocalLLMSettings, model_path: Path) -> xllamacpp.CommonParams:
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
    return params


def start(settings: LocalLLMSettings, model_path: Path) -> xllamacpp.Server:
    """Load the model and start serving (returns once the HTTP server listens); keep the result alive."""
    if not model_path.is_file():
        raise ModelMissing(
            f"local LLM weights not found at {model_path}: run `python -m assistant fetch-models`"
        )
    _check_port_free(settings.host, settings.port)  # before spending seconds loading the model
    import xllamacpp

    try:
        return xllamacpp.Server(build_params(settings, model_path))
    except RuntimeError as exc:  # llama.cpp logs the cause just above
        raise LLMServerError(f"llama.cpp could not start the server for {model_path}: {exc}") from exc


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LLMServerError(
                f"cannot listen on {host}:{port} ({exc.strerror}): is another LLM server running? "
                "Stop it or set SAMBRUK_LOCAL_LLM__PORT"
            ) from exc


def serve(settings: LocalLLMSettings, model_path: Path) -> None:
    """Serve until SIGINT or SIGTERM, then free the model."""
    stop = {signal.SIGINT, signal.SIGTERM}
    # Blocked before the server's threads exist, so they inherit the mask and sigwait() below receives it.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    try:
        started = time.perf_counter()
        server = start(settings, model_path)
        print(f"local LLM {model_path.name} serving at http://{settings.host}:{settings.port}/v1 "
              f"(loaded in {time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
        received = signal.sigwait(stop)
        print(f"local LLM: {signal.Signals(received).name}, stopping", file=sys.stderr, flush=True)
        del server  # joins llama.cpp's threads and frees the model
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def wait_ready(base_url: str, timeout_s: float = 120.0, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll /health until the model is loaded; ``base_url`` may end in /v1 (the OpenAI base URL).

    ``alive`` (e.g. ``lambda: process.poll() is None``) stops the wait as soon as a server process died.
    """
    root = base_url.rstrip("/").removesuffix("/v1")
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not alive():
            raise LLMServerError(f"the LLM server for {root} exited before it was ready (see its log)")
        try:
            response = httpx.get(f"{root}/health", timeout=2.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = str(exc) or type(exc).__name__
        time.sleep(0.25)
    raise TimeoutError(f"LLM server at {root} not ready after {timeout_s:.0f} s ({last})")


def main(settings: Settings | None = None) -> int:
    settings = settings or Settings()
    try:
        serve(settings.local_llm, settings.local_llm_path)
    except LLMServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
