"""giveaway: a card that shows, on its front or back, the answer another card asks for.

Every answer long enough to matter (at least `min_words` words and `min_letters` letters, a
leading article not counted) is indexed by its first word, or first two words; each note's text
is then read once, word by word, and only the answers starting at that word are compared. The
work grows with the deck's text, not with the number of card pairs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator, Mapping

from ..cards import Answer, LearnerCard, LearnerNote, field_showing
from ..findings import Finding, Rule
from ..text import letters, quoted

NAME = "giveaway"
_Entry = tuple[Answer, LearnerCard]


def check(notes: list[LearnerNote], options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each note that shows another note's answer: one finding per note and answer card."""
    index = _index(notes, int(options["min_words"]), int(options["min_letters"]))
    for note in notes:
        found: dict[tuple[str, int, tuple[str, ...]], _Entry] = {}
        for seen in note.seen:
            for answer, card in _matches(seen, index):
                if card.card_id != note.note.card_id:
                    found.setdefault((card.card_id, card.ord, answer.words), (answer, card))
        for answer, card in found.values():
            yield _finding(note, card, answer)


def _index(notes: list[LearnerNote], min_words: int, min_letters: int) -> dict[tuple[str, ...], list[_Entry]]:
    """The answers worth protecting, by their first two words (one word for a one-word answer)."""
    index: dict[tuple[str, ...], list[_Entry]] = defaultdict(list)
    for note in notes:
        for card in note.cards:
            for answer in card.answers:
                if _counts(answer, min_words, min_letters):
                    index[answer.words[:2]].append((answer, card))
    return index


def _counts(answer: Answer, min_words: int, min_letters: int) -> bool:
    return len(answer.words) >= max(min_words, 1) and letters(answer.words) >= min_letters


def _matches(seen: tuple[str, ...], index: dict[tuple[str, ...], list[_Entry]]) -> Iterator[_Entry]:
    """The indexed answers that stand, word for word, somewhere in `seen`."""
    for start in range(len(seen)):
        for key in (seen[start:start + 1], seen[start:start + 2]):
            for answer, card in index.get(key, ()):
                if seen[start:start + len(answer.words)] == answer.words:
                    yield answer, card


def _finding(giver: LearnerNote, card: LearnerCard, answer: Answer) -> Finding:
    where = f"{card.note.path}:{card.note.line}"
    return Finding(
        NAME, giver.cards[0], field_showing(giver, answer.words),
        f"shows '{quoted(answer.text)}', the answer to card '{card.card_id}' ({card.which}{where})",
        "whoever has seen this card is handed that answer: drop it here, or merge the two into one contrast card",
        (card.card_id,),
    )


RULE = Rule(NAME, "a card that shows another card's answer",
            {"min_words": 2, "min_letters": 4}, check)
