"""Recovery of a batch's items from workers that stopped: lease expiry, dead processes, and a
CLI taking its own batch back after a crash. ``SqlJobQueue`` has these through ``Recovery``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from app.jobs.batch_reads import BatchReads, finish_if_done, utc_now
from app.storage.batch_tables import BatchItemRow


class Recovery(BatchReads):
    """Putting items left running back to work; ``max_attempts`` crashes alone give one up."""

    max_attempts: int

    def requeue_expired(self) -> None:
        """Items whose worker stopped renewing its lease: back to pending, or given up."""
        self._requeue(BatchItemRow.lease_until < utc_now())

    def requeue_dead_workers(self, is_dead: Callable[[str], bool]) -> int:
        """Items held by workers that ``is_dead`` says are gone (a restarted service's former
        self), back to pending now rather than when their lease runs out; how many."""
        with self.engine.connect() as conn:
            holders = conn.execute(
                select(BatchItemRow.claimed_by)
                .where(BatchItemRow.state == "running", BatchItemRow.claimed_by.is_not(None))
                .distinct()
            ).scalars()
            dead = [name for name in holders if is_dead(name)]
        if not dead:
            return 0
        return self._requeue(BatchItemRow.claimed_by.in_(dead))

    def requeue_running(self, batch_id: str) -> None:
        """Every running item of the batch: for a CLI that holds the job database's lock, so
        whatever is 'running' was left by a process that is gone."""
        self._requeue(BatchItemRow.batch_id == batch_id)

    def _requeue(self, where: Any) -> int:
        """Items left running by a worker that died: back to pending, one crash more.

        A crash is not the site's failure: the process may have been killed, or another site
        brought it down. An item that was in a crash is from then on checked alone (``solo``),
        so a crash while it runs alone is its own doing; after ``max_attempts`` of those it is
        given up. Sites that merely ran beside a crash are checked again, however many there
        were, so a batch killed again and again still finishes every site exactly once.
        """
        running = (BatchItemRow.state == "running", where)
        now = utc_now()
        with self.engine.begin() as conn:
            given_up = conn.execute(
                update(BatchItemRow)
                .where(*running, BatchItemRow.solo, BatchItemRow.crashes >= self.max_attempts)
                .values(
                    state="error",
                    crashes=BatchItemRow.crashes + 1,
                    error=f"checking this site stopped the batch worker {self.max_attempts} "
                    "times while it was checked alone; given up",
                    finished_at=now,
                )
                .returning(BatchItemRow.batch_id)
            ).scalars()
            for batch_id in set(given_up):
                finish_if_done(conn, batch_id)
            requeued = conn.execute(
                update(BatchItemRow)
                .where(*running)
                .values(
                    state="pending",
                    claimed_by=None,
                    lease_until=None,
                    crashes=BatchItemRow.crashes + 1,
                    solo=False,
                )
            )
            return requeued.rowcount
