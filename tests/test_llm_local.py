"""The local LLM end to end: the packaged GGUF served by `python -m assistant.llm_server`, read through
the same OpenAIBackend that talks to any OpenAI-compatible endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from assistant.answering.base import BackendUnavailable
from assistant.answering.llm import OpenAIBackend
from assistant.answering.llm_prompts import build_messages, trim_passages
from assistant.answering.prompts import is_refusal
from assistant.llm_server import wait_ready
from assistant.schemas import Passage
from assistant.settings import LLMSettings, LocalLLMSettings, Settings
from conftest import ROOT, read_corpus
from eval.live_server import free_port

pytestmark = pytest.mark.slow

SLIDES = "sambruk-informationstraff-2026-06-15.txt"
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


def test_local_llm_answers_a_swedish_question_with_a_citation(local_llm_url):
    passages = [
        corpus_passage(SLIDES, "Informationsträff för formella medlemsrepresentanter i Sambruk, 2026-06-15",
                       "presentation", "2026-06-15", "Föreningen Sambruk - nuläge > Sambruk i siffror",
                       "## Sambruk i siffror", "cirka 70 % av Sveriges befolkning"),
        corpus_passage(REPORT_2021, "Sambruk verksamhetsberättelse 2021", "verksamhetsberättelse", "2021",
                       "1.1 Föreningen", "Föreningen har i dagsläget", "befolkning."),
    ]
    local = LocalLLMSettings()
    backend = OpenAIBackend(LLMSettings(base_url=local_llm_url, max_tokens=60, temperature=0.0,
                                        first_token_timeout_s=local.first_token_timeout_s,
                                        deadline_s=local.deadline_s), name="local")
    assert backend.ping()
    text = "".join(backend.stream("Hur många kommuner är medlemmar i Sambruk?", passages, language="sv"))
    assert text.strip()
    assert "[1]" in text or "[2]" in text or "152" in text, text


def test_unreachable_llm_raises_backend_unavailable_quickly():
    backend = OpenAIBackend(LLMSettings(base_url=f"http://127.0.0.1:{free_port()}/v1", first_token_timeout_s=4.0))
    passage = corpus_passage(REPORT_2021, "Sambruk verksamhetsberättelse 2021", "verksamhetsberättelse", "2021",
                             "1.1 Föreningen", "Föreningen har i dagsläget", "befolkning.")
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="unreachable"):
        list(backend.stream("Var har Sambruk sitt säte?", [passage], language="sv"))
    assert time.monotonic() - started < 5
    assert backend.ping() is False
    assert is_refusal("".join(backend.stream("Var har Sambruk sitt säte?", [], language="sv")))


def test_context_is_trimmed_to_the_budget_around_the_relevant_sentence():
    filler = " ".join(f"Punkt {i} gäller något annat." for i in range(60))
    long = filler.replace("Punkt 45 gäller något annat.", "Biblix används av 55 kommuner.")
    passages = [
        corpus_passage(SLIDES, "Informationsträff", "presentation", "2026-06-15", "Sambruk i siffror",
                       "Sambruk i siffror", "kommuner"),
        Passage(doc_id="d", file="f.txt", title="Verksamhetsplan", chunk_ids=["f:0"], section="Biblix",
                start=0, end=len(long), text=long, score=0.5),
        Passage(doc_id="e", file="e.txt", title="Utelämnad", chunk_ids=["e:0"], section="x", start=0, end=1,
                text="x", score=0.1),
    ]
    trimmed = trim_passages("Hur många kommuner använder Biblix?", passages, max_passages=2, max_chars=500)
    assert [p.doc_id for p, _ in trimmed] == ["sambruk-informationstraff-2026-06-15", "d"]
    assert sum(len(text) for _, text in trimmed) <= 500
    assert "152 kommuner" in trimmed[0][1] and "55 kommuner" in trimmed[1][1]
    messages = build_messages("Hur många kommuner använder Biblix?", passages, language="sv",
                              max_passages=2, max_chars=500)
    prefix = build_messages("Vad är Egil?", passages[:1], language="sv", max_passages=2, max_chars=500)[:3]
    assert messages[:3] == prefix  # the constant prefix llama.cpp caches
    assert "[2] Verksamhetsplan — Biblix" in messages[-1]["content"] and "[3]" not in messages[-1]["content"]
