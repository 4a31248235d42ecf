"""open_list: a card whose answer is one of many, so that several answers are right.

A cloze deletion inside an open list ("such as", "among others", "etc.", "for example") has no
single answer: any other member of the list fits the gap as well. A front that asks for one of
many ("Name a cause of ...", "Give an example of ...") is ambiguous the same way.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import LearnerCard, LintDeck
from ..findings import Finding, Rule
from ..words import sentences

NAME = "open_list"
_OPEN = re.compile(r"\b(?:such\s+as|among\s+others|and\s+others|etc\b\.?|and\s+so\s+on|for\s+example|"
                   r"for\s+instance|e\.\s?g\.|including)", re.IGNORECASE)
_ONE_OF_MANY = re.compile(r"^(?:name|give|list|state|mention)\s+(?:a|an|one|any)\b|\b(?:an|one)\s+example\s+of\b",
                          re.IGNORECASE)
_GAP = "[...]"


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each cloze card whose gap stands in an open list, each front that asks for one of many."""
    if not deck.english:
        return
    for note in deck.notes:
        for card in note.cards:
            found = _open_gap(card) if note.is_cloze else _one_of_many(card)
            if found:
                yield Finding(NAME, card, card.question_field, f"{card.which}{found}",
                              "close the list: state how many there are ('the three sites: ...') and show "
                              "the others, or cue this one so that no other answer fits")


def _open_gap(card: LearnerCard) -> str:
    """'the gap stands in an open list ...' if a sentence with the card's gap says "such as" and the like."""
    for sentence in sentences(card.question):
        if _GAP in sentence or "[" in sentence:
            marker = _OPEN.search(sentence)
            if marker:
                return f"the gap stands in an open list ('{marker.group(0)}'): other answers fit it too"
    return ""


def _one_of_many(card: LearnerCard) -> str:
    marker = _ONE_OF_MANY.search(card.question)
    return f"the front asks for one of many ('{marker.group(0)}'): other answers are right too" if marker else ""


RULE = Rule(NAME, "a card whose gap or question is one of an open list", {}, check)
