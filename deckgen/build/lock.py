"""Change times: the lock file that makes releases update learners' notes cleanly.

Anki updates a note a learner has only when the incoming note is strictly newer, so a note's time
must be the time its content last changed: not the build time (that overwrites learners' edits
to notes the author never touched) and not one fixed time (that never delivers an update). The
lock records, per card id and per note type, a hash of what deckgen produced and when that last
changed. It is committed with the sources, so any machine builds the same bytes from them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Iterable

import orjson

from ..anki.builtin_note_types import NoteType
from ..safety.confine import read_inside
from ..problems import NOTE, Problem, ProjectError
from ..safety.scratch import unique_temporary
from .render import RenderedNote
from .lock_file import (
    DECK_OPTIONS_KEY, LOCK_FILE, MAX_TIME, Entry, Lock, LockValueError, NewerLockError, group_options_key,
    has_conflict_markers, lock_from_data,
)
from .lock_merge import merge_conflicted


def read_lock(root: Path, problems: list[Problem]) -> Lock:
    """The project's lock, or an empty one for a first build."""
    path = root / LOCK_FILE
    if not path.is_file() and not path.is_symlink():
        return Lock()
    raw = read_inside(path, LOCK_FILE, problems, root)
    if raw is None:
        return Lock()
    try:
        if has_conflict_markers(raw):
            lock = _merged_lock(raw)
            problems.append(Problem(LOCK_FILE, message=lock.merged, severity=NOTE,
                                    hint="'deckgen build' writes the merged lock: commit it"))
            return lock
        data = orjson.loads(raw)
        return lock_from_data(data)
    except NewerLockError as exc:
        problems.append(Problem(LOCK_FILE, _line_of(raw, "format"), 0, str(exc),
                                hint="upgrade deckgen to the version that wrote it or a later one; do not delete the lock"))
        return Lock()
    except LockValueError as exc:
        problems.append(Problem(LOCK_FILE, _line_of(raw, exc.key), 0, f"the lock's entry '{exc.key}' {exc}",
                                hint="restore deckgen.lock from version control"))
        return Lock()
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        problems.append(Problem(LOCK_FILE, message=f"the lock file is damaged ({exc})",
                                hint="restore it from version control; deleting it makes every note look new"))
        return Lock()


def _merged_lock(data: bytes) -> Lock:
    """A lock git left with conflict markers: both sides merged (`lock_merge`), to be rewritten."""
    merge = merge_conflicted(data.decode("utf-8"))
    merge.lock.merged = "the lock held git conflict markers; deckgen " + merge.describe()
    return merge.lock


def _line_of(raw: bytes, key: str) -> int:
    """The line of the lock that holds an entry (the lock keeps one entry a line)."""
    needle = json.dumps(key).encode()
    found = raw.find(needle)
    return raw.count(b"\n", 0, found) + 1 if found >= 0 else 0


def write_lock(root: Path, lock: Lock) -> None:
    """Write the lock atomically (a crash leaves the old one)."""
    temporary = prepare_lock(root, lock)
    try:
        os.replace(temporary, root / LOCK_FILE)
    finally:
        temporary.unlink(missing_ok=True)


def prepare_lock(root: Path, lock: Lock) -> Path:
    """The next lock, written to a temporary file of this process beside the lock (moved into place later)."""
    temporary = unique_temporary(root / LOCK_FILE)
    try:
        temporary.write_text(lock.to_json(), encoding="utf-8")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def build_time() -> int:
    """Now, or SOURCE_DATE_EPOCH where a reproducible-builds setup sets it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not (epoch.isascii() and epoch.isdigit()):
        return int(time.time())
    if len(epoch) > 12 or int(epoch) > MAX_TIME:
        raise ProjectError([Problem("SOURCE_DATE_EPOCH", message=f"the time {epoch[:40]} is past deckgen's "
                                    f"limit of {MAX_TIME} (the year 2106)", hint="set it to a Unix time in seconds")])
    return int(epoch)


def note_type_hash(note_type: NoteType, name: str, css: str) -> str:
    """A hash of a note type as Anki stores it: names, templates and CSS."""
    templates = [[t.name, t.question, t.answer] for t in note_type.templates]
    settings = [note_type.sort_field_index, note_type.is_cloze] if note_type.path else []  # a project's own
    if note_type.latex_pre is not None or note_type.latex_post is not None or note_type.field_options is not None:
        settings += [note_type.latex_pre, note_type.latex_post, note_type.field_options]  # only where given: the
        # hashes of note types without them stay as they were
    payload = json.dumps([name, note_type.fields, templates, css, *settings], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _next(previous: Entry | None, digest: str, now: int) -> tuple[int, int]:
    """(mtime, added) for content with this hash: unchanged keeps its time, changed gets a newer one."""
    if previous is None:
        return now, now
    if previous.hash == digest:
        return previous.mtime, previous.added
    return max(now, previous.mtime + 1), previous.added


def _released_time(old: Lock, note: RenderedNote, renames: dict[str, str]) -> int:
    """The note time the last release gave this card, if its content is back to what that release gave (0: it is
    not, the time is not known, or a media file it shows changed since): learners of that release then see nothing
    newer, and keep their own edits."""
    row = old.released.get(note.card_id) or old.released.get(renames.get(note.card_id, ""))
    if row is None or row.retired or row.hash != note.hash or not row.time:
        return 0
    shown = (old.media.get(name) for name in note.media)
    return 0 if any(entry is not None and entry.mtime > row.time for entry in shown) else row.time


def update_note_types(old: Lock, note_types: dict[str, tuple[NoteType, str]], now: int) -> dict[str, Entry]:
    """The next lock's note types, from each one the deck uses and its hash."""
    entries = {}
    for kind, (note_type, digest) in note_types.items():
        mtime, added = _next(old.note_types.get(kind), digest, now)
        entries[kind] = Entry(digest, mtime, added, kind=kind, schema=note_type.schema, pinned_id=note_type.id)
    return entries


