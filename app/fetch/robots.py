"""robots.txt, read with protego and cached per site for the life of one ``RobotsCache``.

When it is obeyed is a policy choice (see ``obey_robots``). How an unreadable robots.txt is
treated follows RFC 9309, section 2.3.1:

* 2xx: the rules apply.
* 4xx (404, and also 401/403): "unavailable", so everything may be fetched.
* 5xx, or no answer at all (connection refused, timeout, DNS failure): "unreachable", so
  nothing may be fetched; a server in trouble should not be crawled.
* Redirects are followed (up to ``max_redirects``, the RFC asks for at least five); a chain that
  does not end is treated as "unavailable", as the RFC allows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from app.fetch.client import Fetcher
from app.fetch.urls import UrlRejected
from app.settings import Settings


def obey_robots(settings: Settings, *, batch: bool) -> bool:
    """Whether robots.txt is obeyed for a check.

    Batch checks (many sites, run unattended) behave as a crawler and obey it by default
    (``obey_robots_batch``). A single check is a patient looking at one clinic's public pages,
    much like opening them in a browser, which robots.txt does not govern; it ignores robots.txt
    by default (``obey_robots_single`` is False) and reads only a handful of pages, politely.
    """
    return settings.obey_robots_batch if batch else settings.obey_robots_single


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    reason: str  # why, in words for notes and skipped-link lists


class RobotsCache:
    """Answers "may this URL be fetched?" with one robots.txt fetch per site (origin)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        # The first token of the User-Agent ("redflags") is what robots.txt groups name.
        self._agent = fetcher.settings.user_agent.split("/")[0].split()[0]
        self._rules: dict[str, Protego | RobotsVerdict] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, url: str) -> RobotsVerdict:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._locks.setdefault(origin, asyncio.Lock()):
            if origin not in self._rules:
                self._rules[origin] = await self._load(origin)
        rules = self._rules[origin]
        if isinstance(rules, RobotsVerdict):
            return rules
        if rules.can_fetch(url, self._agent):
            return RobotsVerdict(True, "robots.txt allows it")
        return RobotsVerdict(False, f"{origin}/robots.txt disallows it")

    async def _load(self, origin: str) -> Protego | RobotsVerdict:
        robots_url = f"{origin}/robots.txt"
        try:
            page = await self._fetcher.fetch(robots_url, any_type=True)
        except UrlRejected as exc:  # the page itself will be refused with the same reason
            return RobotsVerdict(True, f"robots.txt was not fetched: {exc}")
        status = page.status or 0
        if 200 <= status < 300:  # a body cut short by a limit still holds rules worth obeying
            return Protego.parse(page.body.decode("utf-8", errors="replace").lstrip("\ufeff"))
        if status >= 500 or page.status is None:
            why = f"HTTP {status}" if page.status else page.error
            return RobotsVerdict(
                False, f"{robots_url} could not be read ({why}); RFC 9309 then means 'disallow all'"
            )
        return RobotsVerdict(True, f"{robots_url} is unavailable (HTTP {status}): all allowed")
