"""The lock file's format: its tables and entries, written as stable JSON and read back checked.

This is only the data (what `deckgen.build.lock` reads, updates and writes, and what
`deckgen.build.lock_merge` merges entry by entry); it imports neither of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NamedTuple

from ..anki.builtin_note_types import MAX_ID

LOCK_FILE = "deckgen.lock"
LOCK_FORMAT = 2
CARD_COLUMNS = ["hash", "mtime", "added", "group", "type"]  # each card's row, in this order
MAX_TIME = 2**32 - 1  # 2106: zip files and Anki's ids (milliseconds) hold every time up to it
DECK_OPTIONS_KEY = "preset"  # the one row of the lock's deck_options table


def group_options_key(path: str) -> str:
    """The deck_options row of a group's own preset (`group_options:`)."""
    return f"{DECK_OPTIONS_KEY}:{path}"


class Entry(NamedTuple):
    """What the lock remembers of one card or note type (a tuple: a big deck has many)."""

    hash: str
    mtime: int
    added: int
    group: str = ""
    kind: str = ""
    schema: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    pinned_id: int | None = None  # a note type's `id:` from its file (None: derived from the keys)


@dataclass
class Lock:
    """The whole lock file."""

    cards: dict[str, Entry] = field(default_factory=dict)
    note_types: dict[str, Entry] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    deck_options: dict[str, Entry] = field(default_factory=dict)  # the preset `options:` gives, if any
    guids: dict[str, str] = field(default_factory=dict)  # card id -> GUID, where not the one from its id
    old_format: bool = field(default=False, compare=False)  # read from an older format: rewrite it
    merged: str = field(default="", compare=False)  # read from git conflict markers: what the merge did

    def to_json(self) -> str:
        """Stable, diff-friendly JSON: sorted keys, one entry a line."""
        lines = ['{', f'  "format": {LOCK_FORMAT},']
        lines.append('  "note_types": ' + _json_table(self.note_types, _note_type_json) + ",")
        if self.deck_options:  # a table of its own, only in the locks of decks with options
            lines.append('  "deck_options": ' + _json_table(self.deck_options, _deck_options_json) + ",")
        lines.append(f'  "card_columns": {json.dumps(CARD_COLUMNS)},')
        lines.append('  "cards": ' + _card_table(self.cards) + ",")
        if self.guids:  # renamed cards and pinned GUIDs: written only when there are any
            lines.append('  "guids": ' + _guid_table(self.guids) + ",")
        lines.append('  "removed": ' + json.dumps(dict(sorted(self.removed.items())), sort_keys=True))
        return "\n".join(lines) + "\n}\n"


def _note_type_json(entry: Entry) -> dict[str, object]:
    assert entry.schema is not None
    pinned = {} if entry.pinned_id is None else {"id": entry.pinned_id}
    return {"hash": entry.hash, "mtime": entry.mtime, "added": entry.added,
            "fields": list(entry.schema[0]), "templates": list(entry.schema[1]), **pinned}


def _deck_options_json(entry: Entry) -> dict[str, object]:
    return {"hash": entry.hash, "mtime": entry.mtime, "added": entry.added}


def _json_table(table: dict[str, Entry], as_json) -> str:  # type: ignore[no-untyped-def]
    if not table:
        return "{}"
    encode = json.JSONEncoder(sort_keys=True).encode
    rows = [f"    {encode(key)}: {encode(as_json(table[key]))}" for key in sorted(table)]
    return "{\n" + ",\n".join(rows) + "\n  }"


def _card_table(cards: dict[str, Entry]) -> str:
    """The cards table, formatted directly: ids, groups and hashes are plain ASCII words."""
    if not cards:
        return "{}"
    quoted = {group: json.dumps(group) for group in {e.group for e in cards.values()}}
    rows = [
        f'    {_quote(key)}: ["{e.hash}", {e.mtime}, {e.added}, {quoted[e.group]}, "{e.kind}"]'
        for key, e in sorted(cards.items())
    ]
    return "{\n" + ",\n".join(rows) + "\n  }"


