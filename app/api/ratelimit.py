"""A small in-process sliding-window rate limiter (one per server process).

Each uvicorn worker keeps its own counts, so N workers allow up to N times the limit; running
several processes or machines behind a load balancer will need a shared store such as Redis.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: float  # seconds until the oldest request in the window leaves it

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset)),  # delta seconds, not an epoch
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.reset)))
        return headers


class SlidingWindowLimiter:
    """At most ``limit`` requests per key in any ``window`` seconds.

    Keeps each key's request times (at most ``limit`` of them); the least recently seen keys
    are forgotten beyond ``max_keys`` so a flood of client addresses cannot exhaust memory.
    """

    def __init__(
        self,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> RateDecision:
        """Count one request for ``key`` unless it is over ``limit``; say which."""
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            self._hits[key] = hits  # re-inserted last: the most recently seen key
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            reset = hits[0] + self.window - now if hits else 0.0
            return RateDecision(allowed, limit, max(0, limit - len(hits)), reset)
