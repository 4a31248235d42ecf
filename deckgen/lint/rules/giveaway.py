"""giveaway: a card that shows the answer another card asks for, in any of its word forms.

Every answer (each way it is written: "An x-ray (radiography)" is "x-ray" and "radiography") goes
into a trie of word stems; each note's text is then read once, and from each word the trie is
followed only as far as the text still matches some answer (the idea of Aho-Corasick, without its
failure links). The work grows with the deck's text and the findings, never with the number of
card pairs. An answer of `min_words` words or more is looked for in everything a note shows
(fronts, backs, extras); a shorter one, such as "Trauma", on the fronts only, where it is read
before it is recalled.

Not giveaways: two cards with the same answer (that text is each one's own answer); the deck's
subject (its name and title words, named everywhere by design); an entity, the name a note is
about or a term card's cue (a country that a card shows to ask its capital is named on other
cards too, and a card that asks for it from another angle, its flag, is not given away by
them); and the answer of an association card (a word's meaning, a flag's country): seeing
"Vietnam" elsewhere does not tell which word or flag goes with it. A pair of notes is reported
once, not from both sides.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import LearnerCard, LearnerNote, LintDeck, field_words
from ..findings import Finding, Rule
from ..words import contains, letters, quoted
from ..word_forms import FUNCTION_WORDS, NUMBER_WORDS

NAME = "giveaway"
_Entry = tuple[tuple[str, ...], str, LearnerCard, bool]  # stems, text, card, looked for on fronts only
_Node = dict  # type: ignore[type-arg]  # stem -> _Node, and _END -> the answers ending here
_END = ""  # never a stem


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each note that shows another note's answer: one finding per pair of notes."""
    trie = _trie(deck, int(options["min_words"]), int(options["min_letters"]))
    reported: set[frozenset[str]] = set()
    for note in deck.notes:
        own = {deck.forms.stems(form) for card in note.cards for answer in card.answers for form in answer.forms}
        fields: list[tuple[str, tuple[str, ...]]] = []
        for stems, text, card in _shown(deck, note, trie, own):
            pair = frozenset((note.note.card_id, card.card_id))
            if pair not in reported:
                reported.add(pair)
                fields = fields or [(name, deck.forms.stems(found)) for name, found in field_words(note)]
                yield _finding(note, fields, card, stems, text)


def _shown(deck: LintDeck, note: LearnerNote, trie: _Node, own: set[tuple[str, ...]]) -> Iterator[tuple[tuple[str, ...], str, LearnerCard]]:
    """The other notes' answers this note shows: short ones on its fronts, long ones anywhere."""
    fronts = {card.question_words for card in note.cards}
    for seen in note.seen:
        front = seen in fronts
        for stems, text, card, short in _matches(deck.forms.stems(seen), trie):
            if card.card_id != note.note.card_id and stems not in own and (front or not short):
                yield stems, text, card


def _trie(deck: LintDeck, min_words: int, min_letters: int) -> _Node:
    """The answers worth protecting, stem by stem: a node maps a stem to the next node, and _END to
    the answers that end there."""
    root: _Node = {}
    entities = _entities(deck)
    for note in deck.notes:
        for card in (card for card in note.cards if not card.is_association):
            for answer in card.answers:
                for form in answer.forms:
                    stems = deck.forms.stems(form)
                    if _protected(deck, form, stems, min_letters, entities):
                        node = root
                        for stem in stems:
                            node = node.setdefault(stem, {})  # type: ignore[assignment]
                        text = answer.text if len(answer.forms) == 1 else " ".join(form)
                        node.setdefault(_END, []).append((stems, text, card, len(form) < min_words))  # type: ignore[union-attr]
    return root


def _entities(deck: LintDeck) -> set[tuple[str, ...]]:
    """The names the deck's notes are about: the cues of term cards, and notes' first fields that are names."""
    cues = {deck.forms.stems(card.cue) for note in deck.notes for card in note.cards if card.is_term}
    return cues | {deck.forms.stems(note.entity) for note in deck.notes if note.entity}


def _protected(deck: LintDeck, form: tuple[str, ...], stems: tuple[str, ...], min_letters: int,
               entities: set[tuple[str, ...]]) -> bool:
    """An answer worth looking for: long enough, not a function word, not the deck's subject, not an entity."""
    if letters(form) < min_letters or (len(form) == 1 and _not_a_term(form[0])) or stems in entities:
        return False
    return not deck.is_subject(form)


def _not_a_term(word: str) -> bool:
    """A one-word answer that names nothing another card could give away: a function word, a number."""
    return word in FUNCTION_WORDS or word in NUMBER_WORDS or word.isdigit()


def _matches(seen: tuple[str, ...], trie: _Node) -> Iterator[_Entry]:
    """The answers that stand, stem for stem, somewhere in `seen`: from each stem, follow the trie."""
    size = len(seen)
    for start in range(size):
        node, at = trie.get(seen[start]), start + 1
        while node is not None:
            yield from node.get(_END, ())
            node, at = (node.get(seen[at]), at + 1) if at < size else (None, at)


def _finding(giver: LearnerNote, fields: list[tuple[str, tuple[str, ...]]], card: LearnerCard,
             stems: tuple[str, ...], text: str) -> Finding:
    where = f"{card.note.path}:{card.note.line}"
    field = next((name for name, found in fields if contains(found, stems)), "")
    return Finding(
        NAME, giver.cards[0], field,
        f"shows '{quoted(text)}' (or a form of it), the answer to card '{card.card_id}' ({card.which}{where})",
        "whoever has seen this card is handed that answer: name it another way here, drop it, "
        "or merge the two into one contrast card",
        (card.card_id,),
    )


RULE = Rule(NAME, "a card that shows another card's answer, in any word form",
            {"min_words": 2, "min_letters": 4}, check)
