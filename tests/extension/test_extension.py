"""The browser extension in Debian's Chromium (new headless mode loads unpacked extensions),
against a dev-corpus site on 127.0.0.1 and a real redflags service.

One difference from what a user installs: the test copy of the extension also holds host
permission for http://127.0.0.1, because the toolbar click that grants ``activeTab`` cannot be
made by a test (Chromium keeps the toolbar out of reach of automation). The popup is opened at
its own address with the clicked tab's id; everything after the click is the real code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from starlette.types import ASGIApp, Receive, Scope, Send

from app.engine.analyzer import Engine
from app.service.factory import create_app
from tests.fetch.servers import TestSite, closed_port, running_app, service_settings

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = ROOT / "test-output" / "extension"
CLINIC = "/s01-desert-bloom-regenerative/index.html"

pytestmark = pytest.mark.slow


class Counting:
    """Counts the requests that reach the service, by path: nothing before the click."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths[scope["path"]] += 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine
) -> Iterator[tuple[str, Counting]]:
    settings = service_settings(tmp_path_factory.mktemp("ext"), check_worker=False)
    counting = Counting(create_app(settings, engine=engine))
    with running_app(counting) as url:
        yield url, counting


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("extension") / "redflags"
    shutil.copytree(EXTENSION, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["host_permissions"] = ["http://127.0.0.1/*"]  # stands in for the click's activeTab
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def browser(unpacked: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run should have installed chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium) and not in CI")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--disable-extensions-except={unpacked}",
                f"--load-extension={unpacked}",
            ],
        )
        yield context
        context.close()


def extension_id(path: Path) -> str:
    """The id Chromium gives an unpacked extension: from its folder's path, so the test need
    not catch the service worker starting (it may start, idle and stop before anyone looks)."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


@pytest.fixture(scope="module")
def worker(browser: BrowserContext, unpacked: Path) -> Page:
    """An extension page (the options page) to call the extension's APIs from."""
    page = browser.new_page()
    page.goto(f"chrome-extension://{extension_id(unpacked)}/options.html")
    expect(page.locator("#server")).to_be_visible()
    return page


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with TestSite() as running:
        yield running


@pytest.fixture(scope="module")
def output() -> Path:
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    return OUTPUT


def _use_server(worker: Page, server: str) -> None:
    worker.evaluate("server => chrome.storage.sync.set({server, apiKey: '', auto: false})", server)


def _tab_id(worker: Page, url: str) -> int:
    return worker.evaluate(
        "async url => (await chrome.tabs.query({})).find(t => t.url === url).id", url
    )


def _popup(browser: BrowserContext, worker: Page, tab_id: int) -> Page:
    popup = browser.new_page()
    popup.set_viewport_size({"width": 400, "height": 700})
    popup.goto(worker.url.replace("options.html", f"popup.html?tab={tab_id}"))
    return popup


def test_the_click_checks_the_page_in_view(
    browser: BrowserContext,
    worker: Page,
    service: tuple[str, Counting],
    site: TestSite,
    output: Path,
    corpus: Path,  # a dev-corpus clinic; skipped where the corpus is absent
) -> None:
    server, counting = service
    _use_server(worker, server)
    clinic = browser.new_page()
    clinic.goto(site.url(CLINIC))
    clinic.wait_for_timeout(500)
    assert counting.paths["/api/v1/analyze"] == 0  # private by default: nothing before a click

    tab_id = _tab_id(worker, clinic.url)
    popup = _popup(browser, worker, tab_id)
    expect(popup.locator("#verdict .words")).to_have_text("High risk", timeout=30_000)
    expect(popup.locator("#verdict .letter")).to_have_text("H")  # a letter, not colour alone
    expect(popup.locator("#score")).to_contain_text("out of 100")
    expect(popup.locator("#summary")).not_to_be_empty()
    quotes = popup.locator("#signs blockquote")
    assert quotes.count() >= 1
    assert counting.paths["/api/v1/analyze"] == 1
    badge = worker.evaluate("id => chrome.action.getBadgeText({tabId: id})", tab_id)
    assert badge == "H"
    popup.screenshot(path=output / "popup.png", full_page=True)

    quote = quotes.first.inner_text()
    popup.locator("#signs button.show").first.click()
    expect(popup.locator("#signs button.show").first).to_have_text("Shown on the page")
    marked = clinic.locator("mark.redflags-mark")
    expect(marked.first).to_be_visible()
    marked_text = " ".join(" ".join(marked.all_inner_texts()).split())
    assert marked_text.lower() in " ".join(quote.split()).lower() or " ".join(
        quote.split()
    ).lower().startswith(marked_text.lower()[:40])
    clinic.screenshot(path=output / "page-highlighted.png")

    # A second look at the same page in this session is answered from the cache.
    again = _popup(browser, worker, tab_id)
    again.locator("#verdict .words").wait_for(timeout=30_000)
    assert counting.paths["/api/v1/analyze"] == 1

    # Saving stores the report on the service and opens its permanent page.
    with browser.expect_page() as opened:
        again.locator("#save").click()
    report = opened.value
    report.wait_for_load_state()
    assert report.url.startswith(f"{server}/r/")
    expect(report.locator(".verdict__words")).to_contain_text("High risk")
    assert counting.paths["/api/v1/analyze"] == 2


def test_a_service_that_is_down_is_said_in_plain_words(
    browser: BrowserContext, worker: Page, site: TestSite, output: Path
) -> None:
    _use_server(worker, f"http://127.0.0.1:{closed_port()}")
    page = browser.new_page()
    page.goto(site.url("/s02-sunrise-regen-wellness/index.html"))
    popup = _popup(browser, worker, _tab_id(worker, page.url))
    expect(popup.locator("#problem")).to_contain_text("did not answer", timeout=15_000)
    expect(popup.locator("#result")).to_be_hidden()
    popup.screenshot(path=output / "popup-server-down.png", full_page=True)


def test_the_opt_in_checks_health_pages_as_they_load(
    browser: BrowserContext,
    worker: Page,
    service: tuple[str, Counting],
    site: TestSite,
    corpus: Path,
) -> None:
    """With the setting on (and the sites permission it asks for, which the test copy holds),
    a page whose address looks like a clinic's is checked when it loads; others are not."""
    server, counting = service
    worker.evaluate("server => chrome.storage.sync.set({server, apiKey: '', auto: true})", server)
    try:
        before = counting.paths["/api/v1/analyze"]
        other = browser.new_page()
        other.goto(site.url("/x/type/text"))  # not a health page by its address or title
        clinic = browser.new_page()
        clinic.goto(site.url("/s03-clinica-renacer-tijuana/index.html"))
        tab_id = _tab_id(worker, clinic.url)
        deadline = time.monotonic() + 30
        while worker.evaluate("id => chrome.action.getBadgeText({tabId: id})", tab_id) == "":
            assert time.monotonic() < deadline, "the clinic page was not checked"
            time.sleep(0.2)
        assert counting.paths["/api/v1/analyze"] == before + 1  # the clinic page only
    finally:
        _use_server(worker, server)  # auto off again
