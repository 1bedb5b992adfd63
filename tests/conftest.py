"""Shared fixtures: the real engine (loaded once) and the dev corpus location."""

from __future__ import annotations

import os
from pathlib import Path

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
