"""``summary.html``: a batch at a glance for people, with charts and a sortable table.

One page, no script: charts are inline SVG drawn by ``app.jobs.charts`` and the only styles are
one ``<style>`` block, which the API allows by its hash (``style_csp``). Served by the API, the
table is sorted on the server (``?sort=score&order=desc``). As a file, every ordering is in the
page and the column headers jump to the one asked for (CSS ``:target``), so sorting still works
without a server and without JavaScript. Everything that came from a site or an input list is
escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from app.engine.types import (
    ABSENCE_CATEGORIES,
    CATEGORY_TITLES,
    RED_FLAG_CATEGORIES,
    SEVERITY,
    VERDICTS,
    ranking,
)
from app.jobs.charts import Bar, bar_chart, column_chart
from app.jobs.queue import Progress
from app.jobs.results import COLUMNS, BatchTable

TEMPLATES = Path(__file__).with_name("templates")
# key -> (column heading, descending by default)
SORTS: dict[str, tuple[str, bool]] = {
    "line": ("Line", False),
    "url": ("Site", False),
    "verdict": ("Verdict", True),
    "score": ("Score", True),
    "red_flags": ("Warning signs", True),
}
DEFAULT_SORT = ("verdict", "desc")


@dataclass(frozen=True)
class TableView:
    key: str
    order: str  # asc | desc
    anchor: str  # id of this ordering in the file version
    rows: list[dict[str, Any]]


def sort_rows(rows: Sequence[Mapping[str, Any]], key: str, order: str) -> list[dict[str, Any]]:
    """Rows in the asked order; rows without a value (errors) always come last."""

    def value(row: Mapping[str, Any]) -> Any:
        if key == "verdict" and row.get("verdict") in SEVERITY:
            # Within a verdict the likelier seller first, then the higher score.
            return ranking(row["verdict"], row.get("selling"), row.get("score"))
        if key == "score" and row.get("score") is not None:
            # Equal scores (most honest sites, many unsure sellers: 0): the likelier seller first.
            return (row["score"], row.get("selling") or 0.0)
        return row.get(key)

    in_order = sorted(rows, key=lambda r: r["line"])
    present = [dict(r) for r in in_order if value(r) is not None]
    missing = [dict(r) for r in in_order if value(r) is None]
    present.sort(key=value, reverse=order == "desc")  # stable: ties stay in line order
    return present + missing


def render_summary(
    table: BatchTable,
    *,
    title: str,
    created_at: datetime,
    sort: tuple[str, str] | None = None,
) -> str:
    """The page. ``sort`` given: one table in that order, headers link to ``?sort=``; none:
    the file version, with every ordering and ``#anchor`` links."""
    if sort is None:
        orders = [(k, o) for k in SORTS for o in ("desc", "asc") if (k, o) != DEFAULT_SORT]
        views = [_view(table.rows, k, o) for k, o in [*orders, DEFAULT_SORT]]  # default last
    else:
        views = [_view(table.rows, *sort)]
    context = {
        "title": title,
        "created_at": created_at,
        "progress": table.progress,
        "charts": _charts(table.progress, table.items),
        "views": views,
        "carried": table.header[len(COLUMNS) :],  # the input list's own columns, in its order
        "served": sort is not None,
        "sorts": SORTS,
        "verdicts": VERDICTS,
        "style": Markup(style()),
    }
    return _environment().get_template("summary.html").render(context)


def _view(rows: Sequence[Mapping[str, Any]], key: str, order: str) -> TableView:
    return TableView(key, order, f"by-{key}-{order}", sort_rows(rows, key, order))


def _charts(progress: Progress, items: Sequence[Mapping[str, Any]]) -> list[tuple[str, Markup]]:
    """(caption, chart) pairs: verdicts, the score histogram, how often each sign was seen."""
    done = [i for i in items if i["state"] == "done"]
    by_verdict = Counter(i["verdict"] for i in done)
    verdict_bars = [
        Bar(view.words, by_verdict[verdict], view.tone) for verdict, view in VERDICTS.items()
    ]
    verdict_bars.append(Bar("Could not be checked", progress.counts["error"], "unknown"))
    # Only judged sites have a score: not the unreadable ones nor those not about cell treatment.
    judged = [i for i in done if i["verdict"] not in ("unreadable", "not_applicable")]
    bins = _score_bins([i["score"] for i in judged if i["score"] is not None])
    seen: Counter[str] = Counter()
    for item in judged:
        categories = (item.get("result") or {}).get("categories", {})
        seen.update(set(categories.get("red_flag", [])) | set(categories.get("absence", [])))
    signs = sorted(
        (c for c in (*RED_FLAG_CATEGORIES, *ABSENCE_CATEGORIES) if seen[c]),
        key=lambda c: (-seen[c], c),
    )
    sign_bars = [
        Bar(
            sign_label(c),
            seen[c],
            "high" if c in RED_FLAG_CATEGORIES else "caution",
            f"({seen[c] / len(judged):.0%})",
        )
        for c in signs
    ]
    captions = (
        "Sites by verdict",
        "Scores of the sites that were judged",
        "How often each warning sign was seen (share of the sites judged)",
    )
    charts = (
        bar_chart("chart-verdicts", captions[0], verdict_bars),
        column_chart("chart-scores", captions[1], bins, axis="score (0–100)"),
        bar_chart("chart-signs", captions[2], sign_bars),
    )
    return list(zip(captions, charts, strict=True))


def _score_bins(scores: Sequence[int]) -> list[Bar]:
    """Ten bins of ten points; 100 goes in the last one (90–100)."""
    counts = Counter(min(score // 10, 9) for score in scores)
    return [Bar(f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", counts[b]) for b in range(10)]


def sign_label(category: str) -> str:
    return CATEGORY_TITLES.get(category, category.replace("_", " "))


@cache
def style() -> str:
    return (TEMPLATES / "summary.css").read_text(encoding="utf-8")


def style_csp() -> str:
    """The policy for the served page: nothing but its own ``<style>`` block, by hash."""
    digest = base64.b64encode(hashlib.sha256(style().encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # clinic text and input columns must never become markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sign"] = sign_label
    return env
