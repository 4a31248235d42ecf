"""A note type's settings beyond names and templates: its LaTeX header and footer and its fields' options.

Anki keeps them per note type: `latexPre`/`latexPost` and each field's font, size, sticky, rtl,
plain text, collapsed and exclude-from-search (schema 11 JSON in `col.models`; the protobuf
`Notetype.Config` and `Notetype.Field.Config` of proto/anki/notetypes.proto in a current
collection). A project's note type file carries them as `latex_pre`, `latex_post` and
`field_options`, so that a rebuilt package gives learners the note type as they have it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3

from ..anki.builtin_note_types import FIELD_OPTION_DEFAULTS
from . import protobuf
from .source_deck import ImportedNoteType

# schema 11 key -> (the current config's field number, wire kind, Anki's default)
_NUMBERS = {"font": (3, str), "size": (4, int), "sticky": (1, bool), "rtl": (2, bool), "plainText": (6, bool),
            "collapsed": (7, bool), "excludeFromSearch": (8, bool)}
FIELD_OPTIONS = {key: (*_NUMBERS[key], default) for key, default in FIELD_OPTION_DEFAULTS.items()}


def with_legacy_settings(connection: sqlite3.Connection,
                         note_types: dict[str, ImportedNoteType]) -> dict[str, ImportedNoteType]:
    """The note types with the settings a schema 11 collection's `col.models` holds."""
    models = json.loads(connection.execute("select models from col").fetchone()[0] or "{}")
    return {key: with_model_settings(note_type, models.get(key, {})) for key, note_type in note_types.items()}


def with_model_settings(note_type: ImportedNoteType, model: dict) -> ImportedNoteType:  # type: ignore[type-arg]
    """The note type with the settings of its schema 11 JSON (a legacy collection's or a CrowdAnki deck's)."""
    fields = {f.get("name", ""): {name: f[name] for name in FIELD_OPTIONS if name in f}
              for f in model.get("flds", ()) if isinstance(f, dict)}
    return _settled(note_type, model.get("latexPre"), model.get("latexPost"), fields)


def with_current_settings(connection: sqlite3.Connection,
                          note_types: dict[str, ImportedNoteType]) -> dict[str, ImportedNoteType]:
    """The note types with the settings a schema 18 collection's `notetypes` and `fields` tables hold."""
    fields: dict[int, dict[str, dict[str, object]]] = {}
    for ntid, name, config in connection.execute("select ntid, name, config from fields order by ntid, ord"):
        parsed = protobuf.parse(config)
        fields.setdefault(ntid, {})[name] = {key: _value(parsed, number, kind, default)
                                             for key, (number, kind, default) in FIELD_OPTIONS.items()}
    found = dict(note_types)
    for ntid, config in connection.execute("select id, config from notetypes"):
        if str(ntid) in found:
            parsed = protobuf.parse(config)
            found[str(ntid)] = _settled(found[str(ntid)], protobuf.text(parsed, 5), protobuf.text(parsed, 6),
                                        fields.get(ntid, {}))
    return found


def _value(parsed: dict[int, list[int | bytes]], number: int, kind: type, default: object) -> object:
    if kind is str:
        return protobuf.text(parsed, number) or default
    if kind is int:
        return protobuf.integer(parsed, number) or default
    return bool(protobuf.integer(parsed, number))


def _settled(note_type: ImportedNoteType, latex_pre: object, latex_post: object,
             fields: dict[str, dict[str, object]]) -> ImportedNoteType:
    """The note type with these settings, each field's options only where they differ from Anki's default."""
    options = {}
    for name in note_type.fields:
        given = {key: value for key, value in fields.get(name, {}).items() if value != FIELD_OPTIONS[key][2]}
        if given:
            options[name] = given
    return dataclasses.replace(note_type, latex_pre=latex_pre if isinstance(latex_pre, str) else None,
                               latex_post=latex_post if isinstance(latex_post, str) else None,
                               field_options=options)
