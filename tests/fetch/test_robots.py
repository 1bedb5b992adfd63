"""robots.txt: rules, RFC 9309 handling of missing and broken files, and when it is obeyed."""

from __future__ import annotations

import socket

import pytest

from app.fetch import Fetcher, RobotsCache, crawl_site, obey_robots
from app.settings import Settings
from tests.fetch.servers import TestSite, fast_settings

pytestmark = pytest.mark.anyio


async def test_rules_apply_and_the_file_is_fetched_once(site: TestSite) -> None:
    before = site.paths().count("/robots.txt")
    async with Fetcher(fast_settings()) as fetcher:
        robots = RobotsCache(fetcher)
        private = await robots.check(site.url("/x/robots-site/private.html"))
        public = await robots.check(site.url("/x/robots-site/public.html"))
        corpus = await robots.check(site.url("/s01-desert-bloom-regenerative/pricing.html"))
    assert not private.allowed and "robots.txt disallows it" in private.reason
    assert public.allowed and corpus.allowed
    assert site.paths().count("/robots.txt") == before + 1


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (403, True), (500, False),
                                                 (503, False)])  # fmt: skip
async def test_missing_and_failing_robots_txt_follow_rfc_9309(status: int, allowed: bool) -> None:
    with TestSite(robots=status) as other:
        async with Fetcher(fast_settings()) as fetcher:
            verdict = await RobotsCache(fetcher).check(other.url("/x/robots-site/private.html"))
    assert verdict.allowed is allowed
    if not allowed:
        assert f"HTTP {status}" in verdict.reason and "disallow all" in verdict.reason


async def test_unreachable_robots_txt_disallows_all() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(fast_settings()) as fetcher:
        verdict = await RobotsCache(fetcher).check(f"http://127.0.0.1:{port}/page.html")
    assert not verdict.allowed and "connection refused" in verdict.reason


def test_single_checks_ignore_robots_and_batches_obey_by_default() -> None:
    settings = Settings()
    assert obey_robots(settings, batch=False) is False
    assert obey_robots(settings, batch=True) is True
    assert obey_robots(fast_settings(obey_robots_single=True), batch=False) is True


async def test_batch_crawl_skips_disallowed_pages(site: TestSite) -> None:
    async with Fetcher(fast_settings()) as fetcher:
        result = await crawl_site(
            site.url("/x/robots-site/index.html"), fetcher, max_pages=8, obey_robots=True
        )
    fetched = [page.final_url for page in result.pages]
    assert fetched == [site.url("/x/robots-site/public.html")]
    skipped = {link.url: link.reason for link in result.skipped_links}
    assert "robots.txt disallows it" in skipped[site.url("/x/robots-site/private.html")]


async def test_single_crawl_reads_disallowed_pages(site: TestSite) -> None:
    async with Fetcher(fast_settings()) as fetcher:
        result = await crawl_site(
            site.url("/x/robots-site/index.html"), fetcher, max_pages=8, obey_robots=False
        )
    assert site.url("/x/robots-site/private.html") in [page.final_url for page in result.pages]


async def test_batch_crawl_of_a_disallowed_entry_says_so(site: TestSite) -> None:
    before = site.paths().count("/x/robots-site/private.html")
    async with Fetcher(fast_settings()) as fetcher:
        result = await crawl_site(
            site.url("/x/robots-site/private.html"), fetcher, max_pages=8, obey_robots=True
        )
    assert result.entry_error is not None and "robots.txt disallows it" in result.entry_error
    assert site.paths().count("/x/robots-site/private.html") == before
