"""The schema of a rule pack (``rules/<family>.yaml``): every key a rule may have, typed.

The loader (``rulebook``) validates each file with these models, and ``redflags rules schema``
publishes them as ``rules/schema.json`` so editors check a rule file as it is written.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.engine.types import (
    ABSENCE_CATEGORIES,
    CATEGORIES,
    MITIGATING_CATEGORIES,
    RED_FLAG_CATEGORIES,
    ApplicabilityKind,
    Polarity,
)
from app.extract.page import BlockKind

# A context modifier's name: one of context.yaml's modifiers, or "question" (a sentence that
# ends with "?"). Checked against context.yaml when the rules are loaded, so a new modifier
# needs no Python.
Modifier = Annotated[str, Field(pattern=r"^[a-z][a-z_]*$")]
BUILT_IN_MODIFIERS = frozenset({"question"})
IdentifierKind = Literal["money", "registry_id", "ind_number"]
RegionName = Literal["main", "nav", "header", "footer", "aside", "noscript"]
# A rule reads every region but <noscript> fallbacks (notices, not what the page says) unless
# it lists them.
ALL_REGIONS: tuple[RegionName, ...] = ("main", "header", "footer", "aside", "nav")


class Strict(BaseModel):
    """A model that refuses unknown keys, so a typo in a rules file is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupCount(Strict):
    """Fires when terms from at least ``min_groups`` different groups appear close together."""

    groups: dict[str, list[str]] = Field(min_length=2)
    min_groups: int = Field(ge=2)
    within_blocks: int = Field(8, ge=1, description="How many consecutive blocks count as close.")
    min_terms: int | None = Field(
        None,
        ge=3,
        description="Also fires when this many different terms of at least two groups appear "
        "close together: a long list within few body systems.",
    )


class StringMatch(Strict):
    """A token attribute matched against a list or a regular expression (spaCy's IN / REGEX)."""

    IN: list[str] | None = None
    NOT_IN: list[str] | None = None
    REGEX: str | None = None

    @model_validator(mode="after")
    def _one(self) -> StringMatch:
        if sum(v is not None for v in (self.IN, self.NOT_IN, self.REGEX)) != 1:
            raise ValueError("give exactly one of IN, NOT_IN or REGEX")
        return self


TokenText = str | StringMatch


class TokenPattern(Strict):
    """One token of a spaCy Matcher pattern, limited to the attributes the pipelines set.

    A misspelt attribute ("LOWR") is an error here rather than a pattern that never matches.
    """

    LOWER: TokenText | None = None
    LEMMA: TokenText | None = None
    ORTH: TokenText | None = None
    TEXT: TokenText | None = None
    NORM: TokenText | None = None
    IS_PUNCT: bool | None = None
    IS_SPACE: bool | None = None
    IS_TITLE: bool | None = None
    IS_DIGIT: bool | None = None
    IS_ALPHA: bool | None = None
    LIKE_NUM: bool | None = None
    OP: str | None = Field(
        None,
        pattern=r"^(!|\?|\{\d+\}|\{\d*,\d+\})$",
        description='"?", "!" or a bounded count such as "{0,3}"; "*" and "+" are refused.',
    )

    def for_spacy(self) -> dict[str, Any]:
        """The token as spaCy's Matcher takes it."""
        return self.model_dump(exclude_none=True)


class MatchSpec(Strict):
    """What text a rule looks for. Regexes exist only behind ``identifiers``."""

    phrases: list[str] = Field(default_factory=list, description="Matched on lowercase words.")
    lemmas: list[str] = Field(
        default_factory=list, description="Matched on dictionary forms: 'cure' finds 'cured'."
    )
    patterns: list[list[TokenPattern]] = Field(
        default_factory=list, description="spaCy Matcher token patterns."
    )
    identifiers: list[IdentifierKind] = Field(default_factory=list)
    group_count: GroupCount | None = None

    @field_validator("patterns")
    @classmethod
    def _bounded(cls, patterns: list[list[TokenPattern]]) -> list[list[TokenPattern]]:
        # The matcher runs token patterns on short windows, so every pattern needs a maximum
        # length: TokenPattern refuses "*" and "+".
        if any(not pattern for pattern in patterns):
            raise ValueError("a token pattern needs at least one token")
        return patterns

    @model_validator(mode="after")
    def _not_empty(self) -> MatchSpec:
        if not (
            self.phrases or self.lemmas or self.patterns or self.identifiers or self.group_count
        ):
            raise ValueError("a match needs phrases, lemmas, patterns, identifiers or group_count")
        return self


class ContextPolicy(Strict):
    """How context modifiers found in the same sentence change a candidate."""

    suppress: list[Modifier] = Field(
        default_factory=lambda: ["negated", "reported", "question", "hypothetical"]
    )
    scale: dict[Modifier, Annotated[float, Field(gt=0, le=2)]] = Field(default_factory=dict)
    require: list[Modifier] = Field(default_factory=list)
    sentence_mentions: list[str] = Field(
        default_factory=list,
        description="The sentence must also contain one of these words (any letter case).",
    )
    sentence_excludes: list[str] = Field(
        default_factory=list,
        description="A sentence containing one of these words does not count (any letter case).",
    )
    regions: list[RegionName] = Field(default_factory=lambda: list(ALL_REGIONS))
    skip_kinds: list[BlockKind] = Field(
        default_factory=list, description="Kinds of block where a match does not count."
    )


