"""One registry client, many callers: ids cited by concurrent checks share requests.

In a batch the courtesy limit (requests a minute), not the CPU, decides how fast sites that cite
trial numbers finish; these tests pin down that the limit is spent on as few requests as the
callers' ids allow.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from app.verify import Lookup, RegistryClient
from tests.verify import fake_registry as fr
from tests.verify.conftest import FakeTime, registry_settings

pytestmark = pytest.mark.anyio


def _ids(target: str) -> list[str]:
    """The ids one request asked for."""
    url = urlsplit(target)
    if url.path == "/api/v2/studies":
        return parse_qs(url.query)["filter.ids"][0].split(",")
    return [url.path.rsplit("/", 1)[1]]


class HeldTime(FakeTime):
    """Fake time whose sleeps wait until the test lets them go, so it can act meanwhile: each
    sleep sets ``asleep`` and waits for ``wake``; both are new for the next sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.asleep = anyio.Event()
        self.wake = anyio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asleep.set()
        await self.wake.wait()
        self.asleep, self.wake = anyio.Event(), anyio.Event()
        await super().sleep(seconds)


def _one_a_second(registry: fr.FakeRegistry, held: HeldTime) -> RegistryClient:
    """A client allowed one request a second and a burst of one, on ``held`` time."""
    settings = registry_settings(
        registry.base_url, registry_requests_per_minute=60.0, registry_burst=1
    )
    return RegistryClient(settings, clock=held.clock, sleep=held.sleep)


async def _requests_reach(registry: fr.FakeRegistry, count: int) -> None:
    with anyio.fail_after(5):
        while len(registry.requests) < count:
            await anyio.sleep(0.01)


async def test_callers_at_the_same_time_share_one_request(make_client, registry) -> None:
    cited = [[fr.ACADEMIC_RA, fr.UNRELATED], [fr.WITHDRAWN], [fr.CLINIC_OWN, fr.ACADEMIC_RA]]
    answers: dict[int, list[Lookup]] = {}
    async with make_client() as client:

        async def check(n: int) -> None:
            answers[n] = await client.lookup_many(cited[n])

        async with anyio.create_task_group() as tg:
            for n in range(len(cited)):
                tg.start_soon(check, n)

    [request] = registry.requests
    assert _ids(request) == [fr.ACADEMIC_RA, fr.UNRELATED, fr.WITHDRAWN, fr.CLINIC_OWN]
    for n, ids in enumerate(cited):  # each caller gets its own ids, in its own order
        assert [lookup.nct_id for lookup in answers[n]] == ids
        assert {lookup.status for lookup in answers[n]} == {"verified"}


async def test_an_id_on_its_way_is_not_asked_for_again(make_client, registry) -> None:
    async with make_client() as client, anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(client.lookup, fr.SLOW)  # answers after a second

    assert [_ids(t) for t in registry.requests] == [[fr.SLOW]]


async def test_ids_cited_while_the_limit_holds_a_request_back_go_with_it(registry) -> None:
    held = HeldTime()
    async with _one_a_second(registry, held) as client:
        await client.lookup(fr.ACADEMIC_RA)  # spends the burst
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.lookup, fr.UNRELATED)
            await held.asleep.wait()  # that request waits for its token ...
            tg.start_soon(client.lookup, fr.WITHDRAWN)  # ... while two more sites cite ids
            tg.start_soon(client.lookup, fr.CLINIC_OWN)
            await anyio.sleep(0)  # (they queue their ids before the token comes)
            held.wake.set()

    assert [_ids(t) for t in registry.requests] == [
        [fr.ACADEMIC_RA],
        [fr.UNRELATED, fr.WITHDRAWN, fr.CLINIC_OWN],
    ]
    assert held.sleeps == [1.0]  # one wait for three sites, not one each


async def test_ids_wait_their_turn_in_the_order_they_were_cited(registry) -> None:
    """An NCT-like id of the wrong length goes by itself; it does not wait behind every
    well-formed id cited after it."""
    held = HeldTime()
    async with _one_a_second(registry, held) as client:
        await client.lookup(fr.WITHDRAWN)  # spends the burst
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.lookup, fr.MALFORMED)
            tg.start_soon(client.lookup_many, [fr.ACADEMIC_RA, fr.UNRELATED])
            await held.asleep.wait()
            held.wake.set()  # the first token
            await _requests_reach(registry, 2)
            assert _ids(registry.requests[1]) == [fr.MALFORMED]
            await held.asleep.wait()
            held.wake.set()  # the second

    assert _ids(registry.requests[2]) == [fr.ACADEMIC_RA, fr.UNRELATED]
    assert held.sleeps == [1.0, 1.0]


async def test_a_caller_that_gives_up_leaves_the_answer_to_the_others(
    make_client, registry
) -> None:
    answers: list[Lookup] = []
    async with make_client() as client:

        async def patient() -> None:
            answers.append(await client.lookup(fr.SLOW))

        async with anyio.create_task_group() as tg:
            tg.start_soon(patient)
            with anyio.move_on_after(0.2) as impatient:  # its site ran out of time
                await client.lookup(fr.SLOW)
        assert impatient.cancelled_caught

    [answer] = answers
    assert answer.status == "not_found"
    assert len(registry.requests) == 1


async def test_a_fault_in_a_shared_request_reaches_every_caller(
    make_client, registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug, not a registry answer (a server cannot cause it): no caller may wait forever."""
    faults: list[BaseException] = []
    async with make_client() as client:

        async def broken(chunk: list[str], **_: object) -> object:
            raise RuntimeError("a bug in reading the list")

        monkeypatch.setattr(client, "_fetch_batch", broken)

        async def check(ids: list[str]) -> None:
            try:
                await client.lookup_many(ids)
            except RuntimeError as exc:
                faults.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(check, [fr.ACADEMIC_RA])
            tg.start_soon(check, [fr.UNRELATED])

        assert [str(f) for f in faults] == ["a bug in reading the list"] * 2
        monkeypatch.undo()
        assert (await client.lookup(fr.ACADEMIC_RA)).status == "verified"  # nothing stuck


async def test_closing_the_client_answers_whoever_still_waits(make_client, registry) -> None:
    client = make_client()
    answers: list[Lookup] = []

    async def check() -> None:
        answers.append(await client.lookup(fr.SLOW))

    await client.__aenter__()
    async with anyio.create_task_group() as tg:
        tg.start_soon(check)
        await anyio.sleep(0.1)  # the request is out; the registry answers after a second
        await client.__aexit__(None, None, None)

    [answer] = answers
    assert answer.status == "unverified"
    assert "stopped before ClinicalTrials.gov answered" in answer.detail
