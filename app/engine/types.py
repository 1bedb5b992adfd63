"""Data passed between the engine's stages: extracted pages in, a scored report out.

Internal stage data are frozen dataclasses; the report is a pydantic model because it is the
public JSON contract that the API, exports and the browser extension build on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Polarity = Literal["red_flag", "absence", "mitigating"]
Verdict = Literal["high_risk", "caution", "low_risk", "not_applicable", "unreadable"]
# Verdicts from the most to the least worrying, as screening lists order sites.
SEVERITY: dict[str, int] = {
    "high_risk": 4,
    "caution": 3,
    "low_risk": 2,
    "not_applicable": 1,
    "unreadable": 0,
}


def ranking(verdict: str, selling: float | None, score: int | None) -> tuple[int, float, int]:
    """The order sites are ranked in (screening lists, AUROC): by verdict, then by how strongly
    the site reads as selling cell treatment (P(offers)), then by score."""
    return SEVERITY[verdict], selling or 0.0, score or 0


@dataclass(frozen=True)
class VerdictView:
    """A verdict as people read it, on the report page and in a batch summary alike: its words,
    its icon's shape and a colour class (never colour alone)."""

    words: str
    icon: str  # a shape drawn by the icon macro in app/web/templates/icons.html
    tone: str  # CSS modifier: verdict--<tone>


VERDICTS: dict[Verdict, VerdictView] = {
    "high_risk": VerdictView("High risk", "octagon", "high"),
    "caution": VerdictView("Caution", "triangle", "caution"),
    "low_risk": VerdictView("Low risk", "check", "low"),
    "not_applicable": VerdictView("Not a clinic selling treatment", "info", "neutral"),
    "unreadable": VerdictView("Could not read this site", "question", "unknown"),
}
ApplicabilityKind = Literal["offers_treatment", "discusses", "unrelated"]

RED_FLAG_CATEGORIES = (
    "sells_cell_treatment",
    "cure_claim",
    "price_or_payment",
    "fda_status_misleading",
    "many_conditions",
    "testimonials",
    "medical_tourism",
    "safety_minimized",
    "pay_to_participate",
    "unproven_product",
    "pressure_sales",
)
ABSENCE_CATEGORIES = ("no_ind", "no_trial_registration", "no_risk_disclosure")
MITIGATING_CATEGORIES = (
    "trial_registration_id",
    "ind_mentioned",
    "risks_disclosed",
    "no_cost_to_participants",
    "investigational_status",
)
CATEGORIES = RED_FLAG_CATEGORIES + ABSENCE_CATEGORIES + MITIGATING_CATEGORIES
# Each category's title for people: the one vocabulary of the report page's summary sentence,
# the batch summary and the exports' legend (tests/engine/test_types.py: every category has one).
CATEGORY_TITLES: dict[str, str] = {
    "sells_cell_treatment": "Sells cell treatment",
    "cure_claim": "Promises a cure",
    "price_or_payment": "Prices or payment plans",
    "fda_status_misleading": "Misleading FDA claims",
    "many_conditions": "Treats many unrelated conditions",
    "testimonials": "Patient testimonials",
    "medical_tourism": "Medical travel packages",
    "safety_minimized": "Plays down risks",
    "pay_to_participate": "Pay to join a 'study'",
    "unproven_product": "Unproven product",
    "pressure_sales": "Sales pressure",
    "no_ind": "No IND number",
    "no_trial_registration": "No trial registration",
    "no_risk_disclosure": "No risks disclosed",
    "trial_registration_id": "Gives a trial registration number",
    "ind_mentioned": "Gives an FDA IND number",
    "risks_disclosed": "Describes the risks",
    "no_cost_to_participants": "Free to participants",
    "investigational_status": "Says the treatment is experimental",
}


# --- Report (public contract) ------------------------------------------------------------------


class Evidence(BaseModel):
    """Where a finding was seen: the sentence, the page, and the matched span's offsets."""

    url: str = Field(description="Page URL, or the file path for local analysis.")
    quote: str = Field(description="The sentence (or block) that shows the sign.")
    match: str = Field(description="The words that triggered the rule.")
    start: int = Field(description="Offset of the match in the page's extracted text.")
    end: int
    quote_start: int = Field(description="Offset of the quote in the page's extracted text.")


class Adjustment(BaseModel):
    """One context modifier that touched a candidate, and the word that caused it."""

    modifier: str  # e.g. negated, hedged, reported, question, own_voice
    trigger: str
    effect: Literal["suppress", "boost", "scale"]
    factor: float = 1.0


class Decision(BaseModel):
    """The decision process for one candidate match (returned with ``explain``)."""

    rule_id: str
    pattern: str
    match: str
    url: str
    quote: str
    base_weight: float
    adjustments: list[Adjustment] = Field(default_factory=list)
    weight: float
    kept: bool
    reason: str | None = None


