"""Token bucket, Retry-After parsing and the TTL cache, on fake time."""

from __future__ import annotations

import anyio
import pytest

from app.verify.throttle import TokenBucket, TTLCache, parse_retry_after
from tests.verify.conftest import FakeTime
from tests.verify.fake_registry import RETRY_DATE, RETRY_DATE_EPOCH


@pytest.mark.parametrize(
    ("value", "now", "expected"),
    [
        ("120", 0.0, 120.0),
        ("1.5", 0.0, 1.5),
        ("-4", 0.0, 0.0),
        (RETRY_DATE, RETRY_DATE_EPOCH - 7, 7.0),
        (RETRY_DATE, RETRY_DATE_EPOCH + 60, 0.0),  # a date already past: go now
        ("Sun, 01 Mar 2026 12:00:03", RETRY_DATE_EPOCH - 1, 1.0),  # no zone: GMT
        ("soon", 0.0, None),
        ("inf", 0.0, None),
        ("", 0.0, None),
        (None, 0.0, None),
    ],
)
def test_parse_retry_after(value: str | None, now: float, expected: float | None) -> None:
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.anyio
async def test_token_bucket_allows_a_burst_then_the_rate(fake_time: FakeTime) -> None:
    bucket = TokenBucket(60.0, 3, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(5):
        await bucket.acquire()
    assert fake_time.sleeps == [1.0, 1.0]

    fake_time.now += 100  # a long pause refills the bucket, but only up to the burst
    for _ in range(3):
        await bucket.acquire()
    assert fake_time.sleeps == [1.0, 1.0]


@pytest.mark.anyio
async def test_token_bucket_queues_concurrent_callers() -> None:
    waits: list[float] = []

    async def frozen_sleep(seconds: float) -> None:  # time stands still: callers overlap
        waits.append(seconds)

    bucket = TokenBucket(60.0, 1, clock=lambda: 0.0, sleep=frozen_sleep)
    async with anyio.create_task_group() as tasks:
        for _ in range(3):
            tasks.start_soon(bucket.acquire)
    assert sorted(waits) == [1.0, 2.0]


def test_ttl_cache_expires_disables_and_evicts(fake_time: FakeTime) -> None:
    cache: TTLCache[str] = TTLCache(10.0, clock=fake_time.clock, max_entries=2)
    cache.put("a", "1")
    fake_time.now += 9
    assert cache.get("a") == "1"
    fake_time.now += 1
    assert cache.get("a") is None

    for key in "bcd":
        cache.put(key, key)
    assert [cache.get(key) for key in "bcd"] == [None, "c", "d"]  # the oldest went first

    off: TTLCache[str] = TTLCache(0.0, clock=fake_time.clock)
    off.put("a", "1")
    assert off.get("a") is None