def _guid_table(guids: dict[str, str]) -> str:
    """The guids table, formatted directly: what `json.dumps(..., indent=4)` writes, faster for an imported
    deck's thousands of pinned GUIDs."""
    return "{\n" + ",\n".join(f"    {_quote(card_id)}: {_quote(guid)}" for card_id, guid in sorted(guids.items())) + "\n  }"


_quote = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
"""JSON string quoting (json.dumps of one string), without json.dumps's set-up per call."""


def lock_from_data(data: dict) -> Lock:  # type: ignore[type-arg]
    """A lock from its parsed JSON (raises ValueError, KeyError or TypeError if it is not one)."""
    if data.get("format") == 1:  # deckgen 0.1's first locks: one object per card; read, then rewritten
        rows = {key: [v["hash"], v["mtime"], v["added"], v["group"], v["type"]] for key, v in data["cards"].items()}
    elif data.get("format") == LOCK_FORMAT and data.get("card_columns") == CARD_COLUMNS:
        rows = data["cards"]
    else:
        raise ValueError(f"unknown format {data.get('format')!r}")
    cards = {key: _card_entry(key, row) for key, row in rows.items()}
    note_types = {
        key: Entry(_hash(key, v["hash"]), _time(key, v["mtime"]), _time(key, v["added"]), kind=key,
                   schema=(_names(key, v["fields"]), _names(key, v["templates"])), pinned_id=_pinned_id(key, v.get("id")))
        for key, v in data["note_types"].items()
    }
    removed = {key: _time(key, v) for key, v in data["removed"].items()}
    deck_options = {key: Entry(_hash(key, v["hash"]), _time(key, v["mtime"]), _time(key, v["added"]))
                    for key, v in data.get("deck_options", {}).items()}  # older locks have none
    guids = {str(key): str(v) for key, v in data.get("guids", {}).items()}
    return Lock(cards, note_types, removed, deck_options, guids, old_format=data["format"] != LOCK_FORMAT)


def has_conflict_markers(data: bytes) -> bool:
    """Whether a file holds git's conflict markers (checked before parsing: it is cheap)."""
    return data.startswith(b"<<<<<<< ") or b"\n<<<<<<< " in data


class LockValueError(ValueError):
    """A lock value of the right shape but out of range: reported at the line of its entry."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _time(key: str, value: object) -> int:
    """A change time: a whole number of seconds between 1970 and MAX_TIME."""
    if type(value) is not int or not 0 <= value <= MAX_TIME:  # noqa: E721 (a bool is not a time)
        raise LockValueError(key, f"has the time {str(value)[:40]}, not a whole number of seconds "
                             f"from 0 to {MAX_TIME}")
    return value


def _hash(key: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > 128:
        raise LockValueError(key, "has a hash that is not a short text")
    return value


def _pinned_id(key: str, value: object) -> int | None:
    """A note type's pinned Anki id, if its file gives one."""
    if value is not None and (type(value) is not int or not 1 <= value <= MAX_ID):  # noqa: E721 (not a bool)
        raise LockValueError(key, "has an id that is not a whole number from 1 to 2^63-1")
    return value


def _names(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value) or len(value) > 1000:
        raise LockValueError(key, "has a list of names that is not a list of texts")
    return tuple(value)


def _card_entry(key: str, row: list[object]) -> Entry:
    content, mtime, added, group, kind = row
    if (type(mtime) is int and type(added) is int and type(content) is str  # noqa: E721 (a bool is no time)
            and type(group) is str and type(kind) is str
            and 0 <= mtime <= MAX_TIME and 0 <= added <= MAX_TIME and len(content) <= 128):
        return Entry(content, mtime, added, group, kind)  # the common case, checked at once
    if not (isinstance(content, str) and isinstance(group, str) and isinstance(kind, str)):
        raise TypeError(f"a card row has the wrong types: {row!r}")
    return Entry(_hash(key, content), _time(key, mtime), _time(key, added), group, kind)
