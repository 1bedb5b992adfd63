"""Fixtures for the batch tests: a few hundred generated sites on a real server, and databases.

``database_url`` / ``db`` come from the storage tests: every queue test runs on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fetch.servers import TestSite, closed_port
from tests.jobs.sites import FAULT_PATHS, GeneratedSite, generate_sites
from tests.storage.conftest import database_url, db  # noqa: F401  (fixtures, re-exported)

SITES = 300


@dataclass(frozen=True)
class Farm:
    """The generated sites behind one running server."""

    server: TestSite
    sites: list[GeneratedSite]

    def urls(self, count: int | None = None) -> list[str]:
        return [self.server.url(s.entry) for s in self.sites[:count]]

    def faults(self) -> dict[str, str]:
        return {name: self.server.url(path) for name, path in FAULT_PATHS.items()}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def farm(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    root = tmp_path_factory.mktemp("farm")
    sites = generate_sites(corpus, root, SITES)
    with TestSite(root) as server:
        yield Farm(server, sites)


@pytest.fixture
def batch_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a ``redflags batch`` subprocess against the loopback farm."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDFLAGS_")}
    env.update(
        REDFLAGS_ALLOWED_NETWORKS="127.0.0.0/8",
        REDFLAGS_PER_HOST_DELAY="0",
        # Every generated site is on 127.0.0.1, which the fetcher treats as one host.
        REDFLAGS_PER_HOST_CONCURRENCY="16",
        REDFLAGS_CONNECT_TIMEOUT="2",
        REDFLAGS_READ_TIMEOUT="2",
        REDFLAGS_TOTAL_TIMEOUT="3",
        REDFLAGS_SITE_TIMEOUT="5",
        REDFLAGS_MAX_RESPONSE_BYTES="300000",
        REDFLAGS_REGISTRY_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        REDFLAGS_REGISTRY_MAX_TRIES="1",
        # The courtesy limit for ClinicalTrials.gov (50 a minute) would pace the test instead.
        REDFLAGS_REGISTRY_REQUESTS_PER_MINUTE="100000",
        REDFLAGS_REGISTRY_BURST="1000",
        REDFLAGS_DATA_DIR=str(tmp_path / "data"),
    )
    return env
