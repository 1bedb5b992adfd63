"""Load test of ``POST /api/v1/analyze`` on a real uvicorn over loopback.

Starts ``redflags serve`` on a free 127.0.0.1 port (own temporary database, limits lifted),
then runs N concurrent clients, each with its own connection, posting the same ~3,000-word
clinic page until a time or request budget runs out. Prints requests/s, latency percentiles
and errors, against the CPU-bound limit measured in the same run: the engine (extraction +
analysis) on the same page in this process, times the usable cores. Goals (issue 13): 0 errors,
throughput >= 0.9 x the limit, p99 <= 1.2 x (clients / limit).

    python bench/api_bench.py [--clients 32] [--seconds 20] [--workers 1] [--processes N]
        [--json-out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "clinic-landing.html"
GOAL_RATIO, GOAL_P99 = 0.9, 1.2
# Everyday words for neutral filler paragraphs (the bench measures the API, not the rules).
FILLER = (
    "the joint patients pain treatment doctor knee hands morning stiffness weeks months "
    "inflammation clinic visit therapy exercise sleep diet family work walking swelling "
    "cells tissue study results questions answers care team appointment insurance records "
    "medication dose blood test scan report recovery support physical daily life "
)


def bench_page(words: int) -> str:
    """The sample clinic page padded with neutral paragraphs to about ``words`` words."""
    html = SAMPLE.read_text(encoding="utf-8")
    rng = random.Random(4)  # the same page every run
    words_pool = FILLER.split()
    paragraphs, count = [], len(html.split())
    while count < words:
        sentences = [
            " ".join(rng.choice(words_pool) for _ in range(rng.randint(8, 18))).capitalize() + "."
            for _ in range(5)
        ]
        paragraphs.append(f"<p>{' '.join(sentences)}</p>")
        count += sum(len(s.split()) for s in sentences)
    return html.replace("</main>", "\n".join(paragraphs) + "\n</main>")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int, processes: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REDFLAGS_DATA_DIR": data_dir,
        "REDFLAGS_ANALYZE_LIMIT_ANONYMOUS": "1000000000",
        "REDFLAGS_ANALYSIS_PROCESSES": str(processes),
    }
    env.pop("REDFLAGS_DATABASE_URL", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server was not ready within {timeout:g} s")


async def client_loop(
    base: str, payload: dict[str, str], deadline: float, budget: list[int], out: list[float],
    errors: list[str],
) -> None:  # fmt: skip
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            try:
                response = await client.post("/api/v1/analyze", json=payload)
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            if response.status_code == 200:
                out.append(time.perf_counter() - started)
            else:
                errors.append(str(response.status_code))


async def run_load(
    base: str, payload: dict[str, str], clients: int, seconds: float, requests: int
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [requests]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(client_loop(base, payload, deadline, budget, latencies, errors) for _ in range(clients))
    )
    return latencies, errors, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration cap")
    parser.add_argument("--requests", type=int, default=5_000, help="request count cap")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--processes",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="analysis processes per worker (default: the cores; 1: threads of the worker)",
    )
    parser.add_argument("--words", type=int, default=3_000)
    parser.add_argument("--json-out", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    html = bench_page(args.words)
    engine_s = engine_seconds(html)
    limit = len(os.sched_getaffinity(0)) / engine_s
    payload = {"url": "https://bluewater-cell.example/", "html": html}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="redflags-bench-") as data_dir:
        server = start_server(port, args.workers, args.processes, data_dir)
        try:
            wait_ready(base, server)
            asyncio.run(run_load(base, payload, 4, 60, 20))  # warm-up: threads, caches
            latencies, errors, elapsed = asyncio.run(
                run_load(base, payload, args.clients, args.seconds, args.requests)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    done = len(latencies)
    ms = sorted(v * 1000 for v in latencies) or [float("nan")]
    figures = {
        "words": len(html.split()),
        "clients": args.clients,
        "workers": args.workers,
        "processes": args.processes,
        "ok": done,
        "errors": len(errors),
        "seconds": elapsed,
        "requests_s": done / elapsed,
        "p50_ms": percentile(ms, 0.50),
        "p99_ms": percentile(ms, 0.99),
        "engine_ms": engine_s * 1000,
        "limit_requests_s": limit,
        "ratio": done / elapsed / limit,
        "p99_goal_ms": GOAL_P99 * args.clients / limit * 1000,
    }
    if args.json_out:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")
    print(
        f"api bench: POST /api/v1/analyze, {figures['words']:,}-word page "
        f"({len(html.encode()):,} bytes), {args.clients} clients, {args.workers} worker(s) "
        f"with {args.processes} analysis process(es) each"
    )
    print(f"  requests: {done} ok, {len(errors)} errors in {elapsed:.1f} s")
    print(
        f"  throughput: {figures['requests_s']:.1f} requests/s; CPU-bound limit "
        f"{limit:.1f} requests/s (engine {engine_s * 1000:.1f} ms a page x "
        f"{len(os.sched_getaffinity(0))} cores); ratio {figures['ratio']:.2f} "
        f"(goal >= {GOAL_RATIO}: {'met' if figures['ratio'] >= GOAL_RATIO else 'NOT met'})"
    )
    print(
        f"  latency ms: p50 {figures['p50_ms']:.0f}  p90 {percentile(ms, 0.90):.0f}  "
        f"p99 {figures['p99_ms']:.0f}  max {max(ms):.0f}  mean {statistics.mean(ms):.0f}"
    )
    met = figures["p99_ms"] <= figures["p99_goal_ms"]
    print(
        f"  p99 goal (<= 1.2 x clients / limit = {figures['p99_goal_ms']:.0f} ms): "
        f"{'met' if met else 'NOT met'}"
    )
    if errors:
        print(f"  error kinds: {sorted(set(errors))}")
    return 1 if errors or not done else 0


def engine_seconds(html: str) -> float:
    """Median time of extraction + analysis of the page in this process, after a warm-up."""
    from app.engine.analyzer import Engine
    from app.extract.document import extract_document
    from app.settings import Settings

    engine = Engine.from_settings(Settings())
    data = html.encode()

    def once() -> float:
        start = time.perf_counter()
        engine.analyze([extract_document(data, "bench", content_type="text/html")], "bench")
        return time.perf_counter() - start

    once()
    return statistics.median(once() for _ in range(15))


if __name__ == "__main__":
    sys.exit(main())