class Examples(Strict):
    """Sentences each rule is tested on, through the real pipeline, on both page types."""

    match: list[str] = Field(
        default_factory=list,
        description="Fire on any page: the sentence is in the site's own voice (we / our).",
    )
    match_when_selling: list[str] = Field(
        default_factory=list,
        description="Fire on a page that sells treatment, where every unattributed sentence is "
        "the seller's; set aside on a page that only discusses it (impersonal claims).",
    )
    no_match: list[str] = Field(default_factory=list, description="Fire on no page.")


PipelineLanguage = Literal["es"]


class LanguageVariant(Strict):
    """A rule's words and examples in another language, run by that language's pipeline.

    The rule's context policy, weight and texts for the reader are shared: reports stay in
    English and quote the page's own sentence.
    """

    match: MatchSpec | None = Field(
        None, description="None for a rule that finds only identifiers, which any language has."
    )
    examples: Examples = Field(default_factory=Examples)

    @field_validator("match")
    @classmethod
    def _no_identifiers(cls, match: MatchSpec | None) -> MatchSpec | None:
        if match is not None and match.identifiers:
            raise ValueError(
                "identifiers are found in every language; list them under the rule's own `match`"
            )
        return match


class Rule(Strict):
    """One warning sign (or reassuring or missing sign): what it matches and what it tells a
    patient.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
    title: str
    category: str
    polarity: Polarity
    weight: float = Field(ge=0, le=100)
    status: Literal["experimental", "test", "stable"] = "experimental"
    description: str = ""
    explanation: str = Field(min_length=10, description="Why it matters, for a patient.")
    advice: str = Field(min_length=10, description="What to do or ask.")
    references: list[str] = Field(default_factory=list)
    falsepositives: list[str] = Field(default_factory=list)
    match: MatchSpec | None = None
    absent: list[str] = Field(
        default_factory=list, description="Absence rules: fire when none of these categories occur."
    )
    registry_verdict: Literal["red_flag", "patient_funded", "supports_legitimacy"] | None = Field(
        None, description="Registry rules: fire on this verdict of a trial-registry check."
    )
    page_type: ApplicabilityKind | None = Field(
        None,
        description="Page-type rules: fire when the page-type model reads a page as this type; "
        "the weight is scaled by the model's probability.",
    )
    context: ContextPolicy = Field(default_factory=ContextPolicy)
    examples: Examples = Field(default_factory=Examples)
    languages: dict[PipelineLanguage, LanguageVariant] = Field(
        default_factory=dict,
        description="The rule in other languages: words to match and examples, by ISO 639-1 code.",
    )

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; use one of: {', '.join(CATEGORIES)}")
        return value

    @field_validator("absent")
    @classmethod
    def _known_absent(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}")
        return value

    @model_validator(mode="after")
    def _polarity_fits(self) -> Rule:
        allowed = {
            "red_flag": RED_FLAG_CATEGORIES,
            "absence": ABSENCE_CATEGORIES,
            "mitigating": MITIGATING_CATEGORIES,
        }[self.polarity]
        if self.category not in allowed:
            raise ValueError(f"category {self.category!r} is not a {self.polarity} category")
        if self.polarity == "absence":
            if not self.absent or self.match is not None:
                raise ValueError("an absence rule lists `absent` categories and has no `match`")
        elif self.registry_verdict is not None or self.page_type is not None:
            if self.match is not None or (self.registry_verdict and self.page_type):
                raise ValueError(
                    "a registry rule has `registry_verdict`, a page-type rule has `page_type`; "
                    "either has no `match`"
                )
        elif self.match is None:
            raise ValueError("this rule needs a `match`")
        if self.languages and self.match is None:
            raise ValueError("only a rule with a `match` has `languages`")
        for code, variant in self.languages.items():
            theirs = variant.match.group_count if variant.match else None
            ours = self.match.group_count if self.match else None
            if theirs is not None and (
                ours is None
                or (theirs.min_groups, theirs.within_blocks, theirs.min_terms)
                != (ours.min_groups, ours.within_blocks, ours.min_terms)
            ):
                # Findings are grouped by the rule's own counts, whatever the page's language.
                raise ValueError(
                    f"languages.{code}.match.group_count needs the same min_groups, "
                    "within_blocks and min_terms as the rule's own group_count"
                )
        return self

    def match_for(self, language: str) -> MatchSpec | None:
        """The words this rule looks for in a page of ``language`` (English by default)."""
        if language == "en":
            return self.match
        variant = self.languages.get(language)  # type: ignore[call-overload]
        return variant.match if variant else None


class RulePack(Strict):
    """One rules file: a family of signs."""

    family: str
    description: str = ""
    rules: list[Rule]
