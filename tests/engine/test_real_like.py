"""Whole pages written in our own words to read like real ones (tests/fixtures/real-like): an
impersonal clinic page with News and Blog in its menu and a doctor's university biography, a
Spanish clinic, a news story that quotes a clinic's prices, and a seller with no explicit sign."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.analyzer import Engine
from app.engine.types import Report
from app.extract.document import extract_text

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "real-like"


def analyse(engine: Engine, name: str) -> Report:
    text = (PAGES / f"{name}.txt").read_text(encoding="utf-8")
    return engine.analyze([extract_text(text, name)], name, explain=True)


@pytest.mark.parametrize(
    ("name", "kind", "verdicts", "language"),
    [
        ("impersonal-clinic", "offers_treatment", {"high_risk"}, "en"),
        ("clinica-es", "offers_treatment", {"high_risk"}, "es"),
        ("news-prices", "discusses", {"low_risk"}, "en"),
        ("quiet-seller", "offers_treatment", {"high_risk", "caution"}, "en"),
    ],
)
def test_page_type_and_verdict(
    engine: Engine, name: str, kind: str, verdicts: set[str], language: str
) -> None:
    report = analyse(engine, name)
    assert report.applicability is not None
    assert report.applicability.kind == kind, report.applicability.reasons
    assert report.verdict in verdicts, [(f.rule_id, f.contribution) for f in report.findings]
    assert report.language == language


def test_impersonal_claims_count_on_a_selling_page(engine: Engine) -> None:
    categories = {f.category for f in analyse(engine, "impersonal-clinic").findings}
    assert {"sells_cell_treatment", "cure_claim", "many_conditions"} <= categories


def test_selling_is_a_finding_with_the_sentences_that_make_it_an_offer(engine: Engine) -> None:
    report = analyse(engine, "quiet-seller")
    selling = next(f for f in report.findings if f.rule_id == "sells-cell-treatment")
    text = (PAGES / "quiet-seller.txt").read_text(encoding="utf-8")
    assert selling.evidence and all(e.match and e.match in e.quote for e in selling.evidence)
    assert all(" ".join(e.quote.split()[:4]) in " ".join(text.split()) for e in selling.evidence)
    assert selling.decisions and selling.decisions[0].adjustments[0].modifier == "page_type"
    absent = {f.category for f in report.findings if f.polarity == "absence"}
    assert {"no_ind", "no_trial_registration", "no_risk_disclosure"} <= absent


def test_a_news_story_quoting_prices_carries_no_red_flag(engine: Engine) -> None:
    report = analyse(engine, "news-prices")
    assert not [f.rule_id for f in report.findings if f.polarity == "red_flag"]
    assert report.applicability is not None
    assert any(c.direction == "discusses" for c in report.applicability.cues)


def test_an_impersonal_sign_counts_with_the_probability_that_the_page_sells(
    engine: Engine,
) -> None:
    impersonal = "Stem cells regrow worn knee cartilage within months."
    own_voice = "Our stem cells regrow worn knee cartilage within months."
    floor = engine.ruleset.applicability.seller_voice_from
    assert "tissue-regeneration" in engine.rule_hits(impersonal, "discusses", p_offers=floor)
    assert "tissue-regeneration" not in engine.rule_hits(
        impersonal, "discusses", p_offers=floor - 0.05
    )
    # In the page's own voice the sign counts whatever the page type.
    assert "tissue-regeneration" in engine.rule_hits(own_voice, "discusses", p_offers=0.0)


def test_the_discount_on_an_impersonal_sign_is_explained(engine: Engine) -> None:
    report = analyse(engine, "impersonal-clinic")
    assert report.applicability is not None
    p_offers = report.applicability.probabilities["offers_treatment"]
    scaled = [
        (finding, adjustment)
        for finding in report.findings
        for decision in finding.decisions or []
        for adjustment in decision.adjustments
        if adjustment.modifier == "seller_voice"
    ]
    assert scaled, [f.rule_id for f in report.findings]
    for _, adjustment in scaled:
        assert adjustment.factor == pytest.approx(p_offers, abs=0.01)
        assert f"{p_offers:.2f}" in adjustment.trigger
