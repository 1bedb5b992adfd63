"""Build the SQLAlchemy engine for a configured URL (SQLite file or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import make_url

SQLITE_BUSY_MS = 5_000  # several workers share one SQLite file: wait for a writer, don't fail
PG_CONNECT_TIMEOUT = 5  # seconds; /readyz must answer while the database is down


def make_engine(url: str) -> sqlalchemy.Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlalchemy.create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
    return sqlalchemy.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # for ON DELETE CASCADE
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()
