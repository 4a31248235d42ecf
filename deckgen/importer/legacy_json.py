"""The note types and decks of a legacy collection, read from the JSON of its `col` row and checked.

Schema 11 keeps every note type and deck as JSON in one row. A stranger's collection may hold
any JSON there: a list where Anki writes an object, a note type without `tmpls`, a name that is
a number. Each is a located `Malformed` (which note type, which key, what it is), never a
traceback.
"""

from __future__ import annotations

import json
import reprlib
from typing import Any

from ..safety.package_limits import MAX_DECKS, MAX_NAME_CHARS, MAX_NOTE_TYPE_FIELDS, MAX_NOTE_TYPES, MAX_TEMPLATES
from .collection_db import Malformed
from .source_deck import ImportedNoteType, ImportedTemplate

MAX_TIME = 4294967295  # the latest time a lock holds (and Anki's 32-bit seconds)


def parsed(text: object, what: str) -> dict[str, Any]:
    """A JSON object of the `col` row (`models`, `decks`): id -> object."""
    if not isinstance(text, str):
        raise Malformed(f"col.{what} is {_kind(text)}, not JSON text")
    try:
        value = json.loads(text or "{}")
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Malformed(f"col.{what} is not JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(value, dict):
        raise Malformed(f"col.{what} is a JSON {type(value).__name__}; Anki writes an object of id: {what[:-1]}")
    return value


def note_types(models: dict[str, Any]) -> dict[str, ImportedNoteType]:
    """Every note type of `col.models`, checked, by its id as text."""
    if len(models) > MAX_NOTE_TYPES:
        raise Malformed(f"col.models holds more than {MAX_NOTE_TYPES:,} note types")
    found = {}
    for key, model in models.items():
        note_type = _note_type(model, f"col.models, note type {key!r}")
        found[str(note_type.id)] = note_type
    return found


def _note_type(model: object, where: str) -> ImportedNoteType:
    item = _object(model, where)
    ntid = _integer(item, "id", where, 1 << 63)
    where = f"col.models, note type {ntid}"
    fields = _listed(item, "flds", where, MAX_NOTE_TYPE_FIELDS)
    templates = _listed(item, "tmpls", where, MAX_TEMPLATES)
    names = tuple(_text(f, "name", f"{where}, field {n}") for n, f in _by_ord(fields, where, "field"))
    cards = tuple(_template(t, f"{where}, template {n}") for n, t in _by_ord(templates, where, "template"))
    sort_field = _integer(item, "sortf", where, max(len(names) - 1, 0), 0)
    css, mtime = _text(item, "css", where, None, ""), _integer(item, "mod", where, MAX_TIME, 0)
    return ImportedNoteType(_text(item, "name", where), ntid, _integer(item, "type", where, 1, 0) == 1, names,
                            cards, css, sort_field, mtime)


def _template(item: dict[str, Any], where: str) -> ImportedTemplate:
    return ImportedTemplate(_text(item, "name", where), _text(item, "qfmt", where, None), _text(item, "afmt", where, None))


def decks(value: dict[str, Any]) -> tuple[dict[int, str], dict[str, str]]:
    """Deck id -> name, and name -> description, of `col.decks`."""
    if len(value) > MAX_DECKS:
        raise Malformed(f"col.decks holds more than {MAX_DECKS:,} decks")
    names, descriptions = {}, {}
    for key, deck in value.items():
        where = f"col.decks, deck {key!r}"
        item = _object(deck, where)
        name = _text(item, "name", where)
        names[_integer(item, "id", where, 1 << 63)] = name
        descriptions[name] = _text(item, "desc", where, None, "")
    return names, descriptions


def _by_ord(items: list[Any], where: str, what: str) -> list[tuple[int, dict[str, Any]]]:
    """The fields or templates in Anki's order (`ord`), each numbered for messages."""
    checked = [_object(entry, f"{where}, {what} {n}") for n, entry in enumerate(items)]
    keyed = [(_integer(entry, "ord", f"{where}, {what} {n}", 1 << 31, n), n, entry) for n, entry in enumerate(checked)]
    return [(n, entry) for _, n, entry in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{where} is {_kind(value)}, not a JSON object")
    return value


def _listed(item: dict[str, Any], key: str, where: str, most: int) -> list[Any]:
    value = item.get(key)
    if not isinstance(value, list):
        raise Malformed(f"{where}: '{key}' is {_kind(value)}, not a list")
    if len(value) > most:
        raise Malformed(f"{where}: '{key}' has {len(value):,} entries, more than the {most:,} deckgen reads")
    return value


def _text(item: dict[str, Any], key: str, where: str, most: int | None = MAX_NAME_CHARS,
          default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str):
        raise Malformed(f"{where}: '{key}' is {_kind(value)}, not text")
    if most is not None and len(value) > most:
        raise Malformed(f"{where}: '{key}' has {len(value):,} characters, more than {most:,}")
    return value


def _integer(item: dict[str, Any], key: str, where: str, most: int, default: int | None = None) -> int:
    """A whole number from 0 to `most` (Anki writes ids as numbers, older versions sometimes as text)."""
    value = item.get(key, default)
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise Malformed(f"{where}: '{key}' is {_kind(value)}, not a whole number from 0 to {most}")
    return value


def _kind(value: object) -> str:
    """A value, shortly, for a message."""
    if value is None:
        return "missing (or null)"
    return f"{type(value).__name__} {reprlib.repr(value)}"
