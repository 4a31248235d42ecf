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

from ..anki.template_engine import CardTooLarge, cloze_deletions, render_questions
from ..anki.builtin_note_types import NOTE_TYPES, NoteType
from ..build.render import RenderedNote
from ..problems import Problem, ProjectError
from .word_forms import FUNCTION_WORDS, WordForms
from .words import BLANK, alternatives, answer_words, visible, words

TERM_WORDS = 4  # a front of at most this many words that asks nothing is a term: the card asks what goes with it
CONTEXT_FIELDS = frozenset({"FrontSide", "Extra"})  # shown with an answer, never asked for (and the sources)
_HANDLE = re.compile(r"\{\{([^}]*)\}\}")
_CLOZE_MARKER = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)  # shown as its text on the answer side
_RULE = re.compile(r"<hr\b[^>]*>", re.IGNORECASE)
_MEDIA = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^"'\s>]+))|\[sound:([^\]]+)\]""",
                    re.IGNORECASE)  # a quoted file name may hold spaces ("French Guiana.svg")


@dataclass(frozen=True)
class Answer:
    """One thing a card asks the learner to recall: a back, or one cloze deletion."""

    html: str
    text: str
    words: tuple[str, ...]  # without a leading article
    forms: tuple[tuple[str, ...], ...] = ()  # the words of each way it is written: "X-ray (radiography)" is two


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
    media: tuple[str, ...] = ()  # the images and sounds its front shows, by file name
    cue: tuple[str, ...] = ()  # the words of the question field alone (a front's labels left out)

    @property
    def card_id(self) -> str:
        return self.note.card_id

    @functools.cached_property  # asked by most rules of every card: worked out once
    def is_term(self) -> bool:
        """Whether the front is a term or a name (a country, a word to translate) rather than a question."""
        return not self.blank and "?" not in self.question and 0 < len(self.cue or self.question_words) <= TERM_WORDS

    @functools.cached_property
    def is_association(self) -> bool:
        """Whether the card pairs a term, an image or a sound with what goes with it (a word with its
        meaning, a flag with its country), rather than asking a question."""
        return self.is_term or (not self.question_words and bool(self.media))

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

    @property
    def entity(self) -> tuple[str, ...]:
        """What the note is about, if its first field is a name (a country, a word): () for a question or a text."""
        found = () if self.is_cloze else words(visible(self.note.fields[0])) if self.note.fields else ()
        return found if len(found) <= TERM_WORDS else ()


def learner_notes(notes: Iterable[RenderedNote], note_types: Mapping[str, NoteType] = NOTE_TYPES) -> list[LearnerNote]:
    """Every note's cards, in deck order; `note_types`: the project's note types by key.

    A note whose card would pass deckgen's output ceiling (as Anki renders it) is a located problem.
    """
    learned, problems, plans = [], [], _Plans()
    for note in notes:
        try:
            learned.append(_learner_note(note, note_types[note.note_type], plans))
        except CardTooLarge as exc:
            problems.append(Problem(note.path, note.line, note.column, str(exc), note.card_id,
                                    "shorten the field, or use it fewer times in the note type's templates"))
    if problems:
        raise ProjectError(problems)
    return learned


def field_words(note: LearnerNote) -> list[tuple[str, tuple[str, ...]]]:
    """Each field's words as learners read them (cloze markers as their text), sources left out."""
    return [(name, words(visible(value))) for name, value in shown_fields(note)]


def shown_fields(note: LearnerNote) -> list[tuple[str, str]]:
    """Each field as its cards show it (cloze markers as their text), sources left out."""
    sources = note.note_type.sources_field
    return [(name, _shown_text(value)) for name, value in zip(note.note_type.fields, note.note.fields)
            if name != sources]


def _shown_text(value: str) -> str:
    """A field as its card's back shows it: each cloze deletion as its text."""
    return _CLOZE_MARKER.sub(_unwrap, value) if "{{c" in value else value


def _unwrap(marker: re.Match[str]) -> str:
    return marker.group(1)


def _learner_note(note: RenderedNote, kind: NoteType, plans: _Plans) -> LearnerNote:
    fields = dict(zip(kind.fields, note.fields))
    sources = kind.sources_field
    if sources in fields:
        fields[sources] = ""
    rendered = render_questions(kind, fields)
    cards = tuple(_learner_card(note, kind, fields, card_ord, question, len(rendered) > 1 or kind.is_cloze, plans)
                  for card_ord, question in rendered)
    return LearnerNote(note, kind, cards, _seen(kind, fields, cards, plans))


def _seen(kind: NoteType, fields: dict[str, str], cards: tuple[LearnerCard, ...], plans: _Plans
          ) -> tuple[tuple[str, ...], ...]:
    """The words of the fronts, and of each field a back shows (cloze markers as their text): what the note shows."""
    shown = {name for card in cards for name in plans.plan(kind, card.ord).back_fields}
    seen = {card.question_words for card in cards}
    seen.update(words(visible(_shown_text(fields[name]))) for name in shown if fields[name])
    return tuple(sorted(seen))


@dataclass(frozen=True)
class LintDeck:
    """The notes lint judges, with the word forms of the deck's language and the deck's own subject."""

    notes: list[LearnerNote]
    forms: WordForms
    subject: frozenset[str] = frozenset()  # the stems of the deck's name and title words: never a giveaway
    reads_english: bool = True  # its fronts and answers read like English text (see `reads_english`)

    @property
    def english(self) -> bool:
        """Whether the deck is written in English: the rules that read phrasing ("and why?", "such as") know only English."""
        return self.forms.language in ("english", "porter", "none") and self.reads_english

    def is_subject(self, found: tuple[str, ...]) -> bool:
        """Whether words are only the deck's subject (its name or title words): named everywhere by design."""
        content = self.forms.content(found)
        return bool(content) and all(stem in self.subject for stem in content)


