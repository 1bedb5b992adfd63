"""Check a live site: crawl it, analyse what was read, verify the trial numbers it cites.

This is the one place where fetching, analysis and registry look-ups meet; each stays
ignorant of the others. The API and batch screening call ``run_check``; the library entry point
``check_site`` returns just the report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import anyio

from app import __version__
from app.engine.analyzer import Engine
from app.engine.types import PageInfo, Report, TrialCheck
from app.fetch import FetchedPage, Fetcher, crawl_site
from app.fetch.crawl import Progress, silent
from app.pipeline.site_analysis import AnalysisJob, Analyst, ThreadAnalyst
from app.settings import Settings
from app.storage import ReportStore, StoredReport
from app.verify import RegistryClient, Verification, verify_trials

STUDY_URL = "https://clinicaltrials.gov/study/{}"


@dataclass(frozen=True)
class SiteCheck:
    """A finished check: the report plus the raw pages, which storage keeps as evidence."""

    report: Report
    fetched: list[FetchedPage]


async def check_site(url: str, settings: Settings, *, engine: Engine | None = None) -> Report:
    """Fetch ``url`` (and its telling pages), analyse them and return the report."""
    engine = engine or await anyio.to_thread.run_sync(Engine.from_settings, settings)
    async with Fetcher(settings) as fetcher, RegistryClient(settings) as registry:
        return (await run_check(url, settings, engine, fetcher, registry)).report


async def run_check(
    url: str,
    settings: Settings,
    engine: Engine,
    fetcher: Fetcher,
    registry: RegistryClient | None,
    *,
    max_pages: int | None = None,
    batch: bool = False,
    explain: bool = False,
    on_progress: Progress | None = None,
    analyst: Analyst | None = None,
) -> SiteCheck:
    """Crawl, analyse (CPU-bound: on worker threads, or where ``analyst`` says, such as worker
    processes) and verify registry numbers.

    Raises ``UrlRejected`` / ``AddressNotAllowed`` for an entry URL that may not be fetched.
    """
    # The site's time covers reading and analysing it: the crawl stops at this deadline on its
    # own clock, extraction and analysis stop taking further pages once it has passed.
    deadline = time.monotonic() + settings.site_timeout
    obey = settings.obey_robots_batch if batch else settings.obey_robots_single
    say = on_progress or silent
    analyst = analyst or ThreadAnalyst(engine)
    crawl = await crawl_site(
        url,
        fetcher,
        max_pages=max_pages or settings.max_pages,
        obey_robots=obey,
        on_progress=say,
        extract=analyst.extract,
    )
    fetched = crawl.all_pages
    if crawl.entry_error is not None:
        return SiteCheck(_unreadable(url, crawl.entry_error, fetched, engine), fetched)
    readable = [p for p in fetched if p.ok and p.body]
    say(f"analysing {len(readable)} page{'' if len(readable) == 1 else 's'}")
    job = AnalysisJob(
        url=url,
        pages=readable,
        entry_page=crawl.entry_page,
        notes=crawl.notes,
        explain=explain,
        deadline=deadline,
        max_document_bytes=settings.max_document_bytes,
        min_words=settings.min_words,
    )
    # Extraction and analysis are both CPU-bound: one trip off the event loop for both keeps
    # it free for other sites' downloads.
    analysis = await analyst.analyse(job)
    report = analysis.report
    if report is None:
        reason = analysis.warnings[0] if analysis.warnings else "no page could be read"
        return SiteCheck(_unreadable(url, reason, fetched, engine), fetched)
    report = report.model_copy(update={"pages": _page_infos(report.pages, fetched)})
    ids = [r.id for r in report.identifiers.registry_ids if r.registry == "ClinicalTrials.gov"]
    if ids and registry is not None and analysis.context is not None:
        say("asking ClinicalTrials.gov about the trial numbers")
        verifications = await verify_trials(ids, analysis.context, registry)
        checks = [_trial_check(v) for v in verifications]
        report = engine.add_trial_checks(report, checks)
    return SiteCheck(report, fetched)


def timeout_message(seconds: float) -> str:
    """What a person is told when a check runs out of ``check_timeout``."""
    return (
        f"Checking this site took longer than {seconds:g} seconds, so it was stopped. "
        "The site may be very slow; please try again later."
    )


async def check_and_save(
    url: str,
    typed: str,
    settings: Settings,
    engine: Engine,
    fetcher: Fetcher,
    registry: RegistryClient | None,
    store: ReportStore,
    *,
    max_pages: int | None = None,
    explain: bool = False,
    report_id: str | None = None,
    on_progress: Progress | None = None,
    analyst: Analyst | None = None,
) -> tuple[SiteCheck, StoredReport]:
    """A person's check, as the API and the patient's page run it: ``run_check`` within
    ``check_timeout`` (TimeoutError beyond it), then the report and its pages stored (an
    unreadable site too: its report says so). ``typed`` is the address as the person gave it;
    ``report_id`` the id a check job promised its report."""
    with anyio.fail_after(settings.check_timeout):
        result = await run_check(
            url,
            settings,
            engine,
            fetcher,
            registry,
            max_pages=max_pages,
            explain=explain,
            on_progress=on_progress,
            analyst=analyst,
        )
    save = partial(
        store.save,
        result.report,
        kind="check",
        input_url=typed,
        fetched=result.fetched,
        report_id=report_id,
    )
    stored = await anyio.to_thread.run_sync(save)  # blocking SQLAlchemy stays off the loop
    return result, stored


def _page_infos(analysed: list[PageInfo], fetched: list[FetchedPage]) -> list[PageInfo]:
    """Every page the crawler touched, read or not, with its fetch record."""
    by_url = {info.url: info for info in analysed}
    infos = []
    for page in fetched:
        base = by_url.get(page.final_url) or PageInfo(url=page.final_url)
        infos.append(
            base.model_copy(
                update={
                    "requested_url": page.requested_url,
                    "status": page.status,
                    "fetched_at": page.fetched_at,
                    "sha256": page.sha256,
                    "content_type": page.content_type,
                    "error": page.error or page.skipped,
                }
            )
        )
    return infos


def _unreadable(url: str, reason: str, fetched: list[FetchedPage], engine: Engine) -> Report:
    # A page we could not read must never look like "no red flags".
    return Report(
        source=url,
        score=None,
        verdict="unreadable",
        applicability=None,
        summary=f"We could not read this site, so we cannot say anything about it: {reason}.",
        pages=_page_infos([], fetched),
        rules_version=engine.ruleset.version,
        engine_version=__version__,
        warnings=[reason],
    )


def _trial_check(v: Verification) -> TrialCheck:
    record = v.record
    return TrialCheck(
        nct_id=v.nct_id,
        status=v.status,
        verdict=v.verdict,
        reason=v.reason,
        verdict_reason=v.verdict_reason,
        url=STUDY_URL.format(v.nct_id),
        title=record.brief_title if record else None,
        overall_status=record.overall_status if record else None,
        lead_sponsor=record.lead_sponsor if record else None,
        sponsor_class=record.sponsor_class if record else None,
        conditions=list(record.conditions) if record else [],
        patient_funded=v.patient_funded,
        registry_answer=record.answer if record else None,
        answered_at=record.answered_at if record else None,
    )
