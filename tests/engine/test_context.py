"""Context decides: negation, hedging, attribution, questions and the site's own voice."""

from __future__ import annotations

import pytest

from app.engine.analyzer import Engine
from app.extract.document import extract_text


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("Our stem cell protocol cures rheumatoid arthritis.", True),
        ("There is no cure for rheumatoid arthritis.", False),  # negation
        ("Stem cells might one day cure arthritis.", False),  # hedging
        ("Some clinics claim their injections cure arthritis.", False),  # attribution
        ("Can stem cells cure rheumatoid arthritis?", False),  # question
        ("It is not cheap, but our treatment cures RA.", True),  # terminator ends the negation
        ("Not only do we cure RA, we cure lupus too.", True),  # pseudo-trigger
    ],
)
def test_cure_claim_in_context(engine: Engine, text: str, fires: bool) -> None:
    assert ("cure-promise" in engine.rule_hits(text)) == fires


def test_negation_inside_the_claim_is_the_claim(engine: Engine) -> None:
    assert "no-risk-claim" in engine.rule_hits("The injection has no side effects.")


def test_removed_candidates_explain_themselves(engine: Engine) -> None:
    page = extract_text(
        "Our clinic offers stem cell therapy. Book a consultation today.\n\n"
        "There is no cure for lupus, and some clinics claim stem cells cure it.",
        "page.txt",
    )
    report = engine.analyze([page], "page.txt", explain=True)
    reasons = [d.reason for d in report.discarded or [] if d.rule_id == "cure-promise"]
    assert any(r and r.startswith("negated by") for r in reasons)
    assert any(r and "reported" in r for r in reasons)
    assert all(f.rule_id != "cure-promise" for f in report.findings)


def test_explain_records_each_adjustment(engine: Engine) -> None:
    page = extract_text("Our patients may walk pain-free within weeks.", "p.txt")
    report = engine.analyze([page], "p.txt", explain=True)
    finding = next(f for f in report.findings if f.rule_id == "efficacy-promise")
    decision = finding.decisions[0]
    hedge = next(a for a in decision.adjustments if a.modifier == "hedged")
    assert hedge.trigger == "may" and hedge.effect == "scale"
    assert decision.weight == pytest.approx(decision.base_weight * hedge.factor)
    assert finding.weight == decision.weight


def test_without_explain_no_decisions(engine: Engine) -> None:
    page = extract_text("Our protocol cures arthritis.", "p.txt")
    report = engine.analyze([page], "p.txt")
    assert report.discarded is None
    assert all(f.decisions is None for f in report.findings)


def test_a_pseudo_trigger_cancels_the_triggers_inside_it_only(engine: Engine) -> None:
    text = "Not only do we treat knees. We do not treat children."
    artifacts = engine.nlp.process([text], ["en"])[0]
    triggers = engine.context.index(text, artifacts).by_sentence
    negations = [
        (s, t.text) for s, found in triggers.items() for t in found if t.modifier == "negated"
    ]
    # Only the second sentence's ("do not" and "not"); "Not only" is no negation.
    assert {s for s, _ in negations} == {1} and "not" in {t for _, t in negations}
