"""cloze_list: a cloze deletion that hides a list, two terms, or a whole clause.

A deletion should hide one meaningful term. "{{c1::the lungs, the kidneys and the stomach}}" is a
list recalled all or nothing; "{{c1::inflammation and further calcification}}" is two terms; a
deletion of more than `max_words` words is a clause to recite. Items are counted as in an answer
(commas, semicolons, a joining "and"/"or").
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule
from ..words import quoted
from .list_dump import items

NAME = "cloze_list"


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each cloze card with a deletion of several items or too many words."""
    most = int(options["max_words"])
    for note in deck.notes:
        if not note.is_cloze:
            continue
        for card in note.cards:
            for answer in card.answers:
                count = items(answer, joined=True)
                if count > 1 or len(answer.words) > most:
                    what = f"{count} terms" if count > 1 else f"{len(answer.words)} words (more than {most})"
                    yield Finding(NAME, card, card.answer_field,
                                  f"{card.which}the deletion '{quoted(answer.text)}' hides {what}",
                                  "hide one term per deletion: give each item its own number with the others "
                                  "visible, or hide only the term that carries the fact")
                    break


RULE = Rule(NAME, "a cloze deletion that hides a list, two terms or a clause", {"max_words": 6}, check)
