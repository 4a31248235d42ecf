"""definition_clue: a clue that is the deck's own definition of its answer.

A cue that says what the answer's word means ("It may be benign or malignant" → a tumor) is
answered by anyone who knows the word, without the topic. A program cannot know what every word
means, but it can read what the deck itself says a word means: a gloss in parentheses after a
term ("tumors (both benign and malignant)"), in any field of any note, and the back of a term
card (a front of a few words, "Calcification", and the definition it asks for). A card is
flagged when its answer is a term (at most three words that carry meaning) that names the
glossed term, and its clue's words (the text after the front's last colon, "Name the cause that
fits this clue: ...", or else the whole front) all stand in that gloss, at least `min_words` of
them. The deck's subject and the function words are left out; a gloss of more than `max_gloss`
words is a comment, not a definition; a front's own gloss and a term card's own reverse are not
compared with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ..findings import Finding, Rule
from ..learner_cards import LearnerCard, LearnerNote, LintDeck, shown_fields
from ..words import quoted, visible, words

NAME = "definition_clue"
TERM_WORDS = 3  # the words before a gloss that may name the term it explains
_GLOSS = re.compile(r"([^\W\d_][\w-]*(?:\s+[\w-]+){0,%d})\s*\(([^()]+)\)" % (TERM_WORDS - 1))


@dataclass(frozen=True)
class Gloss:
    """What the deck says a term means: the term's words, the gloss's word stems, and where it stands."""

    term: str
    text: str
    stems: frozenset[str]
    note: LearnerNote
    field: str


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each front/back card whose clue is all in a gloss the deck gives of its answer."""
    least, most = int(options["min_words"]), int(options["max_gloss"])
    glosses = _glosses(deck, most)
    if not glosses:
        return
    for note in deck.notes:
        if note.is_cloze:
            continue
        for card in note.cards:
            found = None if card.is_association else _defining(deck, card, glosses, least)
            if found is not None:
                yield _finding(card, *found)


def _glosses(deck: LintDeck, most: int) -> dict[str, list[Gloss]]:
    """The deck's glosses by the stem of each content word of their term."""
    found: dict[str, list[Gloss]] = {}
    for note in deck.notes:
        for gloss in _note_glosses(deck, note, most):
            for stem in set(deck.forms.content(words(gloss.term))) - deck.subject:
                found.setdefault(stem, []).append(gloss)
    return found


def _note_glosses(deck: LintDeck, note: LearnerNote, most: int) -> Iterator[Gloss]:
    """A note's glosses in parentheses, and its term card's definition."""
    for name, value in shown_fields(note):
        if "(" in value:
            for term, aside in _GLOSS.findall(visible(value)):
                stems = frozenset(deck.forms.content(words(aside))) - deck.subject
                if 2 <= len(stems) <= most:
                    yield Gloss(" ".join(words(term)[-TERM_WORDS:]), aside.strip(), stems, note, name)
    for card in note.cards:
        if card.is_term and len(card.answers) == 1:
            stems = frozenset(deck.forms.content(card.answers[0].words)) - deck.subject
            if 2 <= len(stems) <= most:
                yield Gloss(" ".join(card.cue), card.answers[0].text, stems, note, card.answer_field)


def _defining(deck: LintDeck, card: LearnerCard, glosses: dict[str, list[Gloss]], least: int
              ) -> tuple[Gloss, str] | None:
    """The gloss of one of the card's answers that holds all of its clue, with the term it glosses
    from its first word the answer names ("lists tumors (...)" glosses "tumors"), if there is one."""
    clue: set[str] | None = None
    for answer in card.answers:
        named = set(deck.forms.content(answer.words)) - deck.subject
        if len(named) > TERM_WORDS or named.isdisjoint(glosses):
            continue  # not a term (an explanation, which a gloss does not give away), or a term the deck never glosses
        clue = set(deck.forms.content(words(_clue(card.question)))) - deck.subject if clue is None else clue
        if len(clue) < least:
            return None
        for stem in named:
            for gloss in glosses.get(stem, ()):
                if _own(card, gloss):
                    continue
                term = words(gloss.term)
                stems = deck.forms.stems(term)
                if named.intersection(stems) and clue <= gloss.stems:
                    first = next(at for at, stem in enumerate(stems) if stem in named)
                    return gloss, " ".join(term[first:])
    return None


def _own(card: LearnerCard, gloss: Gloss) -> bool:
    """A gloss the card shows on its own front, or the term card it belongs to (its reverse asks the definition)."""
    return gloss.note.note is card.note and (gloss.field == card.question_field or any(c.is_term for c in gloss.note.cards))


def _clue(question: str) -> str:
    """The clue of a front: what follows its last colon ("... that fits this clue: it may be ..."), else all of it."""
    head, colon, tail = question.rpartition(":")
    return tail if colon and words(tail) and words(head) else question


def _finding(card: LearnerCard, gloss: Gloss, term: str) -> Finding:
    where = f"{gloss.note.note.path}:{gloss.note.note.line}"
    return Finding(
        NAME, card, card.question_field,
        f"{card.which}the clue '{quoted(_clue(card.question).strip())}' is what the deck says '{term}' "
        f"means ('{quoted(gloss.text)}', {where}): whoever knows the word answers it without the topic",
        "cue the answer by what the topic says of it (where, when, what it leads to), not by what the word means",
    )


RULE = Rule(NAME, "a clue that is the deck's own definition of its answer", {"min_words": 2, "max_gloss": 8}, check)
