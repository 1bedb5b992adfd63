"""Fixtures for the API tests: an app per test on a fresh SQLite file, the dev-corpus site.

Every app shares the session's loaded engine (``create_app(engine=...)``), so a test pays for
migrations on an empty database (milliseconds), never for loading the pipeline again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from app.service.factory import create_app
from app.settings import Settings
from tests.fetch.servers import TestSite, service_settings


@pytest.fixture(scope="session")
def corpus_site(corpus: Path) -> Iterator[TestSite]:
    with TestSite(corpus) as running:
        yield running


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test app: loopback allowed, a fresh SQLite file, no real registry."""

    def build(**overrides: Any) -> Settings:
        limits = {"check_limit_anonymous": 1_000, "analyze_limit_anonymous": 1_000}
        return service_settings(tmp_path / "data", **{**limits, **overrides})

    return build


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings], engine: Engine
) -> Iterator[Callable[..., TestClient]]:
    """Start apps (lifespan included) with settings overrides; all are stopped at teardown."""
    clients: list[TestClient] = []

    def start(app: FastAPI | None = None, **overrides: Any) -> TestClient:
        client = TestClient(app or create_app(make_settings(**overrides), engine=engine))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
