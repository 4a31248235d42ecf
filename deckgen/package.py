"""Stage 6: write the .apkg with genanki, with every id, time and order decided here.

genanki leaves ids, GUIDs and timestamps to its callers (and by default uses the build time and
field contents). deckgen derives them instead: ids and GUIDs from the project key and card ids,
times from the lock, so the same sources and lock give the same bytes on any machine, any day.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import genanki

from .config import ProjectConfig
from .lock import Lock
from .notetypes import NOTE_TYPES, NoteType
from .render import RenderedNote

_ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry


def stable_id(key: str, *parts: str) -> int:
    """An Anki id in genanki's suggested range [2**30, 2**31), derived from names only."""
    digest = hashlib.sha256("\x1f".join((key, *parts)).encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_type_name(config: ProjectConfig, kind: str) -> str:
    """What learners see as the note type's name in Anki."""
    return f"{config.deck} ({kind})"


@dataclass(frozen=True)
class PackageInput:
    """Everything the package holds, already checked."""

    config: ProjectConfig
    notes: list[RenderedNote]
    lock: Lock
    css: str
    description: str
    media: dict[str, Path]


class _NoteType(genanki.Model):
    """A genanki model that carries its own change time from the lock."""

    def __init__(self, mtime: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mtime = mtime

    def to_json(self, timestamp: float, deck_id: int) -> dict:  # type: ignore[type-arg]
        return super().to_json(self.mtime, deck_id)


class _Note(genanki.Note):
    """A genanki note written with its own change time, precomputed ids, and Anki's own cards.

    genanki guesses a note's cards with rules of its own (it misses nested clozes, and makes a
    reverse card from a Back of only "<br>"); the importer keeps whatever cards a package holds,
    so deckgen writes exactly the cards Anki itself would generate.
    """

    def __init__(self, mtime: int, ords: tuple[int, ...], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mtime = mtime
        self.ids: list[int] = []
        self._cards = [genanki.Card(ord_) for ord_ in ords]

    @property
    def cards(self) -> list[genanki.Card]:  # type: ignore[override]
        return self._cards

    def write_to_db(self, cursor, timestamp, deck_id, id_gen) -> None:  # type: ignore[no-untyped-def]
        super().write_to_db(cursor, self.mtime, deck_id, iter(self.ids))


class _BatchedInserts:
    """A cursor for genanki that turns its one-row INSERTs into one executemany per statement.

    genanki lays out every note and card row itself and inserts them one execute() at a time;
    SQLite does the same inserts several times faster in a batch. Reads pass straight through.
    """

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor
        self.rows: dict[str, list[tuple[object, ...]]] = {}
        self.lastrowid: object = None

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> object:
        if sql.startswith("INSERT INTO"):
            self.rows.setdefault(sql, []).append(params)
            self.lastrowid = params[0]  # deckgen gives every note and card its id
            return self
        self.flush()
        return self.cursor.execute(sql, params)

    def executescript(self, script: str) -> object:
        self.flush()
        return self.cursor.executescript(script)

    def flush(self) -> None:
        for sql, rows in self.rows.items():
            self.cursor.executemany(sql, rows)
        self.rows.clear()


def build_models(config: ProjectConfig, lock: Lock, css: str, kinds: set[str]) -> dict[str, _NoteType]:
    """The genanki models for the note types the deck uses, fresh dicts every time."""
    return {kind: _model(config, NOTE_TYPES[kind], lock.note_types[kind].mtime, css) for kind in sorted(kinds)}


def _model(config: ProjectConfig, note_type: NoteType, mtime: int, css: str) -> _NoteType:
    return _NoteType(
        mtime,
        model_id=stable_id(config.key, "note type", note_type.kind),
        name=note_type_name(config, note_type.kind),
        fields=[{"name": name} for name in note_type.fields],
        templates=[{"name": t.name, "qfmt": t.question, "afmt": t.answer} for t in note_type.templates],
        css=css,
        model_type=genanki.Model.CLOZE if note_type.is_cloze else genanki.Model.FRONT_BACK,
    )


def _assign_ids(notes: list[_Note], added: list[int]) -> None:
    """Note and card ids in the millisecond range of when each card was first added.

    Assigned in first-added order, so the ids of existing notes do not move when cards are added.
    """
    last_note = last_card = 0
    for i in sorted(range(len(notes)), key=lambda i: (added[i], i)):
        base = added[i] * 1000
        last_note = max(last_note + 1, base)
        card_ids = []
        for _ in notes[i].cards:
            last_card = max(last_card + 1, base)
            card_ids.append(last_card)
        notes[i].ids = [last_note, *card_ids]


def _decks(data: PackageInput) -> list[genanki.Deck]:
    config, lock = data.config, data.lock
    root = genanki.Deck(stable_id(config.key, "deck"), config.deck, data.description)
    decks = {
        group: genanki.Deck(stable_id(config.key, "deck", group), config.group_deck(group), "")
        for group in config.groups
    }
    models = build_models(config, lock, data.css, {note.note_type for note in data.notes})
    notes = [
        _Note(lock.cards[note.card_id].mtime, note.ords, model=models[note.note_type],
              fields=list(note.fields),
              tags=list(note.tags), guid=note.guid, due=position)
        for position, note in enumerate(data.notes, start=1)
    ]
    _assign_ids(notes, [lock.cards[note.card_id].added for note in data.notes])
    for note, genanki_note in zip(data.notes, notes):
        decks[note.group].add_note(genanki_note)
    return [root, *(deck for deck in decks.values() if deck.notes)]


def newest_time(lock: Lock) -> int:
    """The latest change time in the deck: the time stamped on the package itself."""
    times = [e.mtime for e in lock.cards.values()] + [e.mtime for e in lock.note_types.values()]
    return max(times, default=_ZIP_EPOCH)


def write_package(data: PackageInput, output: Path) -> None:
    """Write the package to a temporary file beside `output`, then move it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    try:
        with tempfile.TemporaryDirectory(prefix="deckgen-") as workdir:
            database = Path(workdir) / "collection.anki2"
            _write_collection(data, database)
            _write_zip(Path(temporary), database, data.media, newest_time(data.lock))
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _write_collection(data: PackageInput, database: Path) -> None:
    connection = sqlite3.connect(database)
    try:
        cursor = _BatchedInserts(connection.cursor())
        package = genanki.Package(_decks(data))
        package.write_to_db(cursor, newest_time(data.lock), iter(()))
        cursor.flush()
        connection.commit()
    finally:
        connection.close()


def _write_zip(target: Path, database: Path, media: dict[str, Path], mtime: int) -> None:
    date_time = _zip_date(mtime)
    names = sorted(media)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "collection.anki2", database.read_bytes(), date_time)
        _add(archive, "media", json.dumps({str(i): n for i, n in enumerate(names)}).encode(), date_time)
        for i, name in enumerate(names):
            _add(archive, str(i), media[name].read_bytes(), date_time)


def _add(archive: zipfile.ZipFile, name: str, payload: bytes, date_time: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, payload, compresslevel=1)  # 4x smaller than stored, 3x faster than the default


def _zip_date(mtime: int) -> tuple[int, ...]:
    return tuple(time.gmtime(max(mtime, _ZIP_EPOCH))[:6])
