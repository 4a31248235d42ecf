"""Stage 6: write the .apkg, with every id, time and order decided here.

genanki leaves ids, GUIDs and timestamps to its callers (and by default uses the build time and
field contents). deckgen derives them instead: ids and GUIDs from the project key and card ids,
times from the lock, so the same sources and lock give the same bytes on any machine, any day.

genanki writes the collection: its schema, the collection row, the decks and the note types.
The note and card rows are written here, in genanki's own row layout, in two batched inserts:
genanki's one-note-at-a-time writer (a Python object, a tag check and an HTML check per note)
costs as much as the whole of a plain genanki script, and would make every rebuild of a big
deck slower than it. The cards written are exactly those Anki itself generates (`ords`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import genanki

from ..project.config import ProjectConfig
from .lock_file import DECK_OPTIONS_KEY, Lock, group_options_key
from ..anki.builtin_note_types import FIELD_OPTION_DEFAULTS, NOTE_TYPES, NoteType
from .render import RenderedNote
from .released import released_ids
from ..safety.scratch import scratch_folder, unique_temporary

_ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry


def stable_id(key: str, *parts: str) -> int:
    """An Anki id in genanki's suggested range [2**30, 2**31), derived from names only."""
    digest = hashlib.sha256("\x1f".join((key, *parts)).encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


@dataclass(frozen=True)
class PackageInput:
    """Everything the package holds, already checked."""

    config: ProjectConfig
    notes: list[RenderedNote]
    lock: Lock
    css: str
    description: str
    media: dict[str, Path]
    note_types: dict[str, NoteType] = field(default_factory=lambda: dict(NOTE_TYPES))  # the built-ins and the project's
    group_descriptions: dict[str, str] = field(default_factory=dict)  # a group's path -> its subdeck's description


class _NoteType(genanki.Model):
    """A genanki model that carries its own change time from the lock."""

    def __init__(self, mtime: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mtime = mtime

    def to_json(self, timestamp: float, deck_id: int) -> dict:  # type: ignore[type-arg]
        return super().to_json(self.mtime, deck_id)


def build_models(config: ProjectConfig, lock: Lock, css: str, kinds: set[str],
                 note_types: dict[str, NoteType]) -> dict[str, _NoteType]:
    """The genanki models for the note types the deck uses, fresh dicts every time."""
    return {kind: _model(config, note_types[kind], lock.note_types[kind].mtime, css) for kind in sorted(kinds)}


def note_type_id(key: str, note_type: NoteType) -> int:
    """The Anki id of a note type: pinned in its file, or derived from the project key and its key."""
    return note_type.id if note_type.id is not None else stable_id(key, "note type", note_type.kind)


def _model(config: ProjectConfig, note_type: NoteType, mtime: int, css: str) -> _NoteType:
    return _NoteType(
        mtime,
        model_id=note_type_id(config.key, note_type),
        name=note_type.display_name(config.deck),
        fields=_fields(note_type),
        templates=[{"name": t.name, "qfmt": t.question, "afmt": t.answer} for t in note_type.templates],
        css=note_type.style(css),
        model_type=genanki.Model.CLOZE if note_type.is_cloze else genanki.Model.FRONT_BACK,
        sort_field_index=note_type.sort_field_index,
        **{name: value for name, value in (("latex_pre", note_type.latex_pre), ("latex_post", note_type.latex_post))
           if value is not None},
    )


def _fields(note_type: NoteType) -> list[dict[str, object]]:
    """The note type's fields as schema 11 JSON: with their options where its file gives any (the others
    Anki's defaults), else genanki's."""
    if note_type.field_options is None:
        return [{"name": name} for name in note_type.fields]
    given = {name: dict(options) for name, options in note_type.field_options}
    return [{"name": name, **FIELD_OPTION_DEFAULTS, **given.get(name, {})} for name in note_type.fields]


def _assign_ids(notes: list[RenderedNote], added: list[int], pinned: list[int] | None = None,
                reserved: frozenset[int] = frozenset()) -> list[tuple[int, range]]:
    """Note and card ids in the millisecond range of when each card was first added.

    Assigned in first-added order, so the ids of existing notes do not move when cards are added.
    A note's cards get consecutive ids. A released note keeps the id its release gave it (`pinned`,
    0 for none), and no other note gets one of the released ids (`reserved`): learners' notes keep
    the ids they were imported with, and the release notes' `nid:` searches name them.
    """
    ids: list[tuple[int, range]] = [(0, range(0))] * len(notes)
    last_note = last_card = 0
    for i in sorted(range(len(notes)), key=added.__getitem__):  # a stable sort: ties stay in file order
        base = added[i] * 1000
        note_id = pinned[i] if pinned else 0
        if not note_id:
            last_note = last_note + 1 if last_note >= base else base
            while last_note in reserved:
                last_note += 1
            note_id = last_note
        first_card = last_card + 1 if last_card >= base else base
        last_card = first_card + len(notes[i].ords) - 1
        ids[i] = (note_id, range(first_card, last_card + 1))
    return ids


def _released_ids(data: PackageInput) -> tuple[list[int], frozenset[int]]:
    """Each note's id from its release (0: not released yet), and every id a release gave out."""
    released = data.lock.released
    if not released:
        return [], frozenset()
    guids = {note.card_id: note.guid for note in data.notes if note.card_id not in released}
    ids = released_ids(data.config.key, data.lock, data.notes, guids)  # a renamed card keeps its former id's note
    pinned = [released[was].note_id if (was := ids.get(note.card_id)) else 0 for note in data.notes]
    return pinned, frozenset(row.note_id for row in released.values() if row.note_id)


def note_ids(data: PackageInput) -> dict[str, int]:
    """The note id each card gets in the package (a release records them)."""
    added = [data.lock.cards[note.card_id].added for note in data.notes]
    ids = _assign_ids(data.notes, added, *_released_ids(data))
    return {note.card_id: note_id for note, (note_id, _) in zip(data.notes, ids)}


def _decks(data: PackageInput, models: dict[str, _NoteType]) -> dict[str, genanki.Deck]:
    """The root deck ('': it carries the note types) and one subdeck per group, by group path."""
    config = data.config
    root = genanki.Deck(stable_id(config.key, "deck"), config.deck, data.description)
    for model in models.values():
        root.add_model(model)
    groups = {
        path: genanki.Deck(stable_id(config.key, "deck", path), config.group_deck(path),
                           data.group_descriptions.get(path, ""))
        for path in config.group_paths()
    }
    return {"": root, **groups}


def _written_decks(data: PackageInput, decks: dict[str, genanki.Deck]) -> list[genanki.Deck]:
    """The decks the package holds: the root's parents (Anki reuses a learner's deck of the same name),
    the root, and every group's subdeck that holds notes itself or in a subgroup."""
    key = data.config.key
    parents = [genanki.Deck(stable_id(key, "parent deck", name), name, "") for name in data.config.parent_decks()]
    present = {note.group for note in data.notes} | _template_groups(data)
    used = [decks[path] for path in data.config.group_paths()
            if any(group == path or group.startswith(path + "/") for group in present)]
    return [*parents, decks[""], *used]


def _template_groups(data: PackageInput) -> set[str]:
    """The groups card templates of the deck's note types send their cards to, whatever the note's group."""
    kinds = {note.note_type for note in data.notes}
    return {t.group for kind in kinds for t in data.note_types[kind].templates if t.group is not None}


def _card_decks(data: PackageInput, decks: dict[str, genanki.Deck]) -> dict[str, tuple[int | None, ...]]:
    """Each note type's deck by card ord, where a template names a group (None: the note's own deck; a cloze
    note type's one template gives every cloze number's)."""
    found = {}
    for kind in {note.note_type for note in data.notes}:
        templates = data.note_types[kind].templates
        if any(t.group is not None for t in templates):
            found[kind] = tuple(decks[t.group].deck_id if t.group is not None else None for t in templates)
    return found


def _rows(data: PackageInput, models: dict[str, _NoteType], decks: dict[str, genanki.Deck]) -> tuple[list, list]:  # type: ignore[type-arg]
    """Note and card rows: the columns of genanki's Note and Card rows that differ between notes."""
    entries = [data.lock.cards[note.card_id] for note in data.notes]
    ids = _assign_ids(data.notes, [entry.added for entry in entries], *_released_ids(data))
    model_ids = {kind: model.model_id for kind, model in models.items()}
    sort_fields = {kind: model.sort_field_index for kind, model in models.items()}
    deck_ids = {group: deck.deck_id for group, deck in decks.items()}
    card_decks = _card_decks(data, decks)
    notes, cards = [], []
    add_note, add_card = notes.append, cards.append
    for due, note, entry, (note_id, card_ids) in zip(_positions(data), data.notes, entries, ids):
        mtime, deck_id = entry.mtime, deck_ids[note.group]
        fields = note.fields
        add_note((note_id, note.guid, model_ids[note.note_type], mtime, f" {' '.join(note.tags)} ",
                  "\x1f".join(fields), fields[sort_fields[note.note_type]]))
        moved = card_decks.get(note.note_type)
        for card_id, ord_ in zip(card_ids, note.ords):
            own = moved[min(ord_, len(moved) - 1)] if moved else None
            add_card((card_id, note_id, deck_id if own is None else own, ord_, mtime, due))
    return notes, cards


def _positions(data: PackageInput) -> list[int]:
    """Each note's new-card position: the order of `groups:` (the deck's own cards first), in each group the order
    of the files and of the cards in them; what Anki follows with new_card_order 'source', and in each deck with 'due'."""
    rank = {path: number for number, path in enumerate(("", *data.config.group_paths()))}
    order = sorted(range(len(data.notes)), key=lambda index: (rank[data.notes[index].group], index))
    positions = [0] * len(order)
    for position, index in enumerate(order, start=1):
        positions[index] = position
    return positions


# The rows' other columns are the same for every note and card of a new package, as genanki
# writes them: they go into the statement rather than into each of the many rows.
_INSERT_NOTE = "INSERT INTO notes VALUES(?, ?, ?, ?, -1, ?, ?, ?, 0, 0, '')"  # usn, csum, flags, data
_INSERT_CARD = "INSERT INTO cards VALUES(?, ?, ?, ?, ?, -1, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, 0, '')"  # new, unscheduled


def _insert_rows(connection: sqlite3.Connection, notes: list, cards: list) -> None:  # type: ignore[type-arg]
    """Bulk inserts, with the collection's indexes built once afterwards rather than row by row."""
    indexes = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                 "ORDER BY name").fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.executemany(_INSERT_NOTE, notes)
    connection.executemany(_INSERT_CARD, cards)
    for _, sql in indexes:
        connection.execute(sql)


def newest_time(lock: Lock) -> int:
    """The latest change time in the deck: the time stamped on the package itself."""
    times = [e.mtime for table in (lock.cards, lock.note_types, lock.deck_options) for e in table.values()]
    return max(times, default=_ZIP_EPOCH)


def write_package(data: PackageInput, output: Path) -> None:
    """Write the package to a temporary file beside `output`, then move it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = unique_temporary(output)  # pid and random: simultaneous builds never share it
    try:
        with scratch_folder() as workdir:
            database = workdir / "collection.anki2"
            _write_collection(data, database)
            _write_zip(Path(temporary), database, data.media, newest_time(data.lock))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a package is for sharing
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _write_collection(data: PackageInput, database: Path) -> None:
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA synchronous = OFF")  # a scratch file: no need to survive a power cut
    connection.execute("PRAGMA journal_mode = MEMORY")
    try:
        cursor = connection.cursor()
        models = build_models(data.config, data.lock, data.css, {note.note_type for note in data.notes},
                              data.note_types)
        decks = _decks(data, models)
        written = _written_decks(data, decks)
        genanki.Package(written).write_to_db(cursor, newest_time(data.lock), iter(()))
        if data.config.options is not None or data.config.group_options:
            own = {deck.deck_id for deck in written[len(data.config.parent_decks()):]}  # parents keep the learner's
            _set_deck_options(connection, data, {path: deck.deck_id for path, deck in decks.items()
                                                 if deck.deck_id in own})
        _insert_rows(connection, *_rows(data, models, decks))
        connection.commit()
    finally:
        connection.close()


def _set_deck_options(connection: sqlite3.Connection, data: PackageInput, deck_ids: dict[str, int]) -> None:
    """Add the project's presets to the collection's presets (`dconf`) and make each deck use its own: its
    group's (`group_options:`, the nearest group up that has one), else the deck's (`options:`).

    A preset's id comes from the key, its group and the time it last changed: Anki's importer adds a
    preset only under an id it does not have yet, so changed options must arrive under a new id.
    """
    config = data.config
    presets_json, decks_json = connection.execute("SELECT dconf, decks FROM col").fetchone()
    presets, decks = json.loads(presets_json), json.loads(decks_json)
    preset_ids: dict[str, int] = {}
    for path, options in ([("", config.options)] if config.options else []) + list(config.group_options.items()):
        entry = data.lock.deck_options[group_options_key(path) if path else DECK_OPTIONS_KEY]
        parts = ("deck options", str(entry.mtime)) if not path else ("deck options", path, str(entry.mtime))
        preset_ids[path] = stable_id(config.key, *parts)
        presets[str(preset_ids[path])] = options.schema11(preset_ids[path], entry.mtime, presets["1"])
    for path, deck_id in deck_ids.items():
        owner = _preset_owner(path, preset_ids)
        if owner is not None:
            decks[str(deck_id)]["conf"] = preset_ids[owner]
    connection.execute("UPDATE col SET dconf = ?, decks = ?", (json.dumps(presets), json.dumps(decks)))


def _preset_owner(path: str, preset_ids: dict[str, int]) -> str | None:
    """The group whose preset a deck uses: itself or the nearest group above with one ('' the root deck's)."""
    while path:
        if path in preset_ids:
            return path
        path = path.rsplit("/", 1)[0] if "/" in path else ""
    return "" if "" in preset_ids else None


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
