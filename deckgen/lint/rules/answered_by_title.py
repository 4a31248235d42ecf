"""answered_by_title: a card whose answer is the deck's own title.

On a deck called "Dystrophic Calcification", the reverse of the term card ("The process by which
calcium is deposited abnormally in body tissues" → "Calcification") is answered by the deck's
name, which the learner reads above every card. The deck's subject is its name and title words
(and the `subject` setting under `lint:`).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule
from ..words import quoted

NAME = "answered_by_title"


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each front/back card whose every answer is the deck's subject."""
    for note in deck.notes:
        if note.is_cloze:
            continue
        for card in note.cards:
            if card.is_association:
                continue  # a word's meanings, a flag's country: what goes with a name, not a set or a definition
            if card.answers and all(deck.is_subject(answer.words) for answer in card.answers):
                yield Finding(NAME, card, card.answer_field,
                              f"{card.which}its answer '{quoted(card.answers[0].text)}' is the deck's own title",
                              "ask what the definition adds instead (the kind, the cause, the contrast with a "
                              "neighbouring term), or drop this direction of the note")


RULE = Rule(NAME, "a card answered by the deck's title", {}, check)
