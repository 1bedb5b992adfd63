"""``redflags analyze`` of one small page from a cold start: the wall time a person waits.

Each run is a new process (imports, pipeline load, analysis, interpreter exit). Goal (issue 13):
under 1.0 s. Figures only, never a timed test:
``python bench/cli_bench.py [--runs 5] [--json] [--json-out FILE]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 1.0
PAGE = "<html><body><p>Our clinic offers stem cell injections for knee arthritis.</p></body></html>"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--json-out", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "page.html"
        page.write_text(PAGE, encoding="utf-8")
        command = [sys.executable, "-m", "app.cli", "analyze", str(page)]
        subprocess.run(command, capture_output=True, check=False)  # builds the pipeline once
        walls = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            walls.append(time.perf_counter() - start)
    median = statistics.median(walls)
    figures = {"cli_analyze_cold_s": round(median, 3), "goal_s": GOAL_S, "met": median < GOAL_S}
    if args.json_out:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"cli bench: redflags analyze of one small page, cold, median of {args.runs}")
    verdict = "goal met" if figures["met"] else "goal NOT met"
    print(f"  wall {median:.2f} s   goal < {GOAL_S:.1f} s   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
