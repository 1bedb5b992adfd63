"""From findings to a 0-100 score and a verdict, with every finding's share visible.

Driven by ``rules/scoring.yaml``. Within a category each further finding counts ``decay`` times
the one before (five price rules are not five times the risk); mitigating signs subtract; how
much each polarity counts depends on whether the site offers treatment or only discusses it.
"""

from __future__ import annotations

from collections import defaultdict

from app.engine.stage_config import ScoringConfig
from app.engine.types import CATEGORY_TITLES, Finding, Verdict

SIGN = {"red_flag": 1.0, "absence": 1.0, "mitigating": -1.0}


class Scorer:
    """Findings to a 0-100 score, a verdict and the summary sentence (rules/scoring.yaml)."""

    def __init__(self, config: ScoringConfig, calibrated: dict[str, float] | None = None) -> None:
        """``calibrated`` thresholds (from the page-type model's meta, set by ``make train`` on
        the real corpus) replace the hand-set ones in scoring.yaml."""
        self.decay = config.decay
        thresholds = calibrated or config.thresholds.model_dump()
        self.high = float(thresholds["high_risk"])
        self.caution = float(thresholds["caution"])
        self.seller_floor = config.seller_floor
        self.floor_lifted_by = frozenset(config.floor_lifted_by)
        self.factors = config.applicability_factors
        self.summaries = config.summaries

    def score(
        self, findings: list[Finding], applicability: str | None
    ) -> tuple[int | None, Verdict]:
        """Set each finding's contribution in place; return (score, verdict).

        A site that is not about cell treatment is not judged: no score, and the caller sets its
        findings aside (a price list on a physiotherapist's site is not a warning sign).
        """
        if applicability == "unrelated":
            return None, "not_applicable"
        factors = self.factors.get(applicability or "offers_treatment", {})
        by_category: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_category[finding.category].append(finding)
        total = 0.0
        for group in by_category.values():
            group.sort(key=lambda f: f.weight, reverse=True)
            for rank, finding in enumerate(group):
                factor = float(factors.get(finding.polarity, 1.0))
                points = SIGN[finding.polarity] * finding.weight * factor * self.decay**rank
                finding.contribution = round(points, 1)
                total += points
        score = max(0, min(100, round(total)))
        if score >= self.high:
            return score, "high_risk"
        if score >= self.caution:
            return score, "caution"
        if self.seller_floor is not None and self.floored(findings, applicability):
            return score, self.seller_floor
        return score, "low_risk"

    def floored(self, findings: list[Finding], applicability: str | None) -> bool:
        """Whether the seller floor holds for a site: it sells cell treatment and shows none of
        the reassuring signs that can lift the floor (a trial registration, an IND, free
        participation). Selling unproven cells is the sign: among the real corpus's pages typed
        as selling, stated risks and the word "investigational" were found 65 times on high
        pages and 3 times on low ones, so they lower the score but leave the floor in place."""
        return (
            applicability == "offers_treatment"
            and self.seller_floor is not None
            and not any(f.rule_id in self.floor_lifted_by and f.contribution < 0 for f in findings)
        )

    def summary(self, verdict: Verdict, applicability: str | None, findings: list[Finding]) -> str:
        """One plain sentence for the top of the report."""
        red = [f for f in findings if f.polarity == "red_flag" and f.contribution > 0]
        names = []
        for finding in sorted(red, key=lambda f: f.contribution, reverse=True):
            title = CATEGORY_TITLES.get(finding.category, finding.category.replace("_", " "))
            name = title[0].lower() + title[1:]
            if name not in names:
                names.append(name)
        key: str = verdict
        if verdict == "low_risk" and applicability == "discusses":
            key = "low_risk_discusses"
        template = self.summaries.get(key, "{count} warning signs found.")
        top = ", ".join(names[:3]) if names else "none"
        return template.format(count=len(red), top=top)
