"""Reading a stored batch: its progress, its items in input order, the batch row itself.

``SqlJobQueue`` adds the writes (enqueue, claim, complete...) on top; the API's read-only routes
and the exports need only this.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from app.jobs.queue import Progress
from app.storage.batch_tables import ITEM_STATES, BatchItemRow, BatchRow

ACTIVE = ("pending", "running")


class BatchReads:
    """Read-only queries over the batch tables; every method is one short transaction."""

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self.engine = engine

    def progress(self, batch_id: str) -> Progress | None:
        with self.engine.connect() as conn:
            batch = conn.execute(
                select(BatchRow.status, BatchRow.total).where(BatchRow.id == batch_id)
            ).one_or_none()
            if batch is None:
                return None
            counts = dict.fromkeys(ITEM_STATES, 0)
            by_state = (
                select(BatchItemRow.state, func.count())
                .where(BatchItemRow.batch_id == batch_id)
                .group_by(BatchItemRow.state)
            )
            counts.update(conn.execute(by_state).all())
            unreadable = conn.execute(
                select(func.count()).where(
                    BatchItemRow.batch_id == batch_id,
                    BatchItemRow.state == "done",
                    BatchItemRow.verdict == "unreadable",
                )
            ).scalar_one()
        return Progress(batch_id, batch.status, batch.total, counts, unreadable)  # type: ignore[arg-type]

    def has_work(self, batch_id: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(select(active_items(batch_id).exists())).scalar())

    def batch(self, batch_id: str) -> BatchRow | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(BatchRow, batch_id)

    def latest_batch(self) -> BatchRow | None:
        with self.engine.connect() as conn:
            query = select(BatchRow.id).order_by(BatchRow.created_at.desc()).limit(1)
            batch_id = conn.execute(query).scalar_one_or_none()
        return self.batch(batch_id) if batch_id else None

    def items(self, batch_id: str) -> Iterator[dict[str, Any]]:
        """The batch's items in input order, as plain dicts (for exports and summaries)."""
        query = (
            select(*BatchItemRow.__table__.columns)
            .where(BatchItemRow.batch_id == batch_id)
            .order_by(BatchItemRow.position)
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query.execution_options(yield_per=500)):
                yield dict(row._mapping)


def active_items(batch_id: str) -> sqlalchemy.Select[Any]:
    """The batch's items still waiting or running."""
    return select(BatchItemRow.id).where(
        BatchItemRow.batch_id == batch_id, BatchItemRow.state.in_(ACTIVE)
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def finish_if_done(conn: Connection, batch_id: str) -> None:
    """Mark the batch done (with its finishing time) once no item of it is waiting or running."""
    if conn.execute(select(active_items(batch_id).exists())).scalar():
        return
    conn.execute(
        update(BatchRow)
        .where(BatchRow.id == batch_id, BatchRow.status.in_(("queued", "running")))
        .values(status="done")
    )
    conn.execute(
        update(BatchRow)
        .where(BatchRow.id == batch_id, BatchRow.finished_at.is_(None))
        .values(finished_at=utc_now())
    )
