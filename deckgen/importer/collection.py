"""Reading notes, note types and decks out of an Anki collection file (SQLite).

Both schemas share the `notes` and `cards` tables. Legacy collections (schema 11: the
`collection.anki2` and `collection.anki21` of older packages) keep note types and decks as JSON
in the `col` row; current ones (schema 18, `collection.anki21b`) keep them in tables of their own
with protobuf configs, and separate deck name parts with U+001F.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ..problems import Problem, ProjectError
from . import protobuf
from .note_type_settings import with_current_settings, with_legacy_settings
from .presets import current_descriptions, current_presets, legacy_presets
from .source_deck import ImportedDeck, ImportedNote, ImportedNoteType, ImportedTemplate

NEWEST_SCHEMA = 18
LEGACY_SCHEMA = 11


def read_collection(database: Path, source: Path) -> ImportedDeck:
    """Everything deckgen needs from a collection file."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return _read(connection, source)
    except sqlite3.DatabaseError as exc:
        raise ProjectError([Problem(str(source), message=f"the collection inside is damaged ({exc})")]) from None
    finally:
        connection.close()


def _read(connection: sqlite3.Connection, source: Path) -> ImportedDeck:
    schema = connection.execute("select ver from col").fetchone()[0]
    if schema > NEWEST_SCHEMA:
        raise ProjectError([Problem(str(source), message=f"the collection has schema {schema}, newer than "
                                    f"deckgen understands (up to {NEWEST_SCHEMA})",
                                    hint="export it from Anki with 'Support older Anki versions' ticked")])
    deck = ImportedDeck(source)
    if schema > LEGACY_SCHEMA:
        deck.note_types, decks = _current_note_types(connection), _current_decks(connection)
        deck.deck_descriptions, deck.deck_presets = current_descriptions(connection), current_presets(connection)
        deck.note_types = with_current_settings(connection, deck.note_types)
    else:
        deck.note_types, decks, deck.deck_descriptions = _legacy_note_types_and_decks(connection)
        deck.deck_presets = legacy_presets(connection)
        deck.note_types = with_legacy_settings(connection, deck.note_types)
    deck.notes = _notes(connection, deck.note_types, decks, source)
    return deck


def _legacy_note_types_and_decks(connection: sqlite3.Connection
                                 ) -> tuple[dict[str, ImportedNoteType], dict[int, str], dict[str, str]]:
    models_json, decks_json = connection.execute("select models, decks from col").fetchone()
    note_types = {}
    for model in json.loads(models_json or "{}").values():
        templates = tuple(ImportedTemplate(t["name"], t["qfmt"], t["afmt"])
                          for t in sorted(model["tmpls"], key=lambda t: t["ord"]))
        fields = tuple(f["name"] for f in sorted(model["flds"], key=lambda f: f["ord"]))
        note_types[str(model["id"])] = ImportedNoteType(
            model["name"], int(model["id"]), model.get("type", 0) == 1, fields, templates,
            model.get("css", ""), int(model.get("sortf", 0)), int(model.get("mod", 0)))
    decks = {int(d["id"]): d["name"] for d in json.loads(decks_json or "{}").values()}
    descriptions = {d["name"]: d.get("desc", "") for d in json.loads(decks_json or "{}").values()}
    return note_types, decks, descriptions


def _current_note_types(connection: sqlite3.Connection) -> dict[str, ImportedNoteType]:
    fields: dict[int, list[str]] = {}
    for ntid, name in connection.execute("select ntid, name from fields order by ntid, ord"):
        fields.setdefault(ntid, []).append(name)
    templates: dict[int, list[ImportedTemplate]] = {}
    for ntid, name, config in connection.execute("select ntid, name, config from templates order by ntid, ord"):
        parsed = protobuf.parse(config)
        template = ImportedTemplate(name, protobuf.text(parsed, 1), protobuf.text(parsed, 2))  # q_format, a_format
        templates.setdefault(ntid, []).append(template)
    note_types = {}
    for ntid, name, mtime, config in connection.execute("select id, name, mtime_secs, config from notetypes"):
        parsed = protobuf.parse(config)
        note_types[str(ntid)] = ImportedNoteType(
            name, int(ntid), protobuf.integer(parsed, 1) == 1, tuple(fields.get(ntid, ())),
            tuple(templates.get(ntid, ())), protobuf.text(parsed, 3), protobuf.integer(parsed, 2), int(mtime))
    return note_types


def _current_decks(connection: sqlite3.Connection) -> dict[int, str]:
    return {int(did): name.replace("\x1f", "::") for did, name in connection.execute("select id, name from decks")}


def _notes(connection: sqlite3.Connection, note_types: dict[str, ImportedNoteType], decks: dict[int, str],
           source: Path) -> list[ImportedNote]:
    """Each note with the deck of its first card (deckgen puts all of a note's cards in one deck)."""
    home = "case when odid != 0 then odid else did end"  # a card in a filtered deck: its home deck
    # the cards by note, the first (lowest ord) last: dict() keeps the last value for each note
    first_deck: dict[int, int] = dict(connection.execute(f"select nid, {home} from cards order by nid, ord desc"))
    notes = []
    name = source.name
    for nid, guid, mid, mtime, tags, flds in connection.execute(
            "select id, guid, mid, mod, tags, flds from notes order by id"):
        deck = decks.get(first_deck.get(nid, 1), "Default")
        notes.append(ImportedNote(guid, str(mid), tuple(flds.split("\x1f")), tuple(tags.split()), deck,
                                  int(mtime), f"{name}: note {nid}"))
    return notes
