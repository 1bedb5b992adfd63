"""``/api/v1/checks``: fetch a clinic's site, analyse it, store the report under a permalink.

``POST`` answers ``202`` at once with a ``Location``; the check runs as a stored job (it
survives the request and a restart of the service) and ``GET`` on that address shows its state
(queued, running with its phase, failed) and then the report, under the same id. ``?wait=true``
keeps the synchronous form for scripts: the report itself (201) within
``settings.check_timeout`` (504 beyond it); a site that cannot be reached at all gets 502 there,
its 'unreadable' report stored all the same (the error names it).
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from app.api.deps import (
    CheckJobsDep,
    CheckRunnerDep,
    EngineDep,
    FetcherDep,
    RegistryDep,
    SettingsDep,
    StoreDep,
    check_limit,
)
from app.api.errors import ApiError, ErrorInfo, error_responses
from app.api.schemas import CheckLinks, CheckRequest, CheckStatus, ReportResponse, SiteHistory
from app.fetch import normalize_url, refuse_address_literal
from app.jobs.checks import CheckJob
from app.pipeline.check import SiteCheck, check_and_save, timeout_message

router = APIRouter(tags=["checks"])

ReportId = Annotated[str, Path(max_length=64, description="The report's id.")]


@router.post(
    "/checks",
    status_code=202,
    response_model=CheckStatus | ReportResponse,
    dependencies=[Depends(check_limit)],
    responses={
        201: {"model": ReportResponse, "description": "With `?wait=true`: the report."},
        202: {"model": CheckStatus, "description": "Queued: poll the `Location`."},
        **error_responses(400, 401, 413, 422, 429, 502, 504),
    },
    summary="Check a clinic's website",
)
async def create_check(
    body: CheckRequest,
    response: Response,
    settings: SettingsDep,
    engine: EngineDep,
    fetcher: FetcherDep,
    registry: RegistryDep,
    store: StoreDep,
    jobs: CheckJobsDep,
    runner: CheckRunnerDep,
    wait: Annotated[
        bool, Query(description="Answer with the report when it is done (201), for scripts.")
    ] = False,
) -> CheckStatus | ReportResponse:
    """Read the site (the entry page and up to `max_pages - 1` telling pages it links to),
    analyse it, verify the trial numbers it cites, and store the report with those pages."""
    max_pages = min(body.max_pages or settings.max_pages, settings.max_pages)
    if not wait:
        url = normalize_url(body.url)  # a bad address is refused now, not after the 202
        refuse_address_literal(url, settings.allowed_networks)
        job = await anyio.to_thread.run_sync(
            lambda: jobs.enqueue(url, body.url, max_pages=max_pages, explain=body.explain)
        )
        if runner is not None:
            runner.wake()
        response.headers["Location"] = f"/api/v1/checks/{job.id}"
        response.headers["Retry-After"] = "1"
        return check_status(job)
    response.status_code = 201
    try:
        result, stored = await check_and_save(
            body.url,
            body.url,
            settings,
            engine,
            fetcher,
            registry,
            store,
            max_pages=max_pages,
            explain=body.explain,
        )
    except TimeoutError:
        raise ApiError(504, "check_timeout", timeout_message(settings.check_timeout)) from None
    if _unreachable(result):
        reason = result.report.warnings[0] if result.report.warnings else "no answer"
        raise ApiError(
            502,
            "site_unreachable",
            f"The site could not be reached ({reason}). Check the address, or try again later.",
            report_id=stored.id,
        )
    response.headers["Location"] = f"/api/v1/checks/{stored.id}"
    return ReportResponse.of(stored)


def _unreachable(result: SiteCheck) -> bool:
    """No page answered at all (refused, unknown host, timed out), as opposed to a site that
    answered with an error page or with nothing readable, which is a report in itself."""
    return result.report.verdict == "unreadable" and all(
        page.status is None for page in result.fetched
    )


@router.get(
    "/checks/{report_id}",
    response_model=ReportResponse | CheckStatus,
    responses=error_responses(404, 422),
    summary="A check's state, then its report",
)
def get_check(
    report_id: ReportId, response: Response, store: StoreDep, jobs: CheckJobsDep
) -> ReportResponse | CheckStatus:
    """The report once the check is done (or any stored report: an analysis stored with
    `store: true`); until then the check's state, with `Retry-After`."""
    stored = store.get(report_id)
    if stored is not None:
        return ReportResponse.of(stored)
    job = jobs.get(report_id)
    if job is None or job.state == "done":  # done without a report: it was deleted
        raise ApiError(
            404,
            "report_not_found",
            "No report has this id. Check the link: ids are case-sensitive.",
        )
    if not job.finished:
        response.headers["Retry-After"] = "1"
    return check_status(job)


def check_status(job: CheckJob) -> CheckStatus:
    """A check that has no report yet, as the API shows it."""
    error = (
        ErrorInfo(code=job.error_code or "failed", message=job.error or "") if job.error else None
    )
    return CheckStatus(
        id=job.id,
        state=job.state,  # type: ignore[arg-type]
        phase=job.phase,
        url=job.input_url,
        created_at=job.created_at,
        updated_at=job.updated_at,
        error=error,
        links=CheckLinks(api=f"/api/v1/checks/{job.id}", page=f"/r/{job.id}"),
    )


@router.get(
    "/checks/{report_id}/pages/{sha256}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The page's bytes."},
        **error_responses(404, 422),
    },
    summary="A page exactly as it was read",
)
def get_page_body(
    report_id: ReportId,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    store: StoreDep,
) -> Response:
    """The bytes a report's page was read from (its `pages[].sha256`), as evidence of what the
    site said that day. Sent as a download, never rendered: it is the clinic's markup."""
    body = store.page_body(report_id, sha256)
    if body is None:
        raise ApiError(404, "page_not_found", "This report has no stored page with that hash.")
    return Response(
        body,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{sha256[:16]}.html"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.get(
    "/checks/{report_id}/registry/{nct_id}",
    responses={
        200: {"description": "The study record as the registry sent it."},
        **error_responses(404, 422),
    },
    summary="What the trial registry answered",
)
def get_registry_answer(
    report_id: ReportId,
    nct_id: Annotated[str, Path(pattern=r"^NCT\d{8}$", description="e.g. `NCT01234567`")],
    store: StoreDep,
) -> JSONResponse:
    """The ClinicalTrials.gov study record the check received for a number the site cites,
    as it was that day, with when it came: evidence that does not change when the registry
    entry does."""
    stored = store.get(report_id)
    check = (
        next((c for c in stored.report.trial_checks if c.nct_id == nct_id), None)
        if stored
        else None
    )
    if check is None or check.registry_answer is None:
        raise ApiError(
            404, "registry_answer_not_found", "This report kept no registry answer for that number."
        )
    answered = check.answered_at.isoformat() if check.answered_at else None
    return JSONResponse(
        {
            "nct_id": nct_id,
            "answered_at": answered,
            "source": check.url,
            "answer": check.registry_answer,
        }
    )


@router.get(
    "/sites/{site_key}/reports",
    response_model=SiteHistory,
    responses=error_responses(422),
    summary="A site's reports over time",
)
def site_reports(
    site_key: Annotated[str, Path(max_length=255, description="e.g. `clinic.example`")],
    store: StoreDep,
) -> SiteHistory:
    """Every stored report of one site (its registrable domain), newest first, at most 50."""
    return SiteHistory(site_key=site_key, reports=store.history(site_key.lower(), limit=50))
