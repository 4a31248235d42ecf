"""giveaway: a card that shows, on its front or back, the answer another card asks for.

Every answer long enough to matter (at least `min_words` words and `min_letters` letters, a
leading article not counted) goes into a trie of words; each note's text is then read once, and
from each word the trie is followed only as far as the text still matches some answer (the idea
of Aho-Corasick, without its failure links). The work grows with the deck's text and the
findings, never with the number of card pairs.

Two cards with the same answer do not give each other away: that text is each one's own answer,
and the association each asks for is not shown by the other.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import Answer, LearnerCard, LearnerNote, field_words
from ..findings import Finding, Rule
from ..words import contains, letters, quoted

NAME = "giveaway"
_Entry = tuple[Answer, LearnerCard]
_Node = dict  # type: ignore[type-arg]  # word -> _Node, and _END -> the answers ending here
_END = ""  # never a word


def check(notes: list[LearnerNote], options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each note that shows another note's answer: one finding per note and answer card."""
    trie = _trie(notes, int(options["min_words"]), int(options["min_letters"]))
    for note in notes:
        found: dict[tuple[str, int, tuple[str, ...]], _Entry] = {}
        own = {answer.words for card in note.cards for answer in card.answers}
        for seen in note.seen:
            for answer, card in _matches(seen, trie):
                if card.card_id != note.note.card_id and answer.words not in own:
                    found.setdefault((card.card_id, card.ord, answer.words), (answer, card))
        fields = field_words(note) if found else []
        for answer, card in found.values():
            field = next((name for name, text in fields if contains(text, answer.words)), "")
            yield _finding(note, field, card, answer)


def _trie(notes: list[LearnerNote], min_words: int, min_letters: int) -> _Node:
    """The answers worth protecting, word by word: a node maps a word to the next node, and
    _END to the answers that end there."""
    root: _Node = {}
    for note in notes:
        for card in note.cards:
            for answer in card.answers:
                if len(answer.words) >= max(min_words, 1) and letters(answer.words) >= min_letters:
                    node = root
                    for word in answer.words:
                        node = node.setdefault(word, {})  # type: ignore[assignment]
                    node.setdefault(_END, []).append((answer, card))  # type: ignore[union-attr]
    return root


def _matches(seen: tuple[str, ...], trie: _Node) -> Iterator[_Entry]:
    """The answers that stand, word for word, somewhere in `seen`: from each word, follow the trie."""
    size = len(seen)
    for start in range(size):
        node, at = trie.get(seen[start]), start + 1
        while node is not None:
            yield from node.get(_END, ())
            node, at = (node.get(seen[at]), at + 1) if at < size else (None, at)


def _finding(giver: LearnerNote, field: str, card: LearnerCard, answer: Answer) -> Finding:
    where = f"{card.note.path}:{card.note.line}"
    return Finding(
        NAME, giver.cards[0], field,
        f"shows '{quoted(answer.text)}', the answer to card '{card.card_id}' ({card.which}{where})",
        "whoever has seen this card is handed that answer: drop it here, or merge the two into one contrast card",
        (card.card_id,),
    )


RULE = Rule(NAME, "a card that shows another card's answer",
            {"min_words": 2, "min_letters": 4}, check)
