"""Typed results of a ClinicalTrials.gov lookup, and of judging one against a clinic's website."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

LookupStatus = Literal["verified", "not_found", "invalid", "unverified"]
TrialVerdict = Literal["supports_legitimacy", "red_flag", "neutral", "unverified"]
SponsorClass = Literal[
    "NIH", "FED", "OTHER_GOV", "INDIV", "INDUSTRY", "NETWORK", "AMBIG", "OTHER", "UNKNOWN"
]
_SPONSOR_CLASSES = frozenset(get_args(SponsorClass))


class Location(BaseModel):
    """One site where the study runs, as the registry lists it."""

    facility: str | None = None
    city: str | None = None
    country: str | None = None


class TrialRecord(BaseModel):
    """The parts of a ClinicalTrials.gov study record that bear on a clinic's legitimacy."""

    nct_id: str = Field(description="The registry's current id for the study.")
    exists: bool = Field(True, description="False when the registry has no such study (404).")
    brief_title: str | None = None
    overall_status: str | None = Field(None, description="RECRUITING, COMPLETED, WITHDRAWN...")
    why_stopped: str | None = None
    lead_sponsor: str | None = None
    sponsor_class: SponsorClass | None = None
    is_fda_regulated_drug: bool | None = None
    conditions: list[str] = Field(default_factory=list)
    interventions: list[str] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    brief_summary: str | None = None
    detailed_description: str | None = None
    has_results: bool = False
    alias_of: str | None = Field(
        None,
        description="The old id the site cited, when ClinicalTrials.gov redirected it to nct_id.",
    )
    answer: dict[str, Any] | None = Field(
        None, description="The study record as ClinicalTrials.gov sent it (the fields asked for)."
    )
    answered_at: datetime | None = Field(None, description="When the registry sent it.")


class Lookup(BaseModel):
    """What the registry said about one cited id, before any judgement about the clinic."""

    nct_id: str = Field(description="The cited id, normalised (or as written when malformed).")
    status: LookupStatus
    record: TrialRecord | None = None
    detail: str = Field(description="A sentence saying what the registry answered.")


class SiteContext(BaseModel):
    """What the clinic's website says about itself, to compare a registry record against."""

    model_config = ConfigDict(frozen=True)

    names: list[str] = Field(
        default_factory=list, description="Clinic names: page title, site name, domain words."
    )
    places: list[str] = Field(
        default_factory=list, description="City or country strings seen on the site."
    )
    conditions: list[str] = Field(
        default_factory=list, description="Diseases the site offers treatment for."
    )


class Verification(BaseModel):
    """One cited NCT id checked against the registry and against the citing site."""

    nct_id: str
    status: LookupStatus
    record: TrialRecord | None = None
    reason: str = Field(description="What the registry says, in a sentence.")
    sponsor_matches_site: bool | None = None
    location_matches_site: bool | None = None
    conditions_match_site: bool | None = None
    patient_funded: bool = False
    academic: bool = False
    verdict: TrialVerdict
    verdict_reason: str


def _obj(value: object) -> Mapping[str, Any]:
    # The registry's JSON is external input: a missing or oddly typed module reads as empty.
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _texts(values: object) -> list[str]:
    if not isinstance(values, list):
        return []
    return [text for value in values if (text := _text(value))]


def study_aliases(study: Mapping[str, Any]) -> list[str]:
    """Old ids the registry keeps for a study (``identificationModule.nctIdAliases``)."""
    ident = _obj(_obj(study.get("protocolSection")).get("identificationModule"))
    return _texts(ident.get("nctIdAliases"))


def parse_study(study: Mapping[str, Any], *, alias_of: str | None = None) -> TrialRecord:
    """Build a ``TrialRecord`` from one API v2 study object; ``ValueError`` if it has no id."""
    protocol = _obj(study.get("protocolSection"))
    ident = _obj(protocol.get("identificationModule"))
    status = _obj(protocol.get("statusModule"))
    sponsor = _obj(_obj(protocol.get("sponsorCollaboratorsModule")).get("leadSponsor"))
    oversight = _obj(protocol.get("oversightModule"))
    description = _obj(protocol.get("descriptionModule"))
    arms = _obj(protocol.get("armsInterventionsModule")).get("interventions")
    places = _obj(protocol.get("contactsLocationsModule")).get("locations")

    nct_id = _text(ident.get("nctId"))
    if nct_id is None:
        raise ValueError("study has no protocolSection.identificationModule.nctId")
    sponsor_class = _text(sponsor.get("class"))
    fda_drug = oversight.get("isFdaRegulatedDrug")
    return TrialRecord(
        answer=dict(study),
        answered_at=datetime.now(UTC),
        nct_id=nct_id.upper(),
        brief_title=_text(ident.get("briefTitle")),
        overall_status=_text(status.get("overallStatus")),
        why_stopped=_text(status.get("whyStopped")),
        lead_sponsor=_text(sponsor.get("name")),
        # A class added to the API later must not make the whole record unreadable.
        sponsor_class=(sponsor_class if sponsor_class in _SPONSOR_CLASSES else "UNKNOWN")
        if sponsor_class
        else None,
        is_fda_regulated_drug=fda_drug if isinstance(fda_drug, bool) else None,
        conditions=_texts(_obj(protocol.get("conditionsModule")).get("conditions")),
        interventions=[
            name
            for item in (arms if isinstance(arms, list) else [])
            if (name := _text(_obj(item).get("name")))
        ],
        locations=[
            Location(
                facility=_text(_obj(place).get("facility")),
                city=_text(_obj(place).get("city")),
                country=_text(_obj(place).get("country")),
            )
            for place in (places if isinstance(places, list) else [])
        ],
        brief_summary=_text(description.get("briefSummary")),
        detailed_description=_text(description.get("detailedDescription")),
        has_results=study.get("hasResults") is True,
        alias_of=alias_of,
    )
