"""``redflags analyze`` and ``redflags rules`` as a person runs them, including bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLINIC = """<html><head><title>Sunrise Cell Clinic</title></head><body>
<nav><a href="/">Home</a><a href="/prices">Prices</a></nav>
<h1>Stem cell therapy for rheumatoid arthritis</h1>
<p>Our stem cell protocol cures rheumatoid arthritis and rebuilds damaged cartilage.</p>
<p>There are no side effects. Book your free consultation today: only 4 spots left!</p>
<table><tr><td>Single joint</td><td>$4,900</td></tr>
<tr><td>Full body</td><td>$12,500</td></tr></table>
<blockquote>My RA is completely gone. — Dana, 58</blockquote>
<p>We also treat lupus, multiple sclerosis, COPD, autism and erectile dysfunction.</p>
</body></html>"""


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], input=stdin, capture_output=True, timeout=120
    )


@pytest.fixture()
def clinic(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.html"
    path.write_text(CLINIC, encoding="utf-8")
    return path


def test_a_reader_that_stops_early_gets_no_traceback(clinic: Path) -> None:
    """`redflags analyze ... | head -1`: the reader is gone before the answer is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "analyze", str(clinic), str(clinic)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in errors and "BrokenPipeError" not in errors


def test_text_report_for_people(clinic: Path) -> None:
    result = run("analyze", str(clinic))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "Verdict: HIGH RISK" in out
    assert "Warning signs" in out and "Why it matters:" in out
    assert "cures rheumatoid arthritis" in out


def test_json_report_contract(clinic: Path) -> None:
    report = json.loads(run("analyze", "--format", "json", str(clinic)).stdout)
    for key in (
        "source",
        "score",
        "verdict",
        "applicability",
        "summary",
        "findings",
        "identifiers",
        "pages",
        "rules_version",
        "engine_version",
        "warnings",
    ):
        assert key in report
    categories = {f["category"] for f in report["findings"]}
    assert {
        "cure_claim",
        "price_or_payment",
        "safety_minimized",
        "pressure_sales",
        "many_conditions",
        "testimonials",
    } <= categories
    prices = {p["amount"] for p in report["identifiers"]["prices"]}
    assert {4900.0, 12500.0} <= prices
    evidence = report["findings"][0]["evidence"][0]
    assert {"url", "quote", "start", "end"} <= set(evidence)


