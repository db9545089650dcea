"""eval/thresholds.json: one set of limits per gold split, limits that only ever tighten over git history."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from eval import thresholds
from eval.scoring import METRIC_KEYS

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = ROOT / "eval" / "thresholds.json"
RELATIVE = "eval/thresholds.json"


def document(dev: dict, test: dict | None = None, provisional: tuple[str, ...] = ()) -> str:
    doc: dict = {"dev": dev}
    if test is not None:
        doc["test"] = test
    if provisional:
        doc[thresholds.PROVISIONAL] = list(provisional)
    return json.dumps(doc)


# -- the file -----------------------------------------------------------------------------------------

def test_every_gold_split_has_limits_for_every_metric():
    text = THRESHOLDS.read_text(encoding="utf-8")
    splits = thresholds.parse(text)
    gold_files = {path.stem for path in (ROOT / "eval" / "gold").glob("*.jsonl")}
    assert set(splits) == gold_files == {"dev", "test"}
    for name, limits in splits.items():
        assert set(limits) == set(METRIC_KEYS), name
    assert thresholds.provisional(text) <= set(splits)


def test_for_split_names_the_splits_it_has(tmp_path):
    path = tmp_path / "thresholds.json"
    path.write_text(document({"answer_accuracy": 0.5}), encoding="utf-8")
    assert thresholds.for_split(path, "dev") == {"answer_accuracy": 0.5}
    with pytest.raises(KeyError, match=r"no thresholds for split 'test'.*\['dev'\]"):
        thresholds.for_split(path, "test")


def test_the_older_flat_file_reads_as_the_dev_split():
    flat = json.dumps({"answer_accuracy": 0.75, "latency_p50_ms": 500})
    assert thresholds.parse(flat) == {"dev": {"answer_accuracy": 0.75, "latency_p50_ms": 500}}
    assert thresholds.provisional(flat) == set()


# -- the ratchet, on hand-made documents -------------------------------------------------------------

def test_loosened_flags_lower_minimums_higher_maximums_and_dropped_checks():
    earlier = document({"answer_accuracy": 0.75, "latency_p95_ms": 1500, "answer_chars_p50": 500,
                        "refusal_recall": 0.7, "questions": 80})
    current = document({"answer_accuracy": 0.74, "latency_p95_ms": 1600, "answer_chars_p50": 501,
                        "refusal_recall": None})
    assert thresholds.loosened(earlier, current) == [
        "dev.answer_accuracy: 0.74 below the minimum 0.75",
        "dev.latency_p95_ms: 1600 above the maximum 1500",
        "dev.answer_chars_p50: 501 above the maximum 500",
        "dev.refusal_recall: no value (limit 0.7)",
        "dev.questions: no value (limit 80)",
    ]


def test_loosened_accepts_tightening_and_new_checks():
    earlier = document({"answer_accuracy": 0.75, "latency_p95_ms": 1500, "answer_chars_p50": None})
    current = document({"answer_accuracy": 0.8, "latency_p95_ms": 900, "answer_chars_p50": 450},
                       {"answer_accuracy": 0.6})
    assert thresholds.loosened(earlier, current) == []


def test_a_provisional_split_binds_only_once_it_is_no_longer_provisional():
    placeholder = document({"answer_accuracy": 0.75}, {"answer_accuracy": 0.75}, provisional=("test",))
    measured = document({"answer_accuracy": 0.75}, {"answer_accuracy": 0.62})
    lowered = document({"answer_accuracy": 0.75}, {"answer_accuracy": 0.61})
    assert thresholds.loosened(placeholder, measured) == []
    assert thresholds.loosened(measured, lowered) == ["test.answer_accuracy: 0.61 below the minimum 0.62"]
    # marking a split provisional again does not free it from the versions before
    assert thresholds.loosened(measured, document({"answer_accuracy": 0.75}, {"answer_accuracy": 0.5},
                                                  provisional=("test",))) != []


def test_a_flat_earlier_file_binds_the_dev_split():
    flat = json.dumps({"answer_accuracy": 0.75, "latency_p50_ms": 500})
    assert thresholds.loosened(flat, document({"answer_accuracy": 0.75, "latency_p50_ms": 500})) == []
    assert thresholds.loosened(flat, document({"answer_accuracy": 0.7, "latency_p50_ms": 500})) == [
        "dev.answer_accuracy: 0.7 below the minimum 0.75"]


# -- the ratchet, on the real history -------------------------------------------------------------------

def committed_versions() -> list[tuple[str, str]]:
    """(commit, file text) of every commit that touched eval/thresholds.json; skips without history."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: no history of eval/thresholds.json to compare with")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True)

    if run("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout: no history of eval/thresholds.json to compare with")
    if run("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("shallow clone: earlier versions of eval/thresholds.json are missing "
                    "(git fetch --unshallow to run this check)")
    versions = []
    for commit in run("log", "--format=%H", "--", RELATIVE).stdout.split():
        shown = run("show", f"{commit}:{RELATIVE}")
        if shown.returncode == 0:  # a commit that deleted the file has no version of it
            versions.append((commit[:10], shown.stdout))
    if not versions:
        pytest.skip("eval/thresholds.json has no committed version yet")
    return versions


def test_no_threshold_is_looser_than_in_an_earlier_commit():
    current = THRESHOLDS.read_text(encoding="utf-8")
    problems = [f"{commit}: {line}" for commit, text in committed_versions()
                for line in thresholds.loosened(text, current)]
    assert not problems, "limits may only tighten (current against earlier):\n" + "\n".join(problems)


def test_a_rebaselined_split_is_bound_by_the_versions_that_carry_the_same_reason():
    old = json.dumps({"dev": {"answer_accuracy": 0.75}})
    why = "a change of method, measured"
    new = json.dumps({"dev": {"answer_accuracy": 0.64}, thresholds.REBASELINED: {"dev": why}})
    assert thresholds.loosened(old, new) == []  # the fitted history before the reason does not bind
    later = json.dumps({"dev": {"answer_accuracy": 0.6}, thresholds.REBASELINED: {"dev": why}})
    assert thresholds.loosened(new, later) != []  # from the rebaseline on, limits only tighten
    assert thresholds.parse(new) == {"dev": {"answer_accuracy": 0.64}}
