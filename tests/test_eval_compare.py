"""`python -m eval compare`: the questions a change turned, read from two real `eval run` output folders."""

from __future__ import annotations

from dataclasses import replace

from conftest import ROOT
from eval.__main__ import main
from eval.run import Result, load_gold, write_outputs
from eval.scoring import Outcome


def _outcome(gold, *, missing=(), refused=False, rank=1, supported=True) -> Outcome:
    return Outcome(id=gold.id, type=gold.type, language=gold.language, answerable=gold.answerable,
                   rank=rank, refused=refused, missing=tuple(missing), citations_valid=True,
                   citation_supported=supported, latency_ms=30.0, answer_chars=100)


def test_compare_names_the_questions_a_change_turned(tmp_path, capsys):
    first, second, third = load_gold(ROOT / "eval" / "gold" / "dev.jsonl", 3)
    before = [Result(first, _outcome(first), "a", "extractive", False),
              Result(second, _outcome(second, missing=second.must_include[:1], rank=4), "b", "extractive",
                     False),
              Result(third, _outcome(third), "c", "extractive", False)]
    after = [before[0],
             Result(second, _outcome(second, rank=1), "b, now whole", "extractive", False),
             replace(before[2], outcome=_outcome(third, refused=True, rank=1, supported=False))]
    write_outputs(tmp_path / "before", before, "before")
    write_outputs(tmp_path / "after", after, "after")

    assert main(["compare", str(tmp_path / "before"), str(tmp_path / "after"), "--answers"]) == 0
    out = capsys.readouterr().out
    assert "2 questions moved: 1 now right, 1 now wrong." in out
    assert f"- {second.id} ({second.type}, {second.language}) correct False -> True, rank 4 -> 1" in out
    assert "b, now whole" in out
    assert f"- {third.id} " in out and "refused False -> True" in out and f"- {first.id} " not in out
    assert "| answer_accuracy |" in out


def test_compare_says_what_a_folder_lacks(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "missing"), str(tmp_path / "missing")]) == 2
    assert "metrics.json and results.jsonl" in capsys.readouterr().out
