"""ASGI middlewares that act before routing: request-size caps and per-path CORS."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import ErrorInfo, send_error
from app.settings import Settings

ANALYZE_PATH = "/api/v1/analyze"
BATCHES_PATH = "/api/v1/batches"


class BodyLimit:
    """Answer 413 when a request body exceeds ``limit_for(path)`` bytes.

    A declared Content-Length is refused at once; a chunked body is read up to the limit and
    then replayed to the app, so no route ever parses more than the limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the app see the disconnect
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    message = f"The request is too large: at most {limit:,} bytes are accepted."
    await send_error(send, 413, ErrorInfo(code="too_large", message=message), close=True)


def body_limits(settings: Settings) -> Callable[[str], int]:
    def limit_for(path: str) -> int:
        if path == BATCHES_PATH:  # a CSV of thousands of sites (app/api/batches.py)
            return settings.batch_max_upload_bytes
        return settings.max_analyze_bytes if path == ANALYZE_PATH else settings.max_request_bytes

    return limit_for


class PathCors:
    """CORS for configured web origins everywhere, plus browser extensions on analyze only.

    The extension sends the page its user is viewing to /api/v1/analyze; it has no business
    starting server-side fetches, so extension origins are not allowed on the check endpoints.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        common = {
            "allow_methods": ["GET", "POST"],
            "allow_headers": ["Content-Type", "X-API-Key"],
            "expose_headers": [
                "Location",
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
            "max_age": 600,
        }
        origins = list(settings.cors_origins)
        self.general = CORSMiddleware(app, allow_origins=origins, **common)
        self.analyze = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_origin_regex=settings.extension_origin_regex,
            **common,
        )
        re.compile(settings.extension_origin_regex)  # fail at start-up, not on a request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cors = self.analyze if scope["type"] == "http" and scope["path"] == ANALYZE_PATH else None
        cors = cors or self.general
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            send = _RefusalAsEnvelope(send)
        await cors(scope, receive, send)


class _RefusalAsEnvelope:
    """Starlette refuses a preflight in plain text ("Disallowed CORS origin"); say it in the
    API's JSON error envelope like every other refusal. Other answers pass untouched."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.refused = False
        self.text = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 400:
            self.refused = True
            return
        if not self.refused:
            await self.send(message)
            return
        self.text += message.get("body", b"")
        if not message.get("more_body", False):
            reason = self.text.decode("utf-8", "replace").strip() or "Disallowed CORS request"
            info = ErrorInfo(
                code="cors_refused",
                message=f"{reason}: this origin may not call this endpoint from a browser.",
            )
            await send_error(self.send, 400, info)
