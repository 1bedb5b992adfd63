"""The fetcher against a real misbehaving server: redirects, limits, types, errors, politeness."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.fetch import AddressNotAllowed, Fetcher
from tests.fetch.servers import (
    CORPUS_DIR,
    SMALL_PAGE,
    WINDOWS_1252_PAGE,
    FakeDns,
    TestSite,
    fast_settings,
)

pytestmark = pytest.mark.anyio


async def fetch(url: str, **overrides: object):
    async with Fetcher(fast_settings(**overrides)) as fetcher:
        return await fetcher.fetch(url)


async def test_page_metadata_is_recorded(
    site: TestSite, corpus: Path
) -> None:  # corpus: skip if absent
    path = "/s01-desert-bloom-regenerative/index.html"
    before = datetime.now(UTC)
    page = await fetch(site.url(path))
    expected = (CORPUS_DIR / path.lstrip("/")).read_bytes()
    assert page.ok and page.status == 200
    assert page.requested_url == page.final_url == site.url(path)
    assert page.body == expected and page.sha256 == hashlib.sha256(expected).hexdigest()
    assert page.content_type == "text/html" and page.charset is None
    assert page.fetched_at.tzinfo is UTC
    assert before - timedelta(seconds=1) <= page.fetched_at <= datetime.now(UTC)
    assert not page.truncated and page.redirects == () and page.error is None
    assert (path, f"127.0.0.1:{site.port}", fast_settings().user_agent) in site.requests


async def test_three_redirects_are_followed(site: TestSite) -> None:
    page = await fetch(site.url("/x/redirect/chain/3"))
    assert page.ok and page.body == SMALL_PAGE
    assert page.redirects == tuple(site.url(f"/x/redirect/chain/{n}") for n in (2, 1, 0))
    assert page.final_url == site.url("/x/redirect/chain/0")


async def test_too_many_redirects(site: TestSite) -> None:
    page = await fetch(site.url("/x/redirect/chain/6"))
    assert page.error == "too many redirects (more than 5)"
    assert page.status == 302 and len(page.redirects) == 5 and page.body == b""


async def test_redirect_loop(site: TestSite) -> None:
    page = await fetch(site.url("/x/redirect/loop/a"))
    assert page.error is not None and page.error.startswith("redirect loop: ")
    assert page.error.endswith("/x/redirect/loop/a")


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private network address"),
        ("http://[::1]:8080/", "::1 is a loopback address"),
        ("gopher://127.0.0.1:70/", "only http and https"),
    ],
)
async def test_redirect_to_a_forbidden_target_is_an_error(
    site: TestSite, connections: list[tuple[str, int]], target: str, why: str
) -> None:
    page = await fetch(site.url(f"/x/redirect/to?url={target}"))
    assert page.error is not None and page.error.startswith("redirected to ") and why in page.error
    assert page.status == 302 and page.body == b""
    assert {host for host, _ in connections} == {"127.0.0.1"}


async def test_a_redirect_to_an_unreadable_location_says_what_the_site_sent(
    site: TestSite,
) -> None:
    # Issue 9, item 7: this was "broke off the connection or sent a malformed response".
    page = await fetch(site.url("/x/redirect/to?url=http%3A%2F%2F%5B%3A%3A1"))
    assert page.error == "127.0.0.1 redirected to an address that cannot be read (Invalid IPv6 URL)"
    assert page.body == b""


@pytest.mark.parametrize("host", ["127.0.0.2", "[::1]", "0x7f.0.0.2"])
async def test_only_the_exact_allowed_address_is_reachable(
    site: TestSite, connections: list[tuple[str, int]], host: str
) -> None:
    # With only the test server's own address allowed, other loopback forms stay closed.
    target = f"http://{host}:{site.port}/x/type/text"
    page = await fetch(site.url(f"/x/redirect/to?url={target}"), allowed_networks=["127.0.0.1/32"])
    assert page.error is not None and "is not allowed" in page.error
    async with Fetcher(fast_settings(allowed_networks=["127.0.0.1/32"])) as fetcher:
        with pytest.raises(AddressNotAllowed):
            await fetcher.fetch(target)
    assert connections == [("127.0.0.1", site.port)]


async def test_body_is_cut_at_max_response_bytes(site: TestSite) -> None:
    started = time.monotonic()
    page = await fetch(site.url("/x/big"), max_response_bytes=1_000_000)
    assert page.truncated and len(page.body) == 1_000_000 and page.error is None
    assert page.sha256 == hashlib.sha256(page.body).hexdigest()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("bomb", ["gzip-bomb", "brotli-bomb"])
async def test_compression_bombs_are_cut_without_inflating(site: TestSite, bomb: str) -> None:
    tracemalloc.start()
    try:
        page = await fetch(site.url(f"/x/{bomb}"), max_decompressed_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert page.truncated and len(page.body) == 1_000_000 and page.error is None
    assert set(page.body) == {ord(" ")}
    assert peak < 8_000_000  # the bomb inflates to 20 MB; a few copies of 1 MB is all we hold


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
async def test_compressed_pages_are_decoded(site: TestSite, coding: str) -> None:
    page = await fetch(site.url(f"/x/{coding}-page"))
    assert page.ok and page.body == SMALL_PAGE and not page.truncated


async def test_a_chunked_page_arrives_whole(site: TestSite) -> None:
    page = await fetch(site.url("/x/chunked"))
    assert page.ok and page.body == SMALL_PAGE and not page.truncated


async def test_slow_drip_ends_at_total_timeout(site: TestSite) -> None:
    started = time.monotonic()
    page = await fetch(site.url("/x/drip"), total_timeout=1.0)
    elapsed = time.monotonic() - started
    assert page.error == "timed out after 1 s"
    assert page.truncated and 1 <= len(page.body) <= 3
    assert 1.0 <= elapsed < 1.5


@pytest.mark.parametrize(
    ("path", "media_type"), [("/x/type/pdf", "application/pdf"), ("/x/type/png", "image/png")]
)
async def test_other_content_types_are_skipped(site: TestSite, path: str, media_type: str) -> None:
    page = await fetch(site.url(path))
    assert page.skipped == f"content type {media_type} is not analysed yet"
    assert page.body == b"" and page.error is None and page.status == 200 and not page.ok


@pytest.mark.parametrize(
    ("path", "media_type", "charset"),
    [("/x/type/text", "text/plain", None), ("/x/type/xhtml", "application/xhtml+xml", "utf-8")],
)
async def test_text_and_xhtml_are_read(
    site: TestSite, path: str, media_type: str, charset: str | None
) -> None:
    page = await fetch(site.url(path))
    assert page.ok and page.content_type == media_type and page.charset == charset


async def test_windows_1252_without_charset_arrives_as_bytes(site: TestSite) -> None:
    page = await fetch(site.url("/x/charset/none-1252"))
    assert page.body == WINDOWS_1252_PAGE and page.charset is None


async def test_wrong_charset_header_is_passed_along_unchanged(site: TestSite) -> None:
    # The extractor decides between the header and the bytes; the fetcher only reports.
    page = await fetch(site.url("/x/charset/wrong"))
    assert page.body == WINDOWS_1252_PAGE and page.charset == "utf-8"


async def test_server_error_is_reported(site: TestSite) -> None:
    page = await fetch(site.url("/x/status/500"))
    assert page.status == 500 and page.body == b""
    assert page.error == "127.0.0.1 answered HTTP 500 (Internal Server Error)"


async def test_connection_reset_is_a_sentence(site: TestSite) -> None:
    page = await fetch(site.url("/x/reset"))
    assert page.status is None and page.error is not None
    assert "127.0.0.1" in page.error and "Traceback" not in page.error


@pytest.mark.parametrize(
    ("path", "settings", "error"),
    [
        ("/x/drip", {"read_timeout": 0.2}, "timed out after 0.2 s waiting for 127.0.0.1"),
        ("/x/not-http", {}, "127.0.0.1 broke off the connection or sent a malformed response"),
        ("/x/cut-short", {}, "lost the connection to 127.0.0.1 before the whole page arrived"),
    ],
)
async def test_a_misbehaving_server_is_a_sentence(
    site: TestSite, path: str, settings: dict[str, object], error: str
) -> None:
    page = await fetch(site.url(path), **settings)
    assert page.error == error
    assert page.body == b"" or page.truncated  # what arrived is kept, marked as cut


async def test_connection_refused_is_a_sentence() -> None:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page = await fetch(f"http://127.0.0.1:{port}/")
    assert page.error == "could not connect to 127.0.0.1: connection refused"


async def test_unknown_host_is_a_sentence() -> None:
    async with Fetcher(fast_settings(), resolver=FakeDns({})) as fetcher:
        page = await fetcher.fetch("http://no-such-clinic.example/")
    assert page.error == "could not find no-such-clinic.example: no such host name"


async def test_per_host_concurrency_is_capped(site: TestSite) -> None:
    site.max_in_flight = 0
    started = time.monotonic()
    async with Fetcher(fast_settings(per_host_concurrency=2)) as fetcher:
        pages = await asyncio.gather(
            *(fetcher.fetch(site.url(f"/x/sleep?ms=150&n={n}")) for n in range(6))
        )
    assert all(page.ok for page in pages)
    assert site.max_in_flight == 2
    assert time.monotonic() - started >= 0.45  # three rounds of two


async def test_requests_to_one_host_are_spaced(site: TestSite) -> None:
    started = time.monotonic()
    async with Fetcher(fast_settings(per_host_delay=0.2)) as fetcher:
        await asyncio.gather(*(fetcher.fetch(site.url(f"/x/type/text?n={n}")) for n in range(3)))
    assert time.monotonic() - started >= 0.4


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=clinic.test", "-addext", "subjectAltName=DNS:clinic.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_site(tls_files: tuple[Path, Path]) -> Iterator[tuple[TestSite, list[str | None]]]:
    cert, key = tls_files
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)  # type: ignore[assignment]
    with TestSite(tls=context) as running:
        yield running, server_names


async def test_https_keeps_the_name_for_sni_and_certificate(
    tls_site: tuple[TestSite, list[str | None]], tls_files: tuple[Path, Path]
) -> None:
    site, server_names = tls_site
    trust = ssl.create_default_context(cafile=str(tls_files[0]))
    dns = FakeDns({"clinic.test": ["127.0.0.1"]})
    async with Fetcher(fast_settings(), resolver=dns, verify=trust) as fetcher:
        page = await fetcher.fetch(site.url("/x/type/text", host="clinic.test"))
        # The same certificate does not cover the bare IP: verification uses the name.
        by_ip = await fetcher.fetch(site.url("/x/type/text"))
    assert page.ok and page.final_url.startswith("https://clinic.test:")
    assert server_names[0] == "clinic.test"
    assert site.requests[0][1] == f"clinic.test:{site.port}"
    assert by_ip.error is not None and "certificate is not valid" in by_ip.error


async def test_a_quiet_hosts_connections_are_closed(site: TestSite) -> None:
    # A batch visits each site once: its kept-alive connection must not stay open until the end.
    site.requests.clear()
    names = [f"site{n}.test" for n in range(12)]
    dns = FakeDns({name: ["127.0.0.1"] for name in names + ["late.test"]})
    before = site.open_connections
    async with Fetcher(fast_settings(keepalive=0.3), resolver=dns) as fetcher:
        for name in names:
            page = await fetcher.fetch(site.url("/x/status/200", host=name))
            assert page.error is None and page.status == 200
        assert await _settles(lambda: site.open_connections - before == len(names))
        await asyncio.sleep(0.4)  # every host is quiet now
        page = await fetcher.fetch(site.url("/x/status/200", host="late.test"))
        assert page.error is None
        # The twelve quiet hosts' connections are closed; the one just used is kept for its
        # next request.
        assert await _settles(lambda: site.open_connections - before == 1)
        again = await fetcher.fetch(site.url("/x/status/200", host="late.test"))
        assert again.error is None and site.open_connections - before == 1


async def _settles(condition, seconds: float = 3.0) -> bool:
    """Whether ``condition()`` holds within ``seconds`` (the server's threads see a close late)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.02)
    return True
