"""The registry client over HTTP: cache, batching, pagination, backoff and the rate limit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.verify import RegistryClient, verify_trials
from tests.verify import fake_registry as fr
from tests.verify.conftest import FakeTime, registry_settings

pytestmark = pytest.mark.anyio


def _query(target: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(target).query)


async def test_429_waits_as_long_as_retry_after_says(make_client, registry, fake_time) -> None:
    async with make_client() as client:
        lookup = await client.lookup(fr.THROTTLED_ONCE)

    assert lookup.status == "verified"
    assert len(registry.requests) == 2
    assert fake_time.sleeps == [2.0]


async def test_429_with_an_http_date_is_measured_on_the_wall_clock(
    make_client, fake_time: FakeTime
) -> None:
    async with make_client(wall_clock=lambda: fr.RETRY_DATE_EPOCH - 3) as client:
        lookup = await client.lookup(fr.THROTTLED_DATE)

    assert lookup.status == "verified"
    assert fake_time.sleeps == [3.0]


async def test_429_asking_for_more_than_the_cap_gives_up_at_once(
    make_client, registry, fake_time: FakeTime
) -> None:
    async with make_client(wall_clock=lambda: fr.RETRY_DATE_EPOCH - 3_600) as client:
        lookup = await client.lookup(fr.THROTTLED_DATE)

    assert lookup.status == "unverified"
    assert "asked us to wait 3600 s" in lookup.detail
    assert len(registry.requests) == 1 and fake_time.sleeps == []


async def test_429_every_time_is_unverified_after_the_last_try(
    make_client, registry, fake_time: FakeTime
) -> None:
    async with make_client() as client:
        lookup = await client.lookup(fr.ALWAYS_THROTTLED)

    assert lookup.status == "unverified"
    assert "too many requests" in lookup.detail
    assert len(registry.requests) == 3
    assert fake_time.sleeps == [1.0, 1.0]


async def test_second_lookup_comes_from_the_cache_until_it_expires(
    make_client, registry, fake_time: FakeTime
) -> None:
    async with make_client(registry_cache_ttl=60.0) as client:
        first = await client.lookup(fr.ACADEMIC_RA)
        second = await client.lookup(fr.ACADEMIC_RA)
        assert len(registry.requests) == 1
        assert second == first

        fake_time.now += 61
        await client.lookup(fr.ACADEMIC_RA)
        assert len(registry.requests) == 2


async def test_cache_keeps_answers_but_not_failures(make_client, registry) -> None:
    async with make_client() as client:
        for _ in range(2):
            await client.lookup(fr.UNKNOWN)
        assert len(registry.requests) == 1  # "no such study" is an answer

        for _ in range(2):
            await client.lookup(fr.SERVER_ERROR)
        assert len(registry.requests) == 1 + 3 + 3  # an outage is worth asking about again


async def test_several_ids_go_in_one_request(make_client, registry) -> None:
    ids = [fr.ACADEMIC_RA, fr.UNRELATED, fr.WITHDRAWN]
    async with make_client() as client:
        results = await verify_trials(ids, fr.SITE, client)

    assert [r.verdict for r in results] == ["supports_legitimacy", "red_flag", "red_flag"]
    [target] = registry.requests
    assert urlsplit(target).path == "/api/v2/studies"
    query = _query(target)
    assert query["filter.ids"] == [",".join(ids)]
    assert query["pageSize"] == ["3"]
    assert "protocolSection.statusModule" in query["fields"][0].split(",")


async def test_batch_follows_next_page_token(make_client, registry) -> None:
    registry.page_size = 2
    ids = [fr.ACADEMIC_RA, fr.UNRELATED, fr.WITHDRAWN]
    async with make_client() as client:
        lookups = await client.lookup_many(ids)

    assert [lookup.status for lookup in lookups] == ["verified"] * 3
    assert len(registry.requests) == 2
    assert _query(registry.requests[1])["pageToken"] == ["2"]


async def test_batch_resolves_aliases_and_asks_for_missing_ids_alone(make_client, registry) -> None:
    async with make_client() as client:
        alias, missing = await client.lookup_many([fr.ALIAS, fr.UNKNOWN])

    assert alias.record is not None
    assert (alias.record.nct_id, alias.record.alias_of) == (fr.ACADEMIC_RA, fr.ALIAS)
    assert missing.status == "not_found"
    assert [urlsplit(t).path for t in registry.requests] == [
        "/api/v2/studies",
        f"/api/v2/studies/{fr.UNKNOWN}",
    ]


async def test_batch_splits_by_batch_size_and_keeps_order_without_duplicates(
    make_client, registry
) -> None:
    cited = [fr.UNRELATED, "nct 0900-0001", fr.ACADEMIC_RA, "see our study", fr.CLINIC_OWN]
    async with make_client(registry_batch_size=2) as client:
        lookups = await client.lookup_many(cited)

    assert [(lookup.nct_id, lookup.status) for lookup in lookups] == [
        (fr.UNRELATED, "verified"),
        (fr.ACADEMIC_RA, "verified"),
        ("see our study", "invalid"),
        (fr.CLINIC_OWN, "verified"),
    ]
    # The two requests go out together, so they may arrive in either order; the id left over
    # goes alone, by the endpoint that answers 404 and 301 itself.
    asked = {(urlsplit(t).path, *_query(t).get("filter.ids", [])) for t in registry.requests}
    assert asked == {
        ("/api/v2/studies", f"{fr.UNRELATED},{fr.ACADEMIC_RA}"),
        (f"/api/v2/studies/{fr.CLINIC_OWN}",),
    }


async def test_batch_that_fails_leaves_every_id_unverified(make_client, registry) -> None:
    async with make_client() as client:
        lookups = await client.lookup_many([fr.ACADEMIC_RA, fr.SERVER_ERROR])

    assert [lookup.status for lookup in lookups] == ["unverified", "unverified"]
    assert len(registry.requests) == 3


async def test_courtesy_rate_limit_spaces_requests(
    make_client, registry, fake_time: FakeTime
) -> None:
    async with make_client(registry_requests_per_minute=60.0, registry_burst=2) as client:
        for nct_id in (fr.ACADEMIC_RA, fr.UNRELATED, fr.WITHDRAWN):
            await client.lookup(nct_id)

    assert len(registry.requests) == 3
    assert fake_time.sleeps == [1.0]  # the third request waited for a token


async def test_shared_http_client_is_used_and_left_open(registry) -> None:
    settings = registry_settings(registry.base_url)
    async with httpx.AsyncClient() as http:
        client = RegistryClient(settings, http)
        lookup = await client.lookup(fr.ACADEMIC_RA)
        async with client:
            await client.lookup(fr.UNRELATED)
        assert not http.is_closed

    assert lookup.status == "verified"
    assert len(registry.requests) == 2


async def test_shared_client_that_follows_redirects_still_records_the_alias(registry) -> None:
    settings = registry_settings(registry.base_url)
    async with httpx.AsyncClient(follow_redirects=True) as http:
        lookup = await RegistryClient(settings, http).lookup(fr.ALIAS)

    assert lookup.record is not None
    assert (lookup.record.nct_id, lookup.record.alias_of) == (fr.ACADEMIC_RA, fr.ALIAS)
