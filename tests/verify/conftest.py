"""Fixtures for the registry tests: a fake ClinicalTrials.gov, a fake clock, client factories."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

from app.settings import Settings
from app.verify import RegistryClient
from app.verify.throttle import Clock
from tests.verify.fake_registry import FakeRegistry


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    """A fresh fake registry per test, so request counts and 429 scripts start clean."""
    server = FakeRegistry()
    server.start()
    yield server
    server.stop()


class FakeTime:
    """A monotonic clock that only moves when something sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.sleep(0)  # still yield, as a real sleep would


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def registry_settings(base_url: str, **overrides: Any) -> Settings:
    """Settings for tests: a generous rate limit so only the tests about it ever wait."""
    values: dict[str, Any] = {
        "registry_base_url": base_url,
        "registry_max_retry_wait": 5.0,
        "registry_requests_per_minute": 6_000.0,
        "registry_burst": 100,
        "registry_timeout": 2.0,
        "registry_cache_ttl": 60.0,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def make_client(registry: FakeRegistry, fake_time: FakeTime) -> Callable[..., RegistryClient]:
    """Build a client on the fake registry and fake time; use it with ``async with``."""

    def make(*, wall_clock: Clock = time.time, **overrides: Any) -> RegistryClient:
        return RegistryClient(
            registry_settings(registry.base_url, **overrides),
            clock=fake_time.clock,
            sleep=fake_time.sleep,
            wall_clock=wall_clock,
        )

    return make
