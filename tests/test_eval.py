"""The gold-set evaluation in CI: the extractive backend over the whole dev set, against the thresholds.

Thresholds in eval/thresholds.json are set from measured values and only ever raised.
"""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from conftest import GOLD, ROOT
from eval.run import load_gold, run_all, write_outputs
from eval.scoring import METRIC_KEYS, check_thresholds

pytestmark = pytest.mark.slow


def test_dev_set_meets_the_thresholds(assistant, tmp_path):
    questions = load_gold(GOLD)
    results = run_all(assistant, questions, "extractive", Console(quiet=True))
    metrics = write_outputs(tmp_path, results, "dev.jsonl (CI)")
    out = ROOT / "data" / "test" / "eval"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
    assert metrics["questions"] == len(questions) >= 80
    assert set(METRIC_KEYS) <= set(metrics)
    assert (tmp_path / "report.md").read_text(encoding="utf-8").strip()
    assert (tmp_path / "chart.png").stat().st_size > 1000
    thresholds = json.loads((ROOT / "eval" / "thresholds.json").read_text(encoding="utf-8"))
    print(" ".join(f"{k}={metrics[k]}" for k in METRIC_KEYS))
    assert check_thresholds(metrics, thresholds) == []
