"""``redflags serve`` starts a real uvicorn that migrates its database and answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fetch.servers import closed_port

ROOT = Path(__file__).resolve().parents[2]


def test_serve_runs_uvicorn_on_the_given_port(tmp_path: Path) -> None:
    port = closed_port()
    env = {**os.environ, "REDFLAGS_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDFLAGS_DATABASE_URL", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready is not None, "the server did not answer within 60 s"
        assert ready.status_code == 200
        assert ready.headers["x-content-type-options"] == "nosniff"
        assert (tmp_path / "data" / "redflags.db").is_file()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Uvicorn running on http://127.0.0.1" in output, output
