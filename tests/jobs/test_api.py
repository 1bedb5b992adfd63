"""``/api/v1/batches`` through TestClient, with the service's own worker checking real sites on
127.0.0.1: keys required, 202 and Location, progress that adds up, results in every format,
the summary page, cancel, and a restart that finishes what a dead process left."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.engine.analyzer import Engine
from app.jobs.store import SqlJobQueue
from app.jobs.worker import worker_is_dead
from app.service.factory import create_app
from app.settings import Settings
from app.storage import ApiKeyStore, make_engine
from tests.fetch.servers import service_settings
from tests.jobs.conftest import Farm

Client = tuple[TestClient, dict[str, str]]


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "registry_requests_per_minute": 100_000,
            "per_host_concurrency": 8,
            "max_pages": 2,
            "batch_concurrency": 4,
        }
        return service_settings(tmp_path / "data", **{**values, **overrides})

    return build


@pytest.fixture
def start(
    make_settings: Callable[..., Settings], engine: Engine
) -> Iterator[Callable[..., Client]]:
    """Start an app (its lifespan runs the worker) and make an API key for it."""
    running: list[TestClient] = []

    def run(**overrides: Any) -> Client:
        settings = make_settings(**overrides)
        client = TestClient(create_app(settings, engine=engine))
        client.__enter__()
        running.append(client)
        _, key = ApiKeyStore(make_engine(settings.sqlalchemy_url)).create("investigator")
        return client, {"X-API-Key": key}

    yield run
    for client in running:
        client.__exit__(None, None, None)


def _wait(client: TestClient, location: str, key: dict[str, str], status: str = "done") -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(location, headers=key).json()
        counted = sum(body[s] for s in ("pending", "running", "done", "error", "skipped"))
        assert counted == body["total"], body  # the numbers add up at every moment
        if body["status"] == status:
            return body
        time.sleep(0.1)
    pytest.fail(f"batch not {status} in 60 s: {body}")


def test_a_key_is_required(start: Callable[..., Client]) -> None:
    client, key = start(batch_worker=False)
    for method, path in (("post", ""), ("get", "/x"), ("delete", "/x"), ("get", "/x/results")):
        answer = client.request(method, f"/api/v1/batches{path}", json={"urls": ["a.example"]})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "api_key_required"
    wrong = client.get("/api/v1/batches/x", headers={"X-API-Key": "rf_not-a-key"})
    assert wrong.status_code == 401
    assert client.get("/api/v1/batches/x", headers=key).status_code == 404


def test_batch_from_json_runs_to_the_end_with_results_in_every_format(
    start: Callable[..., Client], farm: Farm
) -> None:
    client, key = start()
    urls = [*farm.urls(6), farm.faults()["500"], "not a web address", farm.urls(1)[0]]
    created = client.post("/api/v1/batches", json={"urls": urls}, headers=key)
    assert created.status_code == 202, created.text
    location = created.headers["Location"]
    assert location == f"/api/v1/batches/{created.json()['id']}"
    assert created.json()["total"] == 9
    final = _wait(client, location, key)
    assert (final["done"], final["error"], final["skipped"], final["unreadable"]) == (7, 1, 1, 1)

    rows = client.get(f"{location}/results", headers=key).json()
    assert [r["url"] for r in rows] == urls
    assert rows[0]["report_url"].endswith(f"/r/{rows[0]['report_id']}")
    assert rows[-1]["report_id"] == rows[0]["report_id"]  # the repeat shows line 1's result
    page = client.get(rows[0]["report_url"])
    assert page.status_code == 200 and "<html" in page.text  # the report's permalink works

    as_csv = client.get(f"{location}/results?format=csv", headers=key)
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert [r["url"] for r in table] == urls and table[0]["score"] == str(rows[0]["score"])
    lines = client.get(f"{location}/results?format=jsonl", headers=key).text.splitlines()
    assert [json.loads(line) for line in lines] == rows
    book = client.get(f"{location}/results?format=xlsx", headers=key)
    assert load_workbook(io.BytesIO(book.content)).active.max_row == len(urls) + 1
    assert client.get(f"{location}/results?format=pdf", headers=key).status_code == 422


def test_csv_upload_carries_columns_and_neutralises_formulas(
    start: Callable[..., Client], farm: Farm
) -> None:
    client, key = start()
    upload = "url;case;note\n" + "".join(
        f'{url};C-{n};=HYPERLINK("http://evil.example")\n' for n, url in enumerate(farm.urls(3))
    )
    headers = {**key, "Content-Type": "text/csv"}
    created = client.post("/api/v1/batches", content=upload.encode(), headers=headers)
    assert created.status_code == 202, created.text
    _wait(client, created.headers["Location"], key)
    results = f"{created.headers['Location']}/results"
    table = list(
        csv.DictReader(
            io.StringIO(client.get(f"{results}?format=csv", headers=key).text.lstrip("\ufeff"))
        )
    )
    assert [r["case"] for r in table] == ["C-0", "C-1", "C-2"]
    assert all(r["note"] == '\'=HYPERLINK("http://evil.example")' for r in table)
    raw = client.get(results, headers=key).json()  # JSON is data: kept as given
    assert raw[0]["note"] == '=HYPERLINK("http://evil.example")'


def test_summary_page_is_sorted_on_the_server_and_locked_down(
    start: Callable[..., Client], farm: Farm
) -> None:
    client, key = start()
    created = client.post("/api/v1/batches", json={"urls": farm.urls(5)}, headers=key)
    location = created.headers["Location"]
    _wait(client, location, key)
    page = client.get(f"{location}/summary?sort=url&order=asc", headers=key)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "script" not in page.text
    assert 'aria-sort="ascending"' in page.text and 'href="?sort=url&amp;order=desc"' in page.text
    assert page.text.index(farm.urls(5)[0]) < page.text.index(farm.urls(5)[4])
    assert client.get(f"{location}/summary?sort=nope", headers=key).status_code == 422


def test_cancel_skips_what_has_not_started(start: Callable[..., Client], farm: Farm) -> None:
    client, key = start(batch_concurrency=1, total_timeout=2.0)
    urls = [farm.faults()["hang"], *farm.urls(10)]
    created = client.post("/api/v1/batches", json={"urls": urls}, headers=key)
    location = created.headers["Location"]
    _wait(client, location, key, status="running")
    cancelled = client.delete(location, headers=key)
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["skipped"] >= 9
    final = client.get(location, headers=key).json()
    assert final["pending"] == 0
    deadline = time.monotonic() + 20
    while final["running"] and time.monotonic() < deadline:  # the hang runs to its time limit
        time.sleep(0.2)
        final = client.get(location, headers=key).json()
    assert final["running"] == 0 and final["done"] + final["skipped"] == len(urls)


def test_validation(start: Callable[..., Client]) -> None:
    client, key = start(batch_worker=False, batch_max_sites=3)
    post = client.post
    assert post("/api/v1/batches", json={"urls": []}, headers=key).status_code == 422
    assert post("/api/v1/batches", json={"url": "a"}, headers=key).status_code == 422
    too_many = post("/api/v1/batches", json={"urls": ["a.example"] * 4}, headers=key)
    assert too_many.status_code == 413
    wrong_type = post("/api/v1/batches", content=b"x", headers={**key, "Content-Type": "image/png"})
    assert wrong_type.status_code == 415
    empty = post("/api/v1/batches", content=b"url\n", headers={**key, "Content-Type": "text/csv"})
    assert empty.status_code == 422


def test_batches_belong_to_their_key(
    start: Callable[..., Client], make_settings: Callable[..., Settings]
) -> None:
    client, key = start(batch_worker=False)
    location = client.post("/api/v1/batches", json={"urls": ["a.example"]}, headers=key).headers[
        "Location"
    ]
    _, other = ApiKeyStore(make_engine(make_settings().sqlalchemy_url)).create("someone else")
    for method, path in (("get", ""), ("delete", ""), ("get", "/results"), ("get", "/summary")):
        assert (
            client.request(method, location + path, headers={"X-API-Key": other}).status_code == 404
        )


def test_a_restart_finishes_what_a_dead_process_left_without_duplicates(
    start: Callable[..., Client], make_settings: Callable[..., Settings], farm: Farm
) -> None:
    client, key = start(batch_worker=False)
    created = client.post("/api/v1/batches", json={"urls": farm.urls(6)}, headers=key)
    batch_id = created.json()["id"]
    database = make_engine(make_settings().sqlalchemy_url)
    dead = SqlJobQueue(database, lease=0.1)
    orphans = dead.claim("dead-process", 2, batch_id=batch_id)  # then the process "dies"
    time.sleep(0.2)

    restarted, _ = start(batch_lease=5.0)
    final = _wait(restarted, created.headers["Location"], key)
    assert final["done"] == 6
    items = {i["id"]: i for i in SqlJobQueue(database).items(batch_id)}
    assert all(items[c.item_id]["attempts"] == 2 for c in orphans)
    assert len({i["report_id"] for i in items.values()}) == 6
    assert not dead.fail(orphans[0], "too late")  # the dead process's claim is void


def test_after_a_service_restart_a_dead_workers_sites_are_taken_back_at_once(
    start: Callable[..., Client], make_settings: Callable[..., Settings], farm: Farm
) -> None:
    # Issue 9, item 6: the restarted service waited out the whole lease (60 s by default)
    # before checking the sites its former self had claimed. Here the lease is ten minutes:
    # only recognising the former worker as dead lets the batch finish within the wait.
    client, key = start(batch_worker=False)
    created = client.post("/api/v1/batches", json={"urls": farm.urls(4)}, headers=key)
    batch_id = created.json()["id"]
    former = f"{socket.gethostname()}:{_pid_of_finished()}:abc123"
    database = make_engine(make_settings().sqlalchemy_url)
    orphans = SqlJobQueue(database, lease=600).claim(former, 2, batch_id=batch_id)
    assert len(orphans) == 2

    restarted, _ = start(batch_lease=600.0)
    final = _wait(restarted, created.headers["Location"], key)
    assert final["done"] == 4
    items = SqlJobQueue(database).items(batch_id)
    assert len({i["report_id"] for i in items}) == 4


def test_only_a_gone_process_of_this_machine_is_a_dead_worker() -> None:
    pid = _pid_of_finished()
    host = socket.gethostname()
    assert worker_is_dead(f"{host}:{pid}:abc123")
    assert not worker_is_dead(f"{host}:{os.getpid()}:abc123")  # this process
    assert not worker_is_dead(f"other-machine.example:{pid}:abc123")  # known only by its lease
    assert not worker_is_dead("dead-process")  # not a worker name at all


def _pid_of_finished() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    child.wait()
    return child.pid


def test_half_a_utf16_pair_in_a_batch_is_a_422_not_a_500(start: Callable[..., Client]) -> None:
    # Issue 9, item 2: any text a JSON parser accepts gets an answer or a 4xx, never a 500.
    client, key = start(batch_worker=False)
    body = b'{"urls": ["https://clinic.example/\\ud800", "https://other.example/"]}'
    created = client.post(
        "/api/v1/batches", content=body, headers={**key, "content-type": "application/json"}
    )
    assert created.status_code == 422, created.text
    assert created.json()["error"]["code"] == "invalid_request"
    assert "JSON" in created.json()["error"]["message"]


def test_the_batch_worker_and_the_api_share_the_analysis_processes(
    make_settings: Callable[..., Settings], engine: Engine, farm: Farm
) -> None:
    """With analysis processes, the service's batch worker (its own event loop, in a thread of
    its own) reads its sites in the processes the API's requests use, while both run: the same
    results as on threads."""
    urls = farm.urls(6)
    page = {"text": "Our clinic cures arthritis with stem cell injections. Book your visit today."}
    outcomes, analyses = {}, {}
    for processes in (0, 2):
        settings = make_settings(analysis_processes=processes)
        with TestClient(create_app(settings, engine=engine)) as client:
            _, plaintext = ApiKeyStore(make_engine(settings.sqlalchemy_url)).create("x")
            key = {"X-API-Key": plaintext}
            created = client.post("/api/v1/batches", json={"urls": urls}, headers=key)
            assert created.status_code == 202, created.text
            answers = [client.post("/api/v1/analyze", json=page) for _ in range(4)]  # meanwhile
            _wait(client, created.headers["Location"], key)
            rows = client.get(f"{created.headers['Location']}/results", headers=key).json()
            outcomes[processes] = [(r["url"], r["verdict"], r["score"]) for r in rows]
            analyses[processes] = [a.json()["report"]["score"] for a in answers]
            pool = client.app.state.analyst  # type: ignore[attr-defined]
            assert (processes and len(pool.worker_pids()) == 2) or not hasattr(pool, "worker_pids")
    assert outcomes[2] == outcomes[0] and len(outcomes[0]) == 6
    assert analyses[2] == analyses[0]
