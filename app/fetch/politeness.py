"""Per-host politeness: a few requests at a time, spaced out, whoever asks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class HostGate:
    """At most ``concurrency`` requests in flight to one host, starts ``delay`` s apart."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._delay = delay
        self._next_start = 0.0
        self._users = 0  # waiting or in flight

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        self._users += 1
        try:
            async with self._slots:
                now = asyncio.get_running_loop().time()
                start = max(now, self._next_start)
                self._next_start = start + self._delay  # reserve the slot before sleeping
                await asyncio.sleep(start - now)
                yield
        finally:
            self._users -= 1

    def idle(self, now: float) -> bool:
        """Nobody is using it and its pause is over: forgetting it changes nothing."""
        return self._users == 0 and self._next_start <= now


class HostGates:
    """One gate per host, forgetting idle ones so a long-running service does not grow."""

    def __init__(self, concurrency: int, delay: float, *, keep: int = 1024) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._keep = keep
        self._gates: dict[str, HostGate] = {}

    def __len__(self) -> int:
        return len(self._gates)

    def for_host(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            if len(self._gates) >= self._keep:
                now = asyncio.get_running_loop().time()
                self._gates = {h: g for h, g in self._gates.items() if not g.idle(now)}
            gate = self._gates[host] = HostGate(self._concurrency, self._delay)
        return gate
