"""Batch analysis in worker processes: the same reports as on a thread, and a worker that dies
fails only the site it was on."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import anyio
import pytest

from app.engine.analyzer import Engine
from app.extract.document import extract_document
from app.fetch import FetchedPage
from app.pipeline.process_pool import AnalysisPool, AnalysisProcessDied
from app.pipeline.site_analysis import AnalysisJob, SiteAnalysis, ThreadAnalyst
from tests.jobs.conftest import Farm

CLI = [sys.executable, "-m", "app.cli", "batch"]
COLUMNS = ("url", "verdict", "score", "flags", "pages_read")
pytestmark = pytest.mark.slow


def _results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k: row[k] for k in COLUMNS if k in row} for row in csv.DictReader(f)]


def test_two_processes_give_the_reports_one_gives(
    farm: Farm, tmp_path: Path, batch_env: dict[str, str]
) -> None:
    (tmp_path / "sites.txt").write_text("\n".join(farm.urls(40)) + "\n", encoding="utf-8")
    outputs = {}
    for processes in ("1", "2"):
        out = tmp_path / f"out-{processes}.csv"
        args = ["sites.txt", "-o", out.name, "--max-pages", "3", "--processes", processes]
        result = subprocess.run(
            [*CLI, *args], env=batch_env, cwd=tmp_path, capture_output=True, text=True, timeout=150
        )
        assert result.returncode == 0, result.stderr
        outputs[processes] = _results(out)
    assert len(outputs["1"]) == 40
    assert {r["verdict"] for r in outputs["1"]} >= {"high_risk", "low_risk"}
    assert outputs["2"] == outputs["1"]


def _job(page: bytes, url: str) -> AnalysisJob:
    fetched = FetchedPage(
        requested_url=url,
        final_url=url,
        status=200,
        fetched_at=FetchedPage.failed(url, "-").fetched_at,
        content_type="text/html",
        charset="utf-8",
        body=page,
        sha256="",
        truncated=False,
        redirects=(),
        error=None,
        skipped=None,
    )
    return AnalysisJob(
        url=url,
        pages=[fetched],
        entry_page=None,
        notes=[],
        explain=True,
        deadline=float("inf"),
        max_document_bytes=2_000_000,
        min_words=5,
    )


def _die(engine: Engine) -> None:
    """A call whose worker process is killed while it runs."""
    os.kill(os.getpid(), signal.SIGKILL)


def _gone(pid: int) -> bool:
    """The process has exited (a zombie until its parent reaps it) or is no more."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except FileNotFoundError:
        return True


def test_a_worker_that_dies_fails_its_site_and_the_pool_goes_on(
    engine: Engine, corpus: Path
) -> None:
    page = (corpus / "s01-desert-bloom-regenerative" / "index.html").read_bytes()
    job = _job(page, "https://desert-bloom.example/")

    async def scenario(pool: AnalysisPool) -> None:
        first = await pool.analyse(job)
        on_thread = await ThreadAnalyst(engine).analyse(job)
        assert first.report is not None and on_thread.report is not None
        assert first.report.model_dump() == on_thread.report.model_dump(exclude={"analyzed_at"})
        entry = await pool.extract(page, "https://desert-bloom.example/", content_type="text/html")
        assert entry == extract_document(
            page, "https://desert-bloom.example/", content_type="text/html"
        )

        # Dying in the middle of a call fails that call only.
        before = pool.worker_pids()
        with pytest.raises(AnalysisProcessDied, match="process died"):
            await pool.run(_die)
        after = pool.worker_pids()
        assert len(after) == 2 and len(set(after) - set(before)) == 1
        again = await pool.analyse(job)
        assert again.report is not None and again.report.verdict == first.report.verdict

        # Workers that die while idle are replaced before a call reaches them.
        for pid in after:
            os.kill(pid, signal.SIGKILL)
        while not all(_gone(pid) for pid in after):
            await anyio.sleep(0.01)
        results: list[SiteAnalysis] = []

        async def one() -> None:
            results.append(await pool.analyse(job))

        async with anyio.create_task_group() as group:  # both workers needed at once
            for _ in range(4):
                group.start_soon(one)
        assert [r.report.verdict for r in results if r.report] == [first.report.verdict] * 4
        assert not set(pool.worker_pids()) & set(after)

    with AnalysisPool(engine, 2) as pool:
        anyio.run(scenario, pool)


