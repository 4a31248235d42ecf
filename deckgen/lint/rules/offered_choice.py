"""offered_choice: a front that offers its answer as one of two, or asks yes or no.

"Skeletal or smooth?" and "Is it benign?" are answered by a guess half the time: the learner
recalls nothing. A choice is an "or" between two short options (`option_words` words at most)
that end a question after its last comma or colon, or make up the whole question; a yes/no
question starts with an auxiliary verb ("is", "does", "can", ...).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule
from ..words import AUXILIARIES, QUESTION_WORDS, questions, quoted, words

NAME = "offered_choice"
_LAST_PART = re.compile(r"[,:;(—–]")


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front offers a choice of two or asks a yes/no question."""
    most = int(options["option_words"])
    if not deck.english:
        return
    for note in deck.notes:
        for card in note.cards:
            if card.blank:
                continue
            for question in questions(card.question):
                found = _choice(question, most) or _yes_no(question)
                if found:
                    yield Finding(NAME, card, card.question_field, f"{card.which}{found}",
                                  "ask for the answer itself ('Which kind of muscle ...?'), so that it is "
                                  "recalled, not picked or guessed")
                    break


def _choice(question: str, most: int) -> str:
    """'offers a choice ...' if the question ends in "A or B?" after a comma or colon (or is only that)."""
    tail = _LAST_PART.split(question)[-1]
    found = words(tail)
    if "or" not in found or not found or found[0] in QUESTION_WORDS | AUXILIARIES:
        return ""
    split = found.index("or")
    if 0 < split <= most and 0 < len(found) - split - 1 <= most:
        return f"the front offers a choice of two: '{quoted(tail.strip())}'"
    return ""


def _yes_no(question: str) -> str:
    found = words(question)
    if found and found[0] in AUXILIARIES:
        return f"the front asks a yes/no question: '{quoted(question.strip())}'"
    return ""


RULE = Rule(NAME, "a front that offers a choice of two, or asks yes or no", {"option_words": 3}, check)
