"""The lint rules, one module each; `RULES` is the order they run and are documented in."""

from __future__ import annotations

from ..findings import Rule
from . import (answer_in_front, answered_by_title, cloze_deletions, cloze_list, definition_clue, front_form, giveaway,
               list_dump, near_duplicate, offered_choice, open_list, restated_answer, source_question, two_questions)

RULES: tuple[Rule, ...] = (
    near_duplicate.RULE,
    giveaway.RULE,
    answer_in_front.RULE,
    restated_answer.RULE,
    answered_by_title.RULE,
    definition_clue.RULE,
    two_questions.RULE,
    offered_choice.RULE,
    source_question.RULE,
    open_list.RULE,
    list_dump.RULE,
    cloze_list.RULE,
    cloze_deletions.RULE,
    front_form.RULE,
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
