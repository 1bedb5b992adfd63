"""``/api/v1/checks``: a live dev-corpus site over loopback, stored and fetched back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.fetch.servers import TestSite, closed_port

ENTRY = "/s01-desert-bloom-regenerative/index.html"


def test_check_stores_the_report_and_its_pages(client: TestClient, corpus_site: TestSite) -> None:
    url = corpus_site.url(ENTRY)
    response = client.post("/api/v1/checks?wait=true", json={"url": url, "max_pages": 4})

    assert response.status_code == 201, response.text
    body = response.json()
    report_id = body["id"]
    assert len(report_id) >= 22  # token_urlsafe(16)
    assert response.headers["location"] == f"/api/v1/checks/{report_id}"
    assert body["links"] == {
        "api": f"/api/v1/checks/{report_id}",
        "page": f"/r/{report_id}",
        "history": "/api/v1/sites/127.0.0.1/reports",
    }
    assert body["kind"] == "check"
    assert body["input_url"] == url
    assert body["final_url"] == url
    assert body["report"]["verdict"] == "high_risk"
    assert {"cure_claim", "price_or_payment"} <= {f["category"] for f in body["report"]["findings"]}
    assert response.headers["x-ratelimit-limit"] == "1000"

    again = client.get(f"/api/v1/checks/{report_id}")
    assert again.status_code == 200
    assert again.json() == body

    # The pages read are kept byte for byte: what the site said that day.
    pages = body["report"]["pages"]
    assert 2 <= len(pages) <= 4
    for page in pages:
        stored = client.get(f"/api/v1/checks/{report_id}/pages/{page['sha256']}")
        assert stored.status_code == 200
        assert hashlib.sha256(stored.content).hexdigest() == page["sha256"]
        assert stored.headers["content-type"] == "application/octet-stream"
        assert stored.headers["content-disposition"].startswith("attachment")
    entry = client.get(f"/api/v1/checks/{report_id}/pages/{pages[0]['sha256']}").content
    assert entry == (corpus_site.corpus / ENTRY.lstrip("/")).read_bytes()


def test_recheck_keeps_the_old_report(client: TestClient, corpus_site: TestSite) -> None:
    url = corpus_site.url("/s10-lakeside-rheumatology/index.html")
    first = client.post("/api/v1/checks?wait=true", json={"url": url, "max_pages": 1}).json()
    second = client.post("/api/v1/checks?wait=true", json={"url": url, "max_pages": 1}).json()

    assert first["id"] != second["id"]
    assert client.get(f"/api/v1/checks/{first['id']}").status_code == 200
    history = client.get("/api/v1/sites/127.0.0.1/reports").json()
    assert [r["id"] for r in history["reports"]] == [second["id"], first["id"]]
    assert history["reports"][0]["verdict"] == second["report"]["verdict"]


def test_a_forbidden_address_is_refused_before_any_connection(
    client: TestClient, connections: list[tuple[str, int]]
) -> None:
    for url in ("http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"):
        response = client.post("/api/v1/checks?wait=true", json={"url": url})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "address_not_allowed"
        assert "is not allowed" in error["message"]
    assert connections == []


def test_text_that_is_not_a_web_address_is_a_400(client: TestClient) -> None:
    for url in ("ftp://clinic.example/", "http://", "javascript:alert(1)"):
        response = client.post("/api/v1/checks?wait=true", json={"url": url})
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "url_rejected"
        assert "cannot be checked" in response.json()["error"]["message"]


def test_validation_errors_name_the_field(client: TestClient) -> None:
    cases = [
        ({}, "url"),
        ({"url": "clinic.example", "max_pages": 0}, "max_pages"),
        ({"url": "clinic.example", "colour": "red"}, "colour"),
        ({"url": 7}, "url"),
    ]
    for payload, field in cases:
        response = client.post("/api/v1/checks?wait=true", json=payload)
        assert response.status_code == 422, payload
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert [p["field"] for p in error["fields"]] == [field]
        assert field in error["message"]

    broken = client.post(
        "/api/v1/checks", content=b'{"url": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["fields"] == [
        {"field": "body", "message": "the body is not valid JSON"}
    ]


def test_an_unreachable_site_is_a_502_with_its_stored_report(client: TestClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    response = client.post("/api/v1/checks?wait=true", json={"url": url})

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "site_unreachable"
    assert "connection refused" in error["message"]
    stored = client.get(f"/api/v1/checks/{error['report_id']}").json()
    assert stored["report"]["verdict"] == "unreadable"


def test_a_site_that_answers_with_an_error_is_an_unreadable_report(
    client: TestClient, corpus_site: TestSite
) -> None:
    response = client.post(
        "/api/v1/checks?wait=true", json={"url": corpus_site.url("/x/status/404")}
    )
    assert response.status_code == 201
    assert response.json()["report"]["verdict"] == "unreadable"


def test_a_check_over_the_time_limit_is_a_504(
    make_client: Callable[..., TestClient], corpus_site: TestSite
) -> None:
    client = make_client(check_timeout=0.3)
    response = client.post(
        "/api/v1/checks?wait=true", json={"url": corpus_site.url("/x/sleep?ms=1500")}
    )
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "check_timeout"


def test_unknown_ids_are_404s(client: TestClient) -> None:
    missing = client.get("/api/v1/checks/no-such-report")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "report_not_found"
    page = client.get(f"/api/v1/checks/no-such-report/pages/{'0' * 64}")
    assert page.status_code == 404
    assert page.json()["error"]["code"] == "page_not_found"
    assert client.get("/api/v1/sites/nowhere.example/reports").json()["reports"] == []
