"""Storage: reports with the pages they read, and API keys, in SQLite or PostgreSQL.

``make_engine(settings.sqlalchemy_url)`` builds the SQLAlchemy engine, ``upgrade(engine)``
applies the Alembic migrations, and the two stores are small typed repositories over it.
"""

from app.storage.db import make_engine
from app.storage.keys import ApiKey, ApiKeyStore
from app.storage.migrate import upgrade
from app.storage.reports import ReportKind, ReportStore, ReportSummary, StoredReport, site_key_for

__all__ = [
    "ApiKey",
    "ApiKeyStore",
    "ReportKind",
    "ReportStore",
    "ReportSummary",
    "StoredReport",
    "make_engine",
    "site_key_for",
    "upgrade",
]
