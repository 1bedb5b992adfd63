"""``run_check``: a live site over loopback gives the same or better report than its files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from app.extract.files import load_site
from app.fetch import AddressNotAllowed, Fetcher
from app.pipeline.check import SiteCheck, run_check
from app.service.factory import create_app
from app.settings import Settings
from app.storage import ReportStore
from app.training.quality_dev import LABEL_CATEGORIES
from app.verify import RegistryClient
from tests.fetch.servers import TestSite, fast_settings, service_settings
from tests.verify.fake_registry import PATIENT_FUNDED, UNKNOWN, FakeRegistry


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def corpus_site(corpus: Path) -> Iterator[TestSite]:
    with TestSite(corpus) as running:
        yield running


def _labels(corpus: Path) -> list[dict]:
    lines = (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _flags(report) -> set[str]:
    categories = {f.category for f in report.findings}
    return {label for label, category in LABEL_CATEGORIES.items() if category in categories}


async def _check(
    url: str, settings: Settings, engine: Engine, registry_url: str | None = None
) -> SiteCheck:
    async with Fetcher(settings) as fetcher:
        if registry_url is None:
            return await run_check(url, settings, engine, fetcher, None)
        registry_settings = settings.model_copy(
            update={"registry_base_url": registry_url, "registry_max_tries": 1}
        )
        async with RegistryClient(registry_settings) as registry:
            return await run_check(url, settings, engine, fetcher, registry)


@pytest.mark.anyio
async def test_crawling_finds_what_the_files_show(
    corpus: Path, corpus_site: TestSite, engine: Engine
) -> None:
    settings = fast_settings()
    worse = []
    for label in _labels(corpus):
        site = label["site"]
        # Each file at the address the server gives it: the page-type model reads addresses.
        offline = engine.analyze(
            [
                replace(page, source=corpus_site.url(f"/{site}/{Path(page.source).name}"))
                for page in load_site(str(corpus / site), max_bytes=5_000_000)
            ],
            site,
        )
        result = await _check(corpus_site.url(f"/{site}/{label['entry']}"), settings, engine)
        missing = _flags(offline) - _flags(result.report)
        if missing or result.report.verdict == "unreadable":
            worse.append((site, sorted(missing), result.report.verdict))
    assert not worse


@pytest.mark.anyio
async def test_secondary_page_facts_and_fetch_records(
    corpus_site: TestSite, engine: Engine
) -> None:
    # s11 keeps its fee and its registry number on research.html only.
    result = await _check(
        corpus_site.url("/s11-rheumacell-research-florida/index.html"), fast_settings(), engine
    )
    report = result.report
    price = next(f for f in report.findings if f.category == "price_or_payment")
    assert any(ev.url.endswith("research.html") for ev in price.evidence)
    assert report.identifiers.registry_ids
    page = next(p for p in report.pages if p.url.endswith("research.html"))
    assert page.status == 200 and page.sha256 and len(page.sha256) == 64
    assert page.fetched_at is not None and page.content_type == "text/html"
    assert {p.final_url for p in result.fetched} >= {p.url for p in report.pages}


@pytest.mark.anyio
async def test_unreadable_entry_page_is_never_low_risk(
    corpus_site: TestSite, engine: Engine
) -> None:
    result = await _check(corpus_site.url("/x/status/500"), fast_settings(), engine)
    assert result.report.verdict == "unreadable"
    assert "500" in result.report.summary
    result = await _check(corpus_site.url("/no-such-site/index.html"), fast_settings(), engine)
    assert result.report.verdict == "unreadable"


@pytest.mark.anyio
async def test_refused_address_is_an_error_not_a_report(engine: Engine) -> None:
    with pytest.raises(AddressNotAllowed, match="not allowed"):
        await _check("http://169.254.169.254/latest/meta-data/", Settings(), engine)


CITING_SITE = """<html><head><title>Harbor Light Cell Clinic</title></head><body>
<h1>Stem cell therapy for rheumatoid arthritis</h1>
<p>Our stem cell treatment is part of registered study {nct}. Book your consultation today.</p>
<p>Our regenerative stem cell clinic offers injections for joint pain.</p>
</body></html>"""


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    fake.start()
    yield fake
    fake.stop()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("nct", "rule_id", "status"),
    [
        (UNKNOWN, "registry-entry-contradicts", "not_found"),
        (PATIENT_FUNDED, "registry-entry-patient-funded", "verified"),
    ],
)
async def test_registry_answers_become_findings(
    tmp_path: Path, engine: Engine, registry: FakeRegistry, nct: str, rule_id: str, status: str
) -> None:
    (tmp_path / "index.html").write_text(CITING_SITE.format(nct=nct), encoding="utf-8")
    with TestSite(tmp_path) as site:
        result = await _check(site.url("/index.html"), fast_settings(), engine, registry.base_url)
    report = result.report
    check = next(c for c in report.trial_checks if c.nct_id == nct)
    assert check.status == status and check.url.endswith(nct)
    finding = next(f for f in report.findings if f.rule_id == rule_id)
    assert finding.evidence[0].match == nct and finding.contribution > 0
    assert all(f.rule_id != "trial-registry-number" for f in report.findings)


@pytest.mark.anyio
async def test_the_registry_answer_is_kept_as_evidence(
    tmp_path: Path, engine: Engine, registry: FakeRegistry
) -> None:
    """Issue 11: the study record the registry sent is kept with the report, with its time,
    and served back as it was (evidence that does not move when the registry entry does)."""
    (tmp_path / "index.html").write_text(CITING_SITE.format(nct=PATIENT_FUNDED), encoding="utf-8")
    with TestSite(tmp_path) as site:
        result = await _check(site.url("/index.html"), fast_settings(), engine, registry.base_url)
    check = next(c for c in result.report.trial_checks if c.nct_id == PATIENT_FUNDED)
    answer = check.registry_answer
    assert answer is not None and check.answered_at is not None
    assert answer["protocolSection"]["identificationModule"]["nctId"] == PATIENT_FUNDED

    app = create_app(service_settings(tmp_path / "data"), engine=engine)
    with TestClient(app) as client:
        store: ReportStore = client.app.state.store  # type: ignore[attr-defined]
        stored = store.save(result.report, kind="check", input_url="clinic.example")
        page = BeautifulSoup(client.get(f"/r/{stored.id}").text, "lxml")
        link = page.find("a", string="The study record it sent")
        served = client.get(link["href"]).json()
        assert served["answer"] == answer and served["nct_id"] == PATIENT_FUNDED
        missing = client.get(f"/api/v1/checks/{stored.id}/registry/NCT00000000")
        assert missing.status_code == 404


@pytest.mark.anyio
async def test_registry_down_means_unverified(tmp_path: Path, engine: Engine) -> None:
    (tmp_path / "index.html").write_text(CITING_SITE.format(nct=UNKNOWN), encoding="utf-8")
    with TestSite(tmp_path) as site:
        result = await _check(
            site.url("/index.html"), fast_settings(), engine, "http://127.0.0.1:9"
        )
    check = result.report.trial_checks[0]
    assert check.status == "unverified" and check.verdict == "unverified"
    assert any(f.rule_id == "trial-registry-number" for f in result.report.findings)
