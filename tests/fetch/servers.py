"""A real HTTP server on 127.0.0.1 for fetcher and crawler tests (any test module may use it).

``TestSite`` serves the dev corpus (``/sNN-slug/page.html``, as ``http.server`` does: text/html
without a charset) and, under ``/x/``, endpoints that misbehave on purpose: redirect chains and
loops, a slow drip, a 50 MB body, gzip and brotli bombs, wrong charsets, non-HTML types, errors
and a connection reset. It runs in a daemon thread::

    with TestSite() as site:
        url = site.url("/s01-desert-bloom-regenerative/index.html")
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import brotli
import uvicorn

from app.settings import Settings

CORPUS_DIR = Path(
    os.environ.get("REDFLAGS_CORPUS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "dev"
)
ROBOTS_TXT = "User-agent: *\nDisallow: /x/robots-site/private\n"
BOMB_BYTES = 20 * 1024 * 1024  # what each bomb inflates to
BIG_BYTES = 50 * 1024 * 1024
WINDOWS_1252_PAGE = (
    "<html><head><title>Café</title></head><body><p>“Curación” garantizada – "
    "señor, über 5.000 € pro Behandlung.</p></body></html>"
).encode("cp1252")
SMALL_PAGE = (
    b"<html><head><title>Small</title></head><body><p>Hello from the test site.</p></body></html>"
)


def fast_settings(**overrides: Any) -> Settings:
    """Settings with loopback allowed and small limits, so limit tests run in about a second."""
    values: dict[str, Any] = {
        "allowed_networks": ["127.0.0.0/8"],
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
        "site_timeout": 10.0,
        "per_host_delay": 0.0,
        "per_host_concurrency": 4,
    }
    values.update(overrides)
    return Settings(**values)


@functools.cache
def _bomb(coding: str) -> bytes:
    """BOMB_BYTES of spaces, compressed a block at a time (never held inflated)."""
    block = b" " * (1024 * 1024)
    if coding == "br":
        packer = brotli.Compressor(quality=5)
        parts = [packer.process(block) for _ in range(BOMB_BYTES // len(block))]
        return b"".join(parts) + packer.finish()
    gzipper = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    parts = [gzipper.compress(block) for _ in range(BOMB_BYTES // len(block))]
    return b"".join(parts) + gzipper.flush()


class FakeDns:
    """An injectable resolver: fixed answers per name, "localhost" from the system, calls logged.

    A list of answers is handed out one per call (the last one repeats) to act out DNS
    rebinding.
    """

    def __init__(self, answers: dict[str, list[str] | list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        if host == "localhost":
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
            return [str(info[4][0]) for info in infos]
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = self.answers[host]
        if answer and isinstance(answer[0], list):  # a sequence of answers over time
            return list(answer[min(self.calls.count(host), len(answer)) - 1])
        return list(answer)  # type: ignore[arg-type]


class TestSite:
    """Threaded test server; ``requests`` logs (path, Host header, User-Agent) per request."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        corpus: Path = CORPUS_DIR,
        *,
        robots: str | int = ROBOTS_TXT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.corpus = corpus
        self.robots = robots  # robots.txt text, or a status code to answer with
        self.requests: list[tuple[str, str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.open_connections = 0  # client connections the server holds open now
        self._lock = threading.Lock()
        handler = functools.partial(_Handler, site=self, directory=str(corpus))
        self._server = _Server(("127.0.0.1", 0), handler, tls)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def __enter__(self) -> TestSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _track(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta
            self.max_in_flight = max(self.max_in_flight, self.in_flight)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, tls: ssl.SSLContext | None):
        self.tls = tls
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:  # handshake later, in the handler's thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on drips and big bodies is the point of those endpoints


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait 40 ms

    def __init__(self, *args: Any, site: TestSite, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:  # a client connected
        super().setup()
        with self.site._lock:
            self.site.open_connections += 1

    def finish(self) -> None:  # the client hung up (or the server gave up on it)
        with self.site._lock:
            self.site.open_connections -= 1
        super().finish()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.site.requests.append(
            (parts.path, self.headers.get("Host", ""), self.headers.get("User-Agent", ""))
        )
        if parts.path == "/robots.txt":
            self._robots()
        elif parts.path.startswith("/x/"):
            self._adversarial(parts.path[3:], parse_qs(parts.query))
        else:
            super().do_GET()

    def _send(
        self, status: int, body: bytes = b"", ctype: str | None = "text/html", **headers: str
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _robots(self) -> None:
        if isinstance(self.site.robots, int):
            self._send(self.site.robots, b"robots unavailable", "text/plain")
        else:
            self._send(200, self.site.robots.encode(), "text/plain")

    def _adversarial(self, path: str, query: dict[str, list[str]]) -> None:
        parts = path.split("/")
        if parts[:2] == ["redirect", "chain"]:
            hops = int(parts[2])
            if hops:
                self._send(302, ctype=None, Location=f"/x/redirect/chain/{hops - 1}")
            else:
                self._send(200, SMALL_PAGE)
        elif parts[:2] == ["redirect", "loop"]:
            self._send(302, ctype=None, Location="/x/redirect/loop/" + "ba"[parts[2] == "b"])
        elif path == "redirect/to":
            self._send(302, ctype=None, Location=query["url"][0])
        elif path == "drip":
            self._drip()
        elif path == "big":
            self._big()
        elif path in ("gzip-bomb", "brotli-bomb"):
            coding = "gzip" if path == "gzip-bomb" else "br"
            self._send(200, _bomb(coding), Content_Encoding=coding)
        elif path in ("gzip-page", "deflate-page", "br-page"):
            coding = path.split("-")[0]
            packed = {
                "gzip": lambda b: zlib.compress(b, wbits=31),
                "deflate": zlib.compress,
                "br": brotli.compress,
            }[coding](SMALL_PAGE)
            self._send(200, packed, Content_Encoding=coding)
        elif path == "charset/wrong":
            self._send(200, WINDOWS_1252_PAGE, "text/html; charset=utf-8")
        elif path == "charset/none-1252":
            self._send(200, WINDOWS_1252_PAGE, "text/html")
        elif parts[0] == "type":
            ctype = {
                "pdf": "application/pdf",
                "png": "image/png",
                "text": "text/plain",
                "xhtml": "application/xhtml+xml; charset=UTF-8",
            }[parts[1]]
            self._send(200, b"%PDF-1.4 or PNG or text", ctype)
        elif parts[0] == "status":
            self._send(int(parts[1]), b"<html><body><p>error page</p></body></html>")
        elif path == "sleep":
            self.site._track(+1)
            time.sleep(int(query.get("ms", ["200"])[0]) / 1000)
            self.site._track(-1)
            self._send(200, SMALL_PAGE)
        elif path == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "chunked":  # how most servers send a page made as it goes
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (SMALL_PAGE[:40], SMALL_PAGE[40:]):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "not-http":
            self.wfile.write(b"HELLO THERE\r\n\r\n")
            self.close_connection = True
        elif path == "cut-short":  # promises 1,000 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"<html><p>a")
            self.close_connection = True
        elif path == "offsite":
            self._send(200, _offsite_page(self.site.port))
        elif path == "slow-site":
            links = "".join(
                f'<a href="/x/sleep?ms=1500&amp;n={n}">Pricing {n}</a> ' for n in (1, 2)
            )
            self._send(200, f"<html><body><p>{links}</p></body></html>".encode())
        elif parts[0] == "robots-site":
            self._send(200, _robots_site_page(parts[1]))
        else:
            self._send(404, b"<html><body><p>no such test endpoint</p></body></html>")

    def _drip(self) -> None:
        """One byte every 0.5 s; gives up after 200 bytes (100 s) or when the client leaves."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "200")
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"x")
                time.sleep(0.5)
        except OSError:
            self.close_connection = True

    def _big(self) -> None:
        """50 MB generated as it is sent, never held in memory."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(BIG_BYTES))
        self.end_headers()
        block = b"<p>" + b"filler " * 9361 + b"</p>\n"  # 65,536 bytes
        try:
            for _ in range(BIG_BYTES // len(block)):
                self.wfile.write(block)
        except OSError:
            self.close_connection = True


def _offsite_page(port: int) -> bytes:
    return f"""<html><head><title>Links</title></head><body>
<p><a href="http://other-clinic.example/pricing.html">Their prices</a>
<a href="https://www.facebook.com/someclinic">Facebook</a>
<a href="http://localhost:{port}/x/type/text">Same server, other name</a>
<a href="/x/type/text">Our price list</a>
<a href="/brochure.pdf">Brochure (PDF)</a>
<a href="mailto:info@clinic.example">Mail</a> <a href="tel:+15550100">Call</a>
<a href="javascript:void(0)">Menu</a></p>
<p>A page that links away from the site.</p></body></html>""".encode()


def _robots_site_page(name: str) -> bytes:
    links = '<a href="private.html">Pricing</a> <a href="public.html">About us</a>'
    return f"<html><body><h1>{name}</h1><p>{links}</p></body></html>".encode()


def service_settings(data_dir: Path, **overrides: Any) -> Settings:
    """``fast_settings`` for a whole service: its own SQLite file under ``data_dir``, and a
    registry that refuses at once (unverified trial numbers are a normal outcome)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "registry_base_url": f"http://127.0.0.1:{closed_port()}",
        "registry_max_tries": 1,
    }
    values.update(overrides)
    return fast_settings(**values)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections fail at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(app: Any) -> Iterator[str]:
    """An ASGI app on a real uvicorn, in a thread, on a free loopback port: its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
