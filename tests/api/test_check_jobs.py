"""``POST /api/v1/checks`` answers 202 at once; the check runs as a stored job that ``GET``
follows to its report, and that survives a restart of the service (issue 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.fetch.servers import TestSite, closed_port

ROOT = Path(__file__).resolve().parents[2]
SLOW = "/x/sleep?ms=1500"


def _poll(get: Callable[[str], httpx.Response], path: str, timeout: float = 60) -> list[dict]:
    """Every answer at ``path`` until it is a report or a failure."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = get(path).json()
        seen.append(body)
        if "report" in body or body.get("state") == "failed":
            return seen
        time.sleep(0.1)
    pytest.fail(f"the check at {path} did not finish: {seen[-1]}")


def test_a_check_is_accepted_at_once_and_followed_to_its_report(
    client: TestClient, corpus_site: TestSite
) -> None:
    response = client.post("/api/v1/checks", json={"url": corpus_site.url(SLOW)})
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["state"] in ("queued", "running")
    location = response.headers["location"]
    assert location == accepted["links"]["api"] == f"/api/v1/checks/{accepted['id']}"
    assert response.headers["retry-after"] == "1"

    seen = _poll(client.get, location)
    running = [b for b in seen if b.get("state") == "running"]
    assert running and any("page" in (b["phase"] or "") for b in running), running
    report = seen[-1]
    assert report["id"] == accepted["id"]  # the check's id is its report's
    assert report["links"]["page"] == f"/r/{accepted['id']}"
    assert report["report"]["pages"]
    assert "retry-after" not in client.get(location).headers


def test_a_check_that_runs_out_of_time_says_so(
    make_client: Callable[..., TestClient], corpus_site: TestSite
) -> None:
    client = make_client(check_timeout=0.3)
    location = client.post("/api/v1/checks", json={"url": corpus_site.url(SLOW)}).headers[
        "location"
    ]
    failed = _poll(client.get, location)[-1]
    assert failed["state"] == "failed"
    assert failed["error"]["code"] == "check_timeout"
    assert "took longer than 0.3 seconds" in failed["error"]["message"]


def test_a_forbidden_address_is_refused_before_it_is_queued(client: TestClient) -> None:
    refused = client.post("/api/v1/checks", json={"url": "http://169.254.169.254/latest/"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "address_not_allowed"


def test_an_unknown_check_is_a_404(client: TestClient) -> None:
    assert client.get("/api/v1/checks/no-such-check").status_code == 404


@pytest.fixture
def slow_site() -> Iterator[TestSite]:
    with TestSite() as site:
        yield site


def _serve(port: int, data: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "REDFLAGS_DATA_DIR": str(data),
        "REDFLAGS_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REDFLAGS_REGISTRY_BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "REDFLAGS_PER_HOST_DELAY": "0",
        "REDFLAGS_BATCH_WORKER": "false",
    }
    env.pop("REDFLAGS_DATABASE_URL", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    pytest.fail("the server did not start within 60 s")


@pytest.mark.slow
def test_a_check_outlives_a_killed_service_and_is_done_once(
    tmp_path: Path, slow_site: TestSite
) -> None:
    """The service is killed (SIGKILL: no chance to hand the check back) while it reads the
    site; started again, it takes the check up, and the site ends with exactly one report."""
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(port, tmp_path / "data")
    try:
        accepted = httpx.post(
            f"{base}/api/v1/checks", json={"url": slow_site.url("/x/sleep?ms=4000")}, timeout=10
        )
        assert accepted.status_code == 202
        location = accepted.headers["location"]
        deadline = time.monotonic() + 30
        while httpx.get(base + location).json().get("state") != "running":
            assert time.monotonic() < deadline, "the check never started"
            time.sleep(0.1)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        server = _serve(port, tmp_path / "data")
        done = _poll(lambda path: httpx.get(base + path, timeout=10), location)[-1]
        assert "report" in done, done
        history = httpx.get(f"{base}/api/v1/sites/127.0.0.1/reports").json()
        assert [r["id"] for r in history["reports"]] == [done["id"]]
    finally:
        server.terminate()
        server.wait(timeout=30)
