"""Per-host gates: spacing and limits per host, and no unbounded growth in a long-lived server."""

from __future__ import annotations

import asyncio

import pytest

from app.fetch.politeness import HostGates


@pytest.mark.anyio
async def test_idle_gates_are_forgotten_busy_ones_kept() -> None:
    gates = HostGates(concurrency=2, delay=0.0, keep=4)
    busy = gates.for_host("busy.example")
    async with busy.turn():
        for i in range(10):
            async with gates.for_host(f"site{i}.example").turn():
                pass
        assert len(gates) <= 5  # the limit, plus the gate just made
        assert gates.for_host("busy.example") is busy  # in use: never dropped


@pytest.mark.anyio
async def test_a_gate_spaces_requests_to_one_host() -> None:
    gates = HostGates(concurrency=1, delay=0.05)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def request() -> None:
        async with gates.for_host("clinic.example").turn():
            starts.append(loop.time())

    await asyncio.gather(*(request() for _ in range(3)))
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(gap >= 0.045 for gap in gaps)
