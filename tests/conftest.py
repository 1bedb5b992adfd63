"""Shared fixtures: the real engine (loaded once) and the dev corpus location."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import aiohappyeyeballs
import pytest

from app.engine.analyzer import Engine
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REDFLAGS_CORPUS", ROOT.parent / "shared" / "corpus" / "dev"))
SEED = Path(os.environ.get("REDFLAGS_SEED", ROOT.parent / "shared" / "seed"))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    return Engine.from_settings(settings)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "labels.jsonl").is_file():
        pytest.skip(f"dev corpus not found at {CORPUS} (set REDFLAGS_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def seed_article() -> Path:
    path = SEED / "can-stem-cells-treat-ra.txt"
    if not path.is_file():
        pytest.skip(f"seed article not found at {path} (set REDFLAGS_SEED)")
    return path


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address the fetcher's connector is given to connect to, as (host, port).

    Connections to 127.0.0.1 go through (the test server lives there); a connection offered any
    other address is recorded and refused, so a guard bug shows up as a failed assertion, never
    as traffic.
    """
    attempts: list[tuple[str, int]] = []
    real_start = aiohappyeyeballs.start_connection  # what aiohttp's connector connects with

    async def counting_start(addr_infos: list[Any], **kwargs: Any) -> socket.socket:
        tried = [(str(info[4][0]), int(info[4][1])) for info in addr_infos]
        attempts.extend(tried)
        if any(host != "127.0.0.1" for host, _ in tried):
            raise OSError(f"test refused a connection to {tried}")
        return await real_start(addr_infos, **kwargs)

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", counting_start)
    return attempts
