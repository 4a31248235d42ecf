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
LOCK_FORMAT = 4  # 4: each released card's note time; 3: releases recorded (`releases`, `released`), read with
# those times unknown; 2 and 1 are read, and all they hold counts as released
CARD_COLUMNS = ["hash", "mtime", "added", "group", "type"]  # each card's row, in this order
RELEASED_COLUMNS = ["hash", "group", "type", "cards", "note", "guid", "version", "retired", "time"]  # a released card's row
RELEASED_COLUMNS_3 = RELEASED_COLUMNS[:-1]  # format 3's: no note time
EARLIER = "before-releases"  # the release an older lock stands for: what it held was shared before releases were recorded
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


class Released(NamedTuple):
    """What learners were given of one card, as of the last release that had it (a tuple: a big deck has many)."""

    hash: str  # its content hash ("" where an older lock did not know it)
    group: str
    kind: str
    ords: tuple[int, ...] | None  # the cards of its note (template ordinals, cloze numbers - 1); None: not known
    note_id: int  # the note id the release gave it, which learners keep (0: not known)
    guid: str  # "" where its GUID is the one from its id
    version: str  # the last release that had it
    retired: str = ""  # the release that retired it ("": learners still get it)
    time: int = 0  # the note time that release gave it, which Anki compares with (0: not known, an older lock)


class Release(NamedTuple):
    """One release: when, and the note types and deck options it gave learners (their hashes)."""

    time: int
    note_types: dict[str, str]
    deck_options: str = ""


@dataclass
class Lock:
    """The whole lock file."""

    cards: dict[str, Entry] = field(default_factory=dict)
    note_types: dict[str, Entry] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    deck_options: dict[str, Entry] = field(default_factory=dict)  # the preset `options:` gives, if any
    guids: dict[str, str] = field(default_factory=dict)  # card id -> GUID, where not the one from its id
    releases: dict[str, Release] = field(default_factory=dict)  # version -> release
    released: dict[str, Released] = field(default_factory=dict)  # card id -> what learners were given of it
    media: dict[str, Entry] = field(default_factory=dict)  # media file name -> hash of its bytes, when it last changed
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
        if self.media:  # only in the locks of decks with media; older locks have none, and older deckgen skips it
            lines.append('  "media": ' + _json_table(self.media, _deck_options_json) + ",")
        lines.append('  "releases": ' + _json_table(self.releases, _release_json) + ",")  # type: ignore[arg-type]
        lines.append(f'  "released_columns": {json.dumps(RELEASED_COLUMNS)},')
        lines.append('  "released": ' + _released_table(self.released) + ",")
        lines.append('  "removed": ' + json.dumps(dict(sorted(self.removed.items())), sort_keys=True))
        return "\n".join(lines) + "\n}\n"

    def retired(self, card_id: str) -> bool:
        """Whether a release retired this card (learners keep its note; its id is never reused)."""
        row = self.released.get(card_id)
        return row is not None and bool(row.retired)

    def previous_release(self) -> str | None:
        """The latest release's version, if any."""
        return max(self.releases, key=lambda version: (self.releases[version].time, version), default=None)


def _release_json(release: Release) -> dict[str, object]:
    return {"time": release.time, "note_types": release.note_types, "deck_options": release.deck_options}


def _released_table(released: dict[str, Released]) -> str:
    """The released table, one card a line, formatted directly like the cards table (a big deck has many)."""
    if not released:
        return "{}"
    shown: dict[object, str] = {"": '""', None: "null"}

    def text(value: str | tuple[int, ...] | None) -> str:  # groups, kinds, versions and cards repeat: each once
        if value not in shown:
            shown[value] = _quote(value) if isinstance(value, str) else json.dumps(list(value))  # type: ignore[arg-type]
        return shown[value]

    rows = [
        f'    {_quote(key)}: ["{r.hash}", {text(r.group)}, {text(r.kind)}, {text(r.ords)}, {r.note_id}, '
        f'{_quote(r.guid) if r.guid else shown[""]}, {text(r.version)}, {text(r.retired)}, {r.time}]'
        for key, r in sorted(released.items())
    ]
    return "{\n" + ",\n".join(rows) + "\n  }"


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
    elif data.get("format") in (2, 3, LOCK_FORMAT) and data.get("card_columns") == CARD_COLUMNS:
        rows = data["cards"]
    elif type(data.get("format")) is int and data["format"] > LOCK_FORMAT:  # noqa: E721
        raise NewerLockError(f"the lock has format {data['format']}, newer than this deckgen reads ({LOCK_FORMAT}): "
                             "a newer deckgen wrote it")
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
    lock = Lock(cards, note_types, removed, deck_options, guids, old_format=data["format"] != LOCK_FORMAT)
    lock.media = {str(key): Entry(_hash(key, v["hash"]), _time(key, v["mtime"]), _time(key, v["added"]))
                  for key, v in data.get("media", {}).items()}  # older locks have none: recorded, nothing bumped
    if data["format"] >= 3:
        if data.get("released_columns") != (RELEASED_COLUMNS if data["format"] == LOCK_FORMAT else RELEASED_COLUMNS_3):
            raise ValueError("unknown released columns")
        lock.releases = {str(key): _release(str(key), v) for key, v in data["releases"].items()}
        lock.released = _released_rows(data["released"], data["format"] == LOCK_FORMAT)
    else:
        count_as_released(lock)
    return lock


