"""The page in a real browser: Debian's Chromium, driven by Playwright, against a real uvicorn.

A patient pastes the address of a dev-corpus site served on 127.0.0.1, lands on the report and
reads it; axe-core checks accessibility and the keyboard reaches the form. Screenshots and axe
results go to ``test-output/web/`` for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.engine.analyzer import Engine
from app.service.factory import create_app
from app.settings import Settings
from tests.fetch.servers import TestSite, closed_port

CHROMIUM = Path("/usr/bin/chromium")
# Keep Chromium from phoning home or updating itself; there is no sandbox in CI containers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "web"
S11 = "/s11-rheumacell-research-florida/index.html"
# axe impacts that fail the test; "minor" and "moderate" ones are written out for review.
BLOCKING = {"serious", "critical"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run should have installed chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium) and not in CI")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[str]:
    """A real uvicorn on a free loopback port, configured the way an operator would: by env."""
    data = tmp_path_factory.mktemp("live")
    env = {
        "REDFLAGS_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REDFLAGS_DATABASE_URL": f"sqlite:///{data / 'redflags.db'}",
        "REDFLAGS_REGISTRY_BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "REDFLAGS_REGISTRY_MAX_TRIES": "1",
        "REDFLAGS_PER_HOST_DELAY": "0",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = Settings()
    config = uvicorn.Config(
        create_app(settings, engine=engine), host="127.0.0.1", port=0, log_level="warning"
    )
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvi.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = uvi.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    uvi.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def output() -> Path:
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    return OUTPUT


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with TestSite() as running:
        yield running


@pytest.fixture(scope="module")
def report_path(browser: Browser, server: str, site: TestSite, output: Path) -> str:
    """Check the site the way a patient does, with JavaScript off; return the report's path."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1024, "height": 800}
    )
    page = context.new_page()
    page.goto(server + "/")
    page.get_by_label("Clinic website address").fill(site.url(S11))
    page.screenshot(path=output / "form.png", full_page=True)
    page.get_by_role("button", name="Check this website").click()
    page.wait_for_url(re.compile(r"/r/[\w-]+$"), timeout=30_000)
    path = page.url.removeprefix(server)
    context.close()
    return path


def open_page(browser: Browser, url: str, **options: object) -> tuple[Page, list[str]]:
    """A fresh page at ``url`` and what the Content Security Policy refused on it (the
    console says so when a page needs inline script or style)."""
    page = browser.new_context(**options).new_page()  # type: ignore[arg-type]
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(url)
    return page, refused


def test_patient_reads_the_report(
    browser: Browser,
    server: str,
    site: TestSite,
    report_path: str,
    output: Path,
    corpus: Path,  # the report is of a dev-corpus site: skipped where the corpus is absent
) -> None:
    page, refused = open_page(browser, server + report_path, java_script_enabled=False)
    expect(page.locator(".verdict__words")).to_have_text(re.compile(r"High risk"))
    expect(page.locator(".verdict svg")).to_be_visible()  # a shape, not colour alone
    expect(page.locator(".score")).to_contain_text("out of 100")
    mark = page.locator("#warning-signs blockquote mark").first
    expect(mark).to_be_visible()
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"
    source = page.locator("#warning-signs figcaption a").first
    assert source.get_attribute("href").startswith(site.url("/s11-rheumacell-research-florida/"))
    expect(page.locator("#questions li")).to_have_count(6)
    expect(page.locator("#permalink")).to_have_value(server + report_path)
    page.screenshot(path=output / "report.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("#permalink")).to_be_hidden()
    expect(page.locator(".toc")).to_be_hidden()
    page.screenshot(path=output / "report-print.png", full_page=True)
    assert refused == []


def test_an_unreachable_site_says_we_could_not_read_it(
    browser: Browser, server: str, output: Path
) -> None:
    page, _ = open_page(browser, server + "/", java_script_enabled=False)
    page.get_by_label("Clinic website address").fill(f"http://127.0.0.1:{closed_port()}/")
    page.get_by_role("button", name="Check this website").click()
    page.wait_for_url(re.compile(r"/r/[\w-]+$"))
    expect(page.locator(".verdict__words")).to_have_text(re.compile("Could not read this site"))
    expect(page.locator("main")).to_contain_text("This does not mean the clinic is safe")
    expect(page.locator(".score")).to_have_count(0)
    page.screenshot(path=output / "report-unreadable.png", full_page=True)


@pytest.mark.parametrize("name", ["form", "report", "error", "not-found"])
def test_no_serious_accessibility_violations(
    browser: Browser, server: str, report_path: str, output: Path, name: str
) -> None:
    url = {"form": "/", "report": report_path, "not-found": "/r/unknown", "error": "/"}[name]
    page, refused = open_page(browser, server + url)
    if name == "error":
        page.get_by_role("button", name="Check this website").click()
        expect(page.locator("#url-error")).to_be_visible()
    if name in ("error", "not-found"):  # the others have their screenshots already
        page.screenshot(path=output / f"{name}.png", full_page=True)
    results = Axe().run(page).response
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"])}
        for v in results["violations"]
    ]
    (output / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    assert [v for v in violations if v["impact"] in BLOCKING] == []
    assert refused == []


def test_keyboard_reaches_the_form_with_a_visible_focus(
    browser: Browser, server: str, output: Path
) -> None:
    page, _ = open_page(browser, server + "/")
    for target in ("url", "submit"):
        for _ in range(10):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.id || document.activeElement.type")
            if focused == target:
                break
        else:
            pytest.fail(f"Tab never reached #{target}")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert outline[0] != "none" and outline[1] >= 2, f"{target}: outline {outline}"
    page.screenshot(path=output / "form-focus.png")
