"""answer_in_front: a front that already shows the answer it asks for.

For a cloze card this is a deletion whose text also stands, outside the gap, on the same card,
or a hint that spells it out. A term card is not judged: a capital named after its country
("Andorra la Vella" → "Andorra") holds its answer because that is the fact.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule
from ..words import contains, letters, quoted

NAME = "answer_in_front"


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front holds one of its own answers (of at least `min_letters` letters)."""
    min_letters = int(options["min_letters"])
    for note in deck.notes:
        for card in note.cards:
            if card.is_term:
                continue  # a name that holds the answer ("Andorra la Vella" → "Andorra") is the fact itself
            for answer in card.answers:
                if letters(answer.words) >= min_letters and contains(card.question_words, answer.words):
                    yield Finding(NAME, card, card.question_field,
                                  f"{card.which}the front already shows its answer '{quoted(answer.text)}'",
                                  "cue the answer without naming it")
                    break


RULE = Rule(NAME, "a front that shows its own answer", {"min_letters": 4}, check)
