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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from app.engine.analyzer import Engine
from app.jobs.queue import Progress
from app.jobs.results import BatchTable, header, summarize, table_rows
from app.jobs.summary import render_summary
from app.service.factory import create_app
from app.settings import Settings
from app.storage import ReportStore, make_engine
from tests.fetch.servers import TestSite, closed_port, running_app
from tests.web.reports import applicability, finding, make_report

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
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The live server's database, where tests may also save reports built by hand."""
    return f"sqlite:///{tmp_path_factory.mktemp('live') / 'redflags.db'}"


@pytest.fixture(scope="module")
def server(database_url: str, engine: Engine) -> Iterator[str]:
    """A real uvicorn on a free loopback port, configured the way an operator would: by env."""
    env = {
        "REDFLAGS_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REDFLAGS_DATABASE_URL": database_url,
        "REDFLAGS_REGISTRY_BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "REDFLAGS_REGISTRY_MAX_TRIES": "1",
        "REDFLAGS_PER_HOST_DELAY": "0",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = Settings()
    with running_app(create_app(settings, engine=engine)) as url:
        yield url


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
    if page.locator(".progress").count():  # the check is running: the page reloads itself
        page.screenshot(path=output / "progress.png", full_page=True)
    expect(page.locator(".verdict__words")).to_be_visible(timeout=60_000)
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
    expect(page.locator(".verdict__words")).to_have_text(
        re.compile("Could not read this site"), timeout=30_000
    )
    expect(page.locator("main")).to_contain_text("This does not mean the clinic is safe")
    expect(page.locator(".score")).to_have_count(0)
    page.screenshot(path=output / "report-unreadable.png", full_page=True)


def _axe_and_csp(page: Page, output: Path, name: str, refused: list[str]) -> None:
    """axe-core finds no serious violation (all are written out) and the CSP refused nothing."""
    results = Axe().run(page).response
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"])}
        for v in results["violations"]
    ]
    (output / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    assert [v for v in violations if v["impact"] in BLOCKING] == []
    assert refused == []


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
    _axe_and_csp(page, output, name, refused)


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


STATES = {
    # name: (report changes, shown headings, headings that must not be there)
    "unrelated": (
        {
            "score": None,
            "verdict": "not_applicable",
            "applicability": applicability("unrelated"),
            "summary": "This site does not seem to be about stem-cell or regenerative treatment.",
            "findings": [finding(title="Shows prices", match="$90", quote="A session is $90.")],
        },
        ["What this means"],
        ["Warning signs (1)", "Reassuring signs (1)", "Questions to ask the clinic"],
    ),
    "news": (
        {
            "score": 30,
            "verdict": "caution",
            "applicability": applicability("discusses"),
            "findings": [
                finding(),
                finding("mitigating", "Describes the risks", match="risks", quote="risks."),
            ],
        },
        ["Warning signs (1)"],
        ["Reassuring signs (1)", "Missing information (0)", "Questions to ask the clinic"],
    ),
    "seller": (
        {
            "findings": [
                finding(),
                finding("mitigating", "Describes the risks", match="risks", quote="risks."),
            ]
        },
        ["Warning signs (1)", "Reassuring signs (1)", "Questions to ask the clinic"],
        ["What this means"],
    ),
}


@pytest.mark.parametrize("name", STATES)
def test_every_page_type_reads_honestly(
    browser: Browser, server: str, database_url: str, output: Path, name: str
) -> None:
    """Issue 11: no score or warning cards on a site not about cell treatment, no reassuring
    signs or questions for a clinic on a news page; screenshots of each state."""
    changes, shown, absent = STATES[name]
    store = ReportStore(make_engine(database_url))
    url = f"https://{name}.example/"
    stored = store.save(make_report(source=url, **changes), kind="check", input_url=url)
    page, refused = open_page(browser, f"{server}/r/{stored.id}")  # axe needs script
    headings = [h.strip() for h in page.locator("h2").all_inner_texts()]
    assert set(shown) <= set(headings), headings
    assert not set(absent) & set(headings), headings
    has_score = changes.get("score", 70) is not None
    expect(page.locator(".score")).to_have_count(1 if has_score else 0)
    page.screenshot(path=output / f"report-{name}.png", full_page=True)
    _axe_and_csp(page, output, f"report-{name}", refused)


@pytest.mark.parametrize(
    ("path", "title"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")]
)
def test_api_docs_work_with_the_network_blocked(
    browser: Browser, server: str, output: Path, path: str, title: str
) -> None:
    """Issue 11: /docs and /redoc load their scripts from the service, never from a CDN."""
    context = browser.new_context()
    outside: list[str] = []

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.goto(server + path)
    expect(page.locator(title).first).to_contain_text("redflags", timeout=15_000)
    page.screenshot(path=output / f"api{path.replace('/', '-')}.png")
    assert outside == []
    context.close()


def test_batch_summary_charts_are_never_clipped(browser: Browser, output: Path) -> None:
    """Issue 11: every chart label and value lies inside its chart, and the columns of the
    investigator's list are carried into the table."""
    verdicts = ["not_applicable", "high_risk", "caution", "low_risk", "unreadable"]
    reports = [
        make_report(
            score=None if v in ("not_applicable", "unreadable") else 1000 // (i + 11),
            verdict=v,
            findings=[finding(category=c) for c in ("many_conditions", "pay_to_participate")],
        )
        for i, v in enumerate(verdicts * 30)
    ]
    items = [
        {
            "position": i,
            "url": f"https://site{i}.example/",
            "normalized_url": f"https://site{i}.example/",
            "state": "done",
            "report_id": f"r{i}",
            "verdict": r.verdict,
            "score": r.score,
            "result": summarize(r),
            "columns": {"case number": f"C-{i}"},
        }
        for i, r in enumerate(reports, 1)
    ]
    counts = {"pending": 0, "running": 0, "done": len(items), "error": 0, "skipped": 0}
    table = BatchTable(
        Progress("b", "done", len(items), counts, unreadable=30),
        items,
        table_rows(items, ["case number"], lambda r: f"/r/{r}"),
        header(["case number"]),
    )
    html = output / "summary.html"
    html.write_text(
        render_summary(table, title="Batch", created_at=datetime.now(UTC)), encoding="utf-8"
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(html.as_uri())
    outside = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart text')].flatMap(t => {
            const box = t.getBBox(), view = t.ownerSVGElement.viewBox.baseVal;
            const inside = box.x >= 0 && box.y >= 0 && box.x + box.width <= view.width
                && box.y + box.height <= view.height;
            return inside ? [] : [t.textContent];
        })"""
    )
    assert outside == []
    shown = page.locator(".sortview:not(.alt)")  # the default order; the others wait for :target
    expect(shown.locator("th", has_text="case number")).to_be_visible()
    expect(shown.get_by_role("cell", name="C-7", exact=True)).to_be_visible()
    page.screenshot(path=output / "summary.png", full_page=False)
    page.close()


def test_the_waiting_page_refreshes_itself_without_script(
    browser: Browser, server: str, site: TestSite, output: Path
) -> None:
    """Issue 11: with JavaScript off, a slow check shows its progress page, which reloads
    itself until the report is there, at the same address."""
    page, refused = open_page(browser, server + "/", java_script_enabled=False)
    page.get_by_label("Clinic website address").fill(site.url("/x/sleep?ms=2500"))
    page.get_by_role("button", name="Check this website").click()
    expect(page.locator(".progress")).to_be_visible(timeout=10_000)
    expect(page.locator("h1")).to_contain_text("Checking")
    address = page.url
    page.screenshot(path=output / "progress.png", full_page=True)
    expect(page.locator(".verdict__words")).to_be_visible(timeout=60_000)
    assert page.url == address
    assert refused == []