class Finding(BaseModel):
    """A warning, reassuring or missing sign found on the site, with its evidence and weight."""

    rule_id: str
    category: str
    polarity: Polarity
    title: str
    weight: float = Field(description="The rule's weight after context adjustments.")
    contribution: float = Field(description="Points this finding adds to (or takes from) score.")
    explanation: str
    advice: str
    references: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    occurrences: int = Field(0, description="Sentences that showed the sign (evidence is capped).")
    decisions: list[Decision] | None = None


class RegistryId(BaseModel):
    """A trial registry number written on the site (NCT..., ISRCTN..., ...)."""

    registry: str
    id: str  # normalised
    text: str  # as written
    url: str | None = None  # where the registry shows it, when known


class Money(BaseModel):
    """A price written on the site, read as amount, currency and qualifier."""

    text: str
    currency: str | None
    amount: float | None = None
    low: float | None = None
    high: float | None = None
    qualifier: Literal["exact", "range", "starting_at", "per_month", "up_to"] = "exact"
    # Billing period written after the amount ("/month", "per night"); kept apart from the
    # qualifier so "as low as $189/month" is both a starting price and a monthly payment.
    period: Literal["month", "year", "week", "day", "night", "session"] | None = None
    url: str | None = None


class Identifiers(BaseModel):
    """Registry numbers, IND numbers and prices found on the site."""

    registry_ids: list[RegistryId] = Field(default_factory=list)
    ind_numbers: list[str] = Field(default_factory=list)
    prices: list[Money] = Field(default_factory=list)


class TrialCheck(BaseModel):
    """What ClinicalTrials.gov says about a registry number the site cites."""

    nct_id: str
    status: Literal["verified", "not_found", "invalid", "unverified"]
    verdict: Literal["supports_legitimacy", "red_flag", "neutral", "unverified"]
    reason: str
    verdict_reason: str
    url: str
    title: str | None = None
    overall_status: str | None = None
    lead_sponsor: str | None = None
    sponsor_class: str | None = None
    conditions: list[str] = Field(default_factory=list)
    patient_funded: bool = False
    registry_answer: dict[str, Any] | None = Field(
        None,
        description="The study record as ClinicalTrials.gov sent it, kept as evidence (null when "
        "it had none: not found, malformed, or it did not answer).",
    )
    answered_at: datetime | None = Field(None, description="When the registry answered.")


class Cue(BaseModel):
    """A word or word pair that moved the page-type model, and how far (log-odds)."""

    term: str
    direction: Literal["offers", "discusses", "on_topic", "off_topic"]
    contribution: float
    url: str = Field(description="The page whose text holds the cue.")


class PageKind(BaseModel):
    """The page-type model's reading of one page."""

    url: str
    kind: ApplicabilityKind
    probabilities: dict[str, float]
    language: str


class Applicability(BaseModel):
    """What kind of site this is (sells treatment, discusses it, unrelated) and why."""

    kind: ApplicabilityKind
    offers_score: float = Field(description="P(offers_treatment) of the site's most selling page.")
    discusses_score: float = Field(description="P(discusses) of that page.")
    probabilities: dict[str, float] = Field(
        default_factory=dict, description="The page-type model's probabilities for that page."
    )
    cues: list[Cue] = Field(default_factory=list, description="What moved the model most.")
    pages: list[PageKind] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


class PageInfo(BaseModel):
    """One page that was read."""

    url: str = Field(description="The page's final URL, or the file path.")
    title: str | None = None
    words: int = 0
    warnings: list[str] = Field(default_factory=list)
    requested_url: str | None = None
    status: int | None = None
    fetched_at: datetime | None = None
    sha256: str | None = None
    content_type: str | None = None
    error: str | None = None


class Report(BaseModel):
    """The report on one site: score, verdict, findings with evidence, and what was read."""

    source: str
    language: str = Field(
        "en", description="ISO 639-1 code of the language most of the site's pages are in."
    )
    score: int | None = Field(
        ge=0,
        le=100,
        description="0-100, the higher the more warning signs; null when the site was not judged: "
        "not about cell treatment (not_applicable) or not read (unreadable).",
    )
    verdict: Verdict
    applicability: Applicability | None
    summary: str
    findings: list[Finding] = Field(default_factory=list)
    identifiers: Identifiers = Field(default_factory=Identifiers)
    pages: list[PageInfo] = Field(default_factory=list)
    rules_version: str
    engine_version: str
    warnings: list[str] = Field(default_factory=list)
    trial_checks: list[TrialCheck] = Field(default_factory=list)
    discarded: list[Decision] | None = Field(
        default=None, description="Candidates that context removed (only with explain)."
    )

    @property
    def judged(self) -> bool:
        """Whether the site was judged at all: it was read and is about cell treatment.

        Reports stored before ``score`` could be null have a score for unjudged sites too, so
        the verdict decides."""
        return self.score is not None and self.verdict not in ("not_applicable", "unreadable")

    @property
    def judges_a_seller(self) -> bool:
        """Whether a seller of treatment is judged: only then do reassuring signs, missing
        information and questions for the clinic mean anything to a reader."""
        return (
            self.judged
            and self.applicability is not None
            and self.applicability.kind == "offers_treatment"
        )
