"""``redflags batch`` as a real subprocess against a few hundred generated sites on 127.0.0.1:
killed with SIGKILL or stopped with Ctrl-C mid-run, the same command finishes the job with
every site checked to completion exactly once and every input row in the output."""

from __future__ import annotations

import csv
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.engine.analyzer import Engine
from app.service.factory import create_app
from app.settings import Settings
from tests.jobs.conftest import Farm

CLI = [sys.executable, "-m", "app.cli", "batch"]
INJECTIONS = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"]
pytestmark = pytest.mark.slow


def _write_csv(path: Path, urls: list[str]) -> list[dict[str, str]]:
    rows = [
        {"case": f"C-{n}", "url": url, "note": INJECTIONS[n % len(INJECTIONS)]}
        for n, url in enumerate(urls)
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["case", "url", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=150
    )


def _query(job_db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{job_db}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(sql).fetchall()


def _wait_for_done(job_db: Path, proc: subprocess.Popen[str], count: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if job_db.exists():
            try:
                done = _query(job_db, "SELECT count(*) FROM batch_items WHERE state='done'")
            except sqlite3.OperationalError:  # tables not made yet
                done = [(0,)]
            if done[0][0] >= count:
                return
        time.sleep(0.1)
    pytest.fail(f"fewer than {count} sites done in 90 s")


def _read_output(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _exactly_once(job_db: Path) -> None:
    """Every item finished; every done item has its own report, and there is no other."""
    states = dict(_query(job_db, "SELECT state, count(*) FROM batch_items GROUP BY state"))
    assert set(states) <= {"done", "error", "skipped"}, states
    report_ids = [
        r for (r,) in _query(job_db, "SELECT report_id FROM batch_items WHERE state='done'")
    ]
    assert None not in report_ids
    assert len(set(report_ids)) == len(report_ids) == states["done"]
    stored = {r for (r,) in _query(job_db, "SELECT id FROM reports")}
    assert stored == set(report_ids)


def test_kill_9_mid_run_then_the_same_command_finishes_every_site_once(
    farm: Farm, tmp_path: Path, batch_env: dict[str, str]
) -> None:
    urls = farm.urls() + list(farm.faults().values())
    given = _write_csv(tmp_path / "sites.csv", urls)
    args = ["sites.csv", "-o", "results.csv", "--concurrency", "16", "--max-pages", "3"]
    job_db = tmp_path / "results.csv.jobs.sqlite"

    proc = _start(args, batch_env, tmp_path)
    _wait_for_done(job_db, proc, 60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = dict(_query(job_db, "SELECT url, report_id FROM batch_items WHERE state='done'"))
    in_flight = {u for (u,) in _query(job_db, "SELECT url FROM batch_items WHERE state='running'")}
    assert in_flight, "the kill should have caught sites in progress"
    assert not (tmp_path / "results.csv").exists()
    requests_before = len(farm.server.requests)

    result = _run(args, batch_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"resuming: {len(before)} of {len(urls)} sites already done" in result.stderr

    rows = _read_output(tmp_path / "results.csv")
    assert [r["url"] for r in rows] == urls
    assert [r["case"] for r in rows] == [g["case"] for g in given]
    lines = [int(r["line"]) for r in rows]
    assert lines[0] == 2 and lines == sorted(set(lines))  # "\r=1" cells span two lines
    _exactly_once(job_db)
    after = dict(_query(job_db, "SELECT url, report_id FROM batch_items"))
    assert all(after[url] == report for url, report in before.items())  # not redone
    attempts = dict(_query(job_db, "SELECT url, attempts FROM batch_items"))
    assert all(attempts[u] == (2 if u in in_flight else 1) for u in urls)
    # The resumed run never went back to a site that was finished before the kill.
    revisited = {path for path, _, _ in farm.server.requests[requests_before:]}
    finished_paths = {url.split(str(farm.server.port), 1)[1] for url in before}
    assert not revisited & finished_paths

    by_url = {r["url"]: r for r in rows}
    assert by_url[farm.faults()["500"]]["verdict"] == "unreadable"
    assert "HTTP 500" in by_url[farm.faults()["500"]]["error"]
    assert "timed out" in by_url[farm.faults()["hang"]]["error"]
    assert by_url[farm.faults()["reset"]]["verdict"] == "unreadable"
    assert by_url[farm.faults()["huge"]]["state"] == "done"  # cut at the size cap, then read
    assert {r["verdict"] for r in rows} >= {"high_risk", "low_risk", "unreadable"}
    for row in rows:  # formula injection: every risky cell starts with a quote
        assert row["note"].startswith("'") and row["note"][1:] in INJECTIONS


def test_the_report_links_open_on_the_service_make_run_starts(
    farm: Farm, tmp_path: Path, batch_env: dict[str, str], engine: Engine
) -> None:
    """Issue 11: the batch's reports are copied into the service's default database, so every
    link in the export opens on the service of ``make run`` (same folder, same settings)."""
    urls = farm.urls()[:4]
    _write_csv(tmp_path / "sites.csv", urls)
    result = _run(["sites.csv", "-o", "results.csv", "--max-pages", "2"], batch_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"4 new report\(s\) saved to sqlite:///\S*redflags.db as well", result.stderr)
    links = [r["report_url"] for r in _read_output(tmp_path / "results.csv")]
    assert len(links) == 4 and all(links)
    service = create_app(Settings(data_dir=tmp_path / "data"), engine=engine)
    with TestClient(service) as client:
        for link in links:
            page = client.get(urlsplit(link).path)
            assert page.status_code == 200, link
            assert "verdict__words" in page.text


def test_resumed_batches_lose_sites_never_after_three_kills(
    farm: Farm, tmp_path: Path, batch_env: dict[str, str]
) -> None:
    # Issue 9, item 3: each kill counted as one of a site's three attempts, so a site in flight
    # at three kills (here a slow one, first in the list) ended as "started 3 times and never
    # finished" and was never checked. A crash of the process is not the site's failure.
    slow = farm.faults()["hang"]
    urls = [slow, *farm.urls(120)]
    _write_csv(tmp_path / "sites.csv", urls)
    args = ["sites.csv", "-o", "results.csv", "--concurrency", "16", "--max-pages", "2"]
    job_db = tmp_path / "results.csv.jobs.sqlite"
    done = 0
    for _ in range(3):
        proc = _start(args, batch_env, tmp_path)
        done += 5
        _wait_for_done(job_db, proc, done)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        done = _query(job_db, "SELECT count(*) FROM batch_items WHERE state='done'")[0][0]
    # The slow site, first in the list, was in flight at the first kill at least.
    crashes = dict(_query(job_db, "SELECT url, crashes FROM batch_items"))
    assert crashes[slow] >= 1, "the kills should have caught the slow site in progress"

    result = _run(args, batch_env, tmp_path)
    assert result.returncode == 0, result.stderr
    _exactly_once(job_db)
    states = dict(_query(job_db, "SELECT url, state FROM batch_items"))
    assert all(states[u] == "done" for u in urls), {u: s for u, s in states.items() if s != "done"}
    rows = _read_output(tmp_path / "results.csv")
    assert [r["url"] for r in rows] == urls
    assert "timed out" in rows[0]["error"]  # the slow site was checked, to its own time limit


def test_ctrl_c_stops_cleanly_and_rerunning_finishes(
    farm: Farm, tmp_path: Path, batch_env: dict[str, str]
) -> None:
    urls = farm.urls(60)
    listing = ["# one address a line", *urls, "", "not a web address", urls[0]]
    (tmp_path / "sites.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")
    args = ["sites.txt", "-o", "results.csv", "--concurrency", "8", "--max-pages", "2"]
    job_db = tmp_path / "results.csv.jobs.sqlite"

    proc = _start(args, batch_env, tmp_path)
    _wait_for_done(job_db, proc, 10)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted: run the same command again" in stderr
    assert "line 63: not a web address cannot be checked" in stderr
    assert "line 64: duplicate of line 2" in stderr
    # A clean stop hands the sites in progress back, and their attempt does not count.
    assert _query(job_db, "SELECT count(*) FROM batch_items WHERE state='running'") == [(0,)]
    assert _query(job_db, "SELECT max(attempts) FROM batch_items WHERE state='pending'") == [(0,)]

    result = _run(args, batch_env, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = _read_output(tmp_path / "results.csv")
    assert [r["url"] for r in rows] == [*urls, "not a web address", urls[0]]
    assert rows[-1]["state"] == "skipped" and rows[-1]["report_id"] == rows[0]["report_id"]
    assert rows[-2]["state"] == "error"
    _exactly_once(job_db)

    again = _run(args, batch_env, tmp_path)  # a finished batch is only written out again
    assert again.returncode == 0 and "resuming: 62 of 62" in again.stderr


def test_xlsx_and_summary_page(farm: Farm, tmp_path: Path, batch_env: dict[str, str]) -> None:
    hostile = farm.server.url("/x/status/500?<script>alert(1)</script>")
    urls = [*farm.urls(8), hostile]
    _write_csv(tmp_path / "sites.csv", urls)
    args = ["sites.csv", "-o", "out.xlsx", "--html", "summary.html", "--max-pages", "2"]
    result = _run(args, batch_env, tmp_path)
    assert result.returncode == 0, result.stderr

    sheet = load_workbook(tmp_path / "out.xlsx").active
    header, *rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header[:5] == ["line", "url", "final_url", "verdict", "score"]
    assert header[-2:] == ["case", "note"]
    assert len(rows) == len(urls)
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert all(str(row[-1]).startswith("'") for row in rows)
    assert isinstance(rows[0][4], int)  # scores stay numbers

    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<svg") == 3
    assert 'href="#by-url-asc"' in page and 'id="by-score-desc"' in page
