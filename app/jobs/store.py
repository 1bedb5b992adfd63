"""``SqlJobQueue``: the job queue in SQLite or PostgreSQL, next to the reports it produces.

Claims on PostgreSQL lock pending rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent
workers skip each other's rows) and update them in the same transaction; on SQLite they are a
single ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)``, atomic because SQLite has one writer
at a time. Every update that moves an item also re-checks its state (and lease holder), so two
workers can never both own an item.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, select, update

from app.jobs.batch_reads import finish_if_done, utc_now
from app.jobs.inputs import triage
from app.jobs.queue import Claim, NewItem, Progress
from app.jobs.recovery import Recovery
from app.jobs.results import summarize
from app.pipeline.check import SiteCheck
from app.storage import ReportStore
from app.storage.batch_tables import BatchItemRow, BatchRow


class _LeaseLost(Exception):
    """Raised inside a transaction to roll it back: another worker holds the item now."""


class SqlJobQueue(Recovery):
    """The ``JobQueue`` protocol over SQLAlchemy; every method is one short transaction."""

    def __init__(
        self, engine: sqlalchemy.Engine, *, lease: float = 60.0, max_attempts: int = 3
    ) -> None:
        super().__init__(engine)
        self.lease = timedelta(seconds=lease)
        self.max_attempts = max_attempts
        self._next_reap = 0.0  # monotonic time of the next look for expired leases

    # --- the JobQueue protocol -------------------------------------------------------------

    def enqueue(
        self,
        items: Sequence[NewItem],
        *,
        options: Mapping[str, object],
        owner_key_id: str | None = None,
        input_sha256: str | None = None,
    ) -> str:
        batch_id = secrets.token_urlsafe(12)
        rows = [
            {
                "batch_id": batch_id,
                "position": item.position,
                "url": item.url,
                "normalized_url": verdict.normalized_url,
                "columns": dict(item.columns),
                "state": verdict.state,
                "attempts": 0,
                "error": verdict.error,
                "finished_at": None if verdict.state == "pending" else utc_now(),
            }
            for item, verdict in zip(items, triage(items), strict=True)
        ]
        with self.engine.begin() as conn:
            conn.execute(
                sqlalchemy.insert(BatchRow).values(
                    id=batch_id,
                    created_at=utc_now(),
                    status="queued",
                    total=len(rows),
                    options=dict(options),
                    owner_key_id=owner_key_id,
                    input_sha256=input_sha256,
                )
            )
            if rows:
                conn.execute(sqlalchemy.insert(BatchItemRow), rows)
            finish_if_done(conn, batch_id)  # a batch of only invalid lines is done
        return batch_id

    def claim(
        self, worker: str, limit: int, *, batch_id: str | None = None, idle: bool = False
    ) -> list[Claim]:
        if time.monotonic() >= self._next_reap:
            self.requeue_expired()
            self._next_reap = time.monotonic() + self.lease.total_seconds() / 4
        claims = self._claim(worker, 1, batch_id, solo=True) if idle else []
        return claims or self._claim(worker, limit, batch_id, solo=False)

    def _claim(self, worker: str, limit: int, batch_id: str | None, *, solo: bool) -> list[Claim]:
        """Items that were in a crash are claimed one at a time by an idle worker (``solo``);
        the others up to ``limit`` at once."""
        now = utc_now()
        crashed = BatchItemRow.crashes > 0 if solo else BatchItemRow.crashes == 0
        pick = select(BatchItemRow.id).where(BatchItemRow.state == "pending", crashed)
        if batch_id is not None:
            pick = pick.where(BatchItemRow.batch_id == batch_id)
        pick = pick.order_by(BatchItemRow.id).limit(limit).with_for_update(skip_locked=True)
        claim = (
            update(BatchItemRow)
            .where(BatchItemRow.state == "pending")
            .values(
                state="running",
                claimed_by=worker,
                claimed_at=now,
                lease_until=now + self.lease,
                attempts=BatchItemRow.attempts + 1,
                solo=solo,
            )
            .returning(
                BatchItemRow.id,
                BatchItemRow.batch_id,
                BatchItemRow.position,
                BatchItemRow.url,
                BatchItemRow.normalized_url,
            )
        )
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                chosen = BatchItemRow.id.in_(pick.scalar_subquery())  # one atomic statement
            else:
                # Locks the rows first. Inside "UPDATE ... WHERE id IN (SELECT ... LIMIT n)"
                # PostgreSQL may run the subquery again per row and claim more than n.
                chosen = BatchItemRow.id.in_(conn.execute(pick).scalars().all())
            claimed = conn.execute(claim.where(chosen)).all()
            batch_ids = {row.batch_id for row in claimed}
            if not batch_ids:
                return []
            conn.execute(
                update(BatchRow)
                .where(BatchRow.id.in_(batch_ids), BatchRow.status == "queued")
                .values(status="running", started_at=now)
            )
            options = dict(
                conn.execute(
                    select(BatchRow.id, BatchRow.options).where(BatchRow.id.in_(batch_ids))
                ).all()
            )
        return [
            Claim(
                item_id=row.id,
                batch_id=row.batch_id,
                position=row.position,
                url=row.url,
                normalized_url=row.normalized_url,
                max_pages=options[row.batch_id].get("max_pages"),
                worker=worker,
                solo=solo,
            )
            for row in sorted(claimed, key=lambda r: r.id)
        ]

    def renew(self, worker: str, item_ids: Sequence[int]) -> None:
        if not item_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(BatchItemRow)
                .where(
                    BatchItemRow.id.in_(item_ids),
                    BatchItemRow.claimed_by == worker,
                    BatchItemRow.state == "running",
                )
                .values(lease_until=utc_now() + self.lease)
            )

    def complete(self, claim: Claim, check: SiteCheck) -> bool:
        result = summarize(check.report)
        try:
            with self.engine.begin() as conn:
                self._lock_batch(conn, claim.batch_id)
                # The report joins this transaction (ReportStore on a connection).
                stored = ReportStore(conn).save(
                    check.report, kind="check", input_url=claim.url, fetched=check.fetched
                )
                done = self._finish_item(
                    conn,
                    claim,
                    state="done",
                    report_id=stored.id,
                    verdict=check.report.verdict,
                    score=check.report.score,
                    result=result,
                    error=result.get("problem"),
                )
                if not done:
                    raise _LeaseLost  # rolls the report back: the lease holder writes its own
        except _LeaseLost:
            return False
        return True

    def fail(self, claim: Claim, error: str) -> bool:
        with self.engine.begin() as conn:
            self._lock_batch(conn, claim.batch_id)
            return self._finish_item(conn, claim, state="error", error=error)

    def release(self, claims: Sequence[Claim]) -> None:
        with self.engine.begin() as conn:
            for claim in claims:
                conn.execute(
                    update(BatchItemRow)
                    .where(*self._held(claim))
                    .values(
                        state="pending",
                        claimed_by=None,
                        lease_until=None,
                        attempts=BatchItemRow.attempts - 1,
                        solo=False,
                    )
                )

    def cancel(self, batch_id: str) -> Progress | None:
        with self.engine.begin() as conn:
            self._lock_batch(conn, batch_id)
            cancelled = conn.execute(
                update(BatchRow)
                .where(BatchRow.id == batch_id, BatchRow.status.in_(("queued", "running")))
                .values(status="cancelled")
            )
            if cancelled.rowcount:
                conn.execute(
                    update(BatchItemRow)
                    .where(BatchItemRow.batch_id == batch_id, BatchItemRow.state == "pending")
                    .values(state="skipped", error="cancelled", finished_at=utc_now())
                )
                finish_if_done(conn, batch_id)
        return self.progress(batch_id)

    @staticmethod
    def _held(claim: Claim) -> tuple[Any, ...]:
        return (
            BatchItemRow.id == claim.item_id,
            BatchItemRow.claimed_by == claim.worker,
            BatchItemRow.state == "running",
        )

    def _finish_item(self, conn: Connection, claim: Claim, **values: Any) -> bool:
        finished = conn.execute(
            update(BatchItemRow)
            .where(*self._held(claim))
            .values(**values, lease_until=None, finished_at=utc_now())
        )
        if finished.rowcount != 1:
            return False
        finish_if_done(conn, claim.batch_id)
        return True

    @staticmethod
    def _lock_batch(conn: Connection, batch_id: str) -> None:
        # PostgreSQL: finishing items of one batch one at a time makes "was this the last
        # one?" reliable. SQLite ignores the clause; its single writer already serialises.
        conn.execute(select(BatchRow.id).where(BatchRow.id == batch_id).with_for_update())
