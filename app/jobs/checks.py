"""A person's check as a stored job: asked for, answered at once (202), run by the service.

``CheckJobs`` keeps each check's state in the database (queued, running with its phase, done,
failed). ``CheckRunner`` runs them inside the service, a few at a time, on the service's event
loop. A check is claimed by one process with a conditional UPDATE, so two workers never both
run it; a check left running by a process that died is queued again when a runner starts (or
when its worker is seen to be gone), and its report is saved under the id the job was given,
so however often it is attempted it leaves at most one report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import sqlalchemy
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.engine.analyzer import Engine
from app.fetch import AddressNotAllowed, Fetcher, UrlRejected
from app.jobs.worker import worker_is_dead, worker_name
from app.pipeline.check import check_and_save, timeout_message
from app.pipeline.site_analysis import Analyst
from app.settings import Settings
from app.storage import ReportStore
from app.storage.check_tables import CheckJobRow, CheckState
from app.storage.reports import new_report_id
from app.verify import RegistryClient

log = logging.getLogger(__name__)
POLL = 0.5  # seconds between looks for checks queued by another process
RETRY = 5.0  # seconds before looking again when the database did not answer
MAX_ATTEMPTS = 3  # a check whose process died this often is given up


@dataclass(frozen=True)
class CheckJob:
    """A check's state as the API and the patient's page show it."""

    id: str
    url: str
    input_url: str
    max_pages: int | None
    explain: bool
    state: CheckState
    phase: str | None
    error_code: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def _now() -> datetime:
    return datetime.now(UTC)


def _job(row: CheckJobRow) -> CheckJob:
    return CheckJob(
        row.id,
        row.url,
        row.input_url,
        row.max_pages,
        row.explain,
        row.state,  # type: ignore[arg-type]
        row.phase,
        row.error_code,
        row.error,
        row.created_at,
        row.updated_at,
    )


class CheckJobs:
    """The ``check_jobs`` table; every method is one short transaction."""

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self.engine = engine

    def enqueue(
        self, url: str, input_url: str, *, max_pages: int | None, explain: bool = False
    ) -> CheckJob:
        now = _now()
        row = CheckJobRow(
            id=new_report_id(),
            url=url,
            input_url=input_url,
            max_pages=max_pages,
            explain=explain,
            state="queued",
            phase="waiting to start",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(row)
        return _job(row)

    def get(self, job_id: str) -> CheckJob | None:
        with Session(self.engine) as session:
            row = session.get(CheckJobRow, job_id)
            return _job(row) if row else None

    def claim(self, worker: str) -> CheckJob | None:
        """The oldest queued check, now running for ``worker``; None when there is none."""
        with self.engine.begin() as conn:
            for job_id in (
                conn.execute(
                    select(CheckJobRow.id)
                    .where(CheckJobRow.state == "queued")
                    .order_by(CheckJobRow.created_at)
                    .limit(5)
                )
                .scalars()
                .all()
            ):
                taken = conn.execute(
                    update(CheckJobRow)
                    .where(CheckJobRow.id == job_id, CheckJobRow.state == "queued")
                    .values(
                        state="running",
                        worker=worker,
                        phase="starting",
                        attempts=CheckJobRow.attempts + 1,
                        updated_at=_now(),
                    )
                )
                if taken.rowcount == 1:
                    break
            else:
                return None
        return self.get(job_id)

    def phase(self, job_id: str, worker: str, phase: str) -> None:
        self._update(job_id, worker, phase=phase)

    def finish(
        self,
        job_id: str,
        worker: str,
        state: CheckState,
        *,
        error_code: str | None = None,
        error: str | None = None,
    ) -> None:
        phase = "done" if state == "done" else "stopped"
        self._update(job_id, worker, state=state, phase=phase, error_code=error_code, error=error)

    def requeue_dead(self) -> int:
        """Checks left running by a process of this machine that is gone: queued again, or
        failed once their process has died ``MAX_ATTEMPTS`` times with them."""
        with self.engine.connect() as conn:
            running = conn.execute(
                select(CheckJobRow.id, CheckJobRow.worker, CheckJobRow.attempts).where(
                    CheckJobRow.state == "running"
                )
            ).all()
        moved = 0
        for job_id, worker, attempts in running:
            if worker is None or not worker_is_dead(worker):
                continue
            if attempts >= MAX_ATTEMPTS:
                message = "checking this site stopped the service several times; it was given up"
                self._update(job_id, worker, state="failed", error_code="crashed", error=message)
            else:
                self._update(job_id, worker, state="queued", phase="waiting to start again")
            moved += 1
        return moved

    def release(self, job_id: str, worker: str) -> None:
        """Hand a running check back (the service is stopping): the next runner takes it."""
        self._update(job_id, worker, state="queued", worker=None, phase="waiting to start again")

    def _update(self, job_id: str, worker: str, **values: object) -> None:
        # Only the worker that holds the check may move it: a runner that lost it (its process
        # was taken for dead) cannot overwrite what the new holder writes.
        with self.engine.begin() as conn:
            conn.execute(
                update(CheckJobRow)
                .where(
                    CheckJobRow.id == job_id,
                    CheckJobRow.worker == worker,
                    CheckJobRow.state == "running",
                )
                .values(**values, updated_at=_now())
            )


class CheckRunner:
    """Runs queued checks inside the service: at most ``concurrency`` at a time."""

    def __init__(
        self,
        jobs: CheckJobs,
        settings: Settings,
        engine: Engine,
        fetcher: Fetcher,
        registry: RegistryClient | None,
        store: ReportStore,
        *,
        concurrency: int = 4,
        analyst: Analyst | None = None,
    ) -> None:
        self.jobs = jobs
        self.settings = settings
        self.engine = engine
        self.fetcher = fetcher
        self.registry = registry
        self.store = store
        self.analyst = analyst
        self.worker = worker_name()
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A check was just queued in this process: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: take queued checks and run each in its own task."""
        recovered = False
        async with asyncio.TaskGroup() as group:
            while True:
                try:
                    if not recovered:
                        await anyio.to_thread.run_sync(self.jobs.requeue_dead)
                        recovered = True
                    await self._take(group)
                except Exception:  # the database may be away for a while: the service stays up
                    log.exception("could not take a queued check; trying again")
                    await asyncio.sleep(RETRY)

    async def _take(self, group: asyncio.TaskGroup) -> None:
        await self._slots.acquire()
        try:
            job = await anyio.to_thread.run_sync(self.jobs.claim, self.worker)
        except BaseException:
            self._slots.release()
            raise
        if job is not None:
            group.create_task(self._run_one(job))
            return
        self._slots.release()
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), POLL)

    async def _run_one(self, job: CheckJob) -> None:
        try:
            await self._check(job)
        except asyncio.CancelledError:
            # The service is stopping: the check goes back to the queue, not to the floor.
            self.jobs.release(job.id, self.worker)
            raise
        finally:
            self._slots.release()

    async def _check(self, job: CheckJob) -> None:
        loop = asyncio.get_running_loop()

        def say(phase: str) -> None:
            # Called on the loop by the crawl; the write goes to a thread, in order per check.
            loop.run_in_executor(None, self.jobs.phase, job.id, self.worker, phase)

        try:
            await check_and_save(
                job.url,
                job.input_url,
                self.settings,
                self.engine,
                self.fetcher,
                self.registry,
                self.store,
                max_pages=job.max_pages,
                explain=job.explain,
                report_id=job.id,
                on_progress=say,
                analyst=self.analyst,
            )
        except TimeoutError:
            message = timeout_message(self.settings.check_timeout)
            await self._finish(job, "failed", "check_timeout", message)
        except UrlRejected as exc:  # AddressNotAllowed is one: found when the name resolved
            code = "address_not_allowed" if isinstance(exc, AddressNotAllowed) else "url_rejected"
            await self._finish(job, "failed", code, f"{exc}.")
        except IntegrityError:  # an earlier attempt saved the report after all
            await self._finish(job, "done")
        except Exception:
            log.exception("check %s of %s failed", job.id, job.url)
            await self._finish(
                job, "failed", "internal_error", "Something went wrong on our side; it was logged."
            )
        else:
            await self._finish(job, "done")

    async def _finish(
        self, job: CheckJob, state: CheckState, code: str | None = None, error: str | None = None
    ) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.jobs.finish(job.id, self.worker, state, error_code=code, error=error)
        )
