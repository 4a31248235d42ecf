"""Reading notes, note types and decks out of an Anki collection file (SQLite).

Both schemas share the `notes` and `cards` tables. Legacy collections (schema 11: the
`collection.anki2` and `collection.anki21` of older packages) keep note types and decks as JSON
in the `col` row (`legacy_json`); current ones (schema 18, `collection.anki21b`) keep them in
tables of their own with protobuf configs, and separate deck name parts with U+001F.

The file comes from a stranger: it is opened by `collection_db` (tables as tables, every query
within a budget of steps, Ctrl-C honoured), and every count, type and length is asked of SQL
before a row becomes a Python object, within `deckgen.safety.package_limits`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..problems import WARNING, Problem, ProjectError
from ..safety.limits import MAX_FIELD_CHARS
from ..safety.package_limits import (
    MAX_CARDS,
    MAX_CONFIG_BYTES,
    MAX_DECKS,
    MAX_LEGACY_JSON_BYTES,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_NOTE_TYPE_FIELDS,
    MAX_NOTE_TYPES,
    MAX_NOTES,
    MAX_TAGS_CHARS,
    MAX_TEMPLATES,
    MAX_TEXT_CHARS,
)
from . import legacy_json, protobuf
from .collection_db import CURRENT_TABLES, LEGACY_TABLES, Malformed, check_schema, opened
from .legacy_json import MAX_TIME
from .note_type_settings import with_current_settings, with_legacy_settings
from .presets import current_descriptions, current_presets, legacy_presets
from .source_deck import ImportedDeck, ImportedNote, ImportedNoteType, ImportedTemplate

NEWEST_SCHEMA = 18
LEGACY_SCHEMA = 11
MAX_LISTED = 20  # notes named in one message


def read_collection(database: Path, source: Path, name: str = "the collection") -> ImportedDeck:
    """Everything deckgen needs from a collection file (`name`: the member of the package it came from)."""
    try:
        with opened(database) as connection:
            return _read(connection, source, name)
    except Malformed as exc:
        hint = "Anki does not write this: the package is damaged or was made by hand"
        raise ProjectError([Problem(str(source), message=f"{name}: {exc}", hint=hint)]) from None
    except sqlite3.DatabaseError as exc:
        raise ProjectError([Problem(str(source), message=f"the collection inside is damaged ({exc})")]) from None


def _read(connection: sqlite3.Connection, source: Path, name: str) -> ImportedDeck:
    check_schema(connection, ("col",))
    schema = _schema_version(connection)
    if schema > NEWEST_SCHEMA:
        raise ProjectError([Problem(str(source), message=f"the collection has schema {schema}, newer than "
                                    f"deckgen understands (up to {NEWEST_SCHEMA})",
                                    hint="export it from Anki with 'Support older Anki versions' ticked")])
    check_schema(connection, CURRENT_TABLES if schema > LEGACY_SCHEMA else LEGACY_TABLES)
    deck = ImportedDeck(source)
    if schema > LEGACY_SCHEMA:
        deck.note_types, decks = _current_note_types(connection), _current_decks(connection)
        deck.deck_descriptions, deck.deck_presets = current_descriptions(connection), current_presets(connection)
        deck.note_types = with_current_settings(connection, deck.note_types)
    else:
        deck.note_types, decks, deck.deck_descriptions = _legacy_note_types_and_decks(connection)
        deck.deck_presets = legacy_presets(connection)
        deck.note_types = with_legacy_settings(connection, deck.note_types)
    deck.notes = _notes(connection, deck, decks, name)
    return deck


def _schema_version(connection: sqlite3.Connection) -> int:
    rows = connection.execute("select typeof(ver), ver from col limit 2").fetchall()
    if len(rows) != 1:
        raise Malformed(f"table 'col' has {'no row' if not rows else 'more than one row'}; Anki writes one")
    kind, version = rows[0]
    if kind != "integer":
        raise Malformed(f"col.ver, the schema version, is {kind} {str(version)[:40]!r}, not a whole number")
    return int(version)


def _legacy_note_types_and_decks(connection: sqlite3.Connection
                                 ) -> tuple[dict[str, ImportedNoteType], dict[int, str], dict[str, str]]:
    sizes = connection.execute("select length(models), length(decks) from col").fetchone()
    for what, size in zip(("models", "decks"), sizes):
        if size is not None and size > MAX_LEGACY_JSON_BYTES:
            raise Malformed(f"col.{what} has {size:,} characters, more than {MAX_LEGACY_JSON_BYTES:,}")
    models_json, decks_json = connection.execute("select models, decks from col").fetchone()
    note_types = legacy_json.note_types(legacy_json.parsed(models_json, "models"))
    decks, descriptions = legacy_json.decks(legacy_json.parsed(decks_json, "decks"))
    return note_types, decks, descriptions


def _current_note_types(connection: sqlite3.Connection) -> dict[str, ImportedNoteType]:
    _check_rows(connection, "notetypes", MAX_NOTE_TYPES, "id",
                {"id": "integer", "name": "text", "mtime_secs": "integer", "config": "blob"})
    _check_rows(connection, "fields", MAX_NOTE_TYPES * MAX_NOTE_TYPE_FIELDS, "ntid",
                {"ntid": "integer", "name": "text"})
    _check_rows(connection, "templates", MAX_NOTE_TYPES * MAX_TEMPLATES, "ntid", {"ntid": "integer", "name": "text",
                                                                                  "config": "blob"})
    _check_per_note_type(connection, "fields", MAX_NOTE_TYPE_FIELDS)
    _check_per_note_type(connection, "templates", MAX_TEMPLATES)
    fields: dict[int, list[str]] = {}
    for ntid, name in connection.execute("select ntid, name from fields order by ntid, ord"):
        fields.setdefault(ntid, []).append(name)
    templates: dict[int, list[ImportedTemplate]] = {}
    for ntid, name, config in connection.execute("select ntid, name, config from templates order by ntid, ord"):
        parsed = _config(config, f"template {name!r} of note type {ntid}")
        template = ImportedTemplate(name, _config_text(parsed, 1, ntid), _config_text(parsed, 2, ntid))  # q, a
        templates.setdefault(ntid, []).append(template)
    note_types = {}
    for ntid, name, mtime, config in connection.execute("select id, name, mtime_secs, config from notetypes"):
        parsed = _config(config, f"note type {ntid}")
        names = tuple(fields.get(ntid, ()))
        sort_field = protobuf.integer(parsed, 2)
        if not 0 <= mtime <= MAX_TIME or not 0 <= sort_field < max(len(names), 1):
            raise Malformed(f"note type {ntid}: its time ({mtime}) or sort field ({sort_field}) is out of range")
        note_types[str(ntid)] = ImportedNoteType(
            name, int(ntid), protobuf.integer(parsed, 1) == 1, names, tuple(templates.get(ntid, ())),
            _config_text(parsed, 3, ntid), sort_field, int(mtime))
    return note_types


def _config(config: bytes, where: str) -> dict[int, list[int | bytes]]:
    try:
        return protobuf.parse(config)
    except protobuf.WireError as exc:
        raise Malformed(f"the config of {where} is not a protobuf message ({exc})") from None


def _config_text(parsed: dict[int, list[int | bytes]], number: int, ntid: int) -> str:
    try:
        return protobuf.text(parsed, number)
    except UnicodeDecodeError:
        raise Malformed(f"a config of note type {ntid} holds text that is not UTF-8") from None


def _current_decks(connection: sqlite3.Connection) -> dict[int, str]:
    _check_rows(connection, "decks", MAX_DECKS, "id", {"id": "integer", "name": "text"})
    return {int(did): name.replace("\x1f", "::") for did, name in connection.execute("select id, name from decks")}


def _check_rows(connection: sqlite3.Connection, table: str, most: int, key: str, types: dict[str, str]) -> None:
    """Refuse a table with too many rows, a value of the wrong type, or a name or config too long."""
    count = connection.execute(f"select count(*) from (select 1 from {table} limit ?)", (most + 1,)).fetchone()[0]
    if count > most:
        raise Malformed(f"table {table!r} has more than {most:,} rows")
    wrong = " or ".join(f"typeof({column}) != '{kind}'" for column, kind in types.items())
    limits = {"name": MAX_NAME_CHARS, "config": MAX_CONFIG_BYTES}
    wrong += "".join(f" or length({column}) > {limits[column]}" for column in types if column in limits)
    row = connection.execute(f"select {key}, {', '.join(f'typeof({c})' for c in types)} from {table} "
                             f"where {wrong} limit 1").fetchone()
    if row is not None:
        shown = ", ".join(f"{column} is {kind}" for column, kind in zip(types, row[1:]))
        raise Malformed(f"table {table!r}, {key} {str(row[0])[:40]}: a value of the wrong type or too long ({shown}; "
                        f"names up to {MAX_NAME_CHARS:,} characters, configs up to {MAX_CONFIG_BYTES >> 20} MiB)")


def _check_per_note_type(connection: sqlite3.Connection, table: str, most: int) -> None:
    row = connection.execute(f"select ntid, count(*) from {table} group by ntid having count(*) > ? limit 1",
                             (most,)).fetchone()
    if row is not None:
        raise Malformed(f"note type {row[0]} has {row[1]:,} {table}, more than the {most:,} deckgen reads")


_NOTE_CHECKS = (
    ("typeof(id) != 'integer'", "its id is not a whole number"),
    ("typeof(guid) != 'text'", "its GUID is not text"),
    ("typeof(mid) != 'integer'", "its note type id is not a whole number"),
    ("typeof(mod) != 'integer' or mod < 0 or mod > 4294967295",
     "its modification time is not a whole number of seconds from 0 to 4294967295"),
    ("typeof(tags) != 'text'", "its tags are not text"),
    ("typeof(flds) != 'text'", "its values are not text"),
    (f"length(guid) > {MAX_NAME_CHARS}", f"its GUID is longer than {MAX_NAME_CHARS:,} characters"),
    (f"length(tags) > {MAX_TAGS_CHARS}", f"its tags are longer than {MAX_TAGS_CHARS:,} characters"),
    (f"length(flds) > {MAX_NOTE_CHARS}", f"its values together are longer than {MAX_NOTE_CHARS:,} characters"),
)


def _check_notes(connection: sqlite3.Connection) -> None:
    """Refuse, before any note is read, too many notes or cards, and a note of the wrong types or too long (one
    pass over the notes counts them all; only a refusal looks for the notes to name)."""
    for table, most in (("notes", MAX_NOTES), ("cards", MAX_CARDS)):
        count = connection.execute(f"select count(*) from (select 1 from {table} limit ?)", (most + 1,)).fetchone()[0]
        if count > most:
            raise Malformed(f"table {table!r} has more than {most:,} rows")
    counts = connection.execute("select " + ", ".join(f"coalesce(sum({condition}), 0)" for condition, _ in _NOTE_CHECKS)
                                + ", coalesce(sum(length(flds) + length(tags)), 0) from notes").fetchone()
    problems = []
    for (condition, what), count in zip(_NOTE_CHECKS, counts):
        if count:
            ids = [str(row[0])[:40] for row in connection.execute(f"select id from notes where {condition} limit 3")]
            problems.append(f"note {', '.join(ids)}{' and more' if count > 3 else ''}: {what}")
    if problems:
        raise Malformed("; ".join(problems))
    if counts[-1] > MAX_TEXT_CHARS:
        raise Malformed(f"its notes' values and tags come to {counts[-1]:,} characters, more than {MAX_TEXT_CHARS:,}")


_HOME = "case when {c}odid != 0 then {c}odid else {c}did end"  # a card in a filtered deck: its home deck


def _split_notes(connection: sqlite3.Connection, deck: ImportedDeck, decks: dict[int, str]
                 ) -> dict[int, tuple[tuple[int, str], ...]]:
    """The notes whose cards are in several decks, each card's (ord, deck); and in `deck.card_decks`, for their
    note types, the decks each card ord's cards are in."""
    split: dict[int, list[tuple[int, str]]] = {}
    several = f"select nid from cards group by nid having count(distinct {_HOME.format(c='')}) > 1"
    for nid, ord_, did in connection.execute(
            f"select nid, ord, {_HOME.format(c='')} from cards where nid in ({several}) order by nid, ord"):
        split.setdefault(nid, []).append((int(ord_), decks.get(did, "Default")))
    if split:
        for mid, ord_, did in connection.execute(
                f"select distinct n.mid, c.ord, {_HOME.format(c='c.')} from cards c join notes n on n.id = c.nid "
                f"where n.mid in (select mid from notes where id in ({several}))"):
            deck.card_decks.setdefault(str(mid), {}).setdefault(int(ord_), set()).add(decks.get(did, "Default"))
    return {nid: tuple(cards) for nid, cards in split.items()}


