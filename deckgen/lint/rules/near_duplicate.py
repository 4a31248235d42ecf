"""near_duplicate: two cards of different notes whose fronts are (nearly) the same.

Similarity is the Jaccard index of the fronts' word sets (|A ∩ B| / |A ∪ B|, after normalising).
Candidate pairs come from a prefix filter, the standard set-similarity join: with each front's
words ordered rarest first, two fronts that reach the threshold must share a word among their
first `n - ceil(t * n) + 1` words, so only those are indexed and compared, never all pairs; and
their sizes cannot differ by more than the threshold allows (`t * n <= m <= n / t`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any, Iterator, Mapping

from ..cards import LearnerCard, LearnerNote
from ..findings import Finding, Rule

NAME = "near_duplicate"


def check(notes: list[LearnerNote], options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each later card whose front is at least `similarity` alike an earlier card's front."""
    threshold = float(options["similarity"])
    cards = [card for note in notes for card in note.cards if card.question_words]
    fronts = [frozenset(card.question_words) for card in cards]
    frequency = Counter(word for front in fronts for word in front)
    index: dict[str, list[int]] = defaultdict(list)
    reported: set[tuple[str, str]] = set()
    for number, (card, front) in enumerate(zip(cards, fronts)):
        prefix = _prefix(front, frequency, threshold)
        smallest = threshold * len(front) - 1e-9  # a front with fewer words cannot be alike enough
        candidates = sorted({other for word in prefix for other in index[word]
                             if smallest <= len(fronts[other]) <= len(front) / threshold + 1e-9})
        for other in candidates:
            pair = (cards[other].card_id, card.card_id)
            if pair[0] == pair[1] or pair in reported:
                continue
            shared = len(front & fronts[other])
            alike = shared / (len(front) + len(fronts[other]) - shared)
            if alike >= threshold:
                reported.add(pair)
                yield _finding(card, cards[other], alike)
        for word in prefix:
            index[word].append(number)


def _prefix(front: frozenset[str], frequency: Counter[str], threshold: float) -> list[str]:
    """The rarest words of a front: a front at least `threshold` alike shares one of them."""
    ordered = sorted(front, key=lambda word: (frequency[word], word))
    return ordered[: len(ordered) - math.ceil(threshold * len(ordered) - 1e-9) + 1]


def _finding(card: LearnerCard, earlier: LearnerCard, alike: float) -> Finding:
    where = f"{earlier.note.path}:{earlier.note.line}"
    if card.question_words == earlier.question_words:
        message = f"{card.which}its front is the same as the front of card '{earlier.card_id}' ({where})"
    else:
        message = (f"{card.which}its front shares {alike:.0%} of its words with the front of card "
                   f"'{earlier.card_id}' ({where})")
    return Finding(NAME, card, card.question_field, message,
                   "learners mix up cards that look alike: ask each fact once, or let the fronts differ in what they ask", (earlier.card_id,))


RULE = Rule(NAME, "two cards whose fronts are nearly the same", {"similarity": 0.8}, check)
