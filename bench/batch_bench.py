"""``make bench``: batch screening of 300 sites over loopback, each response 100 ms late.

The sites are the dev corpus copied with new names and prices (``tests/jobs/sites.py``), each
on its own loopback address (127.0.0.2 and up), so per-host politeness applies as it would on
the internet and never serialises them: default settings, robots.txt obeyed, 0.25 s between
requests to one host. The server runs in another process (asyncio, pages held in memory, so it
takes little of the CPU the batch is measured against).

Printed: sites/s of the batch; the CPU-bound limit measured in the same run (the engine,
extraction + analysis, on the same pages each site's report read, times the usable cores),
their ratio (goal >= 0.8), and the peak memory of the batch's processes (goal < 500 MB).

The trial numbers the sites cite are not looked up (the registry is refused at once), unless
``--registry``: then the server process also stands in for ClinicalTrials.gov on 127.0.0.1
(every well-formed id is a study, answered after the same latency) and the registry client runs
with its default courtesy limit, as a batch in real use does; the registry requests are counted.
``python bench/batch_bench.py [CORPUS] [--sites N] [--latency S] [--concurrency N]
[--processes N] [--registry] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the site generator is shared with the tests

from procstat import cpu_seconds, process_tree  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.engine.analyzer import Engine  # noqa: E402
from app.extract.document import extract_document  # noqa: E402
from app.jobs import event_loop  # noqa: E402
from app.jobs.queue import NewItem  # noqa: E402
from app.jobs.runner import run_worker  # noqa: E402
from app.jobs.store import SqlJobQueue  # noqa: E402
from app.pipeline.process_pool import AnalysisPool, usable_cores  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.storage import make_engine, upgrade  # noqa: E402
from app.storage.models import ReportRow  # noqa: E402
from tests.jobs.sites import generate_sites  # noqa: E402

GOAL_RATIO, GOAL_RSS_MB = 0.8, 500
REGISTRY_HOST = "127.0.0.1"  # the sites start at 127.0.0.2
_NCT = re.compile(r"NCT\d{8}")


def address(n: int) -> str:
    """The loopback address of site ``n`` (0-based): 127.0.0.2, 127.0.0.3, ..."""
    return f"127.0.{(n + 2) // 256}.{(n + 2) % 256}"


def serve(root: str, latency: float, count: int) -> None:
    """The server process: site ``n`` of ``root`` on ``address(n)``, the registry's stand-in on
    127.0.0.1; prints its port when ready, then serves until killed."""
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir())[:count]
    files = {
        (address(n), f"/{file.name}"): file.read_bytes()
        for n, folder in enumerate(folders)
        for file in folder.iterdir()
    }
    asked: list[str] = []  # the registry requests, for GET /requests

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while request := await reader.readuntil(b"\r\n\r\n"):
                target = urlsplit(request.split(b" ", 2)[1].decode())
                await asyncio.sleep(latency)
                if host == REGISTRY_HOST:
                    body, kind = (
                        registry_reply(target.path, target.query, asked),
                        "application/json",
                    )
                else:
                    body = files.get((host, target.path))
                    kind = "text/plain" if target.path.endswith(".txt") else "text/html"
                head = "200 OK" if body is not None else "404 Not Found"
                body = body if body is not None else b"not found"
                writer.write(
                    f"HTTP/1.1 {head}\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        hosts = [REGISTRY_HOST] + [address(n) for n in range(len(folders))]
        with socket.socket() as probe:  # port 0 would give every address a port of its own
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
        server = await asyncio.start_server(handle, hosts, port, backlog=1024)
        print(port, flush=True)
        await server.serve_forever()

    asyncio.run(main())


def registry_reply(path: str, query: str, asked: list[str]) -> bytes | None:
    """ClinicalTrials.gov's list and single-study endpoints, knowing every well-formed id;
    ``/requests`` counts the others (``asked``)."""
    if path == "/requests":
        return json.dumps({"requests": len(asked)}).encode()
    asked.append(path)
    if path == "/api/v2/studies":
        ids = parse_qs(query).get("filter.ids", [""])[0].split(",")
        return json.dumps({"studies": [_study(i) for i in ids if _NCT.fullmatch(i)]}).encode()
    nct_id = path.rsplit("/", 1)[-1]
    return json.dumps(_study(nct_id)).encode() if _NCT.fullmatch(nct_id) else None


def _study(nct_id: str) -> dict[str, Any]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": "A stand-in study"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "sponsorCollaboratorsModule": {
                "leadSponsor": {"name": "A university", "class": "OTHER"}
            },
        }
    }


class MemoryWatch(threading.Thread):
    """Samples this process and its children but ``exclude`` once a second, and once more when
    ``sample`` is called as the batch ends: peak sums of RSS (shared pages counted in every
    process) and PSS (shared pages divided among them). Reading a process's PSS makes the kernel
    walk its page tables (5 ms for an analysis process): sampled every 0.2 s, it took 7% of a
    core from the batch it measured, inside the batch's own process."""

    def __init__(self, exclude: int) -> None:
        super().__init__(daemon=True)
        self.exclude, self.peak_rss_mb, self.peak_pss_mb = exclude, 0.0, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(1.0):
            self.sample()

    def sample(self) -> None:
        rss = pss = 0.0
        for pid in process_tree(os.getpid(), self.exclude):
            fields = _rollup(pid)
            rss, pss = rss + fields.get("Rss", 0) / 1024, pss + fields.get("Pss", 0) / 1024
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        self.peak_pss_mb = max(self.peak_pss_mb, pss)


