"""Batch analysis in worker processes: the same reports as on a thread, and a worker that dies
fails only the site it was on."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from app.engine.analyzer import Engine
from app.extract.document import extract_document
from app.fetch import FetchedPage
from app.pipeline.process_pool import AnalysisPool
from app.pipeline.site_analysis import AnalysisJob, ThreadAnalyst
from tests.jobs.conftest import Farm

CLI = [sys.executable, "-m", "app.cli", "batch"]
COLUMNS = ("url", "verdict", "score", "flags", "pages_read")
pytestmark = pytest.mark.slow


def _results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k: row[k] for k in COLUMNS if k in row} for row in csv.DictReader(f)]


def test_two_processes_give_the_reports_one_gives(
    farm: Farm, tmp_path: Path, batch_env: dict[str, str]
) -> None:
    (tmp_path / "sites.txt").write_text("\n".join(farm.urls(40)) + "\n", encoding="utf-8")
    outputs = {}
    for processes in ("1", "2"):
        out = tmp_path / f"out-{processes}.csv"
        args = ["sites.txt", "-o", out.name, "--max-pages", "3", "--processes", processes]
        result = subprocess.run(
            [*CLI, *args], env=batch_env, cwd=tmp_path, capture_output=True, text=True, timeout=150
        )
        assert result.returncode == 0, result.stderr
        outputs[processes] = _results(out)
    assert len(outputs["1"]) == 40
    assert {r["verdict"] for r in outputs["1"]} >= {"high_risk", "low_risk"}
    assert outputs["2"] == outputs["1"]


def _job(page: bytes, url: str) -> AnalysisJob:
    fetched = FetchedPage(
        requested_url=url,
        final_url=url,
        status=200,
        fetched_at=FetchedPage.failed(url, "-").fetched_at,
        content_type="text/html",
        charset="utf-8",
        body=page,
        sha256="",
        truncated=False,
        redirects=(),
        error=None,
        skipped=None,
    )
    return AnalysisJob(
        url=url,
        pages=[fetched],
        entry_page=None,
        notes=[],
        explain=True,
        deadline=float("inf"),
        max_document_bytes=2_000_000,
        min_words=5,
    )


def test_a_worker_that_dies_fails_its_site_and_the_pool_goes_on(
    engine: Engine, corpus: Path
) -> None:
    page = (corpus / "s01-desert-bloom-regenerative" / "index.html").read_bytes()
    job = _job(page, "https://desert-bloom.example/")

    async def scenario(pool: AnalysisPool) -> None:
        first = await pool.analyse(job)
        on_thread = await ThreadAnalyst(engine).analyse(job)
        assert first.report is not None and on_thread.report is not None
        assert first.report.model_dump() == on_thread.report.model_dump(exclude={"analyzed_at"})
        entry = await pool.extract(page, "https://desert-bloom.example/", content_type="text/html")
        assert entry == extract_document(
            page, "https://desert-bloom.example/", content_type="text/html"
        )

        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(Exception, match="process"):
            await pool.analyse(job)
        again = await pool.analyse(job)  # new workers, forked again
        assert again.report is not None and again.report.verdict == first.report.verdict

    with AnalysisPool(engine, 2) as pool:
        anyio.run(scenario, pool)
