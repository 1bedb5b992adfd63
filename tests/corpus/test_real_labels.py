"""The real corpus's labels: valid, unique, never a held-out address, and their cache honest."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.training.corpus import read_labels, sha1

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "corpus" / "real" / "labels.jsonl"
CACHE = ROOT / "corpus" / "real" / "cache"
HOLDOUT_TOOLS = ROOT.parent / "shared" / "tools"


def test_every_label_is_valid_and_unique() -> None:
    labels = read_labels(LABELS)
    assert len({label.id for label in labels}) == len(labels)
    assert len({label.url for label in labels}) == len(labels)


def test_no_label_is_a_held_out_address() -> None:
    if not (HOLDOUT_TOOLS / "holdout.py").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"holdout.py not found in {HOLDOUT_TOOLS}")
        pytest.skip(f"holdout.py not found in {HOLDOUT_TOOLS}")
    sys.path.insert(0, str(HOLDOUT_TOOLS))
    try:
        from holdout import is_held_out
    finally:
        sys.path.remove(str(HOLDOUT_TOOLS))
    held = [label.id for label in read_labels(LABELS) if is_held_out(label.url)]
    assert not held


def test_cached_texts_match_their_labels() -> None:
    labels = read_labels(LABELS)
    present = [label for label in labels if (CACHE / f"{label.id}.txt").is_file()]
    changed = [
        label.id
        for label in present
        if sha1((CACHE / f"{label.id}.txt").read_text(encoding="utf-8")) != label.sha1
    ]
    assert not changed
