"""/api/v1/analyze reads ``analyze_threads`` pages at a time; the other requests wait their
turn instead of sharing the interpreter (and all finishing late)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from app.service.factory import create_app
from app.settings import Settings

PAGE = {"url": "https://clinic.example/", "html": "<p>Our stem cell injections cure arthritis.</p>"}


class Counting(Engine):
    """The real engine, counting how many pages it is reading at once."""

    def __init__(self, engine: Engine) -> None:
        self.__dict__.update(engine.__dict__)
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return super().analyze(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("threads", [1, 3])
def test_pages_are_read_at_most_analyze_threads_at_a_time(
    make_settings: Callable[..., Settings], engine: Engine, threads: int
) -> None:
    counting = Counting(engine)
    app = create_app(make_settings(analyze_threads=threads), engine=counting)
    with TestClient(app) as client, ThreadPoolExecutor(12) as callers:
        answers = list(callers.map(lambda _: client.post("/api/v1/analyze", json=PAGE), range(36)))
    assert [a.status_code for a in answers] == [200] * 36
    assert len({a.json()["report"]["score"] for a in answers}) == 1  # the same page, the same score
    assert counting.most <= threads
    if threads > 1:
        assert counting.most > 1  # the setting is what limits, not something else


def test_with_analysis_processes_the_api_answers_as_on_threads(
    make_client: Callable[..., TestClient],
) -> None:
    page = {**PAGE, "explain": True}
    on_threads = make_client().post("/api/v1/analyze", json=page)
    pooled = make_client(analysis_processes=2)
    in_processes = pooled.post("/api/v1/analyze", json=page)
    assert in_processes.status_code == on_threads.status_code == 200
    assert in_processes.json() == on_threads.json()
    stored = pooled.post("/api/v1/analyze", json={**page, "store": True})
    assert stored.status_code == 200 and stored.json()["stored"] is True
    assert pooled.get(stored.json()["links"]["api"]).status_code == 200
    # An error raised in a worker process is answered like one raised here.
    unreadable = pooled.post("/api/v1/analyze", json={"text": "\x00" * 10})
    assert unreadable.status_code == 422
    assert unreadable.json()["error"]["code"] == "unreadable_content"
