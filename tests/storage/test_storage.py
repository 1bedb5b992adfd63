"""Reports, pages and keys on both backends; the migrations build the schema from nothing."""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime, timedelta

import sqlalchemy
from sqlalchemy import inspect, select

from app.engine.analyzer import Engine
from app.engine.types import Report
from app.extract.document import extract_html
from app.fetch import FetchedPage
from app.storage import ApiKeyStore, ReportStore, upgrade
from app.storage.models import PageRow, ReportRow

HTML = (
    b"<html><head><title>Clinic</title></head><body><p>Our stem cell therapy cures "
    b"rheumatoid arthritis. Treatment costs $9,500.</p></body></html>"
)


def _page(
    url: str, body: bytes, *, status: int | None = 200, error: str | None = None
) -> FetchedPage:
    return FetchedPage(
        requested_url=url,
        final_url=url,
        status=status,
        fetched_at=datetime.now(UTC) - timedelta(seconds=5),
        content_type="text/html" if body else None,
        charset=None,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        truncated=False,
        redirects=(),
        error=error,
        skipped=None,
    )


def _report(engine: Engine, url: str) -> Report:
    return engine.analyze([extract_html(HTML, url)], url)


def test_migrations_build_the_schema_from_empty(db: sqlalchemy.Engine) -> None:
    assert inspect(db).get_table_names() == []
    upgrade(db)
    upgrade(db)  # at head already: nothing to do
    tables = set(inspect(db).get_table_names())
    # batches and batch_items: the batch-screening queue (app/jobs, migration 0002).
    assert tables == {
        "alembic_version",
        "reports",
        "pages",
        "api_keys",
        "batches",
        "batch_items",
        "check_jobs",
    }
    with db.connect() as connection:
        version = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        assert version.scalar_one() == "0005"
    # 0003: crashes are counted apart from attempts (issue 9: a crash is not the site's failure).
    columns = {c["name"] for c in inspect(db).get_columns("batch_items")}
    assert {"attempts", "crashes", "solo"} <= columns
    indexes = {ix["name"] for ix in inspect(db).get_indexes("reports")}
    assert "ix_reports_site_key_created_at" in indexes


def test_a_site_not_judged_loses_its_score_column_not_its_report(
    db: sqlalchemy.Engine, engine: Engine
) -> None:
    """0004: reports saved with a score of 0 for a site that was not judged (unrelated or
    unreadable) keep their stored JSON; only the score column, which ranks sites, is emptied."""
    upgrade(db, "0003")
    store = ReportStore(db)
    unrelated = _report(engine, "https://physio.example/").model_copy(
        update={"score": 21, "verdict": "not_applicable"}
    )
    judged = _report(engine, "https://clinic.example/")
    saved = [
        store.save(r, kind="analyze", input_url=r.source, fetched=[]) for r in (unrelated, judged)
    ]
    upgrade(db)
    with db.connect() as connection:
        scores = dict(connection.execute(select(ReportRow.id, ReportRow.score)).all())
    assert scores == {saved[0].id: None, saved[1].id: judged.score}
    kept = store.get(saved[0].id)
    assert kept is not None and kept.report.score == 21  # the stored report itself is untouched


def test_save_get_and_page_bodies(db: sqlalchemy.Engine, engine: Engine) -> None:
    upgrade(db)
    store = ReportStore(db)
    url = "https://www.renew-clinic.co.uk/ra"
    report = _report(engine, url)
    fetched = [
        _page("http://renew-clinic.co.uk/", HTML),
        _page("https://www.renew-clinic.co.uk/missing", b"", status=None, error="timed out"),
    ]
    fetched[0] = FetchedPage(**{**fetched[0].__dict__, "final_url": url})

    saved = store.save(report, kind="check", input_url="renew-clinic.co.uk", fetched=fetched)

    assert len(saved.id) == 22
    assert saved.site_key == "renew-clinic.co.uk"
    assert saved.final_url == url
    loaded = store.get(saved.id)
    assert loaded is not None
    assert loaded == saved
    assert loaded.report == report
    assert loaded.created_at.tzinfo is not None
    assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(minutes=1)

    assert store.page_body(saved.id, fetched[0].sha256) == HTML
    assert store.page_body(saved.id, fetched[1].sha256) == b""
    assert store.page_body(saved.id, "0" * 64) is None
    assert store.page_body("other", fetched[0].sha256) is None
    with db.connect() as connection:
        rows = connection.execute(select(PageRow).order_by(PageRow.position)).all()
    assert [r.position for r in rows] == [0, 1]
    assert zlib.decompress(rows[0].body) == HTML and rows[0].body != HTML
    assert hashlib.sha256(zlib.decompress(rows[0].body)).hexdigest() == rows[0].sha256
    assert rows[0].body_size == len(HTML)
    assert rows[0].fetched_at == fetched[0].fetched_at
    assert (rows[1].status, rows[1].error) == (None, "timed out")
    assert store.get("no-such-id") is None
    assert store.ping()


def test_rechecks_keep_old_reports_and_history_is_newest_first(
    db: sqlalchemy.Engine, engine: Engine
) -> None:
    upgrade(db)
    store = ReportStore(db)
    url = "https://clinic.example/"
    ids = [
        store.save(_report(engine, url), kind="check", input_url=url, fetched=[_page(url, HTML)]).id
        for _ in range(3)
    ]
    other = "https://elsewhere.example/"
    store.save(_report(engine, other), kind="analyze", input_url=other)
    store.save(_report(engine, url), kind="analyze", input_url=None)  # no site: no history

    history = store.history("clinic.example")
    assert [h.id for h in history] == ids[::-1]
    assert all(store.get(i) is not None for i in ids)
    assert history[0].created_at >= history[-1].created_at
    assert history[0].final_url == url
    assert [h.kind for h in store.history("elsewhere.example")] == ["analyze"]
    assert len(store.history("clinic.example", limit=2)) == 2


def test_api_keys(db: sqlalchemy.Engine) -> None:
    upgrade(db)
    keys = ApiKeyStore(db)
    key, plaintext = keys.create("newsroom")
    verified = keys.verify(plaintext)
    assert verified is not None
    assert (verified.id, verified.name, verified.active) == (key.id, "newsroom", True)
    assert keys.list()[0].last_used_at is not None
    assert keys.revoke(key.id) is True
    assert keys.verify(plaintext) is None
    assert keys.list()[0].active is False
    assert keys.revoke("nope") is False
