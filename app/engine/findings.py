"""Building findings: evidence grouped per rule, the densest window for group rules, quotes."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.rule_schema import Rule
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
    # From the page title or description, or a menu: words that label a page, not sentences
    # that say something; such evidence supports a finding but never makes one alone.
    label: bool = False


def make_finding(
    rule: Rule, weight: float, evidence: list[Evidence], decisions: list[Decision] | None
) -> Finding:
    """One finding of ``rule`` with its evidence; ``decisions`` only when explaining."""
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


def group_window(
    items: list[Kept], min_groups: int, within: int, min_terms: int | None = None
) -> list[Kept]:
    """The candidates of the densest window of blocks that names ``min_groups`` groups, or
    (with ``min_terms``) that many different terms of at least two groups.

    One pass with two pointers and a count per group and per term: a window starts at each
    candidate and runs ``within`` blocks on its page, so each candidate enters and leaves the
    counts once (rescanning the rest for every start was quadratic: 47 s for a 792 KB page).
    """
    ordered = sorted(items, key=lambda k: (k.page, k.block, k.evidence.start))
    counts: dict[str | None, int] = {}
    terms: dict[str | None, int] = {}
    best: tuple[int, int] | None = None
    best_size = (0, 0)
    end = 0
    for start, first in enumerate(ordered):
        while end < len(ordered) and (
            ordered[end].page == first.page and ordered[end].block - first.block < within
        ):
            _add(counts, ordered[end].group, 1)
            _add(terms, ordered[end].evidence.match.lower(), 1)
            end += 1
        size = (len(counts), len(terms))
        enough = len(counts) >= min_groups or (
            min_terms is not None and len(terms) >= min_terms and len(counts) >= 2
        )
        if enough and size > best_size:
            best, best_size = (start, end), size
        _add(counts, first.group, -1)
        _add(terms, first.evidence.match.lower(), -1)
    return ordered[best[0] : best[1]] if best else []


def _add(counts: dict[str | None, int], key: str | None, step: int) -> None:
    counts[key] = counts.get(key, 0) + step
    if not counts[key]:
        del counts[key]


def registry_verdict(check: TrialCheck) -> str:
    """The registry rule verdict a trial check maps to (patient-funded trials count apart)."""
    return "patient_funded" if check.patient_funded else check.verdict


def clip_quote(q_start: int, q_end: int, start: int, end: int) -> tuple[int, int]:
    """Keep a quote readable when a 'sentence' is a long unpunctuated block."""
    if q_end - q_start <= MAX_QUOTE:
        return q_start, q_end
    half = (MAX_QUOTE - (end - start)) // 2
    lo = max(q_start, start - max(half, 0))
    return lo, min(q_end, max(end, lo + MAX_QUOTE))
