"""The job tables: a batch of sites, and one row per site with its place in the work queue.

Storage owns them (``app.jobs`` uses them, never the other way round), in the service's
metadata (``app.storage.models.Base``), so one Alembic history creates them next to the reports;
the CLI's job database runs the same migrations on a SQLite file. ``report_id`` has no foreign
key on purpose: a report outlives the batch that made it, and a later queue may keep its jobs in
another database than the reports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.models import Base, JsonDoc, UtcDateTime

BatchStatus = Literal["queued", "running", "done", "cancelled"]
ItemState = Literal["pending", "running", "done", "error", "skipped"]
ITEM_STATES: tuple[ItemState, ...] = ("pending", "running", "done", "error", "skipped")


class BatchRow(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # BatchStatus
    total: Mapped[int] = mapped_column(Integer)
    # Check options (max_pages) and the input's carried-through column names, in order.
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    owner_key_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The CLI resumes only the input it started from: the SHA-256 of that file.
    input_sha256: Mapped[str | None] = mapped_column(String(64))


class BatchItemRow(Base):
    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # the input's line (or list index + 1)
    url: Mapped[str] = mapped_column(Text)  # as given
    normalized_url: Mapped[str | None] = mapped_column(Text)  # None: not a usable address
    columns: Mapped[dict[str, str]] = mapped_column(JsonDoc)  # the other input columns
    state: Mapped[str] = mapped_column(String(16))  # ItemState
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims, for the record
    # Times a worker died with this item unfinished, and whether the current claim runs alone:
    # an item that was ever in a crash is checked alone, so only a crash while it runs alone is
    # its own doing (see SqlJobQueue._requeue).
    crashes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    solo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    report_id: Mapped[str | None] = mapped_column(String(32))
    # Sortable without opening the report; the rest of the export row is in ``result``.
    verdict: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("batch_id", "position"),
        Index("ix_batch_items_batch_id_state", "batch_id", "state"),
        # Claims look for pending work and for leases that ran out, oldest first.
        Index("ix_batch_items_state_lease_until", "state", "lease_until"),
    )
