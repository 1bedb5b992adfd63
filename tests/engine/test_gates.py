"""Each gate on its own, then their order (the first reason is the one a reader sees)."""

from __future__ import annotations

from dataclasses import replace

from app.engine.gates import (
    Candidate,
    SentenceWords,
    SiteVoice,
    block_kind,
    first_reason,
    gates,
    region,
)
from app.engine.rulebook import load_rules
from app.settings import Settings

RULES = load_rules(Settings().rules_dir)
PRICE = RULES.by_id["price-listed"]  # sentence_excludes: grant, funding, settlement, ...
STUDY_FEE = RULES.by_id["pay-to-participate"]  # sentence_mentions: study, trial, ...
TESTIMONIALS = RULES.by_id["patient-testimonials"]  # skip_kinds: button, link, title, meta


def candidate(rule=PRICE, text="The full program is $9,000.", **changes) -> Candidate:
    base = Candidate(
        rule=rule,
        text=text,
        region="main",
        block_kind="paragraph",
        sentence=(0, len(text)),
        present=frozenset(),
        page_kind="offers_treatment",
    )
    return replace(base, **changes)


def test_region_sets_aside_a_part_of_the_page_the_rule_ignores() -> None:
    narrow = RULES.by_id["price-listed"].model_copy(
        update={"context": PRICE.context.model_copy(update={"regions": ["main"]})}
    )
    assert region(candidate(rule=narrow)) is None
    assert region(candidate(rule=narrow, region="footer")) == (
        "in the page's footer, which this rule ignores"
    )


def test_block_kind_sets_aside_buttons_for_testimonials() -> None:
    assert block_kind(candidate(rule=TESTIMONIALS, block_kind="paragraph")) is None
    assert block_kind(candidate(rule=TESTIMONIALS, block_kind="button")) == (
        "in a button, which this rule ignores"
    )
    assert block_kind(candidate(rule=TESTIMONIALS, block_kind=None)) is None


def test_sentence_words_need_a_mention_and_refuse_an_exclusion() -> None:
    words = SentenceWords(RULES.rules)
    assert words(candidate()) is None
    grant = "The lab received a $9,000 grant."
    assert words(candidate(text=grant, sentence=(0, len(grant)))) == (
        "the sentence is about something else (“grant”)"
    )
    fee = "A fee of $9,000 is charged."
    reason = words(candidate(rule=STUDY_FEE, text=fee, sentence=(0, len(fee))))
    assert reason is not None and reason.startswith("the sentence does not mention study")
    assert words(candidate(sentence=None)) is None  # nothing to read around


def test_site_voice_needs_first_person_on_a_page_that_discusses() -> None:
    voice = SiteVoice(RULES.context)
    assert voice(candidate(page_kind="offers_treatment")) is None
    assert voice(candidate(page_kind="discusses")) == (
        "the page discusses stem-cell treatment and this sentence is not in its own voice "
        "(no first person word)"
    )
    assert voice(candidate(page_kind="discusses", present=frozenset({"first_person"}))) is None


def test_the_first_gate_that_objects_gives_the_reason() -> None:
    chain = gates(RULES.rules, RULES.context)
    grant = "The lab received a $9,000 grant."
    both = candidate(text=grant, sentence=(0, len(grant)), page_kind="discusses")
    assert first_reason(chain.all, both) == "the sentence is about something else (“grant”)"
    assert first_reason(chain.all, candidate()) is None


def test_the_place_gates_read_neither_the_modifiers_nor_the_page_type() -> None:
    # A candidate judged under two page types asks them once (judging.Judge).
    chain = gates(RULES.rules, RULES.context)
    grant = "The lab received a $9,000 grant."
    fee = "A fee of $9,000 is charged."
    cases = [
        candidate(),
        candidate(text=grant, sentence=(0, len(grant))),
        candidate(rule=STUDY_FEE, text=fee, sentence=(0, len(fee))),
        candidate(rule=TESTIMONIALS, block_kind="button"),
        candidate(region="footer"),
    ]
    readings = [
        {"page_kind": "discusses", "present": frozenset()},
        {"page_kind": "offers_treatment", "present": frozenset({"first_person", "negated"})},
    ]
    for case in cases:
        for gate in chain.place:
            first, second = (gate(replace(case, **reading)) for reading in readings)
            assert first == second, gate
    # ...and the voice gate does: the chain is split where it should be.
    assert any(
        len({chain.voice(replace(case, **reading)) for reading in readings}) > 1 for case in cases
    )
