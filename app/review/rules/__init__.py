"""Deterministic backend rules: findings the model can neither add to nor remove.

Use `run_rules(diff, RuleContext(...))`; `ALL_RULES` lists every rule with its `id` and `doc`.
"""

from app.review.rules.base import Change, ChangedFile, Report, Rule, RuleContext
from app.review.rules.registry import ALL_RULES, rule_steps, run_rules

__all__ = [
    "ALL_RULES",
    "Change",
    "ChangedFile",
    "Report",
    "Rule",
    "RuleContext",
    "rule_steps",
    "run_rules",
]
