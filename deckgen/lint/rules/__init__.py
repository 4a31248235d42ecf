"""The lint rules, one module each; `RULES` is the order they run and are documented in."""

from __future__ import annotations

from ..findings import Rule
from . import answer_in_front, cloze_deletions, front_form, giveaway, list_dump, near_duplicate

RULES: tuple[Rule, ...] = (
    near_duplicate.RULE,
    giveaway.RULE,
    answer_in_front.RULE,
    list_dump.RULE,
    cloze_deletions.RULE,
    front_form.RULE,
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
