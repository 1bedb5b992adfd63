"""The report contract's one vocabulary: every category and verdict has its words for people."""

from __future__ import annotations

from typing import get_args

from app.engine.types import CATEGORIES, CATEGORY_TITLES, VERDICTS, Verdict


def test_every_category_has_one_distinct_title() -> None:
    assert set(CATEGORY_TITLES) == set(CATEGORIES)
    assert len(set(CATEGORY_TITLES.values())) == len(CATEGORY_TITLES)


def test_every_verdict_has_its_words() -> None:
    assert set(VERDICTS) == set(get_args(Verdict))
