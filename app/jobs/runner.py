"""``redflags batch``: check a list of sites, resumably, and write the results table.

State lives in a SQLite job database beside the output (``results.csv.jobs.sqlite``), the same
schema the service uses, so its reports can be served later. Running the same command again
after Ctrl-C, a crash or ``kill -9`` resumes: finished sites are kept, sites that were in
progress are checked again, and each site's result is written exactly once. A lock file keeps
a second run off the same job database, which is also what makes it safe to take every
"running" site at start-up as abandoned.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import sqlalchemy
from sqlalchemy.exc import SQLAlchemyError

from app.engine.analyzer import Engine
from app.fetch import Fetcher
from app.jobs import event_loop, export
from app.jobs.inputs import InputError, SiteList, read_sites, triage
from app.jobs.progress import ProgressBar
from app.jobs.results import batch_table
from app.jobs.store import SqlJobQueue
from app.jobs.summary import render_summary
from app.jobs.worker import Outcome, Worker, site_checker
from app.pipeline.process_pool import AnalysisPool, usable_cores
from app.pipeline.site_analysis import Analyst
from app.settings import Settings
from app.storage import make_engine, upgrade
from app.storage.batch_tables import BatchRow
from app.storage.reports import copy_reports
from app.verify import RegistryClient

JOBS_SUFFIX = ".jobs.sqlite"
SHOWN_PROBLEMS = 20  # input problems listed one by one before "and N more"


class BatchError(Exception):
    """Something the person running the command must fix; the message says what."""


@dataclass(frozen=True)
class BatchOptions:
    input: Path
    output: Path
    html: Path | None
    concurrency: int
    max_pages: int | None
    report_base_url: str
    processes: int = 0  # analysis processes; 0: one per usable core


def job_database(output: Path) -> Path:
    return output.with_name(output.name + JOBS_SUFFIX)


def run_cli(opts: BatchOptions, settings: Settings, out: TextIO | None = None) -> int:
    """The whole command; returns the exit status (0 done, 130 interrupted)."""
    out = out or sys.stderr
    try:
        data = opts.input.read_bytes()
        sites = read_sites(data)
        export.format_for(opts.output)
        if opts.html is not None and opts.html.suffix.lower() not in (".html", ".htm"):
            raise BatchError(f"{opts.html.name}: the summary must end in .html")
    except (OSError, InputError, ValueError) as exc:
        raise BatchError(str(exc)) from None
    for note in sites.notes:
        print(f"note: {note}", file=out)
    _report_problems(sites, out)
    job_db = job_database(opts.output)
    with _exclusive(job_db):
        database = make_engine(f"sqlite:///{job_db}")
        try:
            upgrade(database)
            queue = SqlJobQueue(
                database, lease=settings.batch_lease, max_attempts=settings.batch_max_attempts
            )
            batch = _open_batch(queue, sites, hashlib.sha256(data).hexdigest(), opts, out)
            start = queue.progress(batch.id)
            assert start is not None  # the batch was just found or made
            if queue.has_work(batch.id):
                engine = Engine.from_settings(settings)
                processes = opts.processes or usable_cores()
                # Forked before the event loop starts any thread (process_pool's note).
                pool = AnalysisPool(engine, processes).start() if processes > 1 else None
                bar = ProgressBar(start, getattr(out, "unfiltered", out))  # draws with \r
                try:
                    event_loop.run(
                        run_worker(
                            queue,
                            batch.id,
                            settings,
                            engine,
                            opts.concurrency,
                            bar,
                            analyst=pool,
                        )
                    )
                finally:
                    bar.close()
                    if pool is not None:
                        pool.close()
            if queue.has_work(batch.id):
                print(
                    "interrupted: run the same command again to check the remaining sites "
                    f"(progress is kept in {job_db})",
                    file=out,
                )
                return 130
            _write_outputs(queue, batch, opts)
            served = _publish(queue, batch.id, database, settings, out)
            _report_done(queue, batch.id, opts, served or f"sqlite:///{job_db.resolve()}", out)
        finally:
            database.dispose()
    return 0


async def run_worker(
    queue: SqlJobQueue,
    batch_id: str,
    settings: Settings,
    engine: Engine,
    concurrency: int,
    on_outcome: Callable[[Outcome], None] | None,
    *,
    fetcher: Fetcher | None = None,
    handle_signals: bool = True,
    analyst: Analyst | None = None,
) -> None:
    """Work on one batch until it is finished or a signal (Ctrl-C, SIGTERM) stops it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)  # a second Ctrl-C stops at once

    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupt)
    async with AsyncExitStack() as stack:
        if fetcher is None:
            fetcher = await stack.enter_async_context(Fetcher(settings))
        registry = await stack.enter_async_context(RegistryClient(settings))
        worker = Worker(
            queue,
            site_checker(settings, engine, fetcher, registry, analyst),
            concurrency=concurrency,
            lease=settings.batch_lease,
            site_deadline=settings.check_timeout,
            batch_id=batch_id,
            until_idle=True,
            on_outcome=on_outcome,
        )
        await worker.run(stop)


