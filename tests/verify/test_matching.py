"""Site-to-record comparisons and record parsing, without a server."""

from __future__ import annotations

import pytest

from app.verify import Location, SiteContext, parse_study
from app.verify.ctgov import normalise_nct_id
from app.verify.matching import (
    conditions_match,
    is_academic,
    is_patient_funded,
    match_location,
    names_match,
    place_words,
)
from tests.verify import fake_registry as fr


@pytest.mark.parametrize(
    ("site_name", "other", "places", "expected"),
    [
        ("Cascade Regenerative Clinic", "Cascade Stem Cell Institute, LLC", [], True),
        ("Acme Stem Cell Center", "Northvale University", [], False),
        ("Miami Stem Cell", "University of Miami", ["Miami, FL"], None),  # a shared city only
        ("Regenerative Medicine Clinic", "Northvale University", [], None),  # nothing distinctive
    ],
)
def test_names_match_on_a_distinctive_word(
    site_name: str, other: str, places: list[str], expected: bool | None
) -> None:
    assert names_match([site_name], [other], ignore=place_words(places)) is expected


@pytest.mark.parametrize(
    ("site", "trial", "expected"),
    [
        ("RA", "Rheumatoid Arthritis", True),
        ("MS", "Multiple Sclerosis", True),
        ("knee osteoarthritis", "Osteoarthritis, Knee", True),
        ("COPD", "Chronic Obstructive Pulmonary Disease", True),
        ("Parkinson's", "Parkinson Disease", True),
        ("back pain", "Low Back Pain", True),
        ("knee pain", "Type 2 Diabetes Mellitus", False),
        ("MS", "Muscular Dystrophy", False),
    ],
)
def test_conditions_match_with_synonyms(site: str, trial: str, expected: bool) -> None:
    assert conditions_match([site], [trial]) is expected


def test_conditions_are_unknown_when_either_side_is_empty() -> None:
    assert conditions_match([], ["Rheumatoid Arthritis"]) is None
    assert conditions_match(["autism"], []) is None


@pytest.mark.parametrize(
    ("site", "location", "expected"),
    [
        (
            SiteContext(names=["Cascade Clinic"], places=["Tijuana"]),
            Location(facility="Cascade Clinic Tijuana", city="Tijuana", country="Mexico"),
            "facility",
        ),
        (SiteContext(places=["London"]), Location(city="London", country="United Kingdom"), "city"),
        (
            SiteContext(places=["Austin, TX, U.S."]),
            Location(city="Boston", country="United States"),
            "country",
        ),
        (
            SiteContext(places=["Cancún, Mexico"]),
            Location(city="Tijuana", country="Mexico"),
            "country",
        ),
        (SiteContext(places=["Portland, USA"]), Location(city="Munich", country="Germany"), "none"),
        (
            SiteContext(names=["Cascade Clinic"]),
            Location(city="Munich", country="Germany"),
            "unknown",
        ),
    ],
)
def test_location_match_names_the_closest_tie(
    site: SiteContext, location: Location, expected: str
) -> None:
    assert match_location(site, [location]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "This is a patient-funded study.",
        "Enrolment is open to self-funded patients.",
        "The cost of treatment is the responsibility of the participant.",
        "Participants will pay a fee of $5,000 to take part.",
        "Participants must cover the full cost of the procedure.",
        "Patients are responsible for the cost of the stem cell injection.",
        "Treatment is provided at the patient's own expense.",
        "This is a pay-to-participate study.",
    ],
)
def test_patient_funded_wording_is_found(text: str) -> None:
    assert is_patient_funded(text)


@pytest.mark.parametrize(
    "text",
    [
        "Participants will not pay for the study treatment.",
        "There is no cost to participants.",
        "Participants are responsible for their own travel costs.",
        "The cost of the study treatment is covered by the sponsor.",
        "Patients are not charged for the treatment.",
        "Participants will be paid $50 for each visit.",
        None,
    ],
)
def test_free_studies_are_not_patient_funded(text: str | None) -> None:
    assert not is_patient_funded(text)


@pytest.mark.parametrize(
    ("sponsor", "sponsor_class", "expected"),
    [
        ("Northvale University", "OTHER", True),
        ("Universidad de Ejemplo", "OTHER", True),
        ("Lakeside Children's Hospital", "OTHER", True),
        ("National Heart Institute", "NIH", True),
        ("Cascade Regenerative Clinic", "OTHER", False),
        ("Hollisfield Pharma AG", "INDUSTRY", False),
        ("Dr. Jane Roe", "INDIV", False),
    ],
)
def test_academic_sponsors(sponsor: str, sponsor_class: str, expected: bool) -> None:
    assert is_academic(sponsor, sponsor_class) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NCT09000001", "NCT09000001"),
        ("nct 0900-0001", "NCT09000001"),
        ("NCT0900003", "NCT0900003"),  # kept: the registry decides it is malformed
        ("ISRCTN12345678", None),
        ("NCT", None),
    ],
)
def test_normalise_nct_id(text: str, expected: str | None) -> None:
    assert normalise_nct_id(text) == expected


def test_parse_study_reads_the_v2_shape() -> None:
    record = parse_study(fr.STUDIES[fr.WITHDRAWN])

    assert record.nct_id == fr.WITHDRAWN
    assert record.overall_status == "WITHDRAWN"
    assert record.why_stopped and "funding" in record.why_stopped
    assert record.conditions == ["Multiple Sclerosis"]
    assert record.is_fda_regulated_drug is None
    assert record.locations == []


def test_parse_study_tolerates_missing_and_odd_parts() -> None:
    record = parse_study(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "nct09000099"},
                "sponsorCollaboratorsModule": {"leadSponsor": {"name": "X", "class": "NEWKIND"}},
                "conditionsModule": {"conditions": "not a list"},
                "contactsLocationsModule": {"locations": [{"city": "Lyon"}, "junk"]},
            }
        }
    )

    assert record.nct_id == "NCT09000099"
    assert record.sponsor_class == "UNKNOWN"
    assert record.conditions == []
    assert record.locations == [Location(city="Lyon"), Location()]
    with pytest.raises(ValueError, match="nctId"):
        parse_study({"protocolSection": {}})
