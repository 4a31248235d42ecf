"""source_question: a front that asks about the source rather than the fact.

"According to which document ...?", "How do the two documents differ ...?" test who said what,
not what is true. The front asks about a source when it asks which one ("which article"), sets
sources side by side ("the two documents", "both guidelines", "according to each"), or asks where
a source lists something ("a state it also names among the causes"). The words taken for a
source are the built-in list plus the `sources` setting.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ..learner_cards import LintDeck
from ..findings import Finding, Rule
from ..words import quoted

NAME = "source_question"
SOURCE_WORDS = ("document", "source", "article", "guideline", "paper", "book", "textbook", "author", "chapter",
                "lecture", "website")


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front asks which source said what."""
    patterns = _patterns(SOURCE_WORDS + tuple(options["sources"]))
    if not deck.english:
        return
    for note in deck.notes:
        for card in note.cards:
            found = next((match.group(0) for pattern in patterns for match in [pattern.search(card.question)] if match), "")
            if found:
                yield Finding(NAME, card, card.question_field,
                              f"{card.which}the front asks about the source ('{quoted(found)}'), not the fact",
                              "ask the fact itself and name the source on the back, unless the source's "
                              "own recommendation is the point")


def _patterns(sources: tuple[str, ...]) -> list[re.Pattern[str]]:
    names = "|".join(re.escape(word.casefold()) + "(?:s|es)?" for word in sorted(set(sources), key=len, reverse=True))
    return [re.compile(pattern, re.IGNORECASE) for pattern in (
        rf"\b(?:which|what|whose)\s+(?:\w+\s+)?(?:{names})\b",
        rf"\b(?:the\s+two|both|the\s+various|each\s+of\s+the(?:\s+two)?|the\s+different)\s+(?:\w+\s+)?(?:{names})\b",
        r"\baccording\s+to\s+(?:each|which|whom|both)\b",
        r"\b(?:it|they)\s+(?:also\s+)?(?:names?|lists?|mentions?|counts?|cites?)\b[^.?]*\bamong\b",
    )]


RULE = Rule(NAME, "a front that asks who said what", {"sources": ()}, check)
