"""The cards a learner meets, as lint judges them: each card's front and the answers it asks for.

A note becomes the cards Anki makes of it (`deckgen.anki.template_engine.render_cards`): a reversed note
gives two cards, each asking the other side; a cloze note gives one card per cloze number, whose
answers are the deletions with that number. The sources are left out: a citation is not content.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..anki.template_engine import CardTooLarge, cloze_deletions, render_cards
from ..anki.builtin_note_types import NOTE_TYPES, NoteType
from ..build.render import RenderedNote
from ..problems import Problem, ProjectError
from .words import BLANK, answer_words, visible, words

CONTEXT_FIELDS = frozenset({"FrontSide", "Extra"})  # shown with an answer, never asked for (and the sources)
_HANDLE = re.compile(r"\{\{([^}]*)\}\}")
_CLOZE_MARKER = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)  # shown as its text on the answer side


@dataclass(frozen=True)
class Answer:
    """One thing a card asks the learner to recall: a back, or one cloze deletion."""

    html: str
    text: str
    words: tuple[str, ...]  # without a leading article


@dataclass(frozen=True)
class LearnerCard:
    """One card of a note, as the learner meets it."""

    note: RenderedNote
    ord: int
    name: str  # as Anki's card list names it: "Card 1", "Reverse", "Cloze 2"
    question: str  # the front's visible text
    question_words: tuple[str, ...]
    blank: bool  # the front hides something for the learner to fill in
    question_field: str  # the note field the front shows (for locating a finding)
    answer_field: str  # the note field the answers come from
    answers: tuple[Answer, ...]
    one_of_many: bool = False  # the note makes several cards: messages say which

    @property
    def card_id(self) -> str:
        return self.note.card_id

    @property
    def which(self) -> str:
        """"Reverse: " for a card that shares its note with others, "" for a note's only card."""
        return f"{self.name}: " if self.one_of_many else ""


@dataclass(frozen=True)
class LearnerNote:
    """A note's cards and everything its cards show (fronts, backs, extra), as word sequences."""

    note: RenderedNote
    note_type: NoteType
    cards: tuple[LearnerCard, ...]
    seen: tuple[tuple[str, ...], ...]

    @property
    def is_cloze(self) -> bool:
        return self.note_type.is_cloze


def learner_notes(notes: Iterable[RenderedNote], note_types: Mapping[str, NoteType] = NOTE_TYPES) -> list[LearnerNote]:
    """Every note's cards, in deck order; `note_types`: the project's note types by key.

    A note whose card would pass deckgen's output ceiling (as Anki renders it) is a located problem.
    """
    learned, problems = [], []
    for note in notes:
        try:
            learned.append(_learner_note(note, note_types[note.note_type]))
        except CardTooLarge as exc:
            problems.append(Problem(note.path, note.line, note.column, str(exc), note.card_id,
                                    "shorten the field, or use it fewer times in the note type's templates"))
    if problems:
        raise ProjectError(problems)
    return learned


def field_words(note: LearnerNote) -> list[tuple[str, tuple[str, ...]]]:
    """Each field's words as learners read them (cloze markers as their text), sources left out."""
    sources = note.note_type.sources_field
    return [(name, words(visible(_CLOZE_MARKER.sub(_unwrap, value))))
            for name, value in zip(note.note_type.fields, note.note.fields) if name != sources]


def _unwrap(marker: re.Match[str]) -> str:
    return marker.group(1)


def _learner_note(note: RenderedNote, kind: NoteType) -> LearnerNote:
    fields = dict(zip(kind.fields, note.fields))
    sources = kind.sources_field
    if sources in fields:
        fields[sources] = ""
    rendered = render_cards(kind, fields)
    cards = tuple(_learner_card(note, kind, fields, card.ord, card.question, len(rendered) > 1 or kind.is_cloze)
                  for card in rendered)
    seen = {words(visible(text)) for card in rendered for text in (card.question, card.answer)}
    return LearnerNote(note, kind, cards, tuple(sorted(seen)))


def _learner_card(note: RenderedNote, kind: NoteType, fields: dict[str, str], card_ord: int,
                  question_html: str, one_of_many: bool) -> LearnerCard:
    question = visible(question_html)
    name, question_field, answer_field, answers = (
        _cloze_card(kind, fields, card_ord) if kind.is_cloze else _front_back_card(kind, fields, card_ord))
    blank = 'class="cloze"' in question_html or bool(BLANK.search(question))
    return LearnerCard(note, card_ord, name, question, words(question), blank, question_field, answer_field,
                       tuple(answer for answer in answers if answer.words), one_of_many)


_Parts = tuple[str, str, str, list[Answer]]  # card name, question field, answer field, answers


def _cloze_card(kind: NoteType, fields: dict[str, str], card_ord: int) -> _Parts:
    """A cloze card asks for the deletions with its number, in the field its template clozes."""
    asked = _fields(kind.templates[0].question)
    cloze_field = next((name for name, filters in asked if "cloze" in filters), kind.fields[0])
    answers = [_answer(html) for html in cloze_deletions(fields.get(cloze_field, ""), card_ord + 1)]
    return f"Cloze {card_ord + 1}", cloze_field, cloze_field, answers


def _front_back_card(kind: NoteType, fields: dict[str, str], card_ord: int) -> _Parts:
    """A front/back card asks for the fields its answer shows and its question does not (extra aside)."""
    template = kind.templates[card_ord]
    shown = {name for name, _ in _fields(template.question)}
    context = CONTEXT_FIELDS | {kind.sources_field}
    answer_fields = [name for name, _ in _fields(template.answer)
                     if name not in shown and name not in context and name in fields]
    question_field = next(iter(sorted(shown & set(fields))), kind.fields[0])
    answer_field = answer_fields[0] if answer_fields else kind.fields[-1]
    return template.name, question_field, answer_field, [_answer(fields[name]) for name in answer_fields]


def _answer(fragment: str) -> Answer:
    text = visible(fragment)
    return Answer(fragment, text, answer_words(text))


@functools.lru_cache(maxsize=64)
def _fields(template: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The fields an Anki template shows, each with its filters, in order (sections left out)."""
    found = []
    for handle in _HANDLE.findall(template):
        handle = handle.strip()
        if handle[:1] in ("#", "^", "/"):
            continue
        *filters, name = handle.split(":")
        found.append((name.strip(), tuple(f.strip() for f in filters)))
    return tuple(found)