def _rollup(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:  # gone meanwhile
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines[1:] if line.endswith("kB")}


def settings_for_bench(data_dir: Path, registry: str | None) -> Settings:
    """``registry``: the stand-in's address, asked at the default courtesy limit; without it
    the look-ups fail at once (a refused port, one try, no limit)."""
    if registry is not None:
        return Settings(
            allowed_networks=["127.0.0.0/8"], data_dir=data_dir, registry_base_url=registry
        )
    return Settings(
        allowed_networks=["127.0.0.0/8"],
        data_dir=data_dir,
        registry_base_url="http://127.0.0.1:9",
        registry_max_tries=1,
        registry_requests_per_minute=1_000_000,
    )


async def run_batch(
    queue: SqlJobQueue,
    batch_id: str,
    settings: Settings,
    engine: Engine,
    concurrency: int,
    pool: AnalysisPool | None,
) -> None:
    await run_worker(
        queue,
        batch_id,
        settings,
        engine,
        concurrency,
        None,
        handle_signals=False,
        analyst=pool,
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
    octets = [int(o) for o in (parts.hostname or "").split(".")]
    return _sites(farm)[octets[2] * 256 + octets[3] - 2] / parts.path.lstrip("/")


@functools.cache
def _sites(farm: Path) -> list[Path]:
    """The farm's site folders in address order (listed once, not once a page)."""
    return sorted(p for p in farm.iterdir() if p.is_dir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", help="default: $REDFLAGS_CORPUS, ../shared/corpus/dev")
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--concurrency", type=int, help="sites at once (default: the setting)")
    parser.add_argument("--processes", type=int, help="analysis processes (default: the cores)")
    parser.add_argument(
        "--registry", action="store_true", help="look the trial numbers up, at the courtesy limit"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--json-out", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency, args.sites)
        return
    raw = args.corpus or os.environ.get("REDFLAGS_CORPUS")
    corpus = Path(raw) if raw else ROOT.parent / "shared" / "corpus" / "dev"
    with tempfile.TemporaryDirectory(prefix="redflags-batch-bench-") as tmp:
        figures = measure(
            corpus,
            Path(tmp),
            args.sites,
            args.latency,
            args.concurrency,
            args.processes,
            registry=args.registry,
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")
    if args.json:
        print(json.dumps(figures))
    else:
        report(figures)


def measure(
    corpus: Path,
    tmp: Path,
    count: int,
    latency: float,
    concurrency: int | None,
    processes: int | None,
    *,
    registry: bool,
) -> dict[str, Any]:
    farm = tmp / "farm"
    sites = generate_sites(corpus, farm, count)
    command = [sys.executable, __file__, "--serve", str(farm), "--latency", str(latency)]
    server = subprocess.Popen([*command, "--sites", str(count)], stdout=subprocess.PIPE, text=True)
    watch = MemoryWatch(exclude=server.pid)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        stand_in = f"http://{REGISTRY_HOST}:{port}"
        settings = settings_for_bench(tmp / "data", stand_in if registry else None)
        concurrency = concurrency or settings.batch_concurrency
        cores = usable_cores()
        processes = processes or cores
        engine = Engine.from_settings(settings)
        database = make_engine(f"sqlite:///{tmp / 'jobs.sqlite'}")
        upgrade(database)
        queue = SqlJobQueue(database)
        items = [
            NewItem(n + 1, f"http://{address(n)}:{port}{s.entry.removeprefix('/' + s.name)}")
            for n, s in enumerate(sites)
        ]
        batch_id = queue.enqueue(items, options={})
        pool = AnalysisPool(engine, processes).start() if processes > 1 else None
        watch.start()
        server_cpu_before = cpu_seconds(server.pid)
        wall, cpu = time.perf_counter(), time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            event_loop.run(run_batch(queue, batch_id, settings, engine, concurrency, pool))
        finally:
            watch.sample()  # memory grows as a batch goes on: its last moment counts
            if pool is not None:
                pool.close()  # the workers' CPU time counts once they have been reaped
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        watch.done.set()
        watch.join()
        server_cpu = cpu_seconds(server.pid) - server_cpu_before
        asked = httpx.get(f"{stand_in}/requests").json()["requests"] if registry else None
        progress = queue.progress(batch_id)
        assert progress is not None
        limit = engine_limit(database, farm, engine, settings)
    finally:
        server.kill()
        server.wait()
    sites_s = count / wall
    limit_sites_s = limit["sites"] / limit["seconds"] * cores
    return {
        "sites": count,
        "latency_s": latency,
        "concurrency": concurrency,
        "processes": processes,
        "states": dict(progress.counts),
        "unreadable": progress.unreadable,
        "wall_s": wall,
        "cpu_s": cpu,
        "workers_cpu_s": workers_cpu,
        "server_cpu_s": server_cpu,
        "sites_s": sites_s,
        "engine": limit,
        "engine_pages_s": limit["pages"] / limit["seconds"],
        "cores": cores,
        "limit_sites_s": limit_sites_s,
        "ratio": sites_s / limit_sites_s,
        "peak_rss_mb": watch.peak_rss_mb,
        "peak_pss_mb": watch.peak_pss_mb,
        "registry_requests": asked,
        "registry_per_minute": settings.registry_requests_per_minute if registry else None,
        "citing_sites": citing_sites(database) if registry else None,
    }


def citing_sites(database: Any) -> int:
    """Sites whose report checked trial numbers with the registry."""
    with Session(database) as session:
        reports = session.execute(select(ReportRow.report)).scalars().all()
    return sum(1 for r in reports if r.get("trial_checks"))


def report(f: dict[str, Any]) -> None:
    e = f["engine"]
    print(
        f"redflags batch benchmark: {f['sites']} sites on their own loopback addresses, "
        f"{f['latency_s'] * 1000:.0f} ms per response, concurrency {f['concurrency']}, "
        f"{f['processes']} analysis process(es)"
    )
    states = ", ".join(f"{n} {s}" for s, n in f["states"].items() if n)
    print(f"  outcome: {states} ({f['unreadable']} unreadable)")
    if f["registry_requests"] is not None:
        print(
            f"  registry: {f['citing_sites']} sites had their trial numbers checked, in "
            f"{f['registry_requests']} requests to the stand-in at "
            f"{f['registry_per_minute']:g} a minute"
        )
    print(
        f"  batch:   {f['wall_s']:.1f} s wall, CPU {f['cpu_s']:.1f} s in the fetching process "
        f"+ {f['workers_cpu_s']:.1f} s in the analysis processes: {f['sites_s']:.1f} sites/s"
    )
    used = f["cpu_s"] + f["workers_cpu_s"] + f["server_cpu_s"]
    print(
        f"  CPU time of the {f['cores']} cores ({f['cores'] * f['wall_s']:.1f} s): batch "
        f"{f['cpu_s'] + f['workers_cpu_s']:.1f} s, the benchmark's web server "
        f"{f['server_cpu_s']:.1f} s, idle {f['cores'] * f['wall_s'] - used:.1f} s; fetching costs "
        f"{f['cpu_s'] / f['sites'] * 1000:.0f} ms of CPU a site against "
        f"{f['workers_cpu_s'] / f['sites'] * 1000:.0f} ms for reading and analysing it "
        f"(the engine alone in one process: {e['seconds'] / e['sites'] * 1000:.1f} ms; it reads "
        "every copy of each corpus site, an analysis process half of them, with colder caches)"
    )
    print(
        f"  engine:  {e['pages']} pages of {e['sites']} sites in {e['seconds']:.1f} s CPU: "
        f"{f['engine_pages_s']:.0f} pages/s = {e['sites'] / e['seconds']:.1f} sites/s per core"
    )
    print(f"  CPU-bound limit: {f['limit_sites_s']:.1f} sites/s ({f['cores']} cores)")
    ok = "goal met" if f["ratio"] >= GOAL_RATIO else "goal NOT met"
    print(f"  ratio batch / limit: {f['ratio']:.2f}  (goal >= {GOAL_RATIO}: {ok})")
    ok = "goal met" if f["peak_pss_mb"] < GOAL_RSS_MB else "goal NOT met"
    print(
        f"  peak memory of the batch's processes: {f['peak_pss_mb']:.0f} MB PSS "
        f"(goal < {GOAL_RSS_MB} MB: {ok}); {f['peak_rss_mb']:.0f} MB as the sum of their RSS, "
        "which counts the pages they share once per process"
    )


if __name__ == "__main__":
    main()
