"""Judge each cited NCT id: does the registry entry back the clinic up, or is it a warning sign?

Clinics cite registry numbers as "tokens of legitimacy" (Sipp et al., Sci Transl Med 2017);
the number only helps when it names a live, independent study that is about this clinic.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.verify.ctgov import RegistryClient
from app.verify.matching import (
    LocationMatch,
    conditions_match,
    is_academic,
    is_patient_funded,
    match_location,
    names_match,
    place_words,
)
from app.verify.models import Lookup, SiteContext, TrialRecord, TrialVerdict, Verification

ACTIVE_STATUSES = frozenset(
    {
        "RECRUITING",
        "ACTIVE_NOT_RECRUITING",
        "ENROLLING_BY_INVITATION",
        "NOT_YET_RECRUITING",
        "COMPLETED",
    }
)
STOPPED_STATUSES = frozenset({"WITHDRAWN", "TERMINATED", "SUSPENDED"})
_SPONSOR_CLASS_WORDS = {
    "NIH": "US National Institutes of Health",
    "FED": "US federal agency",
    "OTHER_GOV": "government body",
    "INDIV": "individual",
    "INDUSTRY": "company",
    "NETWORK": "research network",
    "AMBIG": "unclear sponsor type",
    "OTHER": "other organisation",
    "UNKNOWN": "unknown sponsor type",
}


async def verify_trials(
    ids: Sequence[str], site: SiteContext, client: RegistryClient
) -> list[Verification]:
    """Check every cited id (one result per distinct id, in first-seen order); never raises."""
    return [judge(lookup, site) for lookup in await client.lookup_many(ids)]


def judge(lookup: Lookup, site: SiteContext) -> Verification:
    """Turn one registry answer into a verdict about the clinic that cited it."""
    nct_id = lookup.nct_id
    if lookup.status == "unverified":
        return Verification(
            nct_id=nct_id,
            status="unverified",
            reason=f"{nct_id} could not be checked: {lookup.detail}",
            verdict="unverified",
            verdict_reason="ClinicalTrials.gov could not be asked, so this citation is neither "
            "confirmed nor refuted.",
        )
    record = lookup.record
    if lookup.status != "verified" or record is None:
        malformed = (
            " (it is not even a well-formed NCT number)" if lookup.status == "invalid" else ""
        )
        return Verification(
            nct_id=nct_id,
            status=lookup.status,
            record=record,
            reason=lookup.detail,
            verdict="red_flag",
            verdict_reason=f"The site cites {nct_id}, but ClinicalTrials.gov has no such study"
            f"{malformed}.",
        )

    sponsor_match = names_match(site.names, [record.lead_sponsor], ignore=place_words(site.places))
    where = match_location(site, record.locations)
    condition_match = conditions_match(site.conditions, record.conditions)
    pays = is_patient_funded(record.brief_summary, record.detailed_description)
    academic = is_academic(record.lead_sponsor, record.sponsor_class)
    verdict, verdict_reason = _decide(
        record, sponsor_match, where, condition_match, pays=pays, academic=academic
    )
    return Verification(
        nct_id=nct_id,
        status="verified",
        record=record,
        reason=_describe(record, nct_id),
        sponsor_matches_site=sponsor_match,
        location_matches_site={"unknown": None, "none": False}.get(where, True),
        conditions_match_site=condition_match,
        patient_funded=pays,
        academic=academic,
        verdict=verdict,
        verdict_reason=verdict_reason,
    )


def _decide(
    record: TrialRecord,
    sponsor_match: bool | None,
    where: LocationMatch,
    condition_match: bool | None,
    *,
    pays: bool,
    academic: bool,
) -> tuple[TrialVerdict, str]:
    status = record.overall_status or "UNKNOWN"
    words = _status_words(status)
    sponsor = record.lead_sponsor or "an unnamed sponsor"
    if status in STOPPED_STATUSES:
        why = f" (reason given: “{record.why_stopped}”)" if record.why_stopped else ""
        return "red_flag", (
            f"The study the site cites was {words}{why}; a stopped study cannot back up a "
            "treatment that is on sale."
        )
    if pays:
        return "red_flag", (
            "The registry entry says participants pay for the treatment: a pay-to-participate "
            "“study” is a warning sign, and registration does not mean anyone reviewed it."
        )
    if condition_match is False and sponsor_match is not True and where in ("none", "unknown"):
        return "red_flag", (
            f"The cited study is unrelated to this clinic: it is about {_some(record.conditions)}"
            f", run by {sponsor}{_in_places(record)}, and none of that matches the site."
        )
    ties = [
        text
        for present, text in (
            (sponsor_match is True, "its sponsor matches the clinic's name"),
            (where == "facility", "it lists the clinic as a study site"),
            (where == "city", "it runs in the clinic's city"),
            (condition_match is True, "it studies a condition the site treats"),
        )
        if present
    ]
    tied = sponsor_match is True or where in ("facility", "city")
    if status in ACTIVE_STATUSES and academic and tied and condition_match is not False:
        return "supports_legitimacy", (
            f"The study is {words} and led by an academic or government sponsor ({sponsor}); "
            + ", and ".join(ties)
            + "."
        )
    if status not in ACTIVE_STATUSES:
        reason = f"The study exists, but its registry status is “{words}”"
    elif sponsor_match is True and not academic:
        reason = (
            "The study seems to be registered by the clinic itself, and ClinicalTrials.gov does "
            "not review entries, so registration alone says nothing about safety or benefit"
        )
    elif not academic:
        reason = (
            f"The study exists, but its sponsor ({sponsor}) is not a university, hospital or "
            "government body, so it does not vouch for the clinic"
        )
    elif condition_match is False:
        reason = "An academic study, but about a different condition from those the site treats"
    elif where == "country":
        reason = "An academic study in the same country, but nothing ties it to this clinic"
    else:
        reason = "An academic study, but nothing ties it to this clinic"
    return "neutral", f"{reason}."


def _describe(record: TrialRecord, cited: str) -> str:
    """What the registry says about the study, in one or two sentences."""
    text = f"ClinicalTrials.gov lists {record.nct_id}"
    if record.brief_title:
        text += f", “{record.brief_title}”"
    if record.overall_status:
        text += f", as {_status_words(record.overall_status)}"
    if record.lead_sponsor:
        text += f", led by {record.lead_sponsor}"
        if record.sponsor_class:
            text += f" ({_SPONSOR_CLASS_WORDS[record.sponsor_class]})"
    text += "."
    if record.alias_of:
        text = f"{cited} is an old number for {record.nct_id}. {text}"
    return text


def _status_words(status: str) -> str:
    if status == "ACTIVE_NOT_RECRUITING":
        return "active, not recruiting"
    return status.lower().replace("_", " ")


def _in_places(record: TrialRecord) -> str:
    places = (", ".join(filter(None, (loc.city, loc.country))) for loc in record.locations)
    unique = list(dict.fromkeys(place for place in places if place))
    return f" in {_some(unique)}" if unique else ""


def _some(items: Sequence[str], limit: int = 3) -> str:
    """``["a", "b", "c", "d"]`` → ``"a; b; c and 1 more"``."""
    shown = "; ".join(items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown
