"""``make bench``: the engine's speed on the dev corpus against spaCy's tokenizer alone.

Goals (issue 13): whole engine <= 1.5x the floor (BeautifulSoup(lxml) text + spaCy's tokenizer
on the same pages); a 3,000-word page in < 25 ms (median). Figures only, never a timed test:
``python bench/engine_bench.py [CORPUS] [--repeat N] [--json] [--json-out FILE]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from app.engine.analyzer import Engine
from app.engine.identifiers import find_all
from app.engine.nlp import _artifacts
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO, GOAL_PAGE_MS, PAGE_WORDS = 1.5, 25.0, 3000
_HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Big</title></head><body>'
_BODY = re.compile(r"<body[^>]*>(.*?)</body>", re.I | re.S)
_LOAD = (
    "import json, resource, time\nt0 = time.perf_counter()\n"
    "from app.engine.analyzer import Engine\nfrom app.settings import Settings\n"
    "t1 = time.perf_counter()\nEngine.from_settings(Settings())\nt2 = time.perf_counter()\n"
    "print(json.dumps({'import_ms': (t1 - t0) * 1e3, 'load_ms': (t2 - t1) * 1e3,"
    " 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
)
Runs = list[list[float]]  # runs[rep][page] = seconds
FLOOR = "floor: BeautifulSoup(lxml) text + tokenizer"


def soup_text(data: bytes) -> str:
    """The least any reader of these pages does: parse the HTML, take its text."""
    return BeautifulSoup(data, "lxml").get_text(" ")


def measure(fn: Callable[[int], object], n: int, repeat: int) -> Runs:
    """Time ``fn(i)`` for every page ``i``, ``repeat`` times after one untimed warm-up pass."""
    runs: Runs = []
    for _ in range(repeat + 1):
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(i)
            times.append(time.perf_counter() - t0)
        runs.append(times)
    return runs[1:]


def summarize(runs: Runs, words: int) -> dict[str, float]:
    n = len(runs[0])
    total = statistics.median(sum(r) for r in runs)
    per_page = [statistics.median(r[i] for r in runs) for i in range(n)]
    return {
        "total_ms": total * 1e3,
        "mean_ms": total * 1e3 / n,
        "median_ms": statistics.median(per_page) * 1e3,
        "max_ms": max(per_page) * 1e3,
        "pages_s": n / total,
        "words_s": words / total,
    }


def stage_times(engine: Engine, texts: list[str], repeat: int) -> dict[str, float]:
    """Seconds per stage over all texts (median of runs): make_doc, each pipe, _artifacts."""
    nlp = engine.nlp.pipelines["en"]
    chain = [("tokenizer (make_doc)", nlp.make_doc), *nlp.pipeline]
    runs: list[dict[str, float]] = []
    for _ in range(repeat + 1):  # the first run is the warm-up
        acc = dict.fromkeys([*(name for name, _ in chain), "_artifacts"], 0.0)
        for text in texts:
            value: Any = text
            for name, step in chain:
                t0 = time.perf_counter()
                value = step(value)
                acc[name] += time.perf_counter() - t0
            t0 = time.perf_counter()
            _artifacts(value, text)
            acc["_artifacts"] += time.perf_counter() - t0
        runs.append(acc)
    return {k: statistics.median(r[k] for r in runs[1:]) for k in runs[0]}


def big_page(corpus: Path, extract: Callable[[bytes, str], ExtractedPage]) -> tuple[bytes, int]:
    """About 3,000 visible words: the bodies of high-risk clinic pages, one after another."""
    bodies: list[str] = []
    html, words = b"", 0
    for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line) if line.strip() else {}
        if label.get("expected_risk") != "high":
            continue
        for name in label["pages"]:
            raw = (corpus / label["site"] / name).read_bytes()
            match = _BODY.search(raw.decode("utf-8", "replace"))
            if match is None or b"windows-1252" in raw:  # one <meta charset> for all: UTF-8 only
                continue
            bodies.append(match.group(1))
            html = f"{_HEAD}{chr(10).join(bodies)}</body></html>".encode()
            words = extract(html, "big").word_count
            if words >= PAGE_WORDS:
                return html, words
    return html, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", help="default: $REDFLAGS_CORPUS, ../shared/corpus/dev")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--json-out", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    raw = args.corpus or os.environ.get("REDFLAGS_CORPUS")
    corpus = Path(raw) if raw else ROOT.parent / "shared" / "corpus" / "dev"
    files = sorted(corpus.glob("*/*.html"))
    if not files:
        sys.exit(f"no HTML pages under {corpus}")
    repeat = max(1, args.repeat)

    loaded = subprocess.run(
        [sys.executable, "-c", _LOAD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    cold: dict[str, float] = json.loads(loaded.stdout.strip().splitlines()[-1])
    settings = Settings()
    engine = Engine.from_settings(settings)
    gc.freeze()  # as the service and the batch do once their engine is loaded
    sources = [str(f.relative_to(corpus)) for f in files]
    datas = [f.read_bytes() for f in files]

    extract = partial(
        extract_document,
        content_type="text/html",
        max_bytes=settings.max_document_bytes,
        min_words=settings.min_words,
    )
    pages = [extract(d, s) for d, s in zip(datas, sources, strict=True)]
    texts = [p.text for p in pages]
    n, words = len(pages), sum(p.word_count for p in pages)
    make_doc = engine.nlp.pipelines["en"].make_doc
    rows = {
        "whole engine (extract+analyze)": measure(
            lambda i: engine.analyze([extract(datas[i], sources[i])], sources[i]), n, repeat
        ),
        "analysis only": measure(lambda i: engine.analyze([pages[i]], sources[i]), n, repeat),
        "extraction only": measure(lambda i: extract(datas[i], sources[i]), n, repeat),
        "spaCy tokenizer alone": measure(lambda i: make_doc(texts[i]), n, repeat),
        FLOOR: measure(lambda i: make_doc(soup_text(datas[i])), n, repeat),
    }
    table = {name: summarize(runs, words) for name, runs in rows.items()}
    floor = table[FLOOR]["total_ms"]
    ratios = {
        "engine_vs_floor": table["whole engine (extract+analyze)"]["total_ms"] / floor,
        "analysis_vs_tokenizer": table["analysis only"]["total_ms"]
        / table["spaCy tokenizer alone"]["total_ms"],
    }
    process_ms, ids_ms = (
        summarize(measure(fn, n, repeat), words)["total_ms"]
        for fn in (lambda i: engine.nlp.process([texts[i]]), lambda i: find_all(texts[i]))
    )
    stages = {k: v * 1e3 for k, v in stage_times(engine, texts, repeat).items()}
    stages["nlp.process overhead (nlp.pipe)"] = process_ms - sum(stages.values())
    stages["identifiers.find_all (regexes)"] = ids_ms
    stages["rest of analyze (context, judge, report)"] = (
        table["analysis only"]["total_ms"] - process_ms - ids_ms
    )
    big, big_words = big_page(corpus, extract)
    big_text = extract(big, "big")
    big_runs = max(20, 4 * repeat)
    big_ms = {
        name: statistics.median(x for r in measure(fn, 1, big_runs) for x in r) * 1e3
        for name, fn in (
            ("whole_ms", lambda _: engine.analyze([extract(big, "big")], "big")),
            ("analysis_ms", lambda _: engine.analyze([big_text], "big")),
            ("tokenizer_ms", lambda _: make_doc(big_text.text)),
            ("floor_ms", lambda _: make_doc(soup_text(big))),
        )
    }
    figures: dict[str, Any] = {
        "corpus": str(corpus),
        "pages": n,
        "words": words,
        "repeat": repeat,
        "table": table,
        "ratios": ratios,
        "stages_ms": stages,
        "page_3000": {"words": big_words, "bytes": len(big), "runs": big_runs, **big_ms},
        "cold_start": cold,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.json_out:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")
    if args.json:
        print(json.dumps(figures, indent=None))
    else:
        report(figures)


def report(f: dict[str, Any]) -> None:
    big, stages, table = f["page_3000"], f["stages_ms"], f["table"]
    print(f"redflags engine benchmark: {f['corpus']}, {f['pages']} pages, {f['words']:,} words")
    print(f"median of {f['repeat']} runs after a warm-up run\n")
    print(" " * 32 + "  total ms  ms/page  median     max  pages/s    words/s")
    for name, r in table.items():
        print(
            f"{name:32}{r['total_ms']:10.1f}{r['mean_ms']:9.2f}{r['median_ms']:8.2f}"
            f"{r['max_ms']:8.2f}{r['pages_s']:9.0f}{r['words_s']:11,.0f}"
        )
    print(f"\ngoals ({big['words']:,}-word page, {big['bytes']:,} bytes; median of {big['runs']})")
    for label, value, unit, goal in (
        ("whole engine / floor", f["ratios"]["engine_vs_floor"], "x", GOAL_RATIO),
        ("analysis / tokenizer", f["ratios"]["analysis_vs_tokenizer"], "x", None),
        ("big page, whole engine", big["whole_ms"], " ms", GOAL_PAGE_MS),
        ("big page, analysis only", big["analysis_ms"], " ms", None),
        ("big page, tokenizer alone", big["tokenizer_ms"], " ms", None),
        ("big page, floor", big["floor_ms"], " ms", None),
    ):
        ok = goal is None or (value <= goal if unit == "x" else value < goal)
        bar = "" if goal is None else f"goal {'<=' if unit == 'x' else '<'} {goal:g}{unit}"
        verdict = "" if goal is None else "goal met" if ok else "goal NOT met"
        print(f"  {label:28}{value:8.2f}{unit:4}{bar:14}{verdict}")
    analysis_ms = table["analysis only"]["total_ms"]
    print(f"\nanalysis only, by stage, over the corpus ({analysis_ms:.1f} ms = 100%):")
    for name, ms in stages.items():
        print(f"  {name:40}{ms:9.1f} ms {ms / f['pages']:7.3f} ms/page {ms / analysis_ms:6.0%}")
    cold = f["cold_start"]
    print(
        f"\ncold start (subprocess): imports {cold['import_ms']:.0f} ms + Engine.from_settings "
        f"{cold['load_ms']:.0f} ms; RSS after load {cold['rss_mb']:.0f} MB"
    )
    print(f"peak RSS of this benchmark: {f['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
