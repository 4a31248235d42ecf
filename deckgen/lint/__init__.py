"""`deckgen lint`: the formulation defects a program can see in a deck's cards.

Lint judges the cards as learners meet them (`learner_cards.py`): each rule (`rules/`, one module each)
reports findings on those cards; `run.py` locates them in the card files and matches them with
the author's `lint_ignore:` reasons (`ignores.py`), with a forked helper running half the rules on a
big deck (`split.py`); `settings.py` reads the `lint:` settings.
Rules compare text as words (`words.py`) reduced to their stems (`word_forms.py`, the Snowball
stemmers); `giveaways()` is the giveaway rule alone, for a test over a deck's cards.

May import: `deckgen.build` and everything below it.
"""

from __future__ import annotations

from .findings import LintFinding
from .rules import RULE_NAMES, RULES
from .run import LintReport, giveaways, lint_project
from .settings import LintSettings, read_settings

__all__ = ["LintFinding", "LintReport", "LintSettings", "RULES", "RULE_NAMES", "giveaways", "lint_project", "read_settings"]