def _notes(connection: sqlite3.Connection, deck: ImportedDeck, decks: dict[int, str], member: str
           ) -> list[ImportedNote]:
    """Each note with the deck of its first card, and where its cards are in several decks, each card's."""
    _check_notes(connection)
    home = _HOME.format(c="")
    split = _split_notes(connection, deck, decks)
    # the cards by note, the first (lowest ord) last: dict() keeps the last value for each note
    first_deck: dict[int, int] = dict(connection.execute(f"select nid, {home} from cards order by nid, ord desc"))
    notes, extra, problems = [], [], []
    name = deck.source.name
    for nid, guid, mid, mtime, tags, flds in connection.execute(
            "select id, guid, mid, mod, tags, flds from notes order by id"):
        note_type = deck.note_types.get(str(mid))
        if note_type is None:
            raise Malformed(f"note {nid} has note type {mid}, which the collection does not hold")
        values = tuple(flds.split("\x1f"))
        if len(flds) > MAX_FIELD_CHARS:  # else no value can be
            problems += _too_long(f"{member}: note {nid}", values, note_type, deck.source)
        if len(values) != len(note_type.fields):
            extra += [nid] if any(values[len(note_type.fields):]) else []
            values = values[:len(note_type.fields)] + ("",) * (len(note_type.fields) - len(values))
        home_deck = decks.get(first_deck.get(nid, 1), "Default")
        notes.append(ImportedNote(guid, str(mid), values, tuple(tags.split()), home_deck, int(mtime),
                                  f"{name}: note {nid}", split.get(nid, ())))
    if problems:
        raise ProjectError(problems[:MAX_LISTED])
    if extra:
        deck.problems.append(Problem(str(deck.source), severity=WARNING, message=(
            f"{len(extra)} notes have more values than their note type has fields; the values past the last field "
            f"were left out, as Anki shows none of them: {member}: note {', '.join(map(str, extra[:MAX_LISTED]))}")))
    return notes


def _too_long(note: str, values: tuple[str, ...], note_type: ImportedNoteType, source: Path) -> list[Problem]:
    """A value longer than a card file may hold, named, before anything converts it."""
    names = note_type.fields + tuple(f"#{n + 1}" for n in range(len(note_type.fields), len(values)))
    return [Problem(str(source), message=f"{note}, field '{field}': {len(value):,} characters, more than the "
                    f"{MAX_FIELD_CHARS:,} a value may have", hint="shorten it in Anki, then export again")
            for field, value in zip(names, values) if len(value) > MAX_FIELD_CHARS]
