"""The SSRF guard: forbidden addresses are refused before any connection is attempted."""

from __future__ import annotations

import ipaddress

import pytest

from app.fetch import AddressGuard, AddressNotAllowed, Fetcher, UrlRejected, crawl_site
from app.fetch.guard import HostNotFound, forbidden_reason
from tests.fetch.servers import FakeDns, TestSite, fast_settings

DNS = FakeDns(
    {
        "metadata.google.internal": ["169.254.169.254"],
        "intranet.clinic.example": ["10.1.2.3"],
        "split.clinic.example": ["93.184.215.14", "192.168.0.10"],  # public AND private
        "mapped.clinic.example": ["::ffff:10.0.0.1"],
        "127.0.0.1.nip.io": ["127.0.0.1"],
        "router.clinic.example": ["fe80::1%eth0"],
    }
)

# (URL, words the refusal must contain). allowed_networks is empty for all of them.
SSRF_FORMS = [
    ("http://2130706433/", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1/", "127.0.0.1 is a loopback address"),
    ("http://0x7f.0.0.1/", "127.0.0.1 is a loopback address"),
    ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
    ("http://127.1/", "127.0.0.1 is a loopback address"),
    ("http://127.0.0.1:8080/", "loopback"),
    ("  http://127.0.0.1/  ", "loopback"),
    ("127.0.0.1", "loopback"),
    ("http://0.0.0.0/", "0.0.0.0 is the unspecified address"),
    ("http://0/", "0.0.0.0 is the unspecified address"),
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://[::]/", ":: is the unspecified address"),
    ("http://[::ffff:127.0.0.1]/", "embeds 127.0.0.1, a loopback address"),
    ("http://[::ffff:7f00:1]/", "embeds 127.0.0.1, a loopback address"),
    ("http://[::127.0.0.1]/", "embeds 127.0.0.1, a loopback address"),
    ("http://[64:ff9b::7f00:1]/", "embeds 127.0.0.1, a loopback address"),
    ("http://[2002:7f00:1::]/", "embeds 127.0.0.1, a loopback address"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "embeds 127.0.0.1"),  # Teredo
    ("http://localhost./", "loopback"),
    ("http://LOCALHOST/", "loopback"),
    ("http://user:pass@127.0.0.1/", "loopback"),
    ("http://evil.example@127.0.0.1/", "loopback"),
    ("http://127.0.0.1:80#@evil.example/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
    ("http://169.254.43518/", "cloud metadata address"),
    ("http://[fd00:ec2::254]/", "cloud metadata address"),
    ("http://100.100.100.200/", "cloud metadata address"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata address"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata address"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://192.168.1.1/", "private network address"),
    ("http://172.16.0.1/", "private network address"),
    ("http://10.0.0.1/", "10.0.0.1 is a private network address"),
    ("http://[fc00::1]/", "unique local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fec0::1]/", "site-local"),
    ("http://169.254.1.1/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.1/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://intranet.clinic.example/", "10.1.2.3 is a private network address"),
    ("http://split.clinic.example/", "192.168.0.10 is a private network address"),
    ("http://mapped.clinic.example/", "embeds 10.0.0.1"),
    ("http://127.0.0.1.nip.io/", "loopback"),
    ("http://router.clinic.example/", "fe80::1 is a link-local address"),
]
REJECTED_SCHEMES = [
    "ftp://127.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_GET",
    "javascript:alert(1)",
    "data:text/html,hi",
    "dict://127.0.0.1:11211/",
]


@pytest.mark.anyio
@pytest.mark.parametrize(("url", "why"), SSRF_FORMS)
async def test_ssrf_forms_are_refused_without_connecting(
    url: str, why: str, connections: list[tuple[str, int]]
) -> None:
    async with Fetcher(fast_settings(allowed_networks=[]), resolver=DNS) as fetcher:
        with pytest.raises(AddressNotAllowed) as info:
            await fetcher.fetch(url)
    message = str(info.value)
    assert " is not allowed: " in message and why in message
    assert connections == []


@pytest.mark.anyio
@pytest.mark.parametrize("url", REJECTED_SCHEMES)
async def test_other_schemes_are_rejected(url: str, connections: list[tuple[str, int]]) -> None:
    async with Fetcher(fast_settings(allowed_networks=[]), resolver=DNS) as fetcher:
        with pytest.raises(UrlRejected, match="only http and https"):
            await fetcher.fetch(url)
    assert connections == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://metadata.google.internal/", "gopher://127.0.0.1/"]
)
async def test_crawl_raises_for_a_refused_entry(url: str, connections: list) -> None:
    async with Fetcher(fast_settings(allowed_networks=[]), resolver=DNS) as fetcher:
        with pytest.raises(UrlRejected):
            await crawl_site(url, fetcher, max_pages=4, obey_robots=True)
    assert connections == []


def test_reason_reads_like_a_sentence() -> None:
    error = AddressNotAllowed("http://10.0.0.1/", forbidden_reason("10.0.0.1") or "")
    assert str(error) == "http://10.0.0.1/ is not allowed: 10.0.0.1 is a private network address"


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::5db8:d70e", "2002:5db8:d70e::1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(address) is None


def test_allowed_networks_open_only_what_they_cover() -> None:
    loopback = [ipaddress.ip_network("127.0.0.1/32")]
    assert forbidden_reason("127.0.0.1", loopback) is None
    assert "loopback" in (forbidden_reason("127.0.0.2", loopback) or "")
    assert "loopback" in (forbidden_reason("::1", loopback) or "")
    # Metadata stays closed even inside an allowed network.
    link_local = [ipaddress.ip_network("169.254.0.0/16")]
    assert "metadata" in (forbidden_reason("169.254.169.254", link_local) or "")


@pytest.mark.anyio
async def test_vet_returns_the_addresses_to_connect_to() -> None:
    guard = AddressGuard(resolver=FakeDns({"clinic.example": ["93.184.215.14", "2606:4700::1"]}))
    assert await guard.vet("http://clinic.example/") == ["93.184.215.14", "2606:4700::1"]
    assert await guard.vet("http://93.184.215.14/") == ["93.184.215.14"]


@pytest.mark.anyio
async def test_unknown_host_is_host_not_found() -> None:
    with pytest.raises(HostNotFound, match="could not find nowhere.example"):
        await AddressGuard(resolver=DNS).vet("http://nowhere.example/")


@pytest.mark.anyio
async def test_default_resolver_refuses_localhost() -> None:
    with pytest.raises(AddressNotAllowed, match="loopback"):
        await AddressGuard().vet("http://localhost/")


@pytest.mark.anyio
async def test_fetch_connects_to_the_vetted_address_with_the_name_in_host(
    site: TestSite, connections: list[tuple[str, int]]
) -> None:
    # clinic.test resolves nowhere but through the injected resolver: a successful fetch shows
    # the connection went to the vetted 127.0.0.1 and httpx did no lookup of its own.
    dns = FakeDns({"clinic.test": ["127.0.0.1"]})
    async with Fetcher(fast_settings(), resolver=dns) as fetcher:
        page = await fetcher.fetch(site.url("/x/type/text", host="clinic.test"))
    assert page.ok and page.final_url == site.url("/x/type/text", host="clinic.test")
    assert ("/x/type/text", f"clinic.test:{site.port}") in [r[:2] for r in site.requests]
    assert connections == [("127.0.0.1", site.port)]
    assert dns.calls == ["clinic.test"]


@pytest.mark.anyio
async def test_dns_rebinding_is_caught_on_the_next_request(
    site: TestSite, connections: list[tuple[str, int]]
) -> None:
    dns = FakeDns({"rebind.test": [["127.0.0.1"], ["10.0.0.1"]]})
    async with Fetcher(fast_settings(), resolver=dns) as fetcher:
        first = await fetcher.fetch(site.url("/x/type/text", host="rebind.test"))
        with pytest.raises(AddressNotAllowed, match="10.0.0.1 is a private network address"):
            await fetcher.fetch(site.url("/x/type/text", host="rebind.test"))
    assert first.ok
    assert connections == [("127.0.0.1", site.port)]
