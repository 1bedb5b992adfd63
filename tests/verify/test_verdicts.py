"""Each verdict, end to end: ids in, the fake registry over HTTP, verifications out."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from app.verify import Location, RegistryClient, Verification, verify_trials
from tests.verify import fake_registry as fr
from tests.verify.conftest import FakeTime, registry_settings

pytestmark = pytest.mark.anyio


async def _verify_one(make_client: Callable[..., RegistryClient], nct_id: str) -> Verification:
    async with make_client() as client:
        [verification] = await verify_trials([nct_id], fr.SITE, client)
    return verification


async def test_academic_trial_matching_the_site_supports_legitimacy(make_client) -> None:
    result = await _verify_one(make_client, fr.ACADEMIC_RA)

    assert (result.status, result.verdict) == ("verified", "supports_legitimacy")
    assert result.academic and not result.patient_funded
    assert result.sponsor_matches_site is False
    assert result.location_matches_site is True
    assert result.conditions_match_site is True
    assert "clinic's city" in result.verdict_reason
    record = result.record
    assert record is not None and record.exists
    assert record.brief_title and "Rheumatoid Arthritis" in record.brief_title
    assert (record.overall_status, record.lead_sponsor) == ("RECRUITING", "Northvale University")
    assert record.sponsor_class == "OTHER"
    assert record.is_fda_regulated_drug is True
    assert record.interventions == ["Allogeneic mesenchymal stromal cells", "Saline placebo"]
    assert record.locations == [
        Location(facility="Northvale University Hospital", city="Portland", country="United States")
    ]
    assert record.has_results is False and record.alias_of is None


async def test_unknown_id_is_a_red_flag(make_client) -> None:
    result = await _verify_one(make_client, fr.UNKNOWN)

    assert (result.status, result.verdict) == ("not_found", "red_flag")
    assert result.record is not None and result.record.exists is False
    assert result.verdict_reason == (
        f"The site cites {fr.UNKNOWN}, but ClinicalTrials.gov has no such study."
    )


async def test_id_the_registry_calls_malformed_is_a_red_flag(make_client, registry) -> None:
    result = await _verify_one(make_client, fr.MALFORMED)

    assert (result.status, result.verdict) == ("invalid", "red_flag")
    assert "malformed" in result.reason
    assert len(registry.requests) == 1


async def test_text_that_is_no_nct_number_is_invalid_without_asking(make_client, registry) -> None:
    result = await _verify_one(make_client, "NCT-pending")

    assert (result.status, result.verdict) == ("invalid", "red_flag")
    assert registry.requests == []


@pytest.mark.parametrize(
    ("nct_id", "words", "why"),
    [
        (fr.WITHDRAWN, "withdrawn", "did not secure funding"),
        (fr.TERMINATED, "terminated", "far slower than planned"),
        (fr.SUSPENDED, "suspended", "adverse event"),
    ],
)
async def test_stopped_study_is_a_red_flag(make_client, nct_id: str, words: str, why: str) -> None:
    result = await _verify_one(make_client, nct_id)

    assert (result.status, result.verdict) == ("verified", "red_flag")
    assert f"was {words}" in result.verdict_reason
    assert why in result.verdict_reason


async def test_patient_funded_study_is_a_red_flag(make_client) -> None:
    result = await _verify_one(make_client, fr.PATIENT_FUNDED)

    assert result.patient_funded is True
    assert result.verdict == "red_flag"
    assert "pay-to-participate" in result.verdict_reason
    assert result.sponsor_matches_site is True  # the clinic's own "study"


async def test_study_unrelated_to_the_clinic_is_a_red_flag(make_client) -> None:
    result = await _verify_one(make_client, fr.UNRELATED)

    assert result.verdict == "red_flag"
    assert (
        result.sponsor_matches_site,
        result.location_matches_site,
        result.conditions_match_site,
    ) == (False, False, False)
    assert result.academic is False
    assert "unrelated to this clinic" in result.verdict_reason
    assert "Munich, Germany" in result.verdict_reason


async def test_clinic_registering_its_own_study_is_neutral(make_client) -> None:
    result = await _verify_one(make_client, fr.CLINIC_OWN)

    assert result.verdict == "neutral"
    assert result.sponsor_matches_site is True and result.academic is False
    assert "registered by the clinic itself" in result.verdict_reason


async def test_academic_study_elsewhere_in_the_country_is_neutral(make_client) -> None:
    result = await _verify_one(make_client, fr.ACADEMIC_ELSEWHERE)

    assert result.verdict == "neutral"
    assert result.academic is True
    assert result.location_matches_site is True  # same country only
    assert "same country" in result.verdict_reason


async def test_old_alias_follows_the_redirect(make_client, registry) -> None:
    result = await _verify_one(make_client, fr.ALIAS)

    assert result.nct_id == fr.ALIAS
    assert result.record is not None
    assert (result.record.nct_id, result.record.alias_of) == (fr.ACADEMIC_RA, fr.ALIAS)
    assert result.reason.startswith(f"{fr.ALIAS} is an old number for {fr.ACADEMIC_RA}.")
    assert result.verdict == "supports_legitimacy"
    assert [target.split("?")[0].rsplit("/", 1)[-1] for target in registry.requests] == [
        fr.ALIAS,
        fr.ACADEMIC_RA,
    ]


async def test_server_error_after_retries_is_unverified(
    make_client, registry, fake_time: FakeTime
) -> None:
    result = await _verify_one(make_client, fr.SERVER_ERROR)

    assert (result.status, result.verdict) == ("unverified", "unverified")
    assert result.record is None
    assert "server error (HTTP 500) after 3 tries" in result.reason
    assert len(registry.requests) == 3
    assert fake_time.sleeps == [1.0, 2.0]  # exponential backoff, no Retry-After given


async def test_no_server_listening_is_unverified_not_an_exception() -> None:
    with socket.socket() as sock:  # find a port, then close it so nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = registry_settings(
        f"http://127.0.0.1:{port}", registry_max_retry_wait=0.01, registry_max_tries=2
    )
    started = time.monotonic()
    async with RegistryClient(settings) as client:
        results = await verify_trials([fr.ACADEMIC_RA, fr.UNRELATED], fr.SITE, client)

    assert [(r.status, r.verdict) for r in results] == [("unverified", "unverified")] * 2
    assert "could not be reached (ConnectError) after 2 tries" in results[0].reason
    assert time.monotonic() - started < 2


async def test_timeout_is_unverified(make_client) -> None:
    async with make_client(registry_timeout=0.2, registry_max_tries=1) as client:
        [result] = await verify_trials([fr.SLOW], fr.SITE, client)

    assert (result.status, result.verdict) == ("unverified", "unverified")
    assert "ReadTimeout" in result.reason