def _open_batch(
    queue: SqlJobQueue, sites: SiteList, sha256: str, opts: BatchOptions, out: TextIO
) -> BatchRow:
    batch = queue.latest_batch()
    if batch is None:
        options = {"max_pages": opts.max_pages, "columns": sites.columns, "input": opts.input.name}
        batch_id = queue.enqueue(sites.items, options=options, input_sha256=sha256)
        made = queue.batch(batch_id)
        assert made is not None
        return made
    if batch.input_sha256 != sha256:
        raise BatchError(
            f"{job_database(opts.output)} belongs to a batch started from another input file. "
            "Choose another output file, or delete the job database to start afresh."
        )
    first = batch.options.get("max_pages")
    if opts.max_pages is not None and opts.max_pages != first:
        print(f"note: resuming with the first run's --max-pages ({first or 'default'})", file=out)
    queue.requeue_running(batch.id)
    progress = queue.progress(batch.id)
    if progress is not None and progress.finished:
        print(f"resuming: {progress.finished} of {progress.total} sites already done", file=out)
    return batch


def _write_outputs(queue: SqlJobQueue, batch: BatchRow, opts: BatchOptions) -> None:
    base = opts.report_base_url.rstrip("/")
    table = batch_table(queue, batch, lambda report_id: f"{base}/r/{report_id}")
    export.write(opts.output, table.rows, table.header)
    if opts.html is not None:
        page = render_summary(
            table,
            title=f"Batch screening: {batch.options.get('input', opts.input.name)}",
            created_at=batch.created_at,
        )
        partial = opts.html.with_name(f".{opts.html.name}.partial")
        partial.write_text(page, encoding="utf-8")
        partial.replace(opts.html)


def _report_problems(sites: SiteList, out: TextIO) -> None:
    problems = [
        f"line {item.position}: {verdict.error}"
        for item, verdict in zip(sites.items, triage(sites.items), strict=True)
        if verdict.error
    ]
    for line in problems[:SHOWN_PROBLEMS]:
        print(line, file=out)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS} more (see the error column)", file=out)


def _publish(
    queue: SqlJobQueue,
    batch_id: str,
    database: sqlalchemy.Engine,
    settings: Settings,
    out: TextIO,
) -> str | None:
    """Copy the batch's reports into the service's database (the one ``make run`` serves), so
    the links in the exports open there; that database's URL, or None if it could not be."""
    target_url = settings.sqlalchemy_url
    if target_url == str(database.url):
        return target_url
    ids = [i["report_id"] for i in queue.items(batch_id) if i.get("report_id")]
    try:
        target = make_engine(target_url)
        try:
            upgrade(target)
            copied = copy_reports(database, target, ids)
        finally:
            target.dispose()
    except (OSError, SQLAlchemyError) as exc:
        print(f"note: the reports could not be copied to {target_url}: {exc}", file=out)
        return None
    print(f"{copied} new report(s) saved to {target_url} as well", file=out)
    return target_url


def _report_done(
    queue: SqlJobQueue, batch_id: str, opts: BatchOptions, served: str, out: TextIO
) -> None:
    progress = queue.progress(batch_id)
    assert progress is not None
    counts = progress.counts
    print(
        f"{progress.total} sites: {counts['done']} checked ({progress.unreadable} unreadable), "
        f"{counts['error']} could not be checked, {counts['skipped']} skipped",
        file=out,
    )
    written = str(opts.output) + (f" and {opts.html}" if opts.html else "")
    print(f"wrote {written}", file=out)
    print(
        f"the report links open while the service runs on {served} (make run serves the default "
        f"database): REDFLAGS_DATABASE_URL={served} redflags serve",
        file=out,
    )


@contextmanager
def _exclusive(job_db: Path) -> Iterator[None]:
    """Hold a lock beside the job database; a second run on it is refused, not interleaved."""
    job_db.parent.mkdir(parents=True, exist_ok=True)
    lock_path = job_db.with_name(job_db.name + ".lock")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(
                f"another redflags batch is already working on {job_db}; wait for it to finish"
            ) from None
        yield  # the lock goes with the file descriptor, also when the process is killed
