"""Alembic environment: the URL comes from ``Settings`` unless a connection is handed in.

``app.storage.upgrade`` passes its own connection (the app's engine, or a test's); the
``alembic`` command line uses ``REDFLAGS_DATABASE_URL`` or the default SQLite file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

import app.storage.batch_tables  # noqa: F401  (the batch tables share Base.metadata: autogenerate sees them)
import app.storage.check_tables  # noqa: F401  (the check jobs too)
from app.settings import get_settings
from app.storage.db import make_engine
from app.storage.models import Base

# Several uvicorn workers may start at once against PostgreSQL: one migrates, the others wait
# on this lock and then find the schema at head. (An arbitrary constant: "redf" in ASCII.)
PG_MIGRATION_LOCK = 0x72656466


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK}
            )
        context.run_migrations()


def main() -> None:
    handed_in = context.config.attributes.get("connection")
    if handed_in is not None:
        run(handed_in)
        return
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run against a database")
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
