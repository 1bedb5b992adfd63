"""``/api/v1/analyze``: analyse content the caller already has (the browser extension).

Nothing is fetched: ``url`` only says where the content came from. Nothing is stored either,
unless the caller sends ``store: true``: the page a person is reading stays private by default.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import anyio
from fastapi import APIRouter, Depends, Response

from app.api.deps import AnalystDep, SettingsDep, StoreDep, analyze_limit
from app.api.errors import ApiError, error_responses
from app.api.schemas import AnalyzeRequest, AnalyzeResponse, ReportResponse
from app.engine.analyzer import Engine
from app.engine.types import Report
from app.extract.document import ExtractionError, extract_html, extract_text
from app.fetch import FetchedPage, normalize_url

router = APIRouter(tags=["analyze"])

UNNAMED_SOURCE = "submitted-page"
JSON = "application/json"


@router.post(
    "/analyze",
    response_model=AnalyzeResponse,
    dependencies=[Depends(analyze_limit)],
    responses=error_responses(400, 401, 413, 422, 429),
    summary="Analyse a page the caller already has",
)
async def analyze(
    body: AnalyzeRequest,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    analyst: AnalystDep,
) -> AnalyzeResponse | Response:
    """Analyse the HTML or text sent (one page). The request body may be at most
    `max_analyze_bytes` (2 MB by default; 413 above)."""
    url = normalize_url(body.url) if body.url else None  # UrlRejected → 400
    source = url or UNNAMED_SOURCE
    is_html = body.html is not None
    data = (body.html if is_html else body.text or "").encode("utf-8")
    sent = Submission(
        data, source, url, is_html, settings.max_analyze_bytes, settings.min_words, body.explain
    )
    try:
        # CPU-bound: where the analyst says (worker processes, or threads taking turns).
        if not body.store:
            # The answer is serialised where it was made: the report crosses from an analysis
            # process as the response's bytes, not as objects to unpickle, check and serialise.
            answer = Response(await analyst.run(answer_unstored, sent), media_type=JSON)
            # FastAPI adds the headers set on ``response`` (the rate limit's) only to answers
            # it serialises itself.
            answer.headers.update(response.headers)
            return answer
        report = await analyst.run(read_and_analyze, sent)
    except ExtractionError as exc:
        raise ApiError(
            422, "unreadable_content", f"The content could not be read: {exc}."
        ) from None
    submitted = _submitted_page(data, source, is_html=is_html)
    report = _with_page_record(report, submitted)
    save = partial(store.save, report, kind="analyze", input_url=url, fetched=[submitted])
    stored = await anyio.to_thread.run_sync(save)  # blocking SQLAlchemy stays off the loop
    links = ReportResponse.of(stored).links
    return AnalyzeResponse(id=stored.id, stored=True, links=links, report=stored.report)


@dataclass(frozen=True)
class Submission:
    """Content a caller sent, as plain data (it may cross to an analysis process)."""

    data: bytes
    source: str  # its address, or UNNAMED_SOURCE
    url: str | None
    is_html: bool
    max_bytes: int
    min_words: int
    explain: bool


def read_and_analyze(engine: Engine, sent: Submission) -> Report:
    """Extract the submitted content and analyse it; raises ``ExtractionError`` for content
    that cannot be read."""
    if sent.is_html:
        page = extract_html(
            sent.data,
            sent.source,
            base_url=sent.url,
            declared_charset="utf-8",
            max_bytes=sent.max_bytes,
            min_words=sent.min_words,
        )
    else:
        page = extract_text(
            sent.data, sent.source, max_bytes=sent.max_bytes, min_words=sent.min_words
        )
    return engine.analyze([page], sent.source, explain=sent.explain)


def answer_unstored(engine: Engine, sent: Submission) -> bytes:
    """``read_and_analyze``, answered as the JSON of an ``AnalyzeResponse`` of nothing stored."""
    report = read_and_analyze(engine, sent)
    return AnalyzeResponse(id=None, stored=False, report=report).model_dump_json().encode()


def _submitted_page(data: bytes, source: str, *, is_html: bool) -> FetchedPage:
    """The submitted content in the form storage keeps fetched pages in (status: none)."""
    return FetchedPage(
        requested_url=source,
        final_url=source,
        status=None,
        fetched_at=datetime.now(UTC),
        content_type="text/html" if is_html else "text/plain",
        charset="utf-8",
        body=data,
        sha256=hashlib.sha256(data).hexdigest(),
        truncated=False,
        redirects=(),
        error=None,
        skipped=None,
    )


def _with_page_record(report: Report, page: FetchedPage) -> Report:
    """Point the report's page at the stored copy (its hash), as checks do for fetched pages."""
    pages = [
        info.model_copy(
            update={
                "sha256": page.sha256,
                "fetched_at": page.fetched_at,
                "content_type": page.content_type,
            }
        )
        for info in report.pages
    ]
    return report.model_copy(update={"pages": pages})
