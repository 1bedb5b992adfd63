"""The patient's pages: paste an address, get a report with a permanent link.

Plain HTML forms and redirects, so everything works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import (
    CheckJobsDep,
    CheckRunnerDep,
    EngineDep,
    FetcherDep,
    LimiterDep,
    RegistryDep,
    SettingsDep,
    StoreDep,
)
from app.engine.types import VERDICTS
from app.fetch import AddressNotAllowed, UrlRejected, normalize_url, refuse_address_literal
from app.jobs.checks import CheckJob
from app.pipeline.check import check_and_save, timeout_message
from app.web import view
from app.web.templating import templates

MAX_URL_CHARS = 2_000  # longer than any real clinic address; keeps junk out of the database
MAX_ID_CHARS = 64  # report ids are shorter; longer ones are not worth a database look-up
REFRESH_SECONDS = 2  # how often the page of a running check reloads itself

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request) -> Response:
    return _form(request, "", None)


@router.post("/check", response_class=HTMLResponse, name="check")
async def check(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    fetcher: FetcherDep,
    registry: RegistryDep,
    store: StoreDep,
    limiter: LimiterDep,
    jobs: CheckJobsDep,
    runner: CheckRunnerDep,
    url: Annotated[str, Form()] = "",
) -> Response:
    typed = url.strip()
    if not typed:
        return _form(request, typed, "Please paste the address of the clinic's website.")
    if len(typed) > MAX_URL_CHARS:
        return _form(request, typed, "That address is too long to be a clinic's website.")
    # The form costs what POST /api/v1/checks costs, so it counts against the same allowance.
    client = request.client.host if request.client else "unknown"
    decision = limiter.hit(f"check:ip:{client}", settings.check_limit_anonymous)
    if not decision.allowed:
        wait = decision.headers()["Retry-After"]
        message = f"You have checked many sites in a short time. Please wait {wait} seconds."
        return _form(request, typed, message, status=429, headers=decision.headers())
    try:
        # Normalising first turns "not a url" away before anything is fetched.
        target = normalize_url(typed)
        if runner is not None:
            refuse_address_literal(
                target, settings.allowed_networks
            )  # the usual way: a stored job, and a page that follows it
            job = await anyio.to_thread.run_sync(
                lambda: jobs.enqueue(target, typed, max_pages=None)
            )
            runner.wake()
            location = request.app.url_path_for("report", report_id=job.id)
            return RedirectResponse(str(location), status_code=303)
        _, stored = await check_and_save(target, typed, settings, engine, fetcher, registry, store)
    except TimeoutError:
        return _form(request, typed, timeout_message(settings.check_timeout), status=504)
    except AddressNotAllowed as exc:
        return _form(request, typed, f"That address is not allowed: {exc.reason}.")
    except UrlRejected as exc:
        message = f"That does not look like a web address ({exc.reason}). Try clinic-name.com."
        return _form(request, typed, message)
    # A path, not an absolute URL: behind a proxy the scheme and host we see may be wrong.
    location = request.app.url_path_for("report", report_id=stored.id)
    return RedirectResponse(str(location), status_code=303)


def not_found(request: Request) -> Response:
    """The friendly 404 page, for unknown report ids and any other unknown address."""
    report_link = request.url.path.startswith("/r/")
    return templates.TemplateResponse(
        request, "not_found.html", {"report_link": report_link}, status_code=404
    )


@router.get("/r/{report_id}", response_class=HTMLResponse, name="report")
def report(request: Request, report_id: str, store: StoreDep, jobs: CheckJobsDep) -> Response:
    # A plain def: FastAPI runs it in a worker thread, where blocking database calls belong.
    stored = store.get(report_id) if len(report_id) <= MAX_ID_CHARS else None
    if stored is None:
        job = jobs.get(report_id) if len(report_id) <= MAX_ID_CHARS else None
        return not_found(request) if job is None else _waiting(request, job)
    history = store.history(stored.site_key) if stored.site_key else []
    others = [summary for summary in history if summary.id != stored.id]
    context = {
        "stored": stored,
        "report": stored.report,
        "verdict": VERDICTS[stored.report.verdict],
        "site": view.site_name(stored.report, stored.final_url),
        "sections": view.sections(stored.report),
        # Questions for the clinic: where a seller is judged, or where the site could not be read.
        "ask_clinic": stored.report.judges_a_seller or stored.report.verdict == "unreadable",
        "titles": view.page_titles(stored.report),
        "others": others,
        "all_earlier": all(s.created_at <= stored.created_at for s in others),
        "permalink": str(request.url_for("report", report_id=stored.id)),
    }
    return templates.TemplateResponse(request, "report.html", context)


# How a check that stopped is answered on the page: the form again, with why.
FAILED_STATUS = {"check_timeout": 504, "url_rejected": 400, "address_not_allowed": 400}


def _waiting(request: Request, job: CheckJob) -> Response:
    """A check not finished yet: a page that refreshes itself (no script) until the report is
    there. A check that stopped: the form again, with the address and why."""
    if job.state == "failed":
        status = FAILED_STATUS.get(job.error_code or "", 500)
        message = job.error or "The check stopped. Please try again."
        if job.error_code == "url_rejected":
            message = f"That does not look like a web address. {message} Try clinic-name.com."
        return _form(request, job.input_url, message, status=status)
    context = {"job": job, "site": view.display_url(job.input_url), "refresh": REFRESH_SECONDS}
    return templates.TemplateResponse(
        request, "progress.html", context, headers={"Refresh": str(REFRESH_SECONDS)}
    )


def _form(
    request: Request,
    typed: str,
    error: str | None,
    *,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> Response:
    """The form, with the address as typed and what is wrong with it."""
    context = {"typed": typed, "error": error}
    return templates.TemplateResponse(
        request, "index.html", context, status_code=status if error else 200, headers=headers
    )
