"""The release record: what a release gave learners, written into the lock's `releases` and `released` tables.

A release records, for every card, its content hash, subdeck, note type, the cards of its note
(template ordinals or cloze numbers), the note id learners get and its GUID where that is not the
one from its id; cards gone since the previous release stay recorded as retired. Only what is
recorded here binds later builds (ids never reused, GUIDs never changed, former ids, emptied cards).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import zipfile
from pathlib import Path
from typing import NamedTuple

from ..build.lock_file import EARLIER, MAX_TIME, Lock, Release, Released
from ..build.pipeline import Project
from ..build.released import released_ids
from ..build.package import note_type_id
from ..build.render import content_hash, note_guid
from ..problems import Problem, ProjectError
from ..safety.scratch import scratch_folder


def record_release(project: Project, lock: Lock, version: str, note_ids: dict[str, int], now: int) -> Lock:
    """The lock after releasing `version`: the build's `lock` with this release recorded (`note_ids` from the package)."""
    guids = project.identities.guids
    ids = released_ids(project.config.key, lock, project.notes, guids)
    released: dict[str, Released] = {}
    for note in project.notes:
        before = lock.released.get(ids.get(note.card_id, ""))
        note_id = before.note_id if before is not None and before.note_id else note_ids[note.card_id]
        released[note.card_id] = Released(note.hash, note.group, note.note_type, note.ords, note_id,
                                          guids.get(note.card_id, ""), version, time=lock.cards[note.card_id].mtime)
    absorbed = set(ids.values())  # renamed cards' former ids: the note lives on under the new id
    for card_id, row in lock.released.items():
        if card_id not in released and card_id not in absorbed:
            released[card_id] = row if row.retired else row._replace(retired=version)
    options = next(iter(lock.deck_options.values()), None)
    release = Release(now, {kind: entry.hash for kind, entry in lock.note_types.items()}, options.hash if options else "")
    return dataclasses.replace(lock, releases={**lock.releases, version: release}, released=released)


def previous_version(lock: Lock, config_version: str | None, version: str) -> str | None:
    """The version of the release before `version`; for an older lock's, the version deckgen.yaml gives (if not this one)."""
    previous = lock.previous_release()
    if previous == EARLIER and config_version and config_version != version:
        return config_version
    return previous


class PackageNote(NamedTuple):
    """A note of an earlier release's package: what learners were given."""

    note_id: int
    guid: str
    kind: str  # the note type's key ("" for a note type the project no longer has)
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    ords: tuple[int, ...]
    mod: int  # its time: Anki updates a learner's note only from a strictly newer one


def from_previous_package(lock: Lock, project: Project, package: Path) -> Lock:
    """The lock with the release an older lock stands for (`EARLIER`) read from that release's package.

    An older lock holds the last *build*, which may be long after the release learners have (a
    rework built on a branch, say); the package holds exactly what they were given: each note's
    content, cards, note id and time. Its notes are named by the ids the lock and the project know.
    A lock that recorded the release but not its note times (format 3) gets the times from it.
    """
    key = project.config.key
    names = {note_guid(key, card_id): card_id for card_id in (*lock.cards, *lock.removed, *lock.released)}
    names.update({guid: card_id for card_id, guid in lock.guids.items()})
    names.update({note.guid: note.card_id for note in project.notes})
    shared = {names[note.guid]: note for note in package_notes(package, _kinds(project)) if note.guid in names}
    if lock.previous_release() != EARLIER:
        return _with_times(lock, shared)
    if not shared:
        return lock
    released = {card_id: row for card_id, row in lock.released.items() if row.retired and card_id not in shared}
    for card_id, note in shared.items():
        entry = lock.cards.get(card_id)
        released[card_id] = Released(content_hash(note.kind, note.fields, note.tags), entry.group if entry else "",
                                     note.kind, note.ords, note.note_id, lock.guids.get(card_id, ""), EARLIER,
                                     time=note.mod)
    return dataclasses.replace(lock, released=released)


def _with_times(lock: Lock, shared: dict[str, PackageNote]) -> Lock:
    """The released rows whose note time is not known, given the time of their note in the previous package
    (where that note is the one the row records: same note id, same content)."""
    released = dict(lock.released)
    for card_id, row in lock.released.items():
        note = shared.get(card_id)
        if (not row.time and note is not None and note.note_id == row.note_id
                and content_hash(note.kind, note.fields, note.tags) == row.hash):
            released[card_id] = row._replace(time=note.mod)
    return dataclasses.replace(lock, released=released)


def _kinds(project: Project) -> dict[int, str]:
    """Anki note type id -> the project's note type key."""
    key = project.config.key
    return {note_type_id(key, note_type): kind for kind, note_type in project.templates.note_types.items()}


def package_notes(package: Path, kinds: dict[int, str]) -> list[PackageNote]:
    """The notes of a package deckgen wrote (its collection.anki2); raise ProjectError if it is not one."""
    try:
        with zipfile.ZipFile(package) as archive, scratch_folder() as folder:
            database = folder / "collection.anki2"
            database.write_bytes(archive.read("collection.anki2"))
            return _read_notes(database, kinds)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, sqlite3.DatabaseError) as exc:
        raise ProjectError([Problem(str(package), message=f"cannot read the previous release's package ({exc})",
                                    hint="pass --previous with the .apkg that release shared")]) from None


def _read_notes(database: Path, kinds: dict[int, str]) -> list[PackageNote]:
    connection = sqlite3.connect(database)
    try:
        ords: dict[int, list[int]] = {}
        for note_id, ord_ in connection.execute("SELECT nid, ord FROM cards ORDER BY nid, ord"):
            ords.setdefault(note_id, []).append(ord_)
        rows = connection.execute("SELECT id, guid, mid, flds, tags, mod FROM notes ORDER BY id").fetchall()
    finally:
        connection.close()
    return [PackageNote(note_id, guid, kinds.get(mid, ""), tuple(fields.split("\x1f")), tuple(tags.split()),
                        tuple(ords.get(note_id, ())), mod if type(mod) is int and 0 <= mod <= MAX_TIME else 0)  # noqa: E721
            for note_id, guid, mid, fields, tags, mod in rows]
