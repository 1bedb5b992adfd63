"""``/api/v1/batches``: screen many sites at once (API key required).

A batch is queued and answered at once (202 with its address); the worker inside the service
(``app.jobs.service``, started by ``create_app``'s lifespan) checks the sites, and the batch can
be polled, downloaded as a table, summarised for people, or cancelled. Batches belong to the
key that made them: another key gets 404, as if there were no such batch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.api.batch_schemas import BatchLinks, BatchRequest, BatchStatus
from app.api.deps import ApiKeyDep, BatchQueueDep, BatchWorkerDep, SettingsDep
from app.api.errors import ApiError, ErrorBody, error_responses
from app.jobs import export
from app.jobs.inputs import InputError, read_sites
from app.jobs.queue import NewItem, Progress
from app.jobs.results import batch_table, header, table_rows
from app.jobs.store import SqlJobQueue
from app.jobs.summary import render_summary, style_csp
from app.storage import ApiKey
from app.storage.batch_tables import BatchRow

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


router = APIRouter(prefix="/batches", tags=["batches"])
BatchId = Annotated[str, Path(max_length=32, description="The batch's id.")]


def require_key(key: ApiKeyDep) -> ApiKey:
    if key is None:
        raise ApiError(
            401,
            "api_key_required",
            "Batches need an API key: send it in the X-API-Key header. Ask the operator "
            "for one (redflags keys create).",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    return key


KeyDep = Annotated[ApiKey, Depends(require_key)]
BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BatchRequest.model_json_schema()},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "url,case\nhttps://clinic.example,C-17\n",
            },
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=BatchStatus,
    responses={
        **error_responses(400, 401, 413, 422),
        415: {"model": ErrorBody, "description": "Neither JSON nor CSV."},
    },
    openapi_extra=BODY_DOC,
    summary="Queue a batch of sites",
)
async def create_batch(
    request: Request,
    response: Response,
    settings: SettingsDep,
    key: KeyDep,
    queue: BatchQueueDep,
    worker: BatchWorkerDep,
) -> BatchStatus:
    """Send JSON `{"urls": [...]}`, or a CSV (`Content-Type: text/csv`) with a `url` column
    whose other columns are carried through to the results. Answers 202 at once."""
    # The body's size is capped before routing (BodyLimit: settings.batch_max_upload_bytes).
    body = await request.body()
    items, columns, max_pages = _parse(request.headers.get("content-type", ""), body)
    if len(items) > settings.batch_max_sites:
        raise ApiError(
            413, "too_many_sites", f"A batch may hold at most {settings.batch_max_sites} sites."
        )
    options = {
        "max_pages": min(max_pages or settings.max_pages, settings.max_pages),
        "columns": columns,
        "input": "upload",
    }
    enqueue = partial(queue.enqueue, items, options=options, owner_key_id=key.id)
    batch_id = await anyio.to_thread.run_sync(enqueue)  # blocking SQLAlchemy stays off the loop
    if worker is not None:
        worker.wake()
    response.headers["Location"] = f"{request.url.path}/{batch_id}"
    return await anyio.to_thread.run_sync(_status, queue, batch_id, key, request)


@router.get(
    "/{batch_id}",
    response_model=BatchStatus,
    responses=error_responses(401, 404),
    summary="A batch's progress",
)
def get_batch(
    batch_id: BatchId, request: Request, key: KeyDep, queue: BatchQueueDep
) -> BatchStatus:
    return _status(queue, batch_id, key, request)


@router.delete(
    "/{batch_id}",
    response_model=BatchStatus,
    responses=error_responses(401, 404),
    summary="Cancel a batch",
)
def cancel_batch(
    batch_id: BatchId, request: Request, key: KeyDep, queue: BatchQueueDep
) -> BatchStatus:
    """Sites not started are skipped; sites being checked finish and keep their reports."""
    _owned(queue, batch_id, key)
    queue.cancel(batch_id)
    return _status(queue, batch_id, key, request)


@router.get(
    "/{batch_id}/results",
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}},
        **error_responses(401, 404, 422),
    },
    summary="A batch's results table",
)
def batch_results(
    batch_id: BatchId,
    request: Request,
    key: KeyDep,
    queue: BatchQueueDep,
    format: Annotated[Literal["csv", "jsonl", "json", "xlsx"], Query()] = "json",
) -> Response:
    """One row per input line, in input order; unfinished sites show their state."""
    batch = _owned(queue, batch_id, key)
    columns = list(batch.options.get("columns", []))
    rows = table_rows(queue.items(batch_id), columns, _report_url(request))
    headers = {"Content-Disposition": f'attachment; filename="batch-{batch_id}.{format}"'}
    return Response(
        export.render(rows, header(columns), format),
        media_type=MEDIA_TYPES[format],
        headers=headers if format in ("csv", "xlsx") else None,
    )


@router.get(
    "/{batch_id}/summary",
    # The errors are JSON, so the route keeps the JSON default and documents its HTML here.
    responses={
        200: {"content": {"text/html": {}}, "description": "The summary page."},
        **error_responses(401, 404, 422),
    },
    summary="A batch's summary page",
)
def batch_summary(
    batch_id: BatchId,
    request: Request,
    key: KeyDep,
    queue: BatchQueueDep,
    sort: Annotated[Literal["line", "url", "verdict", "score", "red_flags"], Query()] = "score",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> HTMLResponse:
    batch = _owned(queue, batch_id, key)
    page = render_summary(
        batch_table(queue, batch, _report_url(request)),
        title=f"Batch {batch_id}",
        created_at=batch.created_at,
        sort=(sort, order),
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": style_csp()})


def _parse(content_type: str, body: bytes) -> tuple[list[NewItem], list[str], int | None]:
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/csv", "text/plain"):
        try:
            sites = read_sites(body)
        except InputError as exc:
            raise ApiError(400, "unreadable_list", f"{exc}.") from None
        if not sites.items:
            raise ApiError(422, "empty_batch", "The list holds no addresses.")
        return sites.items, sites.columns, None
    if media != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            'Send JSON ({"urls": [...]}) or a CSV with Content-Type: text/csv.',
        )
    try:
        request = BatchRequest.model_validate_json(body)
    except ValidationError as exc:
        listed = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise ApiError(422, "invalid_request", f"The request is not valid ({listed}).") from None
    items = [NewItem(i, url) for i, url in enumerate(request.urls, start=1)]
    return items, [], request.max_pages


def _owned(queue: SqlJobQueue, batch_id: str, key: ApiKey) -> BatchRow:
    batch = queue.batch(batch_id)
    if batch is None or batch.owner_key_id != key.id:
        raise ApiError(404, "not_found", "There is no batch with this id for your API key.")
    return batch


def _status(queue: SqlJobQueue, batch_id: str, key: ApiKey, request: Request) -> BatchStatus:
    batch = _owned(queue, batch_id, key)
    progress: Progress | None = queue.progress(batch_id)
    assert progress is not None
    base = f"{request.scope.get('root_path', '')}/api/v1/batches/{batch_id}"
    return BatchStatus(
        id=batch_id,
        status=progress.status,  # type: ignore[arg-type]  # the column holds BatchStatus values
        created_at=batch.created_at,
        total=progress.total,
        unreadable=progress.unreadable,
        links=BatchLinks(status=base, results=f"{base}/results", summary=f"{base}/summary"),
        **progress.counts,
    )


def _report_url(request: Request) -> Callable[[str], str]:
    base = str(request.base_url).rstrip("/")
    return lambda report_id: f"{base}/r/{report_id}"