def test_jsonl_keeps_going_past_bad_files(tmp_path: Path, clinic: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "image.html"
    binary.write_bytes(bytes(range(256)) * 64)
    missing = tmp_path / "missing.html"
    scripts = tmp_path / "scripts.html"
    scripts.write_text("<html><script>var cure = 'stem cell cure';</script></html>")
    bad_utf8 = tmp_path / "latin.html"
    bad_utf8.write_bytes(b"<p>Our clinic \xff\xfe offers stem cell therapy.</p>")
    deep = tmp_path / "deep.html"
    deep.write_text("<div>" * 10_000 + "Our clinic cures arthritis." + "</div>" * 10_000)
    paths = [clinic, empty, binary, missing, scripts, bad_utf8, deep]
    result = run("analyze", "--format", "jsonl", *map(str, paths))
    assert b"Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["source"] for line in lines] == [str(p) for p in paths]
    errors = {line["source"]: line["error"] for line in lines if "error" in line}
    assert set(errors) == {str(binary), str(missing)}
    assert "not a text or HTML file" in errors[str(binary)]
    assert "no such file" in errors[str(missing)]
    assert result.returncode == 1
    by_source = {line["source"]: line for line in lines}
    assert any("no text" in w for w in by_source[str(empty)]["warnings"])
    assert any("visible text" in w for w in by_source[str(scripts)]["warnings"])
    assert by_source[str(deep)]["findings"]


def test_huge_file_is_cut_with_a_warning(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    paragraph = "<p>Our clinic offers regenerative care for joints and more.</p>\n"
    big.write_text("<html><body>" + paragraph * (20_000_000 // len(paragraph)) + "</body></html>")
    result = run("analyze", "--format", "json", str(big))
    assert result.returncode == 0, result.stderr.decode()[-500:]
    report = json.loads(result.stdout)
    assert any("larger than" in w for w in report["warnings"])


def write_site(folder: Path, pages: dict[str, str]) -> Path:
    """A folder of saved pages: one site for ``redflags analyze``."""
    folder.mkdir()
    for name, html in pages.items():
        (folder / name).write_text(html, encoding="utf-8")
    return folder


def test_folder_is_one_site_and_stdin_works(tmp_path: Path) -> None:
    site = write_site(
        tmp_path / "site",
        {
            "index.html": "<h1>Regenerative stem cell clinic</h1>"
            "<p>Our stem cell treatment restores joints.</p>",
            "pricing.html": "<p>Our stem cell package costs $7,500.</p>",
        },
    )
    report = json.loads(run("analyze", "--format", "json", str(site)).stdout)
    assert [Path(p["url"]).name for p in report["pages"]] == ["index.html", "pricing.html"]
    price = next(f for f in report["findings"] if f["category"] == "price_or_payment")
    assert price["evidence"][0]["url"].endswith("pricing.html")
    piped = run("analyze", "--format", "json", "-", stdin=b"Our treatment cures lupus.")
    assert json.loads(piped.stdout)["source"] == "-"


def test_a_saved_page_is_read_at_the_address_it_came_from(tmp_path: Path) -> None:
    """The page-type model reads the address's words: ``--url`` gives a saved page (and a
    folder's other pages, beside it) the address it had on the web."""
    site = write_site(
        tmp_path / "site",
        {
            "index.html": "<p>Mesenchymal cells are injected into the knee. "
            "The procedure takes two hours.</p>",
            "fees.html": "<p>One knee: $4,500.</p>",
        },
    )
    plain = json.loads(run("analyze", "--format", "json", str(site)).stdout)
    url = "https://www.regenerative-stemcell-clinic.example/knee/"
    at_url = json.loads(run("analyze", "--format", "json", "--url", url, str(site)).stdout)
    assert at_url["source"] == url
    assert [p["url"] for p in at_url["pages"]] == [url, url + "fees.html"]
    assert at_url["applicability"]["offers_score"] > plain["applicability"]["offers_score"]
    refused = run("analyze", "--url", "clinic.example", str(site))
    assert refused.returncode == 2 and b"--url takes one http(s) address" in refused.stderr
    assert run("analyze", "--url", url, str(site), str(site)).returncode == 2


def test_explain_shows_what_context_set_aside(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_text("Our stem cell clinic offers injections.\n\nThere is no cure for lupus.\n")
    out = run("analyze", "--explain", str(page)).stdout.decode()
    assert "Set aside by context" in out and "negated by" in out


def test_rules_commands() -> None:
    listing = json.loads(run("rules", "list", "--format", "json").stdout)
    assert {r["category"] for r in listing["rules"]} >= {"cure_claim", "no_ind"}
    tested = run("rules", "test")
    assert tested.returncode == 0, tested.stdout.decode()[-2000:]
    assert b" 0 failed" in tested.stdout


def test_terminal_escapes_from_input_are_never_printed(tmp_path: Path) -> None:
    # Issue 9, item 7: an address or a page can carry escape sequences that retitle, clear or
    # rewrite the terminal; the CLI shows them as visible escapes instead.
    hostile = "http://exa\x1b]0;pwned\x07mple.test\x1b[2J/\u202eevil"
    checked = run("check", hostile)
    page = tmp_path / "page.txt"
    page.write_text("Our clinic cures arthritis.\x1b[31m We treat lupus.\r Stem cells.\n")
    analysed = run("analyze", str(page))
    for result in (checked, analysed):
        output = result.stdout + result.stderr
        assert output, result
        assert not any(c in output for c in (b"\x1b", b"\x07", b"\r", "\u202e".encode()))
    assert b"\\x1b]0;pwned\\x07" in checked.stdout + checked.stderr


def test_training_refuses_a_cache_that_lost_its_pages(tmp_path: Path) -> None:
    # A new machine starts with an empty real-page cache: training on the dev corpus alone
    # would silently replace the committed model with a far weaker one.
    (tmp_path / "cache").mkdir()
    out = tmp_path / "model"
    trained = run("train", "--cache", str(tmp_path / "cache"), "--out", str(out))
    assert trained.returncode == 2
    message = trained.stderr.decode()
    assert "have no text" in message and "corpus/README.md" in message
    assert "--allow-missing" in message and "Traceback" not in message
    assert not out.exists()


def test_analyze_leaves_what_it_does_not_use_unimported(tmp_path: Path) -> None:
    """A cold ``redflags analyze`` waits on every import: not the web service, the batch, the
    database layer, nor spaCy's own command line (typer, weasel, requests), which spaCy's package
    imports only to re-export ``spacy.info`` (still there, loaded when called)."""
    page = tmp_path / "page.html"
    page.write_text("<p>Our clinic offers stem cell injections for knee pain.</p>", "utf-8")
    command = [sys.executable, "-X", "importtime", "-m", "app.cli", "analyze", str(page)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Verdict" in done.stdout, done.stderr[-2000:]
    # -X importtime: "import time: self | cumulative | <indent>module", one line a module.
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "spacy" in imported and "app.engine.analyzer" in imported
    unwanted = {"spacy.cli", "typer", "weasel", "requests", "fastapi", "uvicorn", "sqlalchemy"}
    unwanted |= {"alembic", "openpyxl", "app.jobs.runner", "app.service", "app.api"}
    assert not unwanted & imported

    info = "import app.engine, spacy; print(spacy.info()['spacy_version'])"
    version = subprocess.run([sys.executable, "-c", info], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip()[0].isdigit(), version.stderr
