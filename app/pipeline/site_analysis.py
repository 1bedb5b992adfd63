"""The CPU-bound half of a site check: extract the pages a crawl read and analyse them.

It takes plain, picklable data (``AnalysisJob``) and returns plain data (``SiteAnalysis``), so the
same function runs on a worker thread (the API, one site at a time) or in a worker process
(batch screening on every core, ``process_pool.AnalysisPool``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import anyio

from app.engine.analyzer import Engine
from app.engine.types import Report
from app.extract.charset import ExtractionError
from app.extract.document import extract_document
from app.extract.page import ExtractedPage
from app.fetch import FetchedPage, registrable_domain
from app.verify import SiteContext

SITE_CATEGORIES = ("cure_claim", "many_conditions")
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class AnalysisJob:
    """One site's readable pages, best first, and what the analysis may spend on them."""

    url: str
    pages: list[FetchedPage]
    entry_page: ExtractedPage | None  # the crawler has read the entry page already, for links
    notes: list[str]  # the crawl's own warnings, carried into the report
    explain: bool
    deadline: float  # time.monotonic(): extraction stops taking further pages once past it
    max_document_bytes: int
    min_words: int


@dataclass(frozen=True)
class SiteAnalysis:
    report: Report | None  # None: no page could be read (``warnings[0]`` says why)
    warnings: list[str]
    context: SiteContext | None  # set when the report cites ClinicalTrials.gov numbers


class Analyst(Protocol):
    """Where CPU-bound work runs: reading pages and analysing them."""

    async def run(self, work: Callable[Concatenate[Engine, P], T], *args: P.args) -> T:
        """``work(engine, *args)``; ``work`` is a module-level function, its arguments and
        result plain data (they may cross to another process)."""

    async def extract(self, data: bytes, source: str, **options: Any) -> ExtractedPage:
        """``extract_document(data, source, **options)``."""

    async def analyse(self, job: AnalysisJob) -> SiteAnalysis:
        """``analyse_site(engine, job)``."""


class ThreadAnalyst:
    """On worker threads of this process: the event loop stays free; one core in all.
    ``limiter``: how many may run at once (anyio's default pool of 40 when None)."""

    def __init__(self, engine: Engine, limiter: anyio.CapacityLimiter | None = None) -> None:
        self.engine = engine
        self.limiter = limiter

    async def run(self, work: Callable[Concatenate[Engine, P], T], *args: P.args) -> T:
        call = partial(work, self.engine, *args)
        return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    async def extract(self, data: bytes, source: str, **options: Any) -> ExtractedPage:
        call = partial(extract_document, data, source, **options)
        return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    async def analyse(self, job: AnalysisJob) -> SiteAnalysis:
        return await self.run(analyse_site, job)


def analyse_site(engine: Engine, job: AnalysisJob) -> SiteAnalysis:
    pages, warnings = _extract(job)
    if not pages:
        return SiteAnalysis(None, warnings, None)
    report = engine.analyze(
        pages,
        job.url,
        explain=job.explain,
        warnings=warnings + job.notes,
        deadline=job.deadline,
    )
    cited = any(r.registry == "ClinicalTrials.gov" for r in report.identifiers.registry_ids)
    return SiteAnalysis(report, warnings, _site_context(report, pages) if cited else None)


def _extract(job: AnalysisJob) -> tuple[list[ExtractedPage], list[str]]:
    pages: list[ExtractedPage] = []
    warnings: list[str] = []
    entry = job.entry_page
    for index, page in enumerate(job.pages):
        if pages and time.monotonic() >= job.deadline:
            warnings.append(
                f"time for the site ran out after reading {index} of {len(job.pages)} pages"
            )
            break
        if entry is not None and page.final_url == entry.source:
            pages.append(entry)
            continue
        try:
            pages.append(
                extract_document(
                    page.body,
                    page.final_url,
                    content_type=page.content_type,
                    base_url=page.final_url,
                    max_bytes=job.max_document_bytes,
                    min_words=job.min_words,
                )
            )
        except ExtractionError as exc:
            warnings.append(f"{page.final_url}: {exc}")
    return pages, warnings


def _site_context(report: Report, pages: list[ExtractedPage]) -> SiteContext:
    """What the site says about itself, to compare with the registry entry."""
    names = [p.title for p in pages if p.title]
    names.append(registrable_domain(report.source).split(".")[0])
    places = [
        block.text
        for page in pages
        for block in page.blocks
        if block.region in ("footer", "header") or block.kind in ("title", "meta")
    ]
    conditions = [
        ev.match
        for finding in report.findings
        if finding.category in SITE_CATEGORIES
        for ev in finding.evidence
        if ev.match
    ]
    return SiteContext(names=names, places=places[:200], conditions=conditions)
