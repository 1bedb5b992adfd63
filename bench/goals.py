"""``make bench``: every benchmark, then issue 13's goals table, saved as JSON.

Runs the engine, scaling, API, batch and CLI benchmarks one after another (each prints its own
figures; each ratio is measured within its own run), the batch a second time with the trial
numbers looked up at the registry's courtesy limit (how a batch runs in real use), then prints
every goal with its figure and whether it is met, and writes all figures to
``bench-results/<time>-<commit>.json`` (git-ignored) so two commits can be compared: the table
shows the previous file's figure beside each.
``python bench/goals.py [CORPUS]``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
# name in the figures: the script (bench/<script>_bench.py) and its own options
BENCHES = {
    "engine": ("engine", []),
    "scaling": ("scaling", []),
    "api": ("api", []),
    "batch": ("batch", []),
    "registry": ("batch", ["--registry"]),
    "cli": ("cli", []),
}


@dataclass(frozen=True)
class Goal:
    name: str
    figure: Callable[[dict[str, Any]], float]
    goal: float
    at_most: bool  # the figure must stay at or below the goal (else at or above)
    unit: str


GOALS = (
    Goal(
        "batch sites/s / CPU-bound limit (300 sites, 100 ms latency)",
        lambda f: f["batch"]["ratio"],
        0.8,
        False,
        "x",
    ),
    Goal(
        "batch peak memory, all processes (PSS)",
        lambda f: f["batch"]["peak_pss_mb"],
        500,
        True,
        "MB",
    ),
    Goal(
        "API requests/s / CPU-bound limit (3,000 words, 32 clients)",
        lambda f: f["api"]["ratio"],
        0.9,
        False,
        "x",
    ),
    Goal(
        "API p99 / (1.2 x clients / limit)",
        lambda f: f["api"]["p99_ms"] / f["api"]["p99_goal_ms"],
        1.0,
        True,
        "x",
    ),
    Goal(
        "whole engine / BeautifulSoup(lxml) text + tokenizer",
        lambda f: f["engine"]["ratios"]["engine_vs_floor"],
        1.5,
        True,
        "x",
    ),
    Goal(
        "3,000-word page, whole engine, median",
        lambda f: f["engine"]["page_3000"]["whole_ms"],
        25,
        True,
        "ms",
    ),
    Goal(
        "redflags analyze of one small page, cold, wall",
        lambda f: f["cli"]["cli_analyze_cold_s"],
        1.0,
        True,
        "s",
    ),
)


def commit() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def run_all(corpus: list[str], folder: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, (script, options) in BENCHES.items():
        out = folder / f"{name}.json"
        command = [sys.executable, str(ROOT / "bench" / f"{script}_bench.py"), *options]
        if script in ("engine", "batch", "scaling"):
            command += corpus
        if script != "scaling":
            command += ["--json-out", str(out)]
        print(f"\n=== {name} ===", flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
        if out.exists():
            figures[name] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def previous() -> dict[str, Any] | None:
    files = sorted(RESULTS.glob("*.json")) if RESULTS.is_dir() else []
    return json.loads(files[-1].read_text(encoding="utf-8")) if files else None


def table(figures: dict[str, Any], before: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for goal in GOALS:
        value = goal.figure(figures)
        met = value <= goal.goal if goal.at_most else value >= goal.goal
        try:
            was = goal.figure(before["benches"]) if before else None
        except (KeyError, TypeError, ZeroDivisionError):
            was = None
        rows.append(
            {
                "goal": goal.name,
                "figure": value,
                "target": goal.goal,
                "at_most": goal.at_most,
                "unit": goal.unit,
                "met": met,
                "previous": was,
            }
        )
    return rows


def show_real_use(figures: dict[str, Any], before: dict[str, Any] | None) -> None:
    """The batch as it runs in real use: bounded by the registry's courtesy limit, not a goal."""
    now = figures["registry"]
    try:
        was = f" (previous {before['benches']['registry']['sites_s']:.1f})" if before else ""
    except (KeyError, TypeError):
        was = ""
    print(
        f"\nbatch with the trial numbers looked up at {now['registry_per_minute']:g} requests a "
        f"minute: {now['sites_s']:.1f} sites/s{was}, {now['citing_sites']} sites checked in "
        f"{now['registry_requests']} registry requests"
    )


def show(rows: list[dict[str, Any]], before: dict[str, Any] | None) -> None:
    since = f"previous ({before['commit']})" if before else "previous"
    print(f"\n=== issue 13 goals ===\n{'':62}{'figure':>9}  {'goal':>9}  {'':12}{since}")
    for r in rows:
        sign = "<=" if r["at_most"] else ">="
        was = "" if r["previous"] is None else f"{r['previous']:.2f}"
        verdict = "met" if r["met"] else "NOT met"
        print(
            f"{r['goal']:62}{r['figure']:9.2f}  {sign}{r['target']:>6g} {r['unit']:2}  "
            f"{verdict:12}{was}"
        )


def main() -> int:
    corpus = sys.argv[1:2]
    with tempfile.TemporaryDirectory(prefix="redflags-bench-") as tmp:
        figures = run_all(corpus, Path(tmp))
    before = previous()
    rows = table(figures, before)
    show(rows, before)
    show_real_use(figures, before)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    saved = {
        "commit": commit(),
        "time": stamp,
        "cores": len(os.sched_getaffinity(0)),
        "goals": rows,
        "benches": figures,
    }
    path = RESULTS / f"{stamp}-{saved['commit']}.json"
    path.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    print(f"\nall figures: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
