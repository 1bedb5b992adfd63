"""Every error leaves as ``{"error": {"code": ..., "message": ...}}`` with the right status.

Messages are sentences a person understands; a stack trace never reaches the client (the
catch-all handler logs it and answers with a generic 500).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from app.fetch import AddressNotAllowed, UrlRejected


class FieldProblem(BaseModel):
    field: str = Field(description="Where in the request, e.g. `url` or `max_pages`.")
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `url_rejected`.")
    message: str = Field(description="What went wrong, in a sentence a person understands.")
    fields: list[FieldProblem] | None = Field(None, description="422 only: each invalid field.")
    report_id: str | None = Field(None, description="502 only: the stored 'unreadable' report.")


class ErrorBody(BaseModel):
    error: ErrorInfo


class ApiError(Exception):
    """Raise from a route or dependency to answer with the error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        report_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.info = ErrorInfo(code=code, message=message, report_id=report_id)
        self.headers = dict(headers or {})


async def send_error(send: Send, status: int, info: ErrorInfo, *, close: bool = False) -> None:
    """Answer with the envelope from a pure-ASGI middleware (before routing, or after a route
    failed); ``close`` asks the client to drop the connection (an unread request body)."""
    body = ErrorBody(error=info).model_dump_json(exclude_none=True).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _respond(
    request: Request, status: int, info: ErrorInfo, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    merged = dict(getattr(request.state, "rate_limit_headers", {}))
    merged.update(headers or {})
    return JSONResponse(
        ErrorBody(error=info).model_dump(exclude_none=True), status_code=status, headers=merged
    )


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


_HTTP_MESSAGES = {
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
}


def install_error_handlers(
    app: FastAPI, *, page_not_found: Callable[[Request], Response] | None = None
) -> None:
    """Map every exception to the envelope; ``page_not_found`` answers people's 404s in HTML."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(request, exc.status, exc.info, exc.headers)

    @app.exception_handler(UrlRejected)
    async def url_rejected(request: Request, exc: UrlRejected) -> JSONResponse:
        # AddressNotAllowed is a UrlRejected; both messages already name the URL and the reason.
        code = "address_not_allowed" if isinstance(exc, AddressNotAllowed) else "url_rejected"
        return _respond(request, 400, ErrorInfo(code=code, message=f"{exc}."))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            if item.get("type") == "json_invalid":
                problems.append(FieldProblem(field="body", message="the body is not valid JSON"))
            else:
                message = str(item.get("msg", "is not valid")).removeprefix("Value error, ")
                problems.append(
                    FieldProblem(field=_field_name(item.get("loc", ())), message=message)
                )
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        info = ErrorInfo(
            code="invalid_request", message=f"The request is not valid ({listed}).", fields=problems
        )
        return _respond(request, 422, info)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and page_not_found is not None and _wants_page(request):
            return page_not_found(request)
        code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
        return _respond(
            request, exc.status_code, ErrorInfo(code=code, message=message), exc.headers
        )


def _wants_page(request: Request) -> bool:
    """A browser asking for a page outside the API gets HTML, not the JSON envelope."""
    api = request.url.path.startswith("/api/")
    return not api and "text/html" in request.headers.get("accept", "")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error envelope for these statuses."""
    descriptions = {
        400: "The address is not a web address, or not one this service may fetch.",
        401: "The API key is unknown or revoked.",
        404: "No report has this id.",
        413: "The request body is too large.",
        422: "A field is missing or invalid; `fields` names it.",
        429: "Too many requests; see `Retry-After`.",
        502: "The site could not be reached; the 'unreadable' report is stored (`report_id`).",
        503: "Not ready: the pipeline is not loaded or the database does not answer.",
        504: "The check took longer than the server allows.",
    }
    return {s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses}
