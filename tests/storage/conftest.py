"""Each storage test runs on SQLite (a temporary file) and on PostgreSQL (a throwaway schema).

PostgreSQL is at ``REDFLAGS_TEST_POSTGRES_URL`` (default: the machine's trust-auth server,
database ``test``). When ``.ci/run`` sets that variable, or ``CI`` is set, a server that does
not answer fails the tests; run by hand without one, they are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.storage import make_engine

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_required() -> bool:
    return bool(os.environ.get("REDFLAGS_TEST_POSTGRES_URL") or os.environ.get("CI"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (nothing migrated yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'test.db'}"
        return
    server = os.environ.get("REDFLAGS_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    admin = make_engine(server)
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        reason = f"no PostgreSQL server answers at {make_url(server)!r} ({exc.orig})"
        if _postgres_required():
            pytest.fail(f"{reason}; .ci/run should have started it")
        pytest.skip(f"{reason}; start one or set REDFLAGS_TEST_POSTGRES_URL")
    schema = f"redflags_test_{secrets.token_hex(6)}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[sqlalchemy.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