def test_calls_wait_their_turn_and_a_cancelled_caller_leaves_the_worker_sound(
    engine: Engine, corpus: Path
) -> None:
    """More calls than workers, some cancelled while they wait or run: every other call gets
    its own answer (a worker is never handed to two callers, nor an answer to the wrong one)."""
    pages = sorted(corpus.glob("s0*/index.html"))[:6]
    jobs = [_job(p.read_bytes(), f"https://site{n}.example/") for n, p in enumerate(pages)]

    async def scenario(pool: AnalysisPool) -> None:
        expected = [(await ThreadAnalyst(engine).analyse(job)).report for job in jobs]
        results: dict[int, object] = {}

        async def one(n: int) -> None:
            results[n] = (await pool.analyse(jobs[n % len(jobs)])).report

        async with anyio.create_task_group() as group:
            for n in range(18):
                if n % 3 == 2:
                    with anyio.move_on_after(0.001 * n):
                        await one(n)
                else:
                    group.start_soon(one, n)
        for n, report in results.items():
            want = expected[n % len(jobs)]
            assert report is not None and want is not None
            assert report.model_dump(exclude={"analyzed_at"}) == want.model_dump(  # type: ignore[attr-defined]
                exclude={"analyzed_at"}
            )
        assert len([n for n in results if n % 3 != 2]) == 12
        assert len(pool.worker_pids()) == 2

    with AnalysisPool(engine, 2) as pool:
        anyio.run(scenario, pool)


def test_a_call_held_behind_one_that_dies_is_sent_again(engine: Engine, corpus: Path) -> None:
    """A worker holds the call it runs and the next: when it dies, only the first fails."""
    page = (corpus / "s01-desert-bloom-regenerative" / "index.html").read_bytes()
    job = _job(page, "https://desert-bloom.example/")

    async def scenario(pool: AnalysisPool) -> None:
        outcomes: dict[str, object] = {}

        async def call(name: str, work: Callable[[], Awaitable[object]]) -> None:
            try:
                outcomes[name] = await work()
            except AnalysisProcessDied as exc:
                outcomes[name] = exc

        async with anyio.create_task_group() as group:  # both sent to the one worker at once
            group.start_soon(call, "dies", partial(pool.run, _die))
            group.start_soon(call, "held", partial(pool.analyse, job))
        assert isinstance(outcomes["dies"], AnalysisProcessDied)
        held = outcomes["held"]
        assert isinstance(held, SiteAnalysis) and held.report is not None

    with AnalysisPool(engine, 1) as pool:
        anyio.run(scenario, pool)


def test_a_loop_in_another_thread_shares_the_pool(engine: Engine, corpus: Path) -> None:
    """The service's batch worker runs its own loop in a thread: its calls are made on the
    pool's home loop and answered on its own."""
    page = (corpus / "s01-desert-bloom-regenerative" / "index.html").read_bytes()
    job = _job(page, "https://desert-bloom.example/")
    home_ready, finished = threading.Event(), threading.Event()
    answers: list[SiteAnalysis] = []

    async def home(pool: AnalysisPool) -> None:
        await pool.attach()
        home_ready.set()
        answers.append(await pool.analyse(job))
        while not finished.is_set():  # the home loop keeps running, as the service's does
            await anyio.sleep(0.01)

    async def guest(pool: AnalysisPool) -> None:
        # An answer resolved on the wrong loop would never wake this one: fail, do not hang.
        together = asyncio.gather(*(pool.analyse(job) for _ in range(3)))
        answers.extend(await asyncio.wait_for(together, 60))

    with AnalysisPool(engine, 2) as pool:
        thread = threading.Thread(target=anyio.run, args=(home, pool))
        thread.start()
        assert home_ready.wait(30)
        try:
            asyncio.run(guest(pool))
        finally:
            finished.set()
            thread.join()
    verdicts = [a.report.verdict for a in answers if a.report is not None]
    assert len(verdicts) == 4 and len(set(verdicts)) == 1


def _sleep(engine: Engine, seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_closing_the_pool_fails_the_calls_it_has_not_answered(engine: Engine) -> None:
    """Calls running, held and waiting when the pool closes end with an error, not a hang."""

    async def scenario() -> None:
        pool = AnalysisPool(engine, 1).start()
        calls = [asyncio.ensure_future(pool.run(_sleep, 5.0)) for _ in range(3)]
        await asyncio.sleep(0.2)  # one running, one held by the worker, one waiting here
        pool.close()
        done = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 30)
        assert all(isinstance(r, RuntimeError) and "closed" in str(r) for r in done), done

    asyncio.run(scenario())
