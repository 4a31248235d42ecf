"""cloze_deletions: a cloze card that hides too much for one fact.

Deletions that share a number (`{{c1::..}} .. {{c1::..}}`) are hidden together and must be
recalled together on one card: more than `per_card` of them is several facts asked at once.
Each further number makes another card from the same text: a note with more than `per_note`
numbers is a list turned into clozes, whose cards give each other away.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule

NAME = "cloze_deletions"


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each cloze card with more than `per_card` deletions, each note with more than `per_note` numbers."""
    per_card, per_note = int(options["per_card"]), int(options["per_note"])
    for note in deck.notes:
        if not note.is_cloze:
            continue
        cloze_cards = list(note.cards)
        if len(cloze_cards) > per_note:
            yield Finding(NAME, cloze_cards[0], cloze_cards[0].answer_field,
                          f"the text has {len(cloze_cards)} cloze numbers (more than {per_note}): "
                          f"{len(cloze_cards)} cards from one text",
                          "a text with that many gaps is a list; each card shows the others' answers: "
                          "keep the gaps that test the point, or split the text")
        for card in cloze_cards:
            if len(card.answers) > per_card:
                yield Finding(NAME, card, card.answer_field,
                              f"{card.which}hides {len(card.answers)} deletions at once (more than {per_card})",
                              "deletions with the same number are asked together; give them their own "
                              "numbers, or hide only the one that tests the fact")


RULE = Rule(NAME, "a cloze card or text with too many deletions", {"per_card": 3, "per_note": 5}, check)