def count_as_released(lock: Lock, card_ids: set[str] | None = None) -> None:
    """Record what was shared before deckgen recorded releases as one release, `EARLIER`: an older lock's
    cards and removed cards (all of them), or an imported deck's cards that learners have (`card_ids`)."""
    shared = lock.cards.keys() if card_ids is None else card_ids & lock.cards.keys()
    lock.released = {card_id: Released(lock.cards[card_id].hash, lock.cards[card_id].group, lock.cards[card_id].kind,
                                       None, 0, lock.guids.get(card_id, ""), EARLIER) for card_id in sorted(shared)}
    if card_ids is None:
        lock.released.update({card_id: Released("", "", "", None, 0, lock.guids.get(card_id, ""), EARLIER, EARLIER)
                              for card_id in lock.removed if card_id not in lock.cards})
    if lock.released:
        times = [e.mtime for table in (lock.cards, lock.note_types, lock.deck_options) for e in table.values()]
        options = next(iter(lock.deck_options.values()), None)
        lock.releases = {EARLIER: Release(max(times, default=0), {k: e.hash for k, e in lock.note_types.items()},
                                          options.hash if options else "")}


def _release(key: str, value: dict) -> Release:  # type: ignore[type-arg]
    kinds = value["note_types"]
    if not isinstance(kinds, dict) or not all(isinstance(v, str) for v in kinds.values()):
        raise LockValueError(key, "has note types that are not hashes")
    return Release(_time(key, value["time"]), {str(k): v for k, v in kinds.items()}, _hash(key, value["deck_options"]))


def _released_rows(rows: dict[str, list[object]], timed: bool = True) -> dict[str, Released]:
    """The released table's rows, checked (the common case at once, as for the cards table; `timed`: with note times)."""
    checked_ords: set[tuple[int, ...]] = set()
    released = {}
    for key, row in rows.items():
        content, group, kind, ords, note_id, guid, version, retired, *rest = row
        if len(rest) != timed:
            raise TypeError(f"a released row has {len(row)} columns: {row!r}")
        note_time = _time(key, rest[0]) if timed else 0
        if not (type(content) is str and type(group) is str and type(kind) is str and type(guid) is str  # noqa: E721
                and type(version) is str and type(retired) is str):  # noqa: E721
            raise TypeError(f"a released row has the wrong types: {row!r}")
        if type(note_id) is not int or not 0 <= note_id <= MAX_ID:  # noqa: E721 (a bool is no id)
            raise LockValueError(key, "has a note id that is not a whole number from 0 to 2^63-1")
        cards = None if ords is None else _ords(key, ords, checked_ords)
        released[key] = Released(_hash(key, content) if len(content) > 32 else content, group, kind, cards, note_id,
                                 guid, version, retired, note_time)
    return released


def _ords(key: str, ords: object, checked: set[tuple[int, ...]]) -> tuple[int, ...]:
    """A released note's cards: card numbers from 0 (most notes share a few such tuples: each checked once)."""
    if not isinstance(ords, list):
        raise LockValueError(key, "has cards that are not a list of card numbers")
    cards = tuple(ords)
    if cards not in checked:
        if not all(type(o) is int and 0 <= o < 1000 for o in cards):  # noqa: E721
            raise LockValueError(key, "has cards that are not a list of card numbers")
        checked.add(cards)
    return cards


def has_conflict_markers(data: bytes) -> bool:
    """Whether a file holds git's conflict markers (checked before parsing: it is cheap)."""
    return data.startswith(b"<<<<<<< ") or b"\n<<<<<<< " in data


class NewerLockError(ValueError):
    """A lock a newer deckgen wrote: not read, rather than misread (and then rewritten, losing what it records)."""


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
