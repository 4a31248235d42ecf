"""list_dump: an answer that is a list of more than `max_items` items.

Items are counted as a learner would see them: list items (`<li>`), else lines, else the parts
of a comma- or semicolon-separated answer (a final "and"/"or" separates too).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import Answer, LearnerNote
from ..findings import Finding, Rule

NAME = "list_dump"
_LIST_ITEM = re.compile(r"<li\b", re.IGNORECASE)
_LINE_BREAK = re.compile(r"<br\b|</p>\s*<p\b", re.IGNORECASE)
_SEPARATOR = re.compile(r"[;,]|\s(?:and|or)\s")


def check(notes: list[LearnerNote], options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card with an answer of more than `max_items` items."""
    most = int(options["max_items"])
    for note in notes:
        for card in note.cards:
            counts = [items(answer) for answer in card.answers]
            if counts and max(counts) > most:
                yield Finding(NAME, card, card.answer_field,
                              f"{card.which}its answer is a list of {max(counts)} items (more than {most})",
                              "a list is recalled as one lump and forgotten item by item: ask for each "
                              "item from its own cue, or build the list up over several cards")


def items(answer: Answer) -> int:
    """How many items a learner would count in an answer."""
    listed = len(_LIST_ITEM.findall(answer.html))
    if listed:
        return listed
    lines = len(_LINE_BREAK.findall(answer.html)) + 1
    parts = [part for part in _SEPARATOR.split(answer.text) if part.strip()] if re.search(r"[;,]", answer.text) else []
    return max(lines, len(parts))


RULE = Rule(NAME, "an answer that is a long list", {"max_items": 5}, check)
