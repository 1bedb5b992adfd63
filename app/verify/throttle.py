"""Politeness and memory for the registry client: a token bucket, Retry-After, a TTL cache.

Clocks and sleeps are injected so tests can check waits without waiting.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Generic, TypeVar

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
V = TypeVar("V")


class TokenBucket:
    """Client-side rate limit: ``burst`` requests back to back, then ``per_minute`` on average."""

    def __init__(self, per_minute: float, burst: int, *, clock: Clock, sleep: Sleep) -> None:
        self._rate = per_minute / 60.0  # tokens per second
        self._capacity = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()

    async def acquire(self) -> None:
        """Take one token, sleeping until it is earned when the bucket is empty."""
        now = self._clock()
        if now > self._updated:
            elapsed = now - self._updated
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
            self._updated = now
        # Booking the token before sleeping (the balance may go negative) lets concurrent callers
        # queue up behind each other without a lock: each waits for its own place in line.
        self._tokens -= 1.0
        if self._tokens < 0:
            await self._sleep(-self._tokens / self._rate)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP date), or ``None``.

    ``now`` is the wall-clock time (epoch seconds) an HTTP date is measured against.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT even when the zone is missing
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class TTLCache(Generic[V]):
    """In-memory cache keyed by string whose entries expire ``ttl`` seconds after being stored."""

    def __init__(self, ttl: float, *, clock: Clock, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        """The stored value, or ``None`` when missing or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: str, value: V) -> None:
        """Store ``value``; a ttl of 0 disables caching."""
        if self._ttl <= 0:
            return
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            # Dicts keep insertion order, so the first key is the oldest entry: a long-running
            # service must not grow without bound on ids it saw once.
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (self._clock() + self._ttl, value)
