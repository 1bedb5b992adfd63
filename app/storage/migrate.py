"""Apply the Alembic migrations that ship inside the package (``app/storage/alembic``).

Shipping them in the package lets an installed copy (the Docker image) migrate its database
without a source checkout; ``alembic.ini`` at the project root points at the same folder for
developers who use the ``alembic`` command.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("alembic")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: sqlalchemy.Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` up to ``revision`` (no-op when it is there)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
