"""URL normalisation and site identity."""

from __future__ import annotations

import socket

import pytest

from app.fetch import urls
from app.fetch.urls import UrlRejected, normalize_url, registrable_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("clinic.example", "http://clinic.example/"),
        ("  https://Clinic.Example/Pricing.html  ", "https://clinic.example/Pricing.html"),
        ("HTTP://CLINIC.EXAMPLE:80/a", "http://clinic.example/a"),
        ("https://clinic.example:443/", "https://clinic.example/"),
        ("https://clinic.example:8443/", "https://clinic.example:8443/"),
        ("clinic.example:8080/x", "http://clinic.example:8080/x"),
        ("//clinic.example/x", "http://clinic.example/x"),
        ("http://clinic.example/a#prices", "http://clinic.example/a"),
        ("http://clinic.example", "http://clinic.example/"),
        ("http://clinic.example/a b?q=ü", "http://clinic.example/a%20b?q=%C3%BC"),
        ("http://clinic.example/%7Euser?a=1&b=2", "http://clinic.example/%7Euser?a=1&b=2"),
        ("http://clínica.example/", "http://xn--clnica-4va.example/"),
        ("http://user:secret@clinic.example/", "http://clinic.example/"),
        ("http://clinic.example./", "http://clinic.example/"),
        ("http://clinic.example\\@10.0.0.1/", "http://clinic.example/@10.0.0.1/"),
        ("http://clin\tic.exa\nmple/", "http://clinic.example/"),
        ("http://[2606:4700:0:0::1111]/", "http://[2606:4700::1111]/"),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected
    assert normalize_url(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("raw", "dotted"),
    [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://0x7f.0.0.1/", "127.0.0.1"),
        ("http://0x7f000001/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://10.1/", "10.0.0.1"),
        ("http://0/", "0.0.0.0"),
        ("http://169.254.43518/", "169.254.169.254"),
    ],
)
def test_numeric_hosts_are_read_as_browsers_read_them(raw: str, dotted: str) -> None:
    assert normalize_url(raw) == f"http://{dotted}/"


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "0x7f000001"])
def test_system_resolver_agrees_on_numeric_hosts(host: str) -> None:
    # The "resolved" path: had a raw host reached getaddrinfo, inet_aton reads it the same way.
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None, socket.AF_INET)}
    assert addresses == {urls.url_host(normalize_url(f"http://{host}/"))} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://clinic.example/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://clinic.example:70/", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("mailto:info@clinic.example", "only http and https"),
        ("data:text/html,<h1>hi</h1>", "only http and https"),
        ("http://", "no host name"),
        ("http:clinic.example", "no host name"),
        ("http://clinic..example/", "not a valid host name"),
        ("http://clinic_example-.com/", "not a valid host name"),
        ("http://%31%32%37.0.0.1/", "neither a host name nor an IPv4 address"),
        ("http://1.2.3.256/", "out of range"),
        ("http://1.2.3.4.5/", "neither a host name nor an IPv4 address"),
        ("http://999999999999/", "out of range"),
        ("http://[fe80::1%25eth0]/", "not a valid IPv6 address"),
        ("http://clinic.example:99999/", "not a valid web address"),
        ("http://clinic.example:0/", "port 0"),
    ],
)
def test_rejected_urls_say_why(raw: str, reason: str) -> None:
    with pytest.raises(UrlRejected) as info:
        normalize_url(raw)
    assert reason in str(info.value)
    assert "cannot be checked" in str(info.value)


def test_a_host_read_once_is_read_the_same_in_every_address() -> None:
    # Hosts are canonicalised once each (cached): a refusal still names the address given.
    for raw in ("http://1.2.3.256/a", "1.2.3.256/b?q=1", "HTTP://1.2.3.256./c"):
        with pytest.raises(UrlRejected) as info:
            normalize_url(raw)
        assert info.value.url == raw
        assert "out of range" in info.value.reason
    assert normalize_url("http://XN--BCHER-KVA.example./a") == "http://xn--bcher-kva.example/a"
    assert normalize_url("https://bücher.example/b") == "https://xn--bcher-kva.example/b"


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.clinic.com/pricing", "clinic.com"),
        ("https://a.b.clinic.co.uk/", "clinic.co.uk"),
        ("https://clinic.github.io/", "clinic.github.io"),  # a private suffix: its own site
        ("http://www.desert-bloom.example/", "desert-bloom.example"),  # suffix not in the list
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("http://[::1]/", "::1"),
        ("http://localhost/", "localhost"),
        ("clinic.com.mx", "clinic.com.mx"),
    ],
)
def test_registrable_domain(url: str, site: str) -> None:
    assert registrable_domain(url) == site


def test_registrable_domain_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tldextract tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    urls._extractor.cache_clear()  # build a fresh extractor under the block
    try:
        assert registrable_domain("https://www.clinic.co.uk/") == "clinic.co.uk"
    finally:
        urls._extractor.cache_clear()
