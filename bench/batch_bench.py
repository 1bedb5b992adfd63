"""``make bench``: batch screening of 1,000 sites over loopback, each response 100 ms late.

The sites are the dev corpus copied with new names and prices (``tests/jobs/sites.py``), each
on its own host name (``<site>.bench.test``, resolved to 127.0.0.1 by the fetcher's injected
resolver), so per-host politeness applies as it would on the internet: default settings,
robots.txt obeyed, 0.25 s between requests to one host. The server runs in another process.

Printed: sites/s of the batch; the CPU-bound limit measured in the same run (the engine,
extraction + analysis, on the same pages each site's report read, one core per worker process),
their ratio (goal >= 0.8), and peak RSS of the batch process (goal < 500 MB).
``python bench/batch_bench.py [CORPUS] [--sites N] [--latency S] [--concurrency N] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the site generator is shared with the tests

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.engine.analyzer import Engine  # noqa: E402
from app.extract.document import extract_document  # noqa: E402
from app.fetch import Fetcher  # noqa: E402
from app.jobs.queue import NewItem  # noqa: E402
from app.jobs.runner import run_worker  # noqa: E402
from app.jobs.store import SqlJobQueue  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.storage import make_engine, upgrade  # noqa: E402
from app.storage.models import ReportRow  # noqa: E402
from tests.jobs.sites import generate_sites  # noqa: E402

DOMAIN = "bench.test"
GOAL_RATIO, GOAL_RSS_MB = 0.8, 500


class _Handler(SimpleHTTPRequestHandler):
    """Serves ``<root>/<first label of Host>/<path>`` after ``latency`` seconds."""

    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, latency: float, **kwargs: Any) -> None:
        self.latency = latency
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        site = self.headers.get("Host", "").split(".")[0]
        return super().translate_path(f"/{site}{urlsplit(path).path}")

    def do_GET(self) -> None:
        time.sleep(self.latency)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(root: str, latency: float) -> None:
    """The server process: prints its port, then serves until killed."""
    handler = functools.partial(_Handler, latency=latency, directory=root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def settings_for_bench(data_dir: Path) -> Settings:
    return Settings(
        allowed_networks=["127.0.0.0/8"],
        data_dir=data_dir,
        # ClinicalTrials.gov is not reachable from the benchmark: fail those look-ups at once.
        registry_base_url="http://127.0.0.1:9",
        registry_max_tries=1,
        registry_requests_per_minute=1_000_000,
    )


async def run_batch(
    queue: SqlJobQueue, batch_id: str, settings: Settings, engine: Engine, concurrency: int
) -> None:
    async def resolve(host: str) -> list[str]:
        return ["127.0.0.1"]

    async with Fetcher(settings, resolver=resolve) as fetcher:
        await run_worker(
            queue,
            batch_id,
            settings,
            engine,
            concurrency,
            None,
            fetcher=fetcher,
            handle_signals=False,
        )


def engine_limit(database: Any, farm: Path, engine: Engine, settings: Settings) -> dict[str, Any]:
    """Extraction + analysis of the pages each stored report read, site by site, on one core."""
    with Session(database) as session:
        reports = session.execute(select(ReportRow.report)).scalars().all()
    sites = [[p["url"] for p in r["pages"] if p.get("words")] for r in reports]
    sites = [urls for urls in sites if urls]
    files = {url: _file_for(farm, url).read_bytes() for urls in sites for url in urls}
    start = time.process_time()
    for urls in sites:
        pages = [
            extract_document(
                files[url],
                url,
                content_type="text/html",
                base_url=url,
                max_bytes=settings.max_document_bytes,
                min_words=settings.min_words,
            )
            for url in urls
        ]
        engine.analyze(pages, urls[0])
    seconds = time.process_time() - start
    return {"sites": len(sites), "pages": sum(map(len, sites)), "seconds": seconds}


def _file_for(farm: Path, url: str) -> Path:
    parts = urlsplit(url)
    return farm / (parts.hostname or "").split(".")[0] / parts.path.lstrip("/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", help="default: $REDFLAGS_CORPUS, ../shared/corpus/dev")
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--concurrency", type=int, help="sites at once (default: the setting)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return
    raw = args.corpus or os.environ.get("REDFLAGS_CORPUS")
    corpus = Path(raw) if raw else ROOT.parent / "shared" / "corpus" / "dev"
    with tempfile.TemporaryDirectory(prefix="redflags-batch-bench-") as tmp:
        figures = measure(corpus, Path(tmp), args.sites, args.latency, args.concurrency)
    if args.json:
        print(json.dumps(figures))
    else:
        report(figures)


def measure(
    corpus: Path, tmp: Path, count: int, latency: float, concurrency: int | None
) -> dict[str, Any]:
    farm = tmp / "farm"
    sites = generate_sites(corpus, farm, count)
    command = [sys.executable, __file__, "--serve", str(farm), "--latency", str(latency)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        settings = settings_for_bench(tmp / "data")
        concurrency = concurrency or settings.batch_concurrency
        engine = Engine.from_settings(settings)
        database = make_engine(f"sqlite:///{tmp / 'jobs.sqlite'}")
        upgrade(database)
        queue = SqlJobQueue(database)
        items = [
            NewItem(n, f"http://{s.name}.{DOMAIN}:{port}{s.entry.removeprefix('/' + s.name)}")
            for n, s in enumerate(sites, start=1)
        ]
        batch_id = queue.enqueue(items, options={})
        wall, cpu = time.perf_counter(), time.process_time()
        asyncio.run(run_batch(queue, batch_id, settings, engine, concurrency))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        progress = queue.progress(batch_id)
        assert progress is not None
        limit = engine_limit(database, farm, engine, settings)
    finally:
        server.kill()
        server.wait()
    cores = 1  # one worker process: its Python work runs on one core at a time
    sites_s = count / wall
    limit_sites_s = limit["sites"] / limit["seconds"] * cores
    return {
        "sites": count,
        "latency_s": latency,
        "concurrency": concurrency,
        "states": dict(progress.counts),
        "unreadable": progress.unreadable,
        "wall_s": wall,
        "cpu_s": cpu,
        "sites_s": sites_s,
        "engine": limit,
        "engine_pages_s": limit["pages"] / limit["seconds"],
        "cores": cores,
        "limit_sites_s": limit_sites_s,
        "ratio": sites_s / limit_sites_s,
        "peak_rss_mb": rss,
    }


def report(f: dict[str, Any]) -> None:
    e = f["engine"]
    print(
        f"redflags batch benchmark: {f['sites']} sites over loopback, "
        f"{f['latency_s'] * 1000:.0f} ms per response, concurrency {f['concurrency']}"
    )
    states = ", ".join(f"{n} {s}" for s, n in f["states"].items() if n)
    print(f"  outcome: {states} ({f['unreadable']} unreadable)")
    print(
        f"  batch:   {f['wall_s']:.1f} s wall, {f['cpu_s']:.1f} s CPU "
        f"({f['cpu_s'] / f['wall_s']:.0%} of one core): {f['sites_s']:.1f} sites/s"
    )
    print(
        f"  engine:  {e['pages']} pages of {e['sites']} sites in {e['seconds']:.1f} s CPU: "
        f"{f['engine_pages_s']:.0f} pages/s = {e['sites'] / e['seconds']:.1f} sites/s per core"
    )
    print(f"  CPU-bound limit: {f['limit_sites_s']:.1f} sites/s ({f['cores']} core used)")
    ok = "goal met" if f["ratio"] >= GOAL_RATIO else "goal NOT met"
    print(f"  ratio batch / limit: {f['ratio']:.2f}  (goal >= {GOAL_RATIO}: {ok})")
    ok = "goal met" if f["peak_rss_mb"] < GOAL_RSS_MB else "goal NOT met"
    print(f"  peak RSS: {f['peak_rss_mb']:.0f} MB  (goal < {GOAL_RSS_MB} MB: {ok})")


if __name__ == "__main__":
    main()
