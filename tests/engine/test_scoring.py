"""Scores add up from visible contributions; verdicts follow the thresholds in scoring.yaml."""

from __future__ import annotations

import pytest

from app.engine.scoring import Scorer
from app.engine.stage_config import ScoringConfig
from app.engine.types import Finding
from app.extract.document import extract_document, extract_text

CONFIG = {
    "decay": 0.5,
    "thresholds": {"high_risk": 50, "caution": 25},
    "floor_lifted_by": ["good"],
    "applicability_factors": {
        "offers_treatment": {"red_flag": 1.0, "absence": 1.0, "mitigating": 1.0},
        "discusses": {"red_flag": 1.0, "absence": 0.0, "mitigating": 1.0},
    },
}


SCORER = Scorer(ScoringConfig.model_validate(CONFIG))


def _finding(rule_id: str, category: str, polarity: str, weight: float) -> Finding:
    return Finding(
        rule_id=rule_id,
        category=category,
        polarity=polarity,
        title=rule_id,
        weight=weight,
        contribution=0.0,
        explanation="Because.",
        advice="Ask.",
    )


def test_diminishing_returns_within_a_category() -> None:
    findings = [
        _finding("a", "cure_claim", "red_flag", 20),
        _finding("b", "cure_claim", "red_flag", 30),
        _finding("c", "cure_claim", "red_flag", 10),
    ]
    score, _ = SCORER.score(findings, "offers_treatment")
    by_id = {f.rule_id: f.contribution for f in findings}
    assert by_id == {"b": 30.0, "a": 10.0, "c": 2.5}
    assert score == 42


def test_mitigating_signs_subtract_and_score_is_clamped() -> None:
    findings = [
        _finding("red", "price_or_payment", "red_flag", 15),
        _finding("good", "trial_registration_id", "mitigating", 40),
    ]
    score, verdict = SCORER.score(findings, "offers_treatment")
    assert findings[1].contribution == -40.0
    assert score == 0 and verdict == "low_risk"


def test_only_the_named_reassuring_signs_lift_the_seller_floor() -> None:
    # Stated risks lower a seller's score but leave it at caution; a registration lifts it.
    stated = [
        _finding("sells", "selling", "red_flag", 20),
        _finding("risks", "risks_disclosed", "mitigating", 8),
    ]
    assert SCORER.score(stated, "offers_treatment") == (12, "caution")
    registered = [
        _finding("sells", "selling", "red_flag", 20),
        _finding("good", "trial_registration_id", "mitigating", 8),
    ]
    assert SCORER.score(registered, "offers_treatment") == (12, "low_risk")
    assert SCORER.score(stated, "discusses")[1] == "low_risk"  # no floor for a page that discusses


def test_absence_signs_do_not_count_on_discussing_sites() -> None:
    findings = [_finding("missing", "no_ind", "absence", 30)]
    assert SCORER.score(findings, "discusses")[0] == 0
    findings = [_finding("missing", "no_ind", "absence", 30)]
    assert SCORER.score(findings, "offers_treatment") == (
        30,
        "caution",
    )


@pytest.mark.parametrize(
    ("weight", "applicability", "verdict"),
    [
        (60, "offers_treatment", "high_risk"),
        (50, "offers_treatment", "high_risk"),
        (49, "offers_treatment", "caution"),
        (10, "offers_treatment", "caution"),  # a site that sells is never low risk
        (10, "discusses", "low_risk"),
        (60, "unrelated", "not_applicable"),
    ],
)
def test_verdict_thresholds(weight: float, applicability: str, verdict: str) -> None:
    findings = [_finding("x", "cure_claim", "red_flag", weight)]
    assert SCORER.score(findings, applicability)[1] == verdict


def test_report_arithmetic_is_visible(engine, corpus) -> None:
    from app.extract.files import load_site

    report = engine.analyze(
        load_site(str(corpus / "s01-desert-bloom-regenerative"), max_bytes=5_000_000), "s01"
    )
    total = sum(f.contribution for f in report.findings)
    assert abs(report.score - max(0, min(100, total))) <= 1  # contributions are rounded
    assert all(f.evidence for f in report.findings), "a finding without evidence is a bug"


@pytest.mark.parametrize("content", [b"", b"   \n\n ", b"<html><body></body></html>"])
def test_a_page_with_no_text_is_unreadable_never_low_risk(engine, content: bytes) -> None:
    # The page-type model still gives an empty page probabilities (its intercepts), which once
    # made an evidence-less "sells" finding and a low-risk verdict out of nothing.
    page = extract_document(content, "empty", content_type="text/html" if content else None)
    report = engine.analyze([page], "empty")
    assert report.verdict == "unreadable" and report.score is None
    assert report.findings == [] and "no text" in report.summary
    assert report.warnings and report.pages[0].url == "empty"


def test_a_sellers_other_pages_speak_in_its_voice(engine) -> None:
    # Alone, a fee list reads as nobody's (the model is unsure it sells: under the
    # seller-voice threshold); on the site of a clinic that sells, it is the clinic's price list.
    home = (
        "Our clinic offers umbilical cord stem cell injections for knee arthritis and back "
        "pain. Book your free consultation with our team today."
    )
    fees = (
        "Fees\n\nThe first visit is $4,500. A second visit: $8,000.\n\n"
        "Payment plans are available. Cash, card and wire transfers are accepted."
    )
    # The model reads addresses too: this one does not say "clinic" in so many letters.
    site, page = "https://cord-cell-care.example/", "https://cord-cell-care.example/fees"
    threshold = engine.ruleset.applicability.seller_voice_from
    assert engine.pagetype.predict(fees, page).probabilities["offers_treatment"] < threshold
    alone = engine.analyze([extract_text(fees, page)], page)
    assert "price_or_payment" not in {f.category for f in alone.findings}
    both = engine.analyze([extract_text(home, site), extract_text(fees, page)], site)
    prices = [f for f in both.findings if f.category == "price_or_payment"]
    assert prices and {ev.url for f in prices for ev in f.evidence} == {page}