def update_group_options(old: Lock, digests: dict[str, str], now: int) -> dict[str, Entry]:
    """The lock's rows of the groups' own presets (by group path: the preset's hash) and when each last changed."""
    entries = {}
    for path, digest in digests.items():
        mtime, added = _next(old.deck_options.get(group_options_key(path)), digest, now)
        entries[group_options_key(path)] = Entry(digest, mtime, added)
    return entries


def update_deck_options(old: Lock, digest: str | None, now: int) -> dict[str, Entry]:
    """The next lock's deck options table: the preset's hash (None: no options) and when it last changed."""
    if digest is None:
        return {}
    mtime, added = _next(old.deck_options.get(DECK_OPTIONS_KEY), digest, now)
    return {DECK_OPTIONS_KEY: Entry(digest, mtime, added)}


def update_media(old: Lock, digests: dict[str, str], now: int) -> dict[str, Entry]:
    """The lock's media table: each file's hash and when its bytes last changed (an older lock's files: as they are)."""
    return {name: Entry(digest, *_next(old.media.get(name), digest, now)) for name, digest in digests.items()}


def changed_media(old: Lock, digests: dict[str, str]) -> frozenset[str]:
    """The media files whose bytes differ from the lock's: the notes that show them must reach learners again."""
    return frozenset(name for name, digest in digests.items()
                     if (before := old.media.get(name)) is not None and before.hash != digest)


def update_lock(old: Lock, notes: Iterable[RenderedNote], note_types: dict[str, Entry], now: int, *,
                renames: dict[str, str] | None = None, guids: dict[str, str] | None = None,
                restored: frozenset[str] = frozenset(), first_times: dict[str, int] | None = None,
                media: frozenset[str] = frozenset()) -> Lock:
    """The lock after this build: new times only for what changed (`note_types` from `update_note_types`).

    A renamed card (`renames`: new id -> old id) takes over its old id's entry, times and all; a
    released card gone from the project goes to `removed` (one never released is simply dropped); a
    restored card leaves `removed`; `guids` are the cards' GUIDs that are not the ones from their ids;
    a new card in `first_times` gets its time there instead of `now`; a note that shows one of the
    `media` (files whose bytes changed, see `changed_media`) gets a newer time with its hash unchanged;
    a card edited back to the content its last release gave gets that release's time again.
    """
    renames = renames or {}
    first_times = first_times or {}
    new = Lock(note_types=dict(note_types))
    for note in notes:
        before = old.cards.get(note.card_id) or old.cards.get(renames.get(note.card_id, ""))
        shows_changed = bool(media) and not media.isdisjoint(note.media)
        if before is not None and before.hash == note.hash and before.group == note.group and not shows_changed:
            new.cards[note.card_id] = before
            continue
        mtime, added = _next(before, note.hash, now if before is not None else first_times.get(note.card_id, now))
        if shows_changed and before is not None:
            mtime = max(now, before.mtime + 1)  # Anki updates the note, taking the new file under a new name
        elif before is not None and before.hash != note.hash:
            mtime = _released_time(old, note, renames) or mtime
        new.cards[note.card_id] = Entry(note.hash, mtime, added, note.group, note.note_type)
    new.removed = {card_id: time for card_id, time in old.removed.items()  # back: restored, or never released gone
                   if card_id not in restored and card_id not in new.cards}
    for card_id in old.cards.keys() - new.cards.keys() - set(renames.values()):
        if card_id in old.released:  # an id only ever built is free again
            new.removed[card_id] = now
    new.releases, new.released = old.releases, old.released  # only `deckgen release` records a release
    kept = {card_id: guid for card_id, guid in old.guids.items() if card_id in new.removed}  # for a later restore
    new.guids = {**kept, **(guids or {})}
    return new
