"""Building findings: evidence grouped per rule, the densest window for group rules, quotes."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.rulebook import Rule
from app.engine.types import Decision, Evidence, Finding, TrialCheck

MAX_EVIDENCE = 8
MAX_QUOTE = 320


@dataclass(slots=True)
class Kept:
    """A candidate that survived context, ready to become evidence."""

    rule: Rule
    page: int
    block: int
    group: str | None
    evidence: Evidence
    weight: float  # the rule's weight after context
    decision: Decision | None  # only built when the caller asked to explain


def make_finding(
    rule: Rule, weight: float, evidence: list[Evidence], decisions: list[Decision] | None
) -> Finding:
    return Finding(
        rule_id=rule.id,
        category=rule.category,
        polarity=rule.polarity,
        title=rule.title,
        weight=round(weight, 2),
        contribution=0.0,
        explanation=rule.explanation.strip(),
        advice=rule.advice.strip(),
        references=list(rule.references),
        evidence=evidence[:MAX_EVIDENCE],
        occurrences=len(evidence),
        decisions=decisions,
    )


def group_window(items: list[Kept], min_groups: int, within: int) -> list[Kept]:
    """The candidates of the densest window of blocks that names ``min_groups`` groups."""
    best: list[Kept] = []
    ordered = sorted(items, key=lambda k: (k.page, k.block, k.evidence.start))
    for i, first in enumerate(ordered):
        window = [k for k in ordered[i:] if k.page == first.page and k.block - first.block < within]
        groups = {k.group for k in window}
        if len(groups) >= min_groups and len(groups) > len({k.group for k in best}):
            best = window
    return best


def registry_verdict(check: TrialCheck) -> str:
    return "patient_funded" if check.patient_funded else check.verdict


def clip_quote(q_start: int, q_end: int, start: int, end: int) -> tuple[int, int]:
    """Keep a quote readable when a 'sentence' is a long unpunctuated block."""
    if q_end - q_start <= MAX_QUOTE:
        return q_start, q_end
    half = (MAX_QUOTE - (end - start)) // 2
    lo = max(q_start, start - max(half, 0))
    return lo, min(q_end, max(end, lo + MAX_QUOTE))
