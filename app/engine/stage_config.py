"""Schemas for the stage configuration files in rules/: context, applicability, scoring.

They are data like the rule packs, so they get the same treatment: unknown keys and wrong
types are errors that name the file and the field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Direction = Literal["forward", "backward", "both"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModifierConfig(_Strict):
    """A context modifier in context.yaml: its direction, reach and trigger words."""

    direction: Direction = "forward"
    max_tokens: int = Field(8, ge=0, le=60)
    phrases: list[str] = Field(min_length=1)


class QuotesConfig(_Strict):
    """The quotation marks that make a sentence someone else's words."""

    pairs: list[tuple[str, str]] = Field(default_factory=list)
    max_chars: int = Field(400, gt=0)
    ignore_triggers_inside: list[str] = Field(default_factory=list)
    match_inside: dict[str, str] = Field(default_factory=dict)


class LanguageContext(_Strict):
    """A language's trigger words; direction, reach and policies stay those of the modifier."""

    modifiers: dict[str, list[str]] = Field(default_factory=dict)
    pseudo: list[str] = Field(default_factory=list)
    terminators: list[str] = Field(default_factory=list)


class ContextConfig(_Strict):
    """rules/context.yaml: the context modifiers, their triggers and the site policy."""

    modifiers: dict[str, ModifierConfig]
    pseudo: list[str] = Field(default_factory=list)
    terminators: list[str] = Field(default_factory=list)
    site_policy: dict[
        Literal["offers_treatment", "discusses", "unrelated"],
        dict[Literal["red_flag", "absence", "mitigating"], list[str]],
    ] = Field(default_factory=dict)
    page_voice: dict[Literal["offers_treatment", "discusses", "unrelated"], list[str]] = Field(
        default_factory=dict,
        description="Modifiers every unquoted sentence of a page of this type has: on a page "
        "that sells, each sentence nobody else is said to have written is the seller's own.",
    )
    quotes: QuotesConfig = Field(default_factory=QuotesConfig)
    self_evident: list[str] = Field(default_factory=list)
    languages: dict[str, LanguageContext] = Field(
        default_factory=dict, description="Trigger words in other languages, by ISO 639-1 code."
    )

    @model_validator(mode="after")
    def _known_modifiers(self) -> ContextConfig:
        for code, words in self.languages.items():
            unknown = sorted(set(words.modifiers) - set(self.modifiers))
            if unknown:
                raise ValueError(f"languages.{code}: unknown modifiers {unknown}")
        return self

    def phrases(self, language: str) -> tuple[dict[str, list[str]], list[str], list[str]]:
        """(modifier -> trigger phrases, pseudo-triggers, terminators) for one language."""
        if language == "en":
            modifiers = {name: m.phrases for name, m in self.modifiers.items()}
            return modifiers, self.pseudo, self.terminators
        words = self.languages.get(language, LanguageContext())
        return words.modifiers, words.pseudo, words.terminators


class ApplicabilityConfig(_Strict):
    """How the page-type model's probabilities become a page's and a site's type."""

    offers: float = Field(
        0.5, gt=0, lt=1, description="A page offers treatment at this P(offers_treatment)."
    )
    unrelated: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="A site is about something else when every page's P(unrelated) reaches this.",
    )
    seller_voice_from: float = Field(
        0.5,
        ge=0,
        le=1,
        description="From this P(offers_treatment) up, an impersonal warning sign counts as "
        "the seller's own, its weight times the probability.",
    )
    selling_sign_from: float = Field(
        0.6,
        ge=0,
        le=1,
        description="From this P(offers_treatment) up, selling itself is a finding, its weight "
        "times the probability.",
    )
    cues_shown: int = Field(8, ge=0, le=50)
    evidence_sentences: int = Field(
        3, ge=1, le=10, description="Sentences quoted as what makes a page an offer."
    )


class Thresholds(_Strict):
    """The scores from which a site is high risk or calls for caution."""

    high_risk: float = Field(50, ge=0, le=100)
    caution: float = Field(25, ge=0, le=100)


class ScoringConfig(_Strict):
    """rules/scoring.yaml: how findings add up to a score and a verdict."""

    decay: float = Field(0.5, gt=0, le=1)
    seller_floor: Literal["caution", "high_risk"] | None = Field(
        "caution", description="The least verdict a site that sells cell treatment gets."
    )
    floor_lifted_by: list[str] = Field(
        default_factory=list,
        description="Reassuring rules (ids) whose finding can leave a seller below the floor; "
        "none: no sign can.",
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    applicability_factors: dict[str, dict[str, float]] = Field(default_factory=dict)
    summaries: dict[str, str] = Field(default_factory=dict)


SCHEMAS: dict[str, type[BaseModel]] = {
    "context.yaml": ContextConfig,
    "applicability.yaml": ApplicabilityConfig,
    "scoring.yaml": ScoringConfig,
}
