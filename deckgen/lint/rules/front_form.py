"""front_form: a front that is not a question, an instruction or a blank.

A front passes if it hides something (a cloze gap `[...]`, or `___`), asks something (a `?`), has
a sentence that starts with a question word or an instruction verb (the built-in list, plus the
`verbs` setting), or is a term: a name or a word of a few words at most (a country, a word to
translate), which the card asks what goes with; so is the other side of a term's note (a
reversed term card's definition). A statement gives the learner nothing to answer. The built-in
words are English: on a deck in another language the rule runs once `verbs` names that
language's question words and verbs.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import LearnerCard, LintDeck
from ..findings import Finding, Rule
from ..words import quoted, words

NAME = "front_form"
VERBS = (
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how",
    "name", "list", "define", "give", "state", "describe", "explain", "identify", "compare",
    "contrast", "distinguish", "differentiate", "complete", "fill", "recall", "classify", "match",
    "outline", "summarise", "summarize", "calculate", "label", "translate", "spell", "choose",
    "select", "find", "predict", "interpret", "tell", "say",
)
_SENTENCE = re.compile(r"(?<=[.!:;])\s+")


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front neither asks, nor instructs, nor hides anything."""
    if not deck.english and not options["verbs"]:
        return  # its question words and verbs are English: another language's are given by `verbs`
    verbs = frozenset(VERBS) | frozenset(word.casefold() for word in options["verbs"])
    for note in deck.notes:
        if any(card.is_term for card in note.cards):
            continue  # a term and what goes with it: each side is the cue for the other
        for card in note.cards:
            if not asks(card, verbs):
                yield Finding(NAME, card, card.question_field,
                              f"{card.which}the front '{quoted(card.question)}' is not a question, "
                              f"an instruction or a blank",
                              "ask ('What ...?'), instruct ('Name ...') or hide the answer in a cloze, so "
                              "that the learner knows what to recall")


def asks(card: LearnerCard, verbs: frozenset[str]) -> bool:
    """Whether the front tells the learner what to recall (a front without words, an image, or a term is not judged)."""
    if card.blank or "?" in card.question or not card.question_words or card.is_term:
        return True
    return any(found[0] in verbs for found in map(words, _SENTENCE.split(card.question)) if found)


RULE = Rule(NAME, "a front that is not a question, an instruction or a blank", {"verbs": ()}, check)
