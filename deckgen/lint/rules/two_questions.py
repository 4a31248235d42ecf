"""two_questions: a front that asks two things ("what level, and why?").

A front asks two things when it has two questions (two question marks), or when one question
joins a second question word to the first with "and" or "or" ("..., and when can it ...?", read
on English decks only). Each answer is then recalled only with the other, and graded as one.
A note with a term card (a word and its meanings, each way) is not judged: its meanings may be
questions ("How about it? What do you think?"), glosses of one sense.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule
from ..words import QUESTION_WORDS, questions, quoted

NAME = "two_questions"
_JOINED = re.compile(r"(?:,|\b(?:and|or))\s+(?:and\s+|or\s+)?(" + "|".join(sorted(QUESTION_WORDS)) + r")\b",
                     re.IGNORECASE)


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front asks two questions."""
    for note in deck.notes:
        if any(card.is_term for card in note.cards):
            continue  # a word and its meanings ("How about it? What do you think?"): one sense, glossed twice
        for card in note.cards:
            asked = questions(card.question)
            second = _second_question(asked) if deck.english else ""
            if len(asked) > 1 or second:
                shown = f"'{quoted(second)}'" if second else "two questions"
                yield Finding(NAME, card, card.question_field,
                              f"{card.which}the front asks two things: {shown}",
                              "one question, one answer: split it into two cards, each with its own cue")


def _second_question(asked: list[str]) -> str:
    """The joined second question of a sentence ("and why?"), or ""."""
    for question in asked:
        for found in _JOINED.finditer(question):
            if _joins(question, found):
                return question[found.start():].lstrip(", ").strip()
    return ""


def _joins(question: str, found: re.Match[str]) -> bool:
    """Whether "and/or <question word>" starts a second question, not a relative clause (", in which")."""
    joined = re.search(r"\b(?:and|or)\b", found.group(0), re.IGNORECASE)
    return bool(joined) or question[found.end():].strip(" ?") == ""


RULE = Rule(NAME, "a front that asks two things", {}, check)
