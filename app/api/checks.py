"""``/api/v1/checks``: fetch a clinic's site, analyse it, store the report under a permalink.

A check answers when it is done (201), bounded by ``settings.check_timeout`` (504 beyond it);
there is no 202-and-poll mode yet, as a check takes seconds, not minutes. A site that cannot be
reached at all gets 502, and its 'unreadable' report is stored all the same (the error names
it), so an investigator can show that the site was down that day.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from app.api.deps import EngineDep, FetcherDep, RegistryDep, SettingsDep, StoreDep, check_limit
from app.api.errors import ApiError, error_responses
from app.api.schemas import CheckRequest, ReportResponse, SiteHistory
from app.pipeline.check import SiteCheck, check_and_save

router = APIRouter(tags=["checks"])

ReportId = Annotated[str, Path(max_length=64, description="The report's id.")]


@router.post(
    "/checks",
    status_code=201,
    response_model=ReportResponse,
    dependencies=[Depends(check_limit)],
    responses=error_responses(400, 401, 413, 422, 429, 502, 504),
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
) -> ReportResponse:
    """Read the site (the entry page and up to `max_pages - 1` telling pages it links to),
    analyse it, verify the trial numbers it cites, and store the report with those pages."""
    max_pages = min(body.max_pages or settings.max_pages, settings.max_pages)
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
        raise ApiError(
            504,
            "check_timeout",
            f"Checking this site took longer than {settings.check_timeout:g} seconds, so it was "
            "stopped. The site may be very slow; please try again later.",
        ) from None
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
    response_model=ReportResponse,
    responses=error_responses(404, 422),
    summary="A stored report",
)
def get_check(report_id: ReportId, store: StoreDep) -> ReportResponse:
    """Any stored report by its id: a check, or an analysis stored with `store: true`."""
    stored = store.get(report_id)
    if stored is None:
        raise ApiError(
            404,
            "report_not_found",
            "No report has this id. Check the link: ids are case-sensitive.",
        )
    return ReportResponse.of(stored)


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
