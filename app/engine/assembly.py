"""Kept candidates become findings: grouped by rule with their evidence, plus the findings that
judge a whole page (selling, read by the page-type model) or a whole site (what is missing).
"""

from __future__ import annotations

from collections import defaultdict

from app.engine.applicability import PageTypes
from app.engine.findings import Kept, clip_quote, group_window, make_finding
from app.engine.judging import PageState
from app.engine.pagetype import PageTypeModel, offer_sentences
from app.engine.rulebook import RuleSet
from app.engine.types import Adjustment, Decision, Evidence, Finding

LABEL_ONLY = "only in the page title, description or a menu item, never a sign on its own"


class Assembler:
    """Turns judged candidates into the report's findings."""

    def __init__(self, ruleset: RuleSet, pagetype: PageTypeModel) -> None:
        self.ruleset = ruleset
        self.pagetype = pagetype
        self.selling_sign_from = ruleset.applicability.selling_sign_from
        self.page_type_rules = [r for r in ruleset.rules if r.page_type is not None]

    def rule_findings(
        self, kept: list[Kept], explain: bool, set_aside: list[Decision] | None = None
    ) -> list[Finding]:
        """Kept candidates grouped by rule. A rule whose every match is a label (the page
        title or description, a menu item) makes no finding; with ``set_aside`` its decisions
        are added there, saying why."""
        by_rule: dict[str, list[Kept]] = defaultdict(list)
        for item in kept:
            by_rule[item.rule.id].append(item)
        findings = []
        for rule_id, items in by_rule.items():
            rule = self.ruleset.by_id[rule_id]
            grouping = rule.match.group_count if rule.match is not None else None
            if grouping is not None:
                items = group_window(
                    items, grouping.min_groups, grouping.within_blocks, grouping.min_terms
                )
                if not items:
                    continue
            # A list rule (many conditions) reads menus on purpose: that is where lists are.
            elif all(item.label for item in items):
                if set_aside is not None:
                    set_aside += [
                        d.model_copy(update={"kept": False, "reason": LABEL_ONLY})
                        for d in (i.decision for i in items)
                        if d is not None
                    ]
                continue
            # Sentences first: a label backs a finding up but is not the quote to lead with.
            items.sort(key=lambda k: (k.label, k.page, k.evidence.start))
            evidence, seen = [], set()
            for item in items:
                where = (item.evidence.url, item.evidence.quote_start)
                if where not in seen:
                    seen.add(where)
                    evidence.append(item.evidence)
            findings.append(
                make_finding(
                    rule,
                    max(i.weight for i in items),
                    evidence,
                    [i.decision for i in items if i.decision] if explain else None,
                )
            )
        return findings

    def page_type_findings(
        self, states: list[PageState], types: PageTypes, explain: bool
    ) -> list[Finding]:
        """Selling is itself a sign: a finding weighted by the model's probability, with the
        sentences that pull the page hardest towards being an offer as its evidence."""
        out = []
        for rule in self.page_type_rules:
            page_type = rule.page_type
            if page_type is None:
                continue
            # Like an impersonal sign, selling counts times P, from selling_sign_from up.
            pages = [
                i
                for i, result in enumerate(types.results)
                if result.probabilities[page_type] >= self.selling_sign_from
            ]
            if not pages:
                continue
            best = max(pages, key=lambda i: types.results[i].probabilities[page_type])
            probability = types.results[best].probabilities[page_type]
            state = states[best]
            text = state.page.text
            spans = [(s.start, s.end) for s in state.art.sentences] or [(0, len(text))]
            limit = self.ruleset.applicability.evidence_sentences
            evidence = [
                _sentence_evidence(state.page.source, text, start, end, cue)
                for start, end, cue, _ in offer_sentences(
                    self.pagetype, types.results[best], text, spans, limit
                )
            ]
            if not evidence:  # no sentence of the page says it sells (an empty page): no sign
                continue
            weight = rule.weight * probability
            adjustment = Adjustment(
                modifier="page_type",
                trigger=f"P({rule.page_type}) = {probability:.2f}",
                effect="scale",
                factor=round(probability, 3),
            )
            decisions = [
                Decision(
                    rule_id=rule.id,
                    pattern=f"page_type:{rule.page_type}",
                    match=e.match,
                    url=e.url,
                    quote=e.quote,
                    base_weight=rule.weight,
                    adjustments=[adjustment],
                    weight=round(weight, 2),
                    kept=True,
                )
                for e in evidence
            ]
            out.append(make_finding(rule, weight, evidence, decisions if explain else None))
        return out

    def absences(
        self, findings: list[Finding], states: list[PageState], applicability: str
    ) -> list[Finding]:
        if applicability != "offers_treatment":
            return []
        present = {f.category for f in findings}
        words = sum(s.page.word_count for s in states)
        out = []
        for rule in self.ruleset.rules:
            if rule.polarity != "absence" or present.intersection(rule.absent):
                continue
            evidence = [
                Evidence(
                    url=s.page.source,
                    quote=f"Searched {s.page.word_count} words on this page: none mention it.",
                    match="",
                    start=0,
                    end=0,
                    quote_start=0,
                )
                for s in states
            ]
            finding = make_finding(rule, rule.weight, evidence, None)
            finding.explanation = (
                f"{rule.explanation} (Searched {len(states)} page(s), {words} words.)"
            )
            out.append(finding)
        return out


def _sentence_evidence(
    url: str, text: str, start: int, end: int, cue: tuple[int, int] | None
) -> Evidence:
    """A sentence as evidence, its match the words of the model's cue, at their offsets (so a
    highlight marks exactly them); a long sentence is cut around them."""
    m_start, m_end = cue if cue is not None else (start, start)
    q_start, q_end = clip_quote(start, end, m_start, m_end)
    quote = text[q_start:q_end]
    lead = len(quote) - len(quote.lstrip())
    return Evidence(
        url=url,
        quote=quote.strip(),
        match=text[m_start:m_end],
        start=m_start,
        end=m_end,
        quote_start=q_start + lead,
    )
