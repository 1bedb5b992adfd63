"""``make bench``: analysis time against text size, 100 KB to 1 MB, and its log-log slope.

A slope near 1 means time grows in proportion to the text; 2 means with its square (what
``group_window`` did before it became a single pass). Two texts: clinic pages from the dev corpus
one after another, and a dense list of conditions (the worst case for the many-conditions rule).
Figures only, never a timed test: ``python bench/scaling_bench.py [CORPUS] [--repeat N]``
"""

from __future__ import annotations

import argparse
import html
import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from app.engine.analyzer import Engine
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SIZES_KB = (100, 200, 400, 700, 1000)
CONDITIONS = (
    "We treat with our stem cells: rheumatoid arthritis · lupus · knee pain · "
    "multiple sclerosis · autism · COPD · diabetes · "
    "erectile dysfunction · macular degeneration · Parkinson's · heart failure · back pain\n\n"
)


def clinic_text(corpus: Path) -> str:
    parts = []
    for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line) if line.strip() else {}
        if label.get("expected_risk") == "high":
            for name in label["pages"]:
                raw = (corpus / label["site"] / name).read_bytes()
                parts.append(extract_document(raw, name).text)
    return "\n\n".join(parts)


def sized(seed: str, kb: int) -> str:
    chars = kb * 1000
    return (seed * (chars // len(seed) + 1))[:chars]


def as_page(text: str) -> ExtractedPage:
    """The text as an HTML page of paragraphs, extracted as a fetched page would be."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return extract_document(f"<html><body>{paragraphs}</body></html>".encode(), "big")


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpus", type=Path, nargs="?", default=ROOT.parent / "shared" / "corpus" / "dev"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = Engine.from_settings(Settings())
    seeds = {"clinic pages": clinic_text(args.corpus), "condition lists": CONDITIONS}
    print("Analysis time against text size (median of", args.repeat, "runs)")
    for name, seed in seeds.items():
        seconds = []
        for kb in SIZES_KB:
            page = as_page(sized(seed, kb))
            seconds.append(timed(lambda page=page: engine.analyze([page], "big"), args.repeat))
        row = "  ".join(
            f"{kb} KB {s * 1e3:,.0f} ms" for kb, s in zip(SIZES_KB, seconds, strict=True)
        )
        print(f"- {name}: {row}; slope {slope(list(SIZES_KB), seconds):.2f}")


if __name__ == "__main__":
    main()
