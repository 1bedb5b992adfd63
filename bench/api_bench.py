"""Load test of ``POST /api/v1/analyze`` on a real uvicorn over loopback.

Starts ``redflags serve`` on a free 127.0.0.1 port (own temporary database, limits lifted),
then runs N concurrent clients, each with its own connection, posting the same ~3,000-word
clinic page until a time or request budget runs out. Prints requests/s, latency percentiles
and errors, against the CPU-bound limit measured in the same run: the engine (extraction +
analysis) on the same page in this process, times the usable cores. Goals (issue 13): 0 errors,
throughput >= 0.9 x the limit, p99 <= 1.2 x (clients / limit).

The load comes from wrk (Debian's ``wrk``: C, one thread) when it is installed, else from Python
clients in this process. The load generator shares the machine's cores with the service, and the
Python clients cost about 1 ms of CPU a request (7% of two cores at 100 requests/s), wrk a
tenth of that: the figures say which one ran and where the CPU went (service front process,
analysis processes, load generator, idle).

    python bench/api_bench.py [--clients 32] [--seconds 20] [--workers 1] [--processes N]
        [--json-out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from procstat import cpu_seconds, process_tree

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "clinic-landing.html"
GOAL_RATIO, GOAL_P99 = 0.9, 1.2
ENGINE_RUNS = 30  # timings of the engine alone, before the load and again after it
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


@dataclass
class Load:
    ok: int
    errors: int
    seconds: float
    latency_ms: dict[str, float]  # p50_ms, p90_ms, p99_ms, max_ms, mean_ms
    cpu_s: float  # the load generator's own CPU time


# wrk posts the page from a file and prints its figures as one JSON line when it is done.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open(os.getenv("REDFLAGS_BENCH_BODY"), "rb")
wrk.body = file:read("*a")
file:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "mean_ms": %.3f, "socket_errors": %d, "status_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    latency.mean / 1e3, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def run_wrk(wrk: str, base: str, payload: dict[str, str], clients: int, seconds: float) -> Load:
    """``clients`` connections with one request in flight each, for ``seconds``, from wrk."""
    with tempfile.TemporaryDirectory(prefix="redflags-wrk-") as folder:
        body, script = Path(folder) / "body.json", Path(folder) / "post.lua"
        body.write_text(json.dumps(payload), encoding="utf-8")
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        finished = subprocess.run(
            [wrk, "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script)]
            + [f"{base}/api/v1/analyze"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "REDFLAGS_BENCH_BODY": str(body)},
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(ln for ln in finished.stdout.splitlines() if ln.startswith("{"))
    figures = json.loads(line)
    errors = figures["socket_errors"] + figures["status_errors"]
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    percentiles = {k: figures[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms")}
    return Load(figures["requests"] - errors, errors, figures["seconds"], percentiles, cpu)


def run_python(
    base: str, payload: dict[str, str], clients: int, seconds: float, requests: int
) -> Load:
    """The same load from ``clients`` httpx clients in this process."""
    cpu = time.process_time()
    latencies, errors, elapsed = asyncio.run(run_load(base, payload, clients, seconds, requests))
    cpu = time.process_time() - cpu
    ms = sorted(v * 1000 for v in latencies) or [float("nan")]
    percentiles = {
        "p50_ms": percentile(ms, 0.50),
        "p90_ms": percentile(ms, 0.90),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms),
        "mean_ms": statistics.mean(ms),
    }
    if errors:
        print(f"  error kinds: {sorted(set(errors))}")
    return Load(len(latencies), len(errors), elapsed, percentiles, cpu)


def _service_seconds(pid: int) -> float:
    """CPU time of the service: its front process and the analysis processes it forked."""
    return sum(cpu_seconds(p) for p in process_tree(pid))


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
    parser.add_argument(
        "--python-clients", action="store_true", help="load from Python clients even with wrk"
    )
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0))
    html = bench_page(args.words)
    timer = engine_timer(html)
    # The engine is timed before and after the load: this machine's speed drifts by 10-20%
    # over a minute, and the limit should be the load's own.
    timings = timer(ENGINE_RUNS)
    payload = {"url": "https://bluewater-cell.example/", "html": html}
    wrk = None if args.python_clients else shutil.which("wrk")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="redflags-bench-") as data_dir:
        server = start_server(port, args.workers, args.processes, data_dir)
        try:
            wait_ready(base, server)
            asyncio.run(run_load(base, payload, 4, 60, 20))  # warm-up: threads, caches
            service, front = _service_seconds(server.pid), cpu_seconds(server.pid)
            if wrk is not None:
                load = run_wrk(wrk, base, payload, args.clients, args.seconds)
            else:
                load = run_python(base, payload, args.clients, args.seconds, args.requests)
            service = _service_seconds(server.pid) - service
            front = cpu_seconds(server.pid) - front
        finally:
            server.terminate()
            server.wait(timeout=30)
    engine_s = statistics.median(timings + timer(ENGINE_RUNS))
    limit = cores / engine_s

    done = load.ok
    figures = {
        "words": len(html.split()),
        "clients": args.clients,
        "workers": args.workers,
        "processes": args.processes,
        "load_generator": "wrk" if wrk else "python",
        "ok": done,
        "errors": load.errors,
        "seconds": load.seconds,
        "requests_s": done / load.seconds,
        "p50_ms": load.latency_ms["p50_ms"],
        "p99_ms": load.latency_ms["p99_ms"],
        "engine_ms": engine_s * 1000,
        "limit_requests_s": limit,
        "ratio": done / load.seconds / limit,
        "p99_goal_ms": GOAL_P99 * args.clients / limit * 1000,
        "cpu_s": {"service": service, "front_process": front, "load_generator": load.cpu_s},
    }
    if args.json_out:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")
    generator = "wrk, one thread" if wrk else "Python clients in the benchmark's process"
    print(
        f"api bench: POST /api/v1/analyze, {figures['words']:,}-word page "
        f"({len(html.encode()):,} bytes), {args.clients} clients ({generator}), "
        f"{args.workers} worker(s) with {args.processes} analysis process(es) each"
    )
    print(f"  requests: {done} ok, {load.errors} errors in {load.seconds:.1f} s")
    print(
        f"  throughput: {figures['requests_s']:.1f} requests/s; CPU-bound limit "
        f"{limit:.1f} requests/s (engine {engine_s * 1000:.1f} ms a page x "
        f"{cores} cores); ratio {figures['ratio']:.2f} "
        f"(goal >= {GOAL_RATIO}: {'met' if figures['ratio'] >= GOAL_RATIO else 'NOT met'})"
    )
    lat = load.latency_ms
    print(
        f"  latency ms: p50 {lat['p50_ms']:.0f}  p90 {lat['p90_ms']:.0f}  "
        f"p99 {lat['p99_ms']:.0f}  max {lat['max_ms']:.0f}  mean {lat['mean_ms']:.0f}"
    )
    met = figures["p99_ms"] <= figures["p99_goal_ms"]
    print(
        f"  p99 goal (<= 1.2 x clients / limit = {figures['p99_goal_ms']:.0f} ms): "
        f"{'met' if met else 'NOT met'}"
    )
    total = cores * load.seconds
    per = 1000 / max(done, 1)
    print(
        f"  CPU of the {cores} cores ({total:.1f} s): service front process {front:.1f} s "
        f"({front * per:.1f} ms a request), analysis processes {service - front:.1f} s "
        f"({(service - front) * per:.1f} ms a request), load generator {load.cpu_s:.1f} s, "
        f"idle {max(0.0, total - service - load.cpu_s):.1f} s"
    )
    if wrk is None:
        print("  (install wrk for a load generator that takes a tenth of this CPU)")
    return 1 if load.errors or not done else 0


def engine_timer(html: str) -> Callable[[int], list[float]]:
    """``timer(n)``: ``n`` timings of extraction + analysis of the page in this process (the
    engine loaded and warmed up first, the collector frozen as the service freezes it)."""
    from app.engine.analyzer import Engine
    from app.extract.document import extract_document
    from app.settings import Settings

    engine = Engine.from_settings(Settings())
    gc.freeze()
    data = html.encode()

    def once() -> float:
        start = time.perf_counter()
        engine.analyze([extract_document(data, "bench", content_type="text/html")], "bench")
        return time.perf_counter() - start

    once()
    return lambda n: [once() for _ in range(n)]


if __name__ == "__main__":
    sys.exit(main())
