"""The table of checks asked for and not yet finished: a check outlives the request that asked
for it, so its state lives in the database, not in a process.

A check's id is the id its report will be stored under, so the address a person is sent to
(``/r/{id}``, ``/api/v1/checks/{id}``) shows the progress first and then the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.models import Base, UtcDateTime

CheckState = Literal["queued", "running", "done", "failed"]
CHECK_STATES: tuple[CheckState, ...] = ("queued", "running", "done", "failed")


class CheckJobRow(Base):
    __tablename__ = "check_jobs"
    __table_args__ = (Index("ix_check_jobs_state_created_at", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the report's id to be
    url: Mapped[str] = mapped_column(Text)  # normalised, as fetched
    input_url: Mapped[str] = mapped_column(Text)  # as the person typed it
    max_pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    explain: Mapped[bool] = mapped_column(Boolean, server_default=false())
    state: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(Text, nullable=True)  # "reading page 2 of 5"
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
