"""The pages through TestClient: the form and its errors, the report, escaping, history, 404."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import anyio
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from app.engine.types import PageInfo, RegistryId, TrialCheck
from app.service.factory import create_app
from tests.fetch.servers import TestSite, closed_port
from tests.web.conftest import SaveReport, follow_check, web_settings
from tests.web.reports import applicability, finding

HOSTILE = '<script>alert(1)</script> " onmouseover="alert(2)" <img src=x onerror=alert(3)>'


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def assert_inert(page: BeautifulSoup) -> None:
    """Nothing that runs: no script or style elements, no handlers, no script URLs."""
    assert page.find_all(["script", "style", "iframe", "object", "embed", "img"]) == []
    for tag in page.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), f"<{tag.name} {name}=...>"
            assert name != "style", f"inline style on <{tag.name}> breaks the CSP"
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not text.strip().lower().startswith(("javascript:", "data:")), text


def assert_page_basics(page: BeautifulSoup) -> None:
    assert page.html["lang"] == "en"
    assert len(page.find_all("h1")) == 1
    assert page.find("main", id="main") and page.find("header") and page.find("footer")
    assert page.find("a", class_="skip-link")["href"] == "#main"
    assert page.find("link", rel="stylesheet")["href"].startswith("/static/style.css")
    assert_inert(page)


def error_of(page: BeautifulSoup) -> str:
    return page.find(id="url-error").get_text(" ", strip=True)


def test_form(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page = soup(response.text)
    assert_page_basics(page)
    form = page.find("form")
    assert (form["method"], form["action"]) == ("post", "/check")
    field = form.find("input", id="url")
    assert field["name"] == "url" and page.find("label", attrs={"for": "url"})
    assert form.find("button", type="submit")
    assert page.find(id="url-error") is None


def test_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "@media print" in response.text


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Please paste the address"),
        ("   ", "Please paste the address"),
        ("not a url", "does not look like a web address"),
        ("ftp://clinic.example/", "only http and https"),
        ("http://10.0.0.1/", "not allowed"),
        ("http://169.254.169.254/latest/meta-data/", "not allowed"),
        ("x" * 2_500, "too long"),
    ],
)
def test_bad_addresses_come_back_to_the_form(client: TestClient, typed: str, words: str) -> None:
    response = client.post("/check", data={"url": typed}, follow_redirects=False)
    assert response.status_code == 400
    page = soup(response.text)
    assert words in error_of(page)
    field = page.find("input", id="url")
    assert field["value"] == typed.strip()  # what was typed is kept, to correct it
    assert field["aria-invalid"] == "true"
    assert "url-error" in field["aria-describedby"].split()
    assert page.title.get_text().startswith("Error:")
    assert_page_basics(page)


def test_hostile_typed_value_is_kept_inert(client: TestClient) -> None:
    response = client.post("/check", data={"url": HOSTILE}, follow_redirects=False)
    page = soup(response.text)
    assert page.find("input", id="url")["value"] == HOSTILE  # shown literally
    assert_inert(page)


def test_a_site_is_checked_saved_and_shown(
    client: TestClient, site: TestSite, corpus: Path
) -> None:
    url = site.url("/s01-desert-bloom-regenerative/index.html")
    response = client.post("/check", data={"url": url}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/r/[A-Za-z0-9_-]{20,}", location)
    page = soup(follow_check(client, location).text)
    assert_page_basics(page)
    assert page.find(class_="verdict__words").get_text(strip=True).endswith("High risk")
    assert page.find("a", href=url)  # the page it came from
    assert page.select("#warning-signs blockquote mark")
    assert page.find(id="permalink")["value"].endswith(location)


def test_the_evidence_is_one_click_away_and_a_site_can_be_checked_again(
    client: TestClient, site: TestSite, corpus: Path
) -> None:
    """Issue 11: every page read has its stored copy (exact bytes, SHA-256, time, status), the
    JSON report is linked, and "check again" makes a new report linked to the first."""
    url = site.url("/s01-desert-bloom-regenerative/index.html")
    first = client.post("/check", data={"url": url}, follow_redirects=False).headers["location"]
    page = soup(follow_check(client, first).text)
    copies = page.select("table.pages a[download]")
    assert copies
    for link in copies:
        body = client.get(link["href"])
        assert body.status_code == 200
        digest = hashlib.sha256(body.content).hexdigest()
        assert digest in link["href"]
        assert digest in link.find_parent("td").get_text()
    facts = page.select_one("table.pages .evidence-facts").get_text(" ", strip=True)
    assert "HTTP 200" in facts and "fetched" in facts
    as_json = client.get(page.find("a", string="This report as JSON")["href"])
    assert as_json.json()["id"] == first.rsplit("/", 1)[1]

    again = page.select_one("form.check-again")
    assert again.select_one("input[name=url]")["value"] == url
    second = client.post(
        again["action"],
        data={"url": again.select_one("input[name=url]")["value"]},
        follow_redirects=False,
    ).headers["location"]
    assert second != first
    history = soup(follow_check(client, second).text).select("#history a")
    assert any(a["href"].endswith(first) for a in history)


def test_a_running_check_is_a_page_that_refreshes_itself(
    client: TestClient, site: TestSite
) -> None:
    """Issue 11: the patient waits on a page that reloads itself without JavaScript and says
    what the check is doing; the same address becomes the report."""
    url = site.url("/x/sleep?ms=1500")
    location = client.post("/check", data={"url": url}, follow_redirects=False).headers["location"]
    waiting = client.get(location)
    assert waiting.status_code == 200
    assert waiting.headers["refresh"] == "2"
    page = soup(waiting.text)
    assert_page_basics(page)
    assert page.find("meta", attrs={"http-equiv": "refresh"})["content"] == "2"
    assert page.h1.get_text(" ", strip=True).startswith("Checking")
    assert "refreshes itself" in page.get_text(" ", strip=True)
    report = soup(follow_check(client, location).text)
    assert report.find(class_="verdict__words") is not None


def test_an_unreachable_site_is_reported_as_unreadable(client: TestClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    response = client.post("/check", data={"url": url}, follow_redirects=False)
    assert response.status_code == 303
    page = soup(follow_check(client, response.headers["location"]).text)
    text = page.get_text(" ", strip=True)
    assert "Could not read this site" in text
    assert "This does not mean the clinic is safe" in text
    assert "connection refused" in text
    assert "no warning signs" not in text.lower()
    assert "score" not in page.find(class_="verdict").get_text().lower()
    assert page.find(id="warning-signs") is None


def test_report_sections_and_guidance(client: TestClient, saved: SaveReport) -> None:
    report = saved(
        findings=[
            finding(),
            finding("absence", "No FDA IND mentioned", quote="Searched 420 words: none.", match=""),
            finding(
                "mitigating",
                "Names a trial registry number",
                match="NCT01234567",
                quote="Registered as NCT01234567.",
            ),
        ],
        identifiers={
            "registry_ids": [
                RegistryId(registry="ClinicalTrials.gov", id="NCT01234567", text="NCT01234567")
            ]
        },
        trial_checks=[
            TrialCheck(
                nct_id="NCT01234567",
                status="verified",
                verdict="red_flag",
                reason="found",
                verdict_reason="Participants pay to take part.",
                url="https://clinicaltrials.gov/study/NCT01234567",
                lead_sponsor="Sunrise LLC",
                patient_funded=True,
            )
        ],
    )
    page = soup(client.get(f"/r/{report.id}").text)
    assert_page_basics(page)
    headings = [h.get_text(" ", strip=True) for h in page.find_all("h2")]
    for name in (
        "Warning signs (1)",
        "Missing information (1)",
        "Reassuring signs (1)",
        "What the trial registry says",
        "Questions to ask the clinic",
        "Before you decide",
        "About this check",
        "Keep or share this report",
    ):
        assert name in headings
    text = page.get_text(" ", strip=True)
    assert "Why it matters: No stem-cell product cures arthritis." in text
    assert "What to do: Ask for the published results" in text
    assert "Participants pay to take part." in text and "Sunrise LLC" in text
    assert "This is not medical advice." in text and "rheumatologist" in text
    assert page.find("a", href="https://clinicaltrials.gov/")
    assert page.find("a", href="https://clinicaltrials.gov/study/NCT01234567")
    questions = page.select(".checklist li")
    for topic in ("IND", "registry number", "Who pays", "Which doctor", "risks", "goes wrong"):
        assert any(topic in q.get_text() for q in questions), topic
    # The absence finding lists what was searched, not a quote with nothing marked.
    assert not page.select("#missing-information blockquote")
    # Every heading level follows the one above it.
    levels = [int(h.name[1]) for h in page.find_all(re.compile(r"^h[1-6]$"))]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


SIGNS = [
    finding(),
    finding("absence", "No FDA IND mentioned", quote="Searched 420 words: none.", match=""),
    finding("mitigating", "Describes the risks", match="risks", quote="It lists the risks."),
]


def _headings(page: BeautifulSoup) -> list[str]:
    return [h.get_text(" ", strip=True) for h in page.find_all("h2")]


def test_a_site_not_about_cell_treatment_gets_no_score_and_no_signs(
    client: TestClient, saved: SaveReport
) -> None:
    """Issue 11: a physiotherapist's price list is not a warning sign; reports stored before
    the score could be empty (score 21) are shown the same way."""
    for score in (None, 21):
        report = saved(
            "https://physio.example/",
            score=score,
            verdict="not_applicable",
            applicability=applicability("unrelated"),
            summary="This site does not seem to be about stem-cell or regenerative treatment.",
            findings=[finding(title="Shows prices", match="$90", quote="Sessions cost $90.")],
        )
        page = soup(client.get(f"/r/{report.id}").text)
        assert_page_basics(page)
        text = page.get_text(" ", strip=True)
        assert "Not a clinic selling treatment" in text
        assert "Warning-sign score" not in text and "out of 100" not in text
        assert not page.select("article.finding") and "Shows prices" not in text
        headings = _headings(page)
        assert "What this means" in headings
        unjudged = {"Warning signs (1)", "Reassuring signs (1)", "Questions to ask the clinic"}
        assert not unjudged & set(headings)
        assert not page.find("a", href="#questions")


def test_a_news_page_shows_only_its_own_warning_signs(
    client: TestClient, saved: SaveReport
) -> None:
    """Issue 11: reassuring signs, missing information and questions for the clinic appear only
    where a seller is judged, never on a news story about a clinic."""
    report = saved(
        "https://news.example/blinded",
        score=30,
        verdict="caution",
        applicability=applicability("discusses"),
        findings=SIGNS,
    )
    page = soup(client.get(f"/r/{report.id}").text)
    headings = _headings(page)
    assert "Warning signs (1)" in headings
    for absent in (
        "Missing information (1)",
        "Reassuring signs (1)",
        "Questions to ask the clinic",
    ):
        assert absent not in headings
    assert "Warning-sign score: 30 out of 100" in page.get_text(" ", strip=True)
    assert not page.select(".checklist li")


def test_a_seller_gets_every_section(client: TestClient, saved: SaveReport) -> None:
    report = saved(findings=SIGNS)
    headings = _headings(soup(client.get(f"/r/{report.id}").text))
    for name in (
        "Warning signs (1)",
        "Missing information (1)",
        "Reassuring signs (1)",
        "Questions to ask the clinic",
    ):
        assert name in headings


def test_hostile_clinic_text_renders_inert(client: TestClient, saved: SaveReport) -> None:
    hostile_page = "javascript:alert(4)//"
    report = saved(
        summary=f"Summary {HOSTILE}",
        findings=[
            finding(
                quote=f"Our cells cure {HOSTILE} everything.",
                match="<script>",
                url=hostile_page,
                references=["javascript:alert(5)"],
            ),
            # A web address may be linked, but its quote marks must not end the attribute.
            finding(title="Second", url='https://x.example/"onmouseover="alert(6)'),
        ],
        pages=[PageInfo(url=hostile_page, title=HOSTILE, words=10, error=HOSTILE)],
        warnings=[HOSTILE],
    )
    response = client.get(f"/r/{report.id}")
    page = soup(response.text)
    assert_page_basics(page)
    assert "<script>alert(1)</script>" not in response.text
    quote = page.select_one("#warning-signs blockquote")
    assert quote.get_text() == f"Our cells cure {HOSTILE} everything."  # the words, literally
    assert quote.find("mark").get_text() == "<script>"
    assert HOSTILE in page.find(class_="summary").get_text()
    assert HOSTILE in page.find("table", class_="pages").get_text()
    assert not page.find("a", string=HOSTILE)  # a javascript: page is not linked
    linked = page.select("#warning-signs figcaption a")
    assert [a["href"] for a in linked] == ['https://x.example/"onmouseover="alert(6)']


def test_unknown_report_is_a_friendly_404(client: TestClient) -> None:
    for path in ("/r/doesnotexist", "/r/" + "x" * 500):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        page = soup(response.text)
        assert_page_basics(page)
        assert "could not find that report" in page.h1.get_text()


def test_unknown_address_is_a_page_for_people_and_json_for_the_api(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "could not find that page" in soup(page.text).h1.get_text()
    api = client.get("/api/v1/no-such-endpoint", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_history_links_checks_of_the_same_site(client: TestClient, saved: SaveReport) -> None:
    older = saved("https://www.lakeside-cells.com/", score=80)
    newer = saved("https://lakeside-cells.com/prices", verdict="caution", score=30)
    other = saved("https://www.elsewhere-clinic.com/")

    page = soup(client.get(f"/r/{newer.id}").text)
    history = page.find(id="history")
    assert history.h2.get_text() == "Earlier checks of this site"
    links = [a["href"] for a in history.find_all("a")]
    assert links == [f"http://testserver/r/{older.id}"]  # absolute: printed in full
    assert "High risk, score 80" in history.get_text(" ", strip=True)

    page = soup(client.get(f"/r/{older.id}").text)
    assert page.find(id="history").h2.get_text() == "Other checks of this site"
    assert [a["href"] for a in page.find(id="history").find_all("a")] == [
        f"http://testserver/r/{newer.id}"
    ]

    assert soup(client.get(f"/r/{other.id}").text).find(id="history") is None


def test_form_posts_are_rate_limited(tmp_path: Path, engine: Engine) -> None:
    app = create_app(web_settings(tmp_path, check_limit_anonymous=1), engine=engine)
    with TestClient(app) as limited:
        first = limited.post("/check", data={"url": "not a url"})
        second = limited.post("/check", data={"url": "not a url"})
    assert first.status_code == 400
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) > 0
    assert "Please wait" in error_of(soup(second.text))


def test_a_check_that_takes_too_long_comes_back_to_the_form(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def endless_check(*args: object, **kwargs: object) -> None:
        await anyio.sleep(30)

    monkeypatch.setattr("app.pipeline.check.run_check", endless_check)
    app = create_app(web_settings(tmp_path, check_timeout=0.2), engine=engine)
    with TestClient(app) as slow:
        queued = slow.post("/check", data={"url": "sunrise-clinic.com"}, follow_redirects=False)
        response = follow_check(slow, queued.headers["location"])
    assert response.status_code == 504
    assert "took longer than 0.2 seconds" in error_of(soup(response.text))
    assert soup(response.text).find("input", id="url")["value"] == "sunrise-clinic.com"
