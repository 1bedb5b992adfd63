"""Fixtures for the page tests: an app on a temporary database, reports saved straight into
its store, and the dev-corpus test site."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from app.service.factory import create_app
from app.settings import Settings
from app.storage import ReportStore, StoredReport
from tests.fetch.servers import TestSite, service_settings
from tests.web.reports import make_report


def web_settings(data: Path, **overrides: Any) -> Settings:
    # The tests post the form many times a minute.
    return service_settings(data, **{"check_limit_anonymous": 1_000, **overrides})


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with TestSite() as running:
        yield running


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[TestClient]:
    app = create_app(web_settings(tmp_path_factory.mktemp("web")), engine=engine)
    with TestClient(app) as test_client:  # runs the lifespan: database, fetcher, registry
        yield test_client


@pytest.fixture
def store(client: TestClient) -> ReportStore:
    return client.app.state.store  # type: ignore[attr-defined]


SaveReport = Callable[..., StoredReport]


@pytest.fixture
def saved(store: ReportStore) -> SaveReport:
    """Save a report built by ``make_report(**changes)`` as if a check of ``url`` made it."""

    def save(url: str = "https://www.sunrise-clinic.com/", **changes: Any) -> StoredReport:
        return store.save(make_report(source=url, **changes), kind="check", input_url=url)

    return save


def follow_check(client: TestClient, location: str, *, timeout: float = 60.0) -> httpx.Response:
    """The page at a check's address once the check has finished: the report, or the form with
    why it stopped. Meanwhile that address is a page that refreshes itself."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(location)
        if "refresh" not in page.headers:
            return page
        assert time.monotonic() < deadline, f"the check at {location} never finished"
        time.sleep(0.1)
