"""Fixtures for the fetch tests: the test server, and a guard on outgoing connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fetch.servers import TestSite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def site() -> Iterator[TestSite]:
    with TestSite() as running:
        yield running
