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

from ..build.lock_file import EARLIER, Lock, Release, Released
from ..build.pipeline import Project
from ..build.released import released_ids
from ..build.render import note_guid
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
                                          guids.get(note.card_id, ""), version)
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


def with_package_note_ids(lock: Lock, key: str, package: Path) -> Lock:
    """The lock with the note ids an earlier release's package gave the released cards whose ids it does not know.

    A lock of an older deckgen records no note ids; learners have the ones of the package they
    imported, so the release keeps those (and the release notes' searches find them).
    """
    unknown = {card_id for card_id, row in lock.released.items() if not row.note_id}
    if not unknown:
        return lock
    by_guid = package_note_ids(package)
    if not by_guid:
        return lock
    released = dict(lock.released)
    taken = {row.note_id for row in released.values() if row.note_id}
    for card_id in sorted(unknown):
        row = released[card_id]
        note_id = by_guid.get(row.guid or note_guid(key, card_id), 0)
        if note_id and note_id not in taken:
            released[card_id] = row._replace(note_id=note_id)
            taken.add(note_id)
    return dataclasses.replace(lock, released=released)


def package_note_ids(package: Path) -> dict[str, int]:
    """GUID -> note id of a package deckgen wrote (its collection.anki2); raise ProjectError if it is not one."""
    try:
        with zipfile.ZipFile(package) as archive, scratch_folder() as folder:
            database = folder / "collection.anki2"
            database.write_bytes(archive.read("collection.anki2"))
            connection = sqlite3.connect(database)
            try:
                return {guid: note_id for note_id, guid in connection.execute("SELECT id, guid FROM notes")}
            finally:
                connection.close()
    except (OSError, KeyError, zipfile.BadZipFile, sqlite3.DatabaseError) as exc:
        raise ProjectError([Problem(str(package), message=f"cannot read the previous release's package ({exc})",
                                    hint="pass --previous with the .apkg that release shared")]) from None
