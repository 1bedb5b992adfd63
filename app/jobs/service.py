"""The batch worker inside the service process, on a thread with its own event loop.

Its own loop keeps crawling hundreds of sites (and the extraction that runs on the loop) from
adding latency to API requests, and gives it its own ``Fetcher`` and thread limiter. Jobs are
rows in the service's database, so a restart picks up where the last process stopped: sites
it had in progress come back when their lease runs out. Several service processes (uvicorn
workers) may each run one: claims never hand a site to two of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from types import TracebackType

import sqlalchemy

from app.engine.analyzer import Engine
from app.fetch import Fetcher
from app.jobs import event_loop
from app.jobs.store import SqlJobQueue
from app.jobs.worker import Worker, site_checker
from app.pipeline.site_analysis import Analyst
from app.settings import Settings
from app.verify import RegistryClient

log = logging.getLogger("redflags.jobs")
RESTART_DELAY = 5.0  # seconds before a worker that failed (database down) tries again
POLL = 2.0  # seconds between looks for new work when nobody wakes the worker


class BackgroundWorker:
    """``with BackgroundWorker(...) as worker:`` runs it; ``worker.wake()`` after enqueueing."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        database: sqlalchemy.Engine,
        analyst: Analyst | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.analyst = analyst
        self.queue = SqlJobQueue(
            database, lease=settings.batch_lease, max_attempts=settings.batch_max_attempts
        )
        self._thread = threading.Thread(target=self._run, name="redflags-batch", daemon=True)
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._worker: Worker | None = None

    def __enter__(self) -> BackgroundWorker:
        self._thread.start()
        self._started.wait()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        # Sites in progress are handed back at once; a stuck one is left to its lease.
        self._thread.join(timeout=self.settings.total_timeout)

    def wake(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    def _run(self) -> None:
        event_loop.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._started.set()
        while not self._stop.is_set():
            try:
                await self._work(self._stop)
            except Exception:
                log.exception("the batch worker stopped; starting again in %g s", RESTART_DELAY)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), RESTART_DELAY)

    async def _work(self, stop: asyncio.Event) -> None:
        settings = self.settings
        async with Fetcher(settings) as fetcher, RegistryClient(settings) as registry:
            self._worker = Worker(
                self.queue,
                site_checker(settings, self.engine, fetcher, registry, self.analyst),
                concurrency=settings.batch_concurrency,
                lease=settings.batch_lease,
                site_deadline=settings.check_timeout,
                poll=POLL,
            )
            await self._worker.run(stop)
