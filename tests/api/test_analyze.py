"""``/api/v1/analyze``: content the caller has; nothing fetched, nothing kept unless asked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.storage.models import ReportRow
from tests.fetch.servers import TestSite

PAGE = """<html><head><title>Renew Clinic</title></head><body>
<h1>Stem cell therapy for rheumatoid arthritis</h1>
<p>Our stem cell treatment cures rheumatoid arthritis for good. There are no side effects.</p>
<p>The full protocol costs $12,000. <a href="/pricing">See prices</a></p>
</body></html>"""


def _report_count(client: TestClient) -> int:
    with client.app.state.store.engine.connect() as connection:  # type: ignore[attr-defined]
        return connection.execute(select(func.count()).select_from(ReportRow)).scalar_one()


def test_html_is_analysed_and_not_stored_by_default(
    client: TestClient, corpus_site: TestSite, connections: list[tuple[str, int]]
) -> None:
    requests_before = len(corpus_site.requests)
    url = corpus_site.url("/s01-desert-bloom-regenerative/index.html")
    response = client.post("/api/v1/analyze", json={"url": url, "html": PAGE})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] is None
    assert body["stored"] is False
    assert body["report"]["source"] == url
    # A three-sentence page is shorter than anything the page-type model learned from; what
    # matters here is that it is analysed and not stored.
    assert body["report"]["verdict"] in ("high_risk", "caution", "low_risk")
    # Privacy and SSRF: the URL is a label only.
    assert connections == []
    assert len(corpus_site.requests) == requests_before
    assert _report_count(client) == 0


def test_stored_when_asked_with_the_submitted_content(client: TestClient) -> None:
    response = client.post(
        "/api/v1/analyze",
        json={"url": "https://renew-clinic.example/ra", "html": PAGE, "store": True},
    )

    body = response.json()
    assert body["stored"] is True
    assert body["links"]["page"] == f"/r/{body['id']}"
    assert body["links"]["history"] == "/api/v1/sites/renew-clinic.example/reports"
    stored = client.get(f"/api/v1/checks/{body['id']}").json()
    assert stored["kind"] == "analyze"
    assert stored["final_url"] == "https://renew-clinic.example/ra"
    sha = stored["report"]["pages"][0]["sha256"]
    assert sha == hashlib.sha256(PAGE.encode()).hexdigest()
    assert client.get(f"/api/v1/checks/{body['id']}/pages/{sha}").content == PAGE.encode()


@pytest.mark.xfail(
    strict=True,
    reason="known miss: the page-type model, trained on 2,000-character excerpts, reads this "
    "two-sentence text as discussing, so its impersonal claims are set aside",
)
def test_plain_text_and_explain(client: TestClient) -> None:
    text = "Stem cell therapy cures rheumatoid arthritis. Treatment costs $9,000 per session."
    response = client.post("/api/v1/analyze", json={"text": text, "explain": True})

    report = response.json()["report"]
    assert response.status_code == 200
    assert report["source"] == "submitted-page"
    assert any(f["decisions"] for f in report["findings"])


def test_exactly_one_kind_of_content(client: TestClient) -> None:
    for payload in ({"url": "https://a.example/"}, {"html": "<p>x</p>", "text": "x"}):
        response = client.post("/api/v1/analyze", json=payload)
        assert response.status_code == 422
        assert "exactly one of `html` or `text`" in response.json()["error"]["message"]


def test_a_url_that_is_not_a_web_address_is_a_400(client: TestClient) -> None:
    response = client.post("/api/v1/analyze", json={"url": "file:///etc/passwd", "text": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "url_rejected"


def test_bodies_over_the_cap_are_refused_with_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_analyze_bytes=20_000)
    big = {"html": "<p>" + "stem cells " * 3_000 + "</p>"}
    declared = client.post("/api/v1/analyze", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "too_large"
    assert "20,000 bytes" in declared.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is counted as it arrives
        yield b'{"text": "'
        for _ in range(100):
            yield b"stem cells " * 100
        yield b'"}'

    streamed = client.post(
        "/api/v1/analyze", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413

    within = client.post("/api/v1/analyze", json={"text": "stem cells " * 1_000})
    assert within.status_code == 200
    # Other endpoints have their own, smaller cap.
    padded = client.post("/api/v1/checks", json={"url": "a.example", "pad": "x" * 70_000})
    assert padded.status_code == 413
