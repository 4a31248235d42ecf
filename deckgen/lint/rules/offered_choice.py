"""offered_choice: a front that offers its answer as one of two, or asks yes or no.

"Skeletal or smooth?" and "Is it benign?" are answered by a guess half the time: the learner
recalls nothing. A choice is an "or" between two short options (`option_words` words at most)
that end a question after its last comma or colon, or make up the whole question; a yes/no
question starts with an auxiliary verb ("is", "does", "can", ...). A choice by elimination is a
front that asks for a kind of a thing, rules out one kind ("the kind of muscle, other than heart
muscle") and is answered by another kind ("Skeletal muscle"): the kinds left are few. ("Besides
the heart muscle, which named muscle ...?" asks for a name among many, not a kind.)
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import LearnerCard, LintDeck
from ..findings import Finding, Rule
from ..words import AUXILIARIES, QUESTION_WORDS, questions, quoted, words

NAME = "offered_choice"
_LAST_PART = re.compile(r"[,:;(—–]")
_KIND_OF = re.compile(r"\b(?:kind|type|sort|class|category|variety)s?\s+of\s+([\w-]+)", re.IGNORECASE)
_RULED_OUT = re.compile(r"\b(?:other\s+than|besides|apart\s+from|except(?:\s+for)?|rather\s+than)\s+"
                        r"((?:[\w-]+\s+){0,3}?[\w-]+)(?=\s*(?:[,.;:?!)]|$))", re.IGNORECASE)


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front offers a choice of two or asks a yes/no question."""
    most = int(options["option_words"])
    if not deck.english:
        return
    for note in deck.notes:
        for card in note.cards:
            if card.blank:
                continue
            found = next(filter(None, (_choice(question, most) or _yes_no(question)
                                       for question in questions(card.question))), "")
            if found:
                yield Finding(NAME, card, card.question_field, f"{card.which}{found}",
                              "ask for the answer itself ('Which kind of muscle ...?'), so that it is "
                              "recalled, not picked or guessed")
                continue
            found = _elimination(deck, card)
            if found:
                yield Finding(NAME, card, card.question_field, f"{card.which}{found}",
                              "cue the answer by what sets it apart in the topic (where, when, what it "
                              "does), not by ruling out its neighbour")


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


def _elimination(deck: LintDeck, card: LearnerCard) -> str:
    """'the front rules out ...' if it asks for a kind of thing after naming another kind of the same
    thing ("the kind of muscle, other than heart muscle" → skeletal muscle): the kinds left are few."""
    asked = _KIND_OF.findall(card.question)
    if not asked:
        return ""
    kinds = {stem for found in asked for stem in deck.forms.content(words(found))}
    for answer in card.answers:
        head = deck.forms.content(answer.words)[-1:]
        if len(answer.words) < 2 or not head or head[0] not in kinds:
            continue
        for found in _RULED_OUT.finditer(card.question):
            other = words(found.group(1))
            if deck.forms.content(other)[-1:] == head and other != answer.words:
                return (f"the front rules out '{quoted(found.group(1))}' and asks for another {other[-1]}: "
                        "the answer is picked from the few kinds left")
    return ""


def _yes_no(question: str) -> str:
    found = words(question)
    if found and found[0] in AUXILIARIES:
        return f"the front asks a yes/no question: '{quoted(question.strip())}'"
    return ""


RULE = Rule(NAME, "a front that offers a choice of two, or asks yes or no", {"option_words": 3}, check)
