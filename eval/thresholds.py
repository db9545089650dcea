"""eval/thresholds.json: the limits CI holds each gold split to, and the rule that they only ever tighten.

The file maps a split name (the gold file's stem: "dev", "test") to a limit per metric, null meaning not
checked; eval.scoring.UPPER_BOUND_KEYS are maxima, every other metric a minimum. A split named in the
top-level "provisional" list holds placeholder values that no measurement has set yet: a version of the
file in which a split is provisional does not bind later versions of that split, every other version does.
A split named in the top-level "rebaselined" map, with the reason, starts its history afresh: versions
that do not carry that same reason do not bind it (a measured change of method, said in the file itself,
reviewable in its diff; every later version binds as before).
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.scoring import METRIC_KEYS, check_thresholds

PROVISIONAL = "provisional"
REBASELINED = "rebaselined"

Limits = dict[str, float | int | None]


def parse(text: str) -> dict[str, Limits]:
    """The splits of a thresholds document; the older flat form (one set of limits) reads as "dev"."""
    document = json.loads(text)
    if set(document) <= set(METRIC_KEYS):
        return {"dev": document}
    return {name: limits for name, limits in document.items() if name not in (PROVISIONAL, REBASELINED)}


def provisional(text: str) -> set[str]:
    """Names of the splits whose limits are still placeholders."""
    document = json.loads(text)
    return set(document.get(PROVISIONAL, [])) if isinstance(document, dict) else set()


def rebaselined(text: str) -> dict[str, str]:
    """Split name -> the reason its limits were set afresh."""
    document = json.loads(text)
    return dict(document.get(REBASELINED, {})) if isinstance(document, dict) else {}


def for_split(path: Path, split: str) -> Limits:
    """The limits of one split, or a clear error naming the splits the file has."""
    splits = parse(path.read_text(encoding="utf-8"))
    if split not in splits:
        raise KeyError(f"{path} has no thresholds for split {split!r}; it has {sorted(splits)}")
    return splits[split]


def loosened(earlier_text: str, current_text: str) -> list[str]:
    """One line per limit the current document relaxes compared with an earlier one.

    The current limits are checked as if they were measured values against the earlier limits, so a lower
    minimum, a higher maximum or a limit that is null or gone is reported, "split." in front. Splits
    provisional in the earlier document are skipped, and so are splits the current document rebaselines
    for a reason the earlier one does not carry.
    """
    earlier, current = parse(earlier_text), parse(current_text)
    before = rebaselined(earlier_text)
    fresh = {split for split, why in rebaselined(current_text).items() if before.get(split) != why}
    skipped = provisional(earlier_text) | fresh
    return [
        f"{split}.{line}"
        for split, limits in earlier.items()
        if split not in skipped
        for line in check_thresholds(current.get(split, {}), limits)
    ]
