"""Helpers for tests that check deckgen's output with the official Anki backend (PyPI ``anki``).

Typical use::

    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg)
        for card in rendered_cards(col): ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anki.collection  # noqa: F401  (first: importing anki.cards first is a circular import)
from anki.cards import CardId
from anki.collection import (
    Collection,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
    ImportLogWithChanges,
)
from anki.consts import MODEL_CLOZE, MODEL_STD
from anki.models import NotetypeDict, NotetypeId

from deckgen.anki.builtin_note_types import NoteType

_LEADING_STYLE = re.compile(r"\A<style>.*?</style>", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class AnkiCard:
    """One card of a collection as Anki's reviewer gets it (question/answer include the style)."""

    deck: str
    guid: str
    ord: int
    question: str
    answer: str
    note_type: str
    fields: dict[str, str]


def open_collection(tmp_path: Path) -> Collection:
    """A fresh collection at tmp_path/collection.anki2; the caller closes it (col.close())."""
    return Collection(str(tmp_path / "collection.anki2"))


def add_deckgen_note_type(
    col: Collection, note_type: NoteType, css: str = "", name: str | None = None
) -> NotetypeDict:
    """Create a real Anki note type with exactly deckgen's fields, templates and this CSS."""
    models = col.models
    notetype = models.new(name or f"deckgen {note_type.kind}")
    notetype["type"] = MODEL_CLOZE if note_type.is_cloze else MODEL_STD
    for field_name in note_type.fields:
        models.add_field(notetype, models.new_field(field_name))
    for template in note_type.templates:
        anki_template = models.new_template(template.name)
        anki_template["qfmt"], anki_template["afmt"] = template.question, template.answer
        models.add_template(notetype, anki_template)
    notetype["css"] = css
    added = models.add_dict(notetype)
    created = models.get(NotetypeId(added.id))
    assert created is not None
    return created


def import_package(col: Collection, apkg_path: Path | str, **options: Any) -> ImportLogWithChanges:
    """Import an .apkg; no options means what a learner gets from Anki's import dialog."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg_path), options=ImportAnkiPackageOptions(**options)
    )
    return col.import_anki_package(request)


def review_everything(col: Collection) -> dict[int, int]:
    """Answer 'good' on every card, as a learner would; the number of reviews per card id."""
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        card.start_timer()
        col.sched.answerCard(card, 3)
    return review_counts(col)


def review_counts(col: Collection) -> dict[int, int]:
    """The number of reviews per card id: the history an update must keep."""
    assert col.db is not None, "collection is closed"
    return dict(col.db.all("select cid, count() from revlog group by cid"))


def rendered_cards(col: Collection) -> list[AnkiCard]:
    """Every card of the collection, ordered by note then ord, rendered by Anki."""
    assert col.db is not None, "collection is closed"
    card_ids = col.db.list("select id from cards order by nid, ord, id")
    return [_anki_card(col, card_id) for card_id in card_ids]


def _anki_card(col: Collection, card_id: int) -> AnkiCard:
    """One card with its deck, note and Anki's own rendering."""
    card = col.get_card(CardId(card_id))
    note = card.note()
    note_type = note.note_type()
    assert note_type is not None
    return AnkiCard(
        deck=col.decks.name(card.did),
        guid=note.guid,
        ord=card.ord,
        question=card.question(),
        answer=card.answer(),
        note_type=note_type["name"],
        fields=dict(note.items()),
    )


def strip_style(html: str) -> str:
    """Remove the ``<style>{css}</style>`` that Card.question()/answer() put first."""
    return _LEADING_STYLE.sub("", html, count=1)


def normalize_html(html: str) -> str:
    """HTML without the leading style element, whitespace runs collapsed, for loose comparisons."""
    return _WHITESPACE.sub(" ", strip_style(html)).strip()
