"""API keys (hashed at rest, CLI to manage them) and the per-client rate limits they raise."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.api.ratelimit import SlidingWindowLimiter
from app.cli.main import main
from app.settings import get_settings
from app.storage import ApiKeyStore
from app.storage.models import ApiKeyRow

REFUSED = {"url": "http://10.0.0.1/"}  # answered at once with 400, yet counted by the limit


def test_anonymous_clients_are_limited_with_headers(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(check_limit_anonymous=2)
    first = client.post("/api/v1/checks", json=REFUSED)
    assert first.status_code == 400
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert client.post("/api/v1/checks", json=REFUSED).headers["x-ratelimit-remaining"] == "0"

    limited = client.post("/api/v1/checks", json=REFUSED)
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "rate_limited"
    assert "API key" in error["message"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) <= 60
    # Analysis has its own budget, and says so on answers stored or not.
    allowed = client.app.state.settings.analyze_limit_anonymous  # type: ignore[attr-defined]
    for store in (False, True):
        analysed = client.post("/api/v1/analyze", json={"text": "hello", "store": store})
        assert analysed.status_code == 200
        assert analysed.headers["x-ratelimit-limit"] == str(allowed)
        assert analysed.headers["x-ratelimit-remaining"] == str(allowed - 1 - store)


def test_a_key_raises_the_limit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(check_limit_anonymous=1, check_limit_keyed=3)
    _, plaintext = client.app.state.key_store.create("partner")  # type: ignore[attr-defined]
    keyed = {"X-API-Key": plaintext}
    statuses = [
        client.post("/api/v1/checks", json=REFUSED, headers=keyed).status_code for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    # The anonymous budget is separate from the key's.
    assert client.post("/api/v1/checks", json=REFUSED).status_code == 400


def test_unknown_and_revoked_keys_are_401(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    keys: ApiKeyStore = client.app.state.key_store  # type: ignore[attr-defined]
    key, plaintext = keys.create("old partner")
    ok = client.post("/api/v1/analyze", json={"text": "x"}, headers={"X-API-Key": plaintext})
    assert ok.status_code == 200
    keys.revoke(key.id)
    for sent in (plaintext, "rf_made-up"):
        response = client.post("/api/v1/analyze", json={"text": "x"}, headers={"X-API-Key": sent})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_keys_are_hashed_at_rest(client: TestClient, tmp_path: Path) -> None:
    keys: ApiKeyStore = client.app.state.key_store  # type: ignore[attr-defined]
    key, plaintext = keys.create("investigator")
    assert plaintext.startswith("rf_") and len(plaintext) > 40

    store = client.app.state.store  # type: ignore[attr-defined]
    with store.engine.connect() as connection:
        row = connection.execute(select(ApiKeyRow).where(ApiKeyRow.id == key.id)).one()
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in [str(value) for value in row]
    store.engine.dispose()  # flush SQLite's write-ahead log into the file
    database = (tmp_path / "data" / "redflags.db").read_bytes()
    assert plaintext.encode() not in database
    assert keys.verify(plaintext) is not None
    assert keys.verify(plaintext + "x") is None


def test_the_keys_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDFLAGS_DATABASE_URL", f"sqlite:///{tmp_path / 'keys.db'}")
    get_settings.cache_clear()
    try:
        assert main(["keys", "create", "browser extension"]) == 0
        created = dict(
            line.split(":", 1) for line in capsys.readouterr().out.splitlines() if ": " in line
        )
        key_id, plaintext = created["id"].strip(), created["key"].strip()

        assert main(["keys", "list"]) == 0
        listing = capsys.readouterr().out
        assert key_id in listing and "active" in listing and "browser extension" in listing
        assert plaintext not in listing

        assert main(["keys", "revoke", key_id]) == 0
        assert main(["keys", "list"]) == 0
        assert "revoked" in capsys.readouterr().out
        assert main(["keys", "revoke", "no-such-key"]) == 1
        assert "no key has the id" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_the_sliding_window() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(60.0, max_keys=2, clock=lambda: now[0])
    assert [limiter.hit("a", 2).allowed for _ in range(3)] == [True, True, False]
    denied = limiter.hit("a", 2)
    assert denied.headers()["Retry-After"] == "60"
    now[0] += 30
    assert limiter.hit("a", 2).reset == pytest.approx(30)
    now[0] += 30.5  # the first two hits have left the window
    decision = limiter.hit("a", 2)
    assert decision.allowed and decision.remaining == 1
    # Least recently seen clients are forgotten beyond max_keys.
    limiter.hit("b", 2)
    limiter.hit("c", 2)
    assert limiter.hit("a", 2).remaining == 1
