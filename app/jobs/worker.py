"""The batch worker: claims sites from a ``JobQueue`` and checks up to ``concurrency`` at once.

Sites of different hosts run side by side; the ``Fetcher`` spaces out requests to any one host,
so concurrency here never means impoliteness. A site that fails is recorded as an error and the
batch goes on. Queue calls are blocking, so they run on one thread of their own: the event loop
keeps fetching while a report is written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from app.engine.analyzer import Engine
from app.fetch import Fetcher, UrlRejected
from app.jobs.queue import Claim, JobQueue
from app.pipeline.check import SiteCheck, run_check
from app.pipeline.site_analysis import Analyst
from app.settings import Settings
from app.verify import RegistryClient

log = logging.getLogger("redflags.jobs")
T = TypeVar("T")
SiteChecker = Callable[[str, int | None], Awaitable[SiteCheck]]


@dataclass(frozen=True)
class Outcome:
    claim: Claim
    state: str  # done | error
    verdict: str | None  # for done
    recorded: bool  # False when the lease had been lost and another worker owns the site


def site_checker(
    settings: Settings,
    engine: Engine,
    fetcher: Fetcher,
    registry: RegistryClient | None,
    analyst: Analyst | None = None,
) -> SiteChecker:
    """``run_check`` as a batch runs it: robots.txt obeyed (``batch=True``); ``analyst`` to
    read and analyse pages in worker processes."""

    async def check(url: str, max_pages: int | None) -> SiteCheck:
        return await run_check(
            url,
            settings,
            engine,
            fetcher,
            registry,
            max_pages=max_pages,
            batch=True,
            analyst=analyst,
        )

    return check


def worker_name() -> str:
    """Unique per process and run: a restarted worker never mistakes old claims for its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:100]


def worker_is_dead(name: str) -> bool:
    """A worker of this machine whose process is gone. Workers elsewhere are only known dead
    when their lease runs out."""
    host, _, rest = name.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():  # this process: its workers hand back what they stop
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


class Worker:
    """Run with ``await worker.run(stop)``; setting ``stop`` ends it cleanly (sites in progress
    are abandoned and handed back to the queue, to be checked again on the next run)."""

    def __init__(
        self,
        queue: JobQueue,
        check: SiteChecker,
        *,
        concurrency: int,
        lease: float,
        site_deadline: float,
        batch_id: str | None = None,
        until_idle: bool = False,
        poll: float = 1.0,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.queue = queue
        self.check = check
        self.concurrency = concurrency
        self.lease = lease
        self.site_deadline = site_deadline
        self.batch_id = batch_id
        self.until_idle = until_idle  # the CLI: return once the batch has nothing left to do
        self.poll = poll
        self.on_outcome = on_outcome
        self.name = worker_name()
        self._claim_at = max(1, concurrency // 8)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="redflags-jobs-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def wake(self) -> None:
        """Look for work now (new batch enqueued); callable from any thread."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        tasks: dict[asyncio.Task[None], Claim] = {}
        signals = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        renew_at = self._loop.time() + self.lease / 3
        reclaimed = await self._call(partial(self.queue.requeue_dead_workers, worker_is_dead))
        if reclaimed:
            log.info("took back %d sites left unfinished by a worker that is gone", reclaimed)
        try:
            while not stop.is_set():
                # A site checked alone (it was in a crash) keeps the others out until it ends.
                alone = any(c.solo for c in tasks.values())
                free = 0 if alone else self.concurrency - len(tasks)
                # A claim is a transaction: with many sites at once, new ones are claimed a
                # few at a time (an eighth of the concurrency), not one as each site ends.
                if free >= self._claim_at or (free > 0 and not tasks):
                    claim = partial(
                        self.queue.claim,
                        self.name,
                        free,
                        batch_id=self.batch_id,
                        idle=not tasks,
                    )
                    for item in await self._call(claim):
                        tasks[asyncio.create_task(self._process(item))] = item
                if (
                    not tasks
                    and self.until_idle
                    and self.batch_id is not None
                    and not await self._call(partial(self.queue.has_work, self.batch_id))
                ):
                    return
                if self._loop.time() >= renew_at:  # heartbeat: these sites are still ours
                    await self._call(
                        partial(self.queue.renew, self.name, [c.item_id for c in tasks.values()])
                    )
                    renew_at = self._loop.time() + self.lease / 3
                if signals[1].done():
                    self._wake.clear()
                    signals[1] = asyncio.create_task(self._wake.wait())
                done, _ = await asyncio.wait(
                    {*tasks, *signals}, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done & tasks.keys():
                    tasks.pop(task)
                    if not task.cancelled() and task.exception() is not None:
                        # The outcome could not be stored; the lease runs out and it is retried.
                        log.error("recording a result failed", exc_info=task.exception())
        finally:
            for signal in signals:
                signal.cancel()
            await self._abandon(tasks)
            self._db.shutdown(wait=True)

    async def _process(self, claim: Claim) -> None:
        try:
            async with asyncio.timeout(self.site_deadline):
                check = await self.check(claim.normalized_url, claim.max_pages)
        except UrlRejected as exc:  # AddressNotAllowed too: the message says which
            error = str(exc)
        except TimeoutError:
            error = f"the check took longer than {self.site_deadline:g} s and was stopped"
        except Exception as exc:  # one broken site must never stop a list of thousands
            log.exception("checking %s failed", claim.normalized_url)
            error = f"internal error while checking this site ({type(exc).__name__})"
        else:
            recorded = await self._call(partial(self.queue.complete, claim, check))
            self._report(Outcome(claim, "done", check.report.verdict, recorded))
            return
        recorded = await self._call(partial(self.queue.fail, claim, error))
        self._report(Outcome(claim, "error", None, recorded))

    def _report(self, outcome: Outcome) -> None:
        if not outcome.recorded:
            log.warning("%s was taken over by another worker", outcome.claim.normalized_url)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    async def _abandon(self, tasks: dict[asyncio.Task[None], Claim]) -> None:
        """Stop the sites in progress and give them back to the queue."""
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        unfinished = [
            claim
            for (task, claim), result in zip(tasks.items(), results, strict=True)
            if isinstance(result, asyncio.CancelledError)
        ]
        if unfinished:
            await self._call(partial(self.queue.release, unfinished))

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn)
