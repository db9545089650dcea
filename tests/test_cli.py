"""`python -m assistant ask` on the real index: the answer, then its sources under a heading in the
question's language."""

from __future__ import annotations

import argparse

import pytest

import assistant.service
from assistant.__main__ import cmd_ask


def ask(question: str, gemma_settings, served, monkeypatch, capsys) -> str:
    # The command builds its own assistant; here it gets the session's, which holds the index open.
    monkeypatch.setattr(assistant.service, "build_assistant", lambda settings: served)
    code = cmd_ask(gemma_settings, argparse.Namespace(question=question, mode="answer", backend=None))
    assert code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("question", "heading", "other"),
    [
        ("Hur många medlemmar har Sambruk idag?", "\nKällor:\n", "Sources:"),
        ("How many members does Sambruk have today?", "\nSources:\n", "Källor:"),
    ],
)
def test_ask_lists_its_sources_under_a_heading_in_the_questions_language(
        question, heading, other, gemma_settings, assistant, monkeypatch, capsys):
    out = ask(question, gemma_settings, assistant, monkeypatch, capsys)
    assert "158" in out.split(heading)[0]
    assert heading in out and other not in out
    assert "[1] Sambruk verksamhetsplan 2026" in out.split(heading)[1]


def test_a_refused_question_lists_possibly_related_sources_in_its_language(
        gemma_settings, assistant, monkeypatch, capsys):
    out = ask("What is the phone number of Sambruk's office in Stockholm?", gemma_settings, assistant,
              monkeypatch, capsys)
    assert out.startswith("The documents do not say.")
    assert "\nPossibly related sources:\n[1] " in out
