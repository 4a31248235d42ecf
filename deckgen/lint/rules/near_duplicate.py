"""near_duplicate: two cards of different notes whose fronts are (nearly) the same.

Similarity is the Jaccard index of the fronts' word sets (|A ∩ B| / |A ∪ B|, after normalising),
where each image or sound a front shows counts as a word of its own (its file name): fronts that
show different images are never alike, and image-only fronts are compared by their images. The
marks an author sets fronts apart with ("好*" beside "好": a second sense of the word) count as
one more word; punctuation does not. Two term cards are alike only if they show the same term:
"Pitcairn Islands" and "Cayman Islands", each with the label "Country" and the same note
"British overseas territory", ask about two places.
Pairs are found by a prefix-filtered similarity join (PPJoin), never by comparing all pairs. Two
fronts of n >= m words that reach the threshold `t` share at least `t / (1 + t) * (n + m)` words;
with each front's words ordered rarest first, they then share one of the larger front's first
`n - ceil(t * n) + 1` words and of the smaller one's first `m - ceil(2t / (1 + t) * m) + 1`.
Fronts are taken smallest first; each probes the index with its longer prefix, then is indexed
by its shorter one. A candidate too small (m < t * n), or whose remaining words cannot make up
the overlap (the positional filter), is dropped as soon as that shows.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Any, Iterator, Mapping

from ..learner_cards import LearnerCard, LintDeck
from ..findings import Finding, Rule

NAME = "near_duplicate"
_EPSILON = 1e-9
_MEDIA = "\0"  # starts a file name in a front's words: never a word
_MARKS = "\1"  # starts the marks a front sets itself apart with (an asterisk, a dagger): never a word
_PUNCTUATION = ".,;:!?¿¡'\"()[]-–—/…‘’“”"
_NOT_MARKS = re.compile(r"[^\W_]+|\s+|[" + re.escape(_PUNCTUATION) + "]+")  # letters, digits, spaces, punctuation


def _front(card: LearnerCard) -> frozenset[str]:
    """A front's words, its images and sounds, and the marks that set it apart ("好*" is not "好")."""
    marks = _NOT_MARKS.sub("", card.question)
    found = set(card.question_words).union(_MEDIA + name for name in card.media)
    return frozenset(found | {_MARKS + marks} if marks else found)


def _other_note_same_media(card: LearnerCard, other: LearnerCard) -> bool:
    """Cards that may be alike: of different notes, showing the same images, and not two terms of different names."""
    different_terms = card.is_term and other.is_term and card.cue != other.cue
    return card.card_id != other.card_id and card.media == other.media and not different_terms


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each card whose front is at least `similarity` alike the front of a card before it in the deck."""
    threshold = float(options["similarity"])
    cards = [card for note in deck.notes for card in note.cards if card.question_words or card.media]
    fronts = [_front(card) for card in cards]
    frequency = Counter(word for front in fronts for word in front)
    rank = {word: number for number, word in enumerate(sorted(frequency, key=lambda word: (frequency[word], word)))}
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)
    pairs: set[tuple[int, int]] = set()
    for number in sorted(range(len(fronts)), key=lambda n: (len(fronts[n]), n)):  # smaller fronts first
        ordered = sorted(fronts[number], key=rank.__getitem__)  # rarest first
        for other in _candidates(ordered, fronts, index, threshold):
            if _other_note_same_media(cards[other], cards[number]) and _jaccard(fronts[number], fronts[other]) >= threshold - _EPSILON:
                pairs.add((min(number, other), max(number, other)))
        for position, word in enumerate(ordered[: _prefix(len(ordered), 2 * threshold / (1 + threshold))]):
            index[word].append((number, position))
    reported: set[tuple[str, str]] = set()
    for earlier, later in sorted(pairs):
        ids = (cards[earlier].card_id, cards[later].card_id)
        if ids not in reported:
            reported.add(ids)
            yield _finding(cards[later], cards[earlier], _jaccard(fronts[later], fronts[earlier]))


def _prefix(size: int, share: float) -> int:
    """How many of a front's rarest words another front must share one of, if they share `share * size` words."""
    return size - math.ceil(share * size - _EPSILON) + 1


def _candidates(ordered: list[str], fronts: list[frozenset[str]], index: dict[str, list[tuple[int, int]]],
                threshold: float) -> list[int]:
    """Fronts already indexed (none larger) that may reach the threshold: sharing a prefix word, big
    enough, and with enough words left to make up the overlap."""
    size, shared = len(ordered), {}
    for position, word in enumerate(ordered[: _prefix(size, threshold)]):
        for other, other_position in index.get(word, ()):
            count = shared.get(other, 0)
            if count < 0:
                continue
            other_size = len(fronts[other])
            needed = math.ceil(threshold / (1 + threshold) * (size + other_size) - _EPSILON)
            possible = 1 + min(size - position - 1, other_size - other_position - 1)
            big_enough = other_size >= threshold * size - _EPSILON
            shared[other] = count + 1 if big_enough and count + possible >= needed else -1
    return [other for other, count in shared.items() if count > 0]


def _jaccard(front: frozenset[str], other: frozenset[str]) -> float:
    common = len(front & other)
    return common / (len(front) + len(other) - common)


def _finding(card: LearnerCard, earlier: LearnerCard, alike: float) -> Finding:
    where = f"{earlier.note.path}:{earlier.note.line}"
    if card.question_words == earlier.question_words:
        message = f"{card.which}its front is the same as the front of card '{earlier.card_id}' ({where})"
    else:
        message = (f"{card.which}its front shares {alike:.0%} of its words with the front of card "
                   f"'{earlier.card_id}' ({where})")
    return Finding(NAME, card, card.question_field, message,
                   "learners mix up cards that look alike: ask each fact once, or let the fronts differ in what they ask",
                   (earlier.card_id,))


RULE = Rule(NAME, "two cards whose fronts are nearly the same", {"similarity": 0.8}, check)