def lint_deck(notes: list[LearnerNote], forms: WordForms | None = None, subject: Iterable[str] = ()) -> LintDeck:
    """The deck lint judges; `subject`: its name and title words, as written."""
    forms = forms or WordForms()
    return LintDeck(notes, forms, frozenset(forms.content(words(" ".join(subject)))), reads_english(notes))


ENGLISH_SHARE = 0.15  # English text: about half its words are function words; a German deck's fronts, a few in a hundred
ENGLISH_SAMPLE = 500  # fewer words than this tell nothing: the deck is taken to be English


def reads_english(notes: Iterable[LearnerNote]) -> bool:
    """Whether the deck's fronts and answers read like English: at least ENGLISH_SHARE of their words are
    English function words ("the", "of", "which"), once there are ENGLISH_SAMPLE words to judge by (the
    first 40 times as many are enough). An imported German deck names no `lint: language:`; this keeps
    its "Was ist ...?" from being read as the yes/no question "Was it ...?"."""
    total = english = 0
    for note in notes:
        for card in note.cards:
            for found in (card.question_words, *(answer.words for answer in card.answers)):
                total += len(found)
                english += sum(word in FUNCTION_WORDS for word in found)
        if total >= 40 * ENGLISH_SAMPLE:
            break  # 20,000 words tell as well as all of a big deck's
    return total < ENGLISH_SAMPLE or english >= ENGLISH_SHARE * total


def _learner_card(note: RenderedNote, kind: NoteType, fields: dict[str, str], card_ord: int,
                  question_html: str, one_of_many: bool, plans: _Plans) -> LearnerCard:
    plan = plans.plan(kind, card_ord)
    question = visible(question_html)
    question_words = words(question)
    asked = (cloze_deletions(fields.get(plan.question_field, ""), card_ord + 1) if kind.is_cloze
             else [fields[name] for name in plan.answer_fields[:1]])
    answers = tuple(answer for answer in map(_answer, asked) if answer.words)
    blank = 'class="cloze"' in question_html or bool(BLANK.search(question))
    media = tuple(sorted({"".join(found) for name in plan.front_fields for value in [fields[name]]
                          if "<img" in value or "[sound:" in value for found in _MEDIA.findall(value) if any(found)}))
    cue = question_words if kind.is_cloze else words(visible(fields.get(plan.question_field, "")))
    return LearnerCard(note, card_ord, plan.name, question, question_words, blank, plan.question_field,
                       plan.answer_field, answers, one_of_many, media, cue)


@dataclass(frozen=True)
class _Plan:
    """What a card of a note type shows and asks: the same for every note of the type, so worked out once."""

    name: str
    question_field: str
    answer_field: str
    answer_fields: tuple[str, ...]  # a front/back card asks for the first
    front_fields: tuple[str, ...]  # the fields its front shows
    back_fields: tuple[str, ...]  # the fields its back shows (sources and the front side left out)


class _Plans:
    """Each note type's card plans, by card ord, worked out when first needed."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int], _Plan] = {}

    def plan(self, kind: NoteType, card_ord: int) -> _Plan:
        key = (kind.kind, card_ord)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = _cloze_plan(kind, card_ord) if kind.is_cloze else _front_back_plan(kind, card_ord)
        return found


def _named(kind: NoteType, template: str) -> tuple[str, ...]:
    """The note type's fields an Anki template shows, in order, once each."""
    return tuple(dict.fromkeys(name for name, _ in _fields(template) if name in kind.field_set))


def _back_fields(kind: NoteType, template: str) -> tuple[str, ...]:
    return tuple(name for name in _named(kind, template) if name != kind.sources_field)


def _cloze_plan(kind: NoteType, card_ord: int) -> _Plan:
    """A cloze card asks for the deletions with its number, in the field its template clozes."""
    template = kind.templates[0]
    asked = _fields(template.question)
    cloze_field = next((name for name, filters in asked if "cloze" in filters), kind.fields[0])
    return _Plan(f"Cloze {card_ord + 1}", cloze_field, cloze_field, (cloze_field,), _named(kind, template.question),
                 _back_fields(kind, template.answer))


def _front_back_plan(kind: NoteType, card_ord: int) -> _Plan:
    """A front/back card asks for the first field its answer shows below its rule (`<hr>`, if it has
    one) and its question does not: the fields after it (a country's info, a flag's look-alikes) and
    the extra are shown with it, not asked."""
    template = kind.templates[card_ord]
    shown = _named(kind, template.question)
    context = CONTEXT_FIELDS | {kind.sources_field}
    answer_fields = tuple(name for name, _ in _fields(_after_rule(template.answer))
                          if name not in shown and name not in context and name in kind.field_set)
    question_field = shown[0] if shown else kind.fields[0]
    answer_field = answer_fields[0] if answer_fields else kind.fields[-1]
    return _Plan(template.name, question_field, answer_field, answer_fields, shown, _back_fields(kind, template.answer))


def _after_rule(template: str) -> str:
    """An answer template from its rule on (`<hr id=answer>`): what stands above it repeats the question."""
    found = _RULE.search(template)
    return template[found.end():] if found else template


def _answer(fragment: str) -> Answer:
    text = visible(fragment)
    found = answer_words(text)
    forms = tuple(answer_words(form) for form in alternatives(text)) if "(" in text else (found,)  # no aside: one way
    return Answer(fragment, text, found, forms)


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
