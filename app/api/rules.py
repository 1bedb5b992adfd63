"""``/api/v1/rules``: the rule catalogue the engine scores with."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import EngineDep
from app.api.schemas import RuleCatalogue, RuleInfo

router = APIRouter(tags=["rules"])


@router.get("/rules", response_model=RuleCatalogue, summary="The rule catalogue")
def list_rules(engine: EngineDep) -> RuleCatalogue:
    """Every rule: what it looks for, how much it weighs, why it matters and where that is
    documented. `rules_version` matches the `rules_version` of the reports it produced."""
    ruleset = engine.ruleset
    rules = [
        RuleInfo.model_validate(rule.model_dump(include=set(RuleInfo.model_fields)))
        for rule in ruleset.rules
    ]
    return RuleCatalogue(rules_version=ruleset.version, rules=rules)
