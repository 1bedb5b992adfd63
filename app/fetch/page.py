"""What a fetch returns, and the byte budget several fetches can share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class FetchedPage:
    """One fetched URL. ``error`` set means the page could not be read in full (``body`` may
    hold what arrived first); ``skipped`` means it was deliberately not read."""

    requested_url: str
    final_url: str
    status: int | None
    fetched_at: datetime
    content_type: str | None
    charset: str | None
    body: bytes
    sha256: str
    truncated: bool
    redirects: tuple[str, ...]
    error: str | None
    skipped: str | None

    @classmethod
    def failed(cls, url: str, error: str) -> FetchedPage:
        """A page that was never requested (refused, or not allowed by robots.txt)."""
        return cls(
            requested_url=url,
            final_url=url,
            status=None,
            fetched_at=datetime.now(UTC),
            content_type=None,
            charset=None,
            body=b"",
            sha256=hashlib.sha256(b"").hexdigest(),
            truncated=False,
            redirects=(),
            error=error,
            skipped=None,
        )

    @property
    def ok(self) -> bool:
        """A 2xx page of an accepted type that was read without error."""
        return self.error is None and self.skipped is None and 200 <= (self.status or 0) < 300


@dataclass
class ByteBudget:
    """Decoded bytes that a group of fetches (one site's crawl) may still keep in total."""

    remaining: int

    def take(self, wanted: int) -> int:
        granted = min(wanted, self.remaining)
        self.remaining -= granted
        return granted
