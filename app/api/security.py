"""Security headers on every response, the API's and the web pages' alike.

The pages need no inline script or style, so the policy is ``default-src 'self'``. The
interactive docs (``/docs``, ``/redoc``) load Swagger UI and ReDoc from the service itself
(``fastapi-offline``'s copies, no CDN) with an inline bootstrap, and ReDoc injects its styles,
so those two pages alone get a policy that allows exactly that.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import ErrorInfo, send_error

log = logging.getLogger(__name__)
INTERNAL_ERROR = ErrorInfo(
    code="internal_error",
    message="Something went wrong on our side. It has been logged; please try again later.",
)

CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc"})
# Report permalinks and API answers are private: no shared cache may keep them, no browser
# should write them to disk.
PRIVATE_PREFIXES = ("/r/", "/api/")
PRIVATE_CACHE = "private, no-store"
# Sent only over HTTPS (directly, or behind a proxy named in forwarded_allow_ips): a browser
# ignores it on plain HTTP, and a local service on http://127.0.0.1 must stay reachable.
HSTS = "max-age=31536000; includeSubDomains"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Report permalinks are secrets: never send one to the sites a report links to.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering); a route's own CSP is left as it set it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        csp = DOCS_CSP if path in DOCS_PATHS else CSP
        private = path.startswith(PRIVATE_PREFIXES)
        https = scope.get("scheme") == "https"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if private:
                    headers.setdefault("Cache-Control", PRIVATE_CACHE)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answered here rather than by Starlette's outermost error middleware, so a 500
            # carries the same headers and error envelope as every other response, and the
            # exception ends here: re-raised, it made the server drop the keep-alive connection.
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if not started:
                await send_error(send_with_headers, 500, INTERNAL_ERROR)
