"""Per-host gates: spacing and limits per host, and no unbounded growth in a long-lived server."""

from __future__ import annotations

import asyncio

import pytest

from app.fetch import Fetcher
from app.fetch.politeness import HostGates
from tests.fetch.servers import TestSite, fast_settings


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


@pytest.mark.anyio
async def test_waiting_for_a_polite_slot_is_not_counted_as_timed_out(site: TestSite) -> None:
    # One request at a time, 0.1 s apart: the last of 12 waits about 1.1 s for its turn, far
    # past a 0.5 s response limit, though the site answers at once. Timeouts measure the site.
    settings = fast_settings(per_host_concurrency=1, per_host_delay=0.1, total_timeout=0.5)
    async with Fetcher(settings) as fetcher:
        pages = await asyncio.gather(*(fetcher.fetch(site.url("/x/sleep?ms=0")) for _ in range(12)))
    assert [p.error for p in pages] == [None] * 12


@pytest.mark.anyio
async def test_a_slow_site_still_times_out(site: TestSite) -> None:
    settings = fast_settings(total_timeout=0.3)
    async with Fetcher(settings) as fetcher:
        page = await fetcher.fetch(site.url("/x/sleep?ms=1200"))
    assert page.error == "timed out after 0.3 s"
