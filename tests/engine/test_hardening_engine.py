"""Issue 9, item 1: analysis time linear in the text, and the site's time limit holding for
analysis. Times are never asserted (they live in ``make bench``: bench/scaling_bench.py); these
tests count work and check what a deadline leaves out."""

from __future__ import annotations

import random
import time
from typing import Any

from app.engine.analyzer import Engine
from app.engine.findings import Kept, group_window
from app.engine.rulebook import load_rules
from app.engine.types import Evidence
from app.extract.page import ExtractedPage
from app.settings import Settings

RULE = load_rules(Settings().rules_dir).by_id["many-conditions"]


def _kept(page: int, block: int, group: str, start: int) -> Kept:
    evidence = Evidence.model_construct(
        url="p", quote="q", match="m", start=start, end=start + 1, quote_start=start
    )
    return Kept(RULE, page, block, group, evidence, 15.0, None)


def _brute_force(items: list[Kept], min_groups: int, within: int) -> list[Kept]:
    """The definition: of the windows starting at each candidate, the first with most groups."""
    best: list[Kept] = []
    ordered = sorted(items, key=lambda k: (k.page, k.block, k.evidence.start))
    for i, first in enumerate(ordered):
        window = [k for k in ordered[i:] if k.page == first.page and k.block - first.block < within]
        groups = {k.group for k in window}
        if len(groups) >= min_groups and len(groups) > len({k.group for k in best}):
            best = window
    return best


def test_group_window_picks_the_same_window_as_the_definition() -> None:
    rng = random.Random(9)
    for _ in range(300):
        items = [
            _kept(rng.randrange(3), rng.randrange(30), rng.choice("abcdef"), i)
            for i in range(rng.randrange(0, 40))
        ]
        within, min_groups = rng.randrange(1, 12), rng.randrange(2, 5)
        assert group_window(items, min_groups, within) == _brute_force(items, min_groups, within)


class _Counting:
    """A candidate that counts how often the window code reads it."""

    reads = 0

    def __init__(self, kept: Kept) -> None:
        self._kept = kept

    def __getattr__(self, name: str) -> Any:
        _Counting.reads += 1
        return getattr(self._kept, name)


def test_analysis_time_grows_linearly_with_the_text() -> None:
    # A dense list of conditions on one block of a selling page: every candidate lies in every
    # window, the case that made the old rescan quadratic (47 s for 792 KB of text).
    def reads(n: int) -> int:
        items: list[Any] = [_Counting(_kept(0, 0, "abc"[i % 3], i)) for i in range(n)]
        _Counting.reads = 0
        assert len(group_window(items, 3, 10)) == n
        return _Counting.reads

    small, large = reads(2_000), reads(8_000)
    assert large <= 4.5 * small  # four times the candidates, about four times the reading


def _pages(n: int) -> list[ExtractedPage]:
    text = "Our clinic cures rheumatoid arthritis with stem cells. Book now: $5,000."
    return [ExtractedPage(source=f"https://x.test/{i}", text=text, blocks=()) for i in range(n)]


def test_the_site_limit_holds_for_analysis(engine: Engine) -> None:
    passed = time.monotonic() - 1
    report = engine.analyze(_pages(3), "https://x.test/", deadline=passed)
    # The first page is always read; the others are left out, and the report says so.
    assert [p.url for p in report.pages] == ["https://x.test/0"]
    assert any(
        "time for the site ran out after analysing 1 of 3 pages" in w for w in report.warnings
    )
    assert report.findings

    unhurried = engine.analyze(_pages(3), "https://x.test/", deadline=time.monotonic() + 60)
    assert len(unhurried.pages) == 3
    assert not any("ran out" in w for w in unhurried.warnings)
