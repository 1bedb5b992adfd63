"""Rule packs as data: the loader, which validates each file against ``rule_schema``.

A rule file (``rules/<family>.yaml``) holds one family of signs. Every key is checked: a typo or
an unknown category is an error that names the file, the rule id and the field, so a person
extending the rules without Python learns at once what to fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from app.engine.rule_schema import BUILT_IN_MODIFIERS, Rule, RulePack
from app.engine.stage_config import (
    SCHEMAS,
    ApplicabilityConfig,
    ContextConfig,
    ScoringConfig,
)

StageConfig = TypeVar("StageConfig", ContextConfig, ApplicabilityConfig, ScoringConfig)

# Files in rules/ that are not rule packs: they configure other stages.
CONFIG_FILES = frozenset(SCHEMAS)


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
    """A short hash of every rules file: the reports' ``rules_version``."""
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
    _check_floor(packs, stages[2])
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


def _check_floor(packs: dict[str, RulePack], scoring: ScoringConfig) -> None:
    """Only a reassuring rule of some pack can lift the seller floor."""
    mitigating = {r.id for pack in packs.values() for r in pack.rules if r.polarity == "mitigating"}
    unknown = [rule_id for rule_id in scoring.floor_lifted_by if rule_id not in mitigating]
    if unknown:
        raise RuleError(
            f"scoring.yaml: floor_lifted_by: {', '.join(map(repr, unknown))} is not a reassuring "
            f"(mitigating) rule; those are {', '.join(sorted(mitigating))}"
        )


def _stage(root: Path, name: str, schema: type[StageConfig]) -> StageConfig:
    path = root / name
    if not path.is_file():
        raise RuleError(f"{name} is missing from {root}")
    data = _read_yaml(path)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise RuleError(_describe(path, data, exc)) from None


# libyaml's parser where PyYAML was built with it: 9x faster on the rule packs (a tenth of the
# engine's start-up), the same data (both use the resolvers below).
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RuleLoader(_BaseLoader):  # type: ignore[valid-type,misc]
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
    listed = data.get("rules")
    rules: list[Any] = listed if isinstance(listed, list) else []
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
