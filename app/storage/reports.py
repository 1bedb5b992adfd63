"""Stored reports: save a finished report with the pages it read, fetch it back by id, list a
site's reports over time.

Ids are ``secrets.token_urlsafe(16)`` (128 random bits): a permalink is shareable but cannot be
guessed, so a report is as private as the link to it.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy
from pydantic import BaseModel, Field
from sqlalchemy import insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from app.engine.types import Report, Verdict
from app.fetch import FetchedPage, UrlRejected, registrable_domain
from app.storage.models import PageRow, ReportRow

ReportKind = Literal["check", "analyze"]


COPY_CHUNK = 200  # reports per transaction when copying between databases


class ReportSummary(BaseModel):
    """One line of a site's history."""

    id: str
    created_at: datetime
    kind: ReportKind
    verdict: Verdict
    score: int | None
    final_url: str | None


class StoredReport(BaseModel):
    """A report as stored: its permalink id, when it was made, and from what."""

    id: str = Field(description="Unguessable id; the permalink is /r/{id}.")
    created_at: datetime
    kind: ReportKind = Field(description="check: fetched by us; analyze: content sent to us.")
    input_url: str | None = Field(description="The address as the caller gave it.")
    final_url: str | None = Field(description="Where the entry page was read, after redirects.")
    site_key: str | None = Field(description="The registrable domain the history is kept under.")
    report: Report


def site_key_for(url: str | None) -> str | None:
    """The registrable domain of ``url`` (``www.clinic.co.uk`` → ``clinic.co.uk``), if any."""
    if not url:
        return None
    try:
        return registrable_domain(url) or None
    except (UrlRejected, ValueError):
        return None


def new_report_id() -> str:
    """128 random bits: a permalink can be shared but not guessed."""
    return secrets.token_urlsafe(16)


class ReportStore:
    """Reports and their pages in one database; every method is one short transaction."""

    def __init__(self, engine: sqlalchemy.Engine | sqlalchemy.Connection) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    def save(
        self,
        report: Report,
        *,
        kind: ReportKind,
        input_url: str | None,
        fetched: Sequence[FetchedPage] = (),
        report_id: str | None = None,
    ) -> StoredReport:
        """Store ``report`` as a new row (re-checking a site never overwrites an old report).

        ``fetched`` are the pages read, entry page first; their bodies are kept compressed.
        ``report_id`` is the id a check job was given when it was asked for; saving under an id
        that is taken fails (IntegrityError), so one job never leaves two reports.
        """
        # A check ends where the entry page's redirects led; an analysis names its own URL.
        final_url = fetched[0].final_url if fetched and kind == "check" else input_url
        stored = StoredReport(
            id=report_id or new_report_id(),
            created_at=datetime.now(UTC),
            kind=kind,
            input_url=input_url,
            final_url=final_url,
            site_key=site_key_for(final_url or input_url),
            report=report,
        )
        row = {
            **stored.model_dump(exclude={"report"}),
            "verdict": report.verdict,
            "score": report.score,
            "report": report.model_dump(mode="json"),
            "rules_version": report.rules_version,
            "engine_version": report.engine_version,
        }
        pages = [_page_row(stored.id, i, page) for i, page in enumerate(fetched)]
        # Core inserts: the ORM's unit of work was a sixth of a batch's fetching process.
        with self._transaction() as conn:
            conn.execute(insert(ReportRow), row)
            if pages:
                conn.execute(insert(PageRow), pages)
        return stored

    @contextmanager
    def _transaction(self) -> Iterator[sqlalchemy.Connection]:
        """A transaction of its own, or the caller's when the store was given a connection in
        one (a batch item's report is written with the item's state, or neither is)."""
        if isinstance(self.engine, sqlalchemy.Connection):
            yield self.engine
        else:
            with self.engine.begin() as conn:
                yield conn

    def get(self, report_id: str) -> StoredReport | None:
        with self._session() as session:
            row = session.get(ReportRow, report_id)
            return _stored(row, Report.model_validate(row.report)) if row else None

    def history(self, site_key: str, limit: int = 20) -> list[ReportSummary]:
        """The site's reports, newest first."""
        query = (
            select(
                ReportRow.id,
                ReportRow.created_at,
                ReportRow.kind,
                ReportRow.verdict,
                ReportRow.score,
                ReportRow.final_url,
            )
            .where(ReportRow.site_key == site_key)
            .order_by(ReportRow.created_at.desc(), ReportRow.id)
            .limit(limit)
        )
        with self._session() as session:
            return [
                ReportSummary.model_validate(r, from_attributes=True)
                for r in session.execute(query)
            ]

    def page_body(self, report_id: str, sha256: str) -> bytes | None:
        """The exact bytes a page of this report was read from (``None`` if not stored)."""
        query = (
            select(PageRow.body)
            .where(PageRow.report_id == report_id, PageRow.sha256 == sha256)
            .order_by(PageRow.position)
            .limit(1)
        )
        with self._session() as session:
            packed = session.execute(query).scalar_one_or_none()
        return zlib.decompress(packed) if packed is not None else None

    def ping(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True


def _page_row(report_id: str, position: int, page: FetchedPage) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "position": position,
        "requested_url": page.requested_url,
        "final_url": page.final_url,
        "status": page.status,
        "fetched_at": page.fetched_at,
        "content_type": page.content_type,
        "sha256": page.sha256,
        "body_size": len(page.body),
        "body": zlib.compress(page.body, 6),
        "truncated": page.truncated,
        "error": page.error or page.skipped,
    }


def _stored(row: ReportRow, report: Report) -> StoredReport:
    return StoredReport(
        id=row.id,
        created_at=row.created_at,
        kind=row.kind,  # type: ignore[arg-type]  # the column only ever holds ReportKind values
        input_url=row.input_url,
        final_url=row.final_url,
        site_key=row.site_key,
        report=report,
    )


def copy_reports(source: sqlalchemy.Engine, target: sqlalchemy.Engine, ids: Sequence[str]) -> int:
    """Copy the reports ``ids`` (with their stored pages, same ids) from one database into
    another, skipping those already there; how many were copied.

    ``redflags batch`` keeps its reports beside its output; copying them into the service's
    database makes the links in its exports open while that service runs.
    """
    copied = 0
    for start in range(0, len(ids), COPY_CHUNK):
        chunk = list(ids[start : start + COPY_CHUNK])
        with source.connect() as read, target.begin() as write:
            present = set(
                write.execute(select(ReportRow.id).where(ReportRow.id.in_(chunk))).scalars()
            )
            wanted = [i for i in chunk if i not in present]
            if not wanted:
                continue
            reports = read.execute(select(ReportRow.__table__).where(ReportRow.id.in_(wanted)))
            rows = [dict(r._mapping) for r in reports]
            if rows:
                write.execute(ReportRow.__table__.insert(), rows)
            pages = read.execute(select(PageRow.__table__).where(PageRow.report_id.in_(wanted)))
            page_rows = [{k: v for k, v in r._mapping.items() if k != "id"} for r in pages]
            if page_rows:
                write.execute(PageRow.__table__.insert(), page_rows)
            copied += len(rows)
    return copied
