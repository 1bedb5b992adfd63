"""Site analysis in worker processes: batch screening on every core.

One Python process runs one thread of Python at a time, so a batch whose analysis ran on worker
threads used one core however many the machine had. Here the fetching loop stays in the main
process and each site's ``AnalysisJob`` goes to a pool of processes.

The workers are forked from the main process once it has loaded the engine, before it starts
any thread (``start``): they share its loaded pipelines copy-on-write instead of loading their
own (about 1.7 s and 300 MB each), and no lock held by another thread is copied into them. A
worker that dies (killed, out of memory) fails the site it was on with an error; the pool is
then forked again, this time from a process with threads, which only risks a lock held by a
thread that the workers never use.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from app.engine.analyzer import Engine
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.pipeline.site_analysis import AnalysisJob, SiteAnalysis, analyse_site

log = logging.getLogger("redflags.pipeline")
P = ParamSpec("P")
T = TypeVar("T")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h

_engine: Engine | None = None  # in a worker process: the engine inherited from the parent


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


class AnalysisPool:
    """An ``Analyst`` on worker processes: ``with AnalysisPool(engine, processes) as pool:``."""

    def __init__(self, engine: Engine, processes: int) -> None:
        if processes < 1:
            raise ValueError("an analysis pool needs at least one process")
        self.engine = engine
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> AnalysisPool:
        """Fork the workers now; call before any thread starts (see the module's note)."""
        # Objects that exist now are never scanned by the garbage collector again, so the
        # workers do not write to (and copy) every page of the inherited engine when it runs.
        gc.freeze()
        self._pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_adopt,
            initargs=(self.engine, os.getpid()),  # not pickled: a fork has the parent's memory
        )
        # Python forks every worker at the first submit; make that happen here.
        for future in [self._pool.submit(os.getpid) for _ in range(self.processes)]:
            future.result()
        return self

    def worker_pids(self) -> list[int]:
        """The worker processes now running (for logs, and for tests that kill one)."""
        return [p.pid for p in multiprocessing.active_children() if p.pid is not None]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> AnalysisPool:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def extract(self, data: bytes, source: str, **options: Any) -> ExtractedPage:
        return await self._run(partial(extract_document, data, source, **options))

    async def analyse(self, job: AnalysisJob) -> SiteAnalysis:
        return await self.run(analyse_site, job)

    async def run(self, work: Callable[Concatenate[Engine, P], T], *args: P.args) -> T:
        return await self._run(partial(_with_engine, work, *args))

    async def _run(self, call: Callable[[], T]) -> T:
        if self._pool is None:
            raise RuntimeError("the analysis pool is not started")
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except BrokenProcessPool:
            if self._pool is pool:  # the first site to notice replaces the pool
                log.error("an analysis process died; starting new ones")
                pool.shutdown(wait=False, cancel_futures=True)
                self.start()
            raise


def _adopt(engine: Engine, parent: int) -> None:
    global _engine  # noqa: PLW0603 - a worker process's one engine, set once as it starts
    _engine = engine
    # A worker outliving its parent (kill -9) would keep the batch's lock file, which it
    # inherited, and block the run that resumes the batch: die with the parent.
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)
    # Ctrl-C reaches the whole process group; the main process decides how the batch stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _with_engine(work: Callable[..., T], *args: Any) -> T:
    assert _engine is not None, "runs only in a worker started by AnalysisPool"
    return work(_engine, *args)
