"""Crawling dev-corpus sites served locally: the pages with key facts are the ones fetched."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC

import pytest

from app.extract.page import Link
from app.fetch import Fetcher, crawl_site
from app.fetch.crawl import link_score
from tests.fetch.servers import CORPUS_DIR, FakeDns, TestSite, fast_settings

pytestmark = pytest.mark.anyio
if not (CORPUS_DIR / "labels.jsonl").is_file():  # as the corpus fixture does: skip, not crash
    pytest.skip(f"dev corpus not found at {CORPUS_DIR}", allow_module_level=True)
LABELS = [json.loads(line) for line in (CORPUS_DIR / "labels.jsonl").read_text().splitlines()]


async def crawl(site: TestSite, path: str, max_pages: int = 8, **overrides: object):
    async with Fetcher(fast_settings(**overrides)) as fetcher:
        return await crawl_site(site.url(path), fetcher, max_pages=max_pages, obey_robots=True)


def names(pages) -> list[str]:
    return [page.final_url.rsplit("/", 1)[1] for page in pages]


async def test_facts_only_on_research_page_are_fetched(site: TestSite) -> None:
    result = await crawl(site, "/s11-rheumacell-research-florida/index.html")
    assert result.entry_error is None
    research = dict(zip(names(result.pages), result.pages, strict=True))
    assert b"NCT09573318" in research["research.html"].body
    assert b"$8,000" in research["research.html"].body


async def test_prices_only_on_pricing_page_are_fetched(site: TestSite) -> None:
    result = await crawl(site, "/s01-desert-bloom-regenerative/index.html")
    assert set(names(result.pages)) == {"pricing.html", "treatments.html", "testimonials.html"}
    pricing = next(page for page in result.pages if page.final_url.endswith("/pricing.html"))
    assert b"$189" in pricing.body


@pytest.mark.parametrize(
    ("site_dir", "best"),
    [
        ("s01-desert-bloom-regenerative", "pricing.html"),
        ("s11-rheumacell-research-florida", "research.html"),
    ],
)
async def test_with_room_for_one_page_the_best_ranked_is_taken(
    site: TestSite, site_dir: str, best: str
) -> None:
    result = await crawl(site, f"/{site_dir}/index.html", max_pages=2)
    assert names(result.pages) == [best]
    assert any("beyond the 2-page limit" in link.reason for link in result.skipped_links)


async def test_every_labelled_page_of_the_corpus_is_reached(site: TestSite) -> None:
    # Evidence in labels.jsonl points at secondary pages; all of them must be fetched.
    started = time.monotonic()
    missing = {}
    async with Fetcher(fast_settings()) as fetcher:
        for label in LABELS:
            path = f"/{label['site']}/{label['entry']}"
            result = await crawl_site(site.url(path), fetcher, max_pages=8, obey_robots=True)
            lost = set(label["pages"]) - set(names(result.all_pages))
            if lost or result.entry_error:
                missing[label["site"]] = (lost, result.entry_error)
    assert missing == {}
    assert time.monotonic() - started < 10


async def test_page_metadata_is_recorded(site: TestSite) -> None:
    result = await crawl(site, "/s11-rheumacell-research-florida/index.html")
    for page in result.all_pages:
        local = CORPUS_DIR / page.final_url.split(f":{site.port}/", 1)[1]
        assert page.status == 200 and page.content_type == "text/html"
        assert page.sha256 == hashlib.sha256(local.read_bytes()).hexdigest()
        assert page.fetched_at.tzinfo is UTC and not page.truncated


async def test_off_site_links_are_not_followed(site: TestSite, connections: list) -> None:
    dns = FakeDns({})
    async with Fetcher(fast_settings(), resolver=dns) as fetcher:
        result = await crawl_site(site.url("/x/offsite"), fetcher, max_pages=8, obey_robots=False)
    assert [page.final_url for page in result.pages] == [site.url("/x/type/text")]
    skipped = {link.url: link.reason for link in result.skipped_links}
    assert skipped["http://other-clinic.example/pricing.html"] == "off-site link"
    assert skipped["https://www.facebook.com/someclinic"] == "off-site link"
    assert skipped[f"http://localhost:{site.port}/x/type/text"] == "off-site link"
    assert skipped[site.url("/brochure.pdf")] == "not a web page (.pdf)"
    assert dns.calls == [] and {host for host, _ in connections} == {"127.0.0.1"}


async def test_entry_server_error_is_an_entry_error(site: TestSite) -> None:
    result = await crawl(site, "/x/status/500")
    assert result.entry_error == (
        "the entry page could not be read: 127.0.0.1 answered HTTP 500 (Internal Server Error)"
    )
    assert result.pages == [] and result.entry.status == 500


async def test_entry_of_another_type_is_an_entry_error(site: TestSite) -> None:
    result = await crawl(site, "/x/type/pdf")
    assert result.entry_error is not None and "application/pdf is not analysed yet" in (
        result.entry_error
    )


async def test_site_byte_budget_stops_reading(site: TestSite) -> None:
    result = await crawl(site, "/s01-desert-bloom-regenerative/index.html", max_site_bytes=15_000)
    assert sum(len(page.body) for page in result.all_pages) == 15_000
    assert any(page.truncated for page in result.pages)
    assert any("15000 bytes for the whole site" in note for note in result.notes)


async def test_site_timeout_ends_the_crawl(site: TestSite) -> None:
    started = time.monotonic()
    result = await crawl(site, "/x/slow-site", site_timeout=0.5)
    assert time.monotonic() - started < 1.0
    assert result.pages == []
    assert any("the site time limit ran out" in link.reason for link in result.skipped_links)
    assert any("stopped after 0.5 s" in note for note in result.notes)


@pytest.mark.parametrize(
    ("href", "text", "score"),
    [
        ("https://c.example/precios.html", "Ver", 10),
        ("https://c.example/x", "Pricing & Financing", 18),
        ("https://c.example/stem-cell-therapy", "", 12),
        ("https://c.example/contact", "Contact", 0),
    ],
)
def test_link_score(href: str, text: str, score: int) -> None:
    assert link_score(Link(href, text)) == score
