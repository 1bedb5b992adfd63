"""The patient's page: server-rendered HTML that works without JavaScript."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def mount_static(app: FastAPI) -> None:
    """Serve the page's stylesheet and icons at ``/static`` (``create_app`` calls this)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
