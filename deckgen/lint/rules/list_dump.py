"""list_dump: an answer that is a list of more than `max_items` items.

Items are counted as a learner would see them: list items (`<li>`, LaTeX's `\\item`), else short
lines (each of five words at most: longer ones are prose), else the parts of
a list written out: comma- or semicolon-separated parts ending in "and"/"or" ("A, B and C"), or
parts separated by semicolons. Commas alone separate adjectives ("a tiny, white, gritty granule"),
not items, and text in parentheses is an aside;
a part of more than five words is a clause of a sentence, not an item.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import Answer, LintDeck
from ..findings import Finding, Rule
from ..words import words

NAME = "list_dump"
ITEM_WORDS = 5  # an item of a list is a term: a part with more words is a clause of a sentence
_LIST_ITEM = re.compile(r"<li\b", re.IGNORECASE)
_LINE_BREAK = re.compile(r"<br\b|</p>\s*<p\b|</div>\s*<div\b", re.IGNORECASE)
_ASIDE = re.compile(r"\([^()]*\)")
_COMMA = re.compile(r"[;,]")
_JOIN = re.compile(r"\s(?:and|or|&)\s", re.IGNORECASE)


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card with an answer of more than `max_items` items."""
    most = int(options["max_items"])
    for note in deck.notes:
        if note.is_cloze:
            continue  # a deletion's items are cloze_list's
        for card in note.cards:
            if card.is_association:
                continue  # a word's meanings, a flag's country: what goes with a name, not a set or a definition
            counts = [items(answer) for answer in card.answers]
            if counts and max(counts) > most:
                yield Finding(NAME, card, card.answer_field,
                              f"{card.which}its answer is a list of {max(counts)} items (more than {most})",
                              "a set is recalled all or nothing: make it a closed list of cloze deletions "
                              "('five local causes: ...'), one deletion per item with the others visible")


def items(answer: Answer, joined: bool = False) -> int:
    """How many items a learner would count in an answer (`joined`: "A and B" is two as well)."""
    listed = len(_LIST_ITEM.findall(answer.html)) or answer.html.count("\\item")
    if listed:
        return listed
    lines = len(_LINE_BREAK.findall(answer.html)) + 1
    if lines > 1 and any(len(words(line)) > ITEM_WORDS for line in _LINE_BREAK.split(answer.html)):
        lines = 1  # lines of prose or of a derivation, not items
    text = _ASIDE.sub(" ", answer.text)
    parts = [text]
    if ";" in text or (_COMMA.search(text) and _JOIN.search(text)):
        parts = re.split(r"[;,]|\s(?:and|or|&)\s", text)
    elif joined and _JOIN.search(text):
        parts = _JOIN.split(text)
    parts = [part for part in parts if part.strip()]
    short = all(len(words(part)) <= ITEM_WORDS for part in parts)  # long parts are the clauses of a sentence
    return max(lines, len(parts) if short else 1)


RULE = Rule(NAME, "an answer that is a list of more than two items", {"max_items": 2}, check)
