"""Rule packs as data: the YAML schema, its validation and the loader.

A rule file (``rules/<family>.yaml``) holds one family of signs. Every key is checked: a typo or
an unknown category is an error that names the file, the rule id and the field, so a person
extending the rules without Python learns at once what to fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.engine.stage_config import (
    SCHEMAS,
    ApplicabilityConfig,
    ContextConfig,
    ScoringConfig,
)
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
RegionName = Literal["main", "nav", "header", "footer", "aside"]

StageConfig = TypeVar("StageConfig", ContextConfig, ApplicabilityConfig, ScoringConfig)

# Files in rules/ that are not rule packs: they configure other stages.
CONFIG_FILES = frozenset(SCHEMAS)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupCount(Strict):
    """Fires when terms from at least ``min_groups`` different groups appear close together."""

    groups: dict[str, list[str]] = Field(min_length=2)
    min_groups: int = Field(ge=2)
    within_blocks: int = Field(8, ge=1, description="How many consecutive blocks count as close.")


class MatchSpec(Strict):
    """What text a rule looks for. Regexes exist only behind ``identifiers``."""

    phrases: list[str] = Field(default_factory=list, description="Matched on lowercase words.")
    lemmas: list[str] = Field(
        default_factory=list, description="Matched on dictionary forms: 'cure' finds 'cured'."
    )
    patterns: list[list[dict[str, Any]]] = Field(
        default_factory=list, description="spaCy Matcher token patterns."
    )
    identifiers: list[IdentifierKind] = Field(default_factory=list)
    group_count: GroupCount | None = None

    @field_validator("patterns")
    @classmethod
    def _bounded(cls, patterns: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        # The matcher runs token patterns on short windows, so every pattern needs a maximum length.
        for pattern in patterns:
            if not pattern:
                raise ValueError("a token pattern needs at least one token")
            for token in pattern:
                if token.get("OP") in ("*", "+"):
                    raise ValueError('use OP "{0,N}" or "{1,N}" instead of "*" or "+"')
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
    regions: list[RegionName] = Field(
        default_factory=lambda: ["main", "header", "footer", "aside", "nav"]
    )
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
                or (theirs.min_groups, theirs.within_blocks)
                != (ours.min_groups, ours.within_blocks)
            ):
                # Findings are grouped by the rule's own counts, whatever the page's language.
                raise ValueError(
                    f"languages.{code}.match.group_count needs the same min_groups and "
                    "within_blocks as the rule's own group_count"
                )
        return self

    def match_for(self, language: str) -> MatchSpec | None:
        """The words this rule looks for in a page of ``language`` (English by default)."""
        if language == "en":
            return self.match
        variant = self.languages.get(language)  # type: ignore[call-overload]
        return variant.match if variant else None


class RulePack(Strict):
    family: str
    description: str = ""
    rules: list[Rule]


class RuleError(ValueError):
    """A rule file that cannot be used; the message names file, rule id and field."""


class RuleSet:
    """All rule packs from one folder, with a content hash used as ``rules_version``."""

    def __init__(
        self,
        packs: dict[str, RulePack],
        version: str,
        root: Path,
        stages: tuple[ContextConfig, ApplicabilityConfig, ScoringConfig],
    ) -> None:
        self.packs = packs
        self.version = version
        self.root = root
        self.context, self.applicability, self.scoring = stages
        self.rules: tuple[Rule, ...] = tuple(r for p in packs.values() for r in p.rules)
        self.by_id: dict[str, Rule] = {r.id: r for r in self.rules}


SCHEMA_FILE = "schema.json"


def pack_schema() -> str:
    """The JSON Schema of a rule pack, from the same models the loader validates with, for
    editors to check a rules file as it is written (``redflags rules schema``)."""
    schema = RulePack.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "redflags rule pack (rules/<family>.yaml)",
        **schema,
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rules_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_rules(root: Path) -> RuleSet:
    """Load and validate every rule pack in ``root``; raise RuleError on the first bad one."""
    if not root.is_dir():
        raise RuleError(f"rules folder {root} does not exist")
    packs: dict[str, RulePack] = {}
    seen: dict[str, str] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.name in CONFIG_FILES:
            continue
        data = _read_yaml(path)
        try:
            pack = RulePack.model_validate(data)
        except ValidationError as exc:
            raise RuleError(_describe(path, data, exc)) from None
        for rule in pack.rules:
            if rule.id in seen:
                raise RuleError(f"{path.name}: rule id {rule.id!r} is also used in {seen[rule.id]}")
            seen[rule.id] = path.name
        packs[path.name] = pack
    if not packs:
        raise RuleError(f"no rule packs (*.yaml) in {root}")
    stages = (
        _stage(root, "context.yaml", ContextConfig),
        _stage(root, "applicability.yaml", ApplicabilityConfig),
        _stage(root, "scoring.yaml", ScoringConfig),
    )
    _check_modifiers(packs, stages[0])
    return RuleSet(packs, rules_hash(root), root, stages)


def _check_modifiers(packs: dict[str, RulePack], context: ContextConfig) -> None:
    """Every modifier a rule or a policy names is one context.yaml defines (or "question")."""
    known = set(context.modifiers) | BUILT_IN_MODIFIERS
    problems = []
    for name, pack in packs.items():
        for rule in pack.rules:
            policy = rule.context
            for field, used in (
                ("suppress", policy.suppress),
                ("scale", list(policy.scale)),
                ("require", policy.require),
            ):
                for modifier in used:
                    if modifier not in known:
                        problems.append(
                            f"{name}: rule {rule.id}: context.{field}: unknown modifier "
                            f"{modifier!r}; context.yaml defines {', '.join(sorted(known))}"
                        )
    for kind, by_polarity in context.site_policy.items():
        for polarity, used in by_polarity.items():
            problems += [
                f"context.yaml: site_policy.{kind}.{polarity}: unknown modifier {m!r}"
                for m in used
                if m not in known
            ]
    for kind, used in context.page_voice.items():
        problems += [
            f"context.yaml: page_voice.{kind}: unknown modifier {m!r}"
            for m in used
            if m not in known
        ]
    if problems:
        raise RuleError("\n".join(problems))


def _stage(root: Path, name: str, schema: type[StageConfig]) -> StageConfig:
    path = root / name
    if not path.is_file():
        raise RuleError(f"{name} is missing from {root}")
    data = _read_yaml(path)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise RuleError(_describe(path, data, exc)) from None


class _RuleLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. Rule phrases such as ``no`` or ``on`` stay words."""


_RuleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_RuleLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_RuleLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise RuleError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RuleError(f"{path.name}: expected a mapping at the top level")
    return data


def _describe(path: Path, data: dict[str, Any], exc: ValidationError) -> str:
    """Turn pydantic's error list into 'file: rule id: field: problem' lines."""
    lines = []
    rules = data.get("rules") if isinstance(data.get("rules"), list) else []
    for err in exc.errors():
        loc = list(err["loc"])
        where = path.name
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and loc[1] < len(rules):
            raw = rules[loc[1]]
            rule_id = raw.get("id", f"#{loc[1] + 1}") if isinstance(raw, dict) else f"#{loc[1] + 1}"
            where += f": rule {rule_id}"
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or "(rule)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see rules/README.md for the keys)"
        lines.append(f"{where}: {field}: {message}")
    return "\n".join(lines)
