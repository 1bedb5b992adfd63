"""Issue 9, items 2, 5 and 7 (headers): against a real ``redflags serve`` (uvicorn on 127.0.0.1)
where the defect lived in the server's handling, and through the app where it is the app's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from tests.fetch.servers import closed_port

ROOT = Path(__file__).resolve().parents[2]
SURROGATE_BODY = b'{"html": "<p>\\ud800 Our clinic cures arthritis with stem cells.</p>"}'
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def _serve(tmp_path: Path, **env: str) -> Iterator[str]:
    port = closed_port()
    environment = {
        **os.environ,
        "REDFLAGS_DATA_DIR": str(tmp_path / "data"),
        "REDFLAGS_BATCH_WORKER": "false",
        **env,
    }
    environment.pop("REDFLAGS_DATABASE_URL", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"{base}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            if server.poll() is not None:
                output = server.communicate(timeout=10)[0].decode(errors="replace")
                pytest.fail(f"redflags serve exited with {server.returncode}:\n{output[-2000:]}")
            pytest.fail("redflags serve did not answer within 60 s")
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory.mktemp("serve"), REDFLAGS_ANALYZE_LIMIT_ANONYMOUS="3")


def test_lone_surrogates_get_a_report_and_keep_the_connection(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as client:
        first = client.post(
            "/api/v1/analyze",
            content=SURROGATE_BODY,
            headers={"content-type": "application/json", "X-Forwarded-For": "192.0.2.1"},
        )
        assert first.status_code == 200, first.text
        assert first.json()["report"]["findings"]
        # The same keep-alive connection answers the next request.
        second = client.get("/healthz")
        assert second.status_code == 200
        connections = client._transport._pool.connections  # noqa: SLF001
        assert len(connections) == 1
        assert "Request Count: 2" in connections[0].info()


def test_rate_limits_ignore_x_forwarded_for_by_default(served: str) -> None:
    # The limit is 3 a minute; the surrogate test above spent one from this address.
    statuses = []
    for n in range(4):
        response = httpx.post(
            f"{served}/api/v1/analyze",
            json={"text": "Stem cells."},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            timeout=30,
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429, statuses


def test_a_configured_proxy_is_believed_and_https_gets_hsts(tmp_path: Path) -> None:
    for base in _serve(tmp_path, REDFLAGS_FORWARDED_ALLOW_IPS="127.0.0.1"):
        plain = httpx.get(f"{base}/healthz", timeout=10)
        assert "strict-transport-security" not in plain.headers
        behind = httpx.get(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert behind.headers["strict-transport-security"].startswith("max-age=")


def test_a_500_carries_the_security_headers_and_the_error_envelope(
    make_client: Callable[..., TestClient], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fault no real input produces any more: the engine itself failing.
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine fault")

    client = make_client()
    monkeypatch.setattr(engine, "analyze", broken)
    client_no_raise = TestClient(client.app, raise_server_exceptions=False)
    response = client_no_raise.post("/api/v1/analyze", json={"text": "Stem cells cure all."})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    for name in SECURITY_HEADERS:
        assert name in response.headers, name
    assert "engine fault" not in response.text


def test_report_pages_and_api_answers_are_not_cached(client: TestClient) -> None:
    missing = client.get("/r/does-not-exist", headers={"accept": "text/html"})
    assert missing.headers["cache-control"] == "private, no-store"
    analysed = client.post("/api/v1/analyze", json={"text": "Stem cells."})
    assert analysed.headers["cache-control"] == "private, no-store"
    assert "strict-transport-security" not in analysed.headers  # plain HTTP: no HSTS
