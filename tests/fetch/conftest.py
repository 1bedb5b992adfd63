"""Fixtures for the fetch tests: the test server, and a guard on outgoing connections."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from tests.fetch.servers import TestSite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def site() -> Iterator[TestSite]:
    with TestSite() as running:
        yield running


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection httpx attempts, as (host, port).

    Connections to 127.0.0.1 go through (the test server lives there); any other address is
    recorded and refused, so a guard bug shows up as a failed assertion, never as traffic.
    """
    attempts: list[tuple[str, int]] = []
    real_connect = anyio.connect_tcp

    async def counting_connect(remote_host: str, remote_port: int, **kwargs: object):
        attempts.append((str(remote_host), remote_port))
        if remote_host != "127.0.0.1":
            raise OSError(f"test refused a connection to {remote_host}")
        return await real_connect(remote_host, remote_port, **kwargs)

    monkeypatch.setattr(anyio, "connect_tcp", counting_connect)
    return attempts
