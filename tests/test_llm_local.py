"""The local LLM end to end: the packaged GGUF served by `python -m assistant.llm_server`, read through
the same OpenAIBackend that talks to any OpenAI-compatible endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from assistant.answering.base import BackendUnavailable
from assistant.answering.evidence import Evidence, Unit, select
from assistant.answering.llm import OpenAIBackend
from assistant.answering.prompts import is_refusal
from assistant.llm_server import wait_ready
from assistant.schemas import AskRequest, Passage
from assistant.settings import LLMSettings, LocalLLMSettings, Settings
from conftest import ROOT, read_corpus
from eval.live_server import free_port

pytestmark = pytest.mark.slow

REPORT_2021 = "sambruk-verksamhetsberattelse-2021.txt"


def corpus_passage(file: str, title: str, doc_type: str, date: str, section: str, start_marker: str,
                   end_marker: str) -> Passage:
    """A real span of a corpus file, cut between two markers, as retrieval would hand it over."""
    text = read_corpus(file)
    start = text.index(start_marker)
    end = text.index(end_marker, start) + len(end_marker)
    return Passage(doc_id=file.removesuffix(".txt"), file=file, title=title, doc_type=doc_type, date=date,
                   year=int(date[:4]), chunk_ids=[f"{file}:0"], section=section, start=start, end=end,
                   text=text[start:end], score=1.0)


@pytest.fixture(scope="module")
def local_llm_url():
    model_path = Settings().local_llm_path
    if not model_path.is_file():
        pytest.skip(f"local LLM weights absent at {model_path}: run `python -m assistant fetch-models`")
    port = free_port()
    env = {**os.environ, "SAMBRUK_LOCAL_LLM__PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "assistant.llm_server"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(url, timeout_s=180, alive=lambda: process.poll() is None)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_local_llm_answers_a_swedish_question_with_a_citation(local_llm_url, assistant):
    question = "Hur många kommuner är medlemmar i Sambruk?"
    passages = assistant.retrieve(assistant.validate(AskRequest(question=question)))
    evidence = select(question, passages, assistant.settings.answer)
    assert evidence.shape != "refusal"
    local = LocalLLMSettings()
    backend = OpenAIBackend(LLMSettings(base_url=local_llm_url, max_tokens=60, temperature=0.0,
                                        first_token_timeout_s=local.first_token_timeout_s,
                                        deadline_s=local.deadline_s), name="local")
    assert backend.ping()
    text = "".join(backend.stream(question, passages, evidence, language="sv"))
    assert text.strip()
    assert re.search(r"\[\d+\]|\d{3}", text), text


def test_unreachable_llm_raises_backend_unavailable_quickly():
    backend = OpenAIBackend(LLMSettings(base_url=f"http://127.0.0.1:{free_port()}/v1", first_token_timeout_s=4.0))
    passage = corpus_passage(REPORT_2021, "Sambruk verksamhetsberättelse 2021", "verksamhetsberättelse", "2021",
                             "1.1 Föreningen", "Föreningen har i dagsläget", "befolkning.")
    started = time.monotonic()
    said = Unit(0, 0, 0, len(passage.text), "sentence", 0, 1.0, passage.text)
    with pytest.raises(BackendUnavailable, match="unreachable"):
        list(backend.stream("Var har Sambruk sitt säte?", [passage], Evidence("sentences", units=[said]),
                            language="sv"))
    assert time.monotonic() - started < 5
    assert backend.ping() is False
    # Evidence that refuses never reaches the LLM: the refusal comes at once, even with the LLM down.
    assert is_refusal("".join(backend.stream("Var har Sambruk sitt säte?", [], Evidence("refusal"),
                                             language="sv")))
