"""What learners were given: each card's released id, and the checks an edit needs against it.

Only `deckgen release` records what learners have (the lock's `released` table); a build is no
release. Against that record, `check` names every released card an edit would leave empty (a
cloze number removed, a template whose condition no longer holds: Anki keeps the card and shows
"no cloze found" or a blank front) and every new card whose content is that of a released card
that is gone (a rename without `former_ids`: learners would get a second note).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..anki.builtin_note_types import NoteType
from ..problems import WARNING, Problem
from .lock_file import Lock
from .render import RenderedNote, note_guid


@dataclass(frozen=True)
class Emptied:
    """A released note whose cards `lost` (card ordinals) an edit leaves empty for learners who have them."""

    note: RenderedNote
    released_as: str  # the id the note was released under
    lost: tuple[int, ...]


def released_ids(key: str, lock: Lock, notes: Iterable[RenderedNote], guids: dict[str, str]) -> dict[str, str]:
    """Each released note's card id -> the id it was released under: its own, or (renamed) the one whose GUID it keeps.

    `guids`: card id -> GUID of the cards whose GUID is not the one from their id (`Identities.guids`).
    """
    released = lock.released
    if not released:
        return {}
    notes = list(notes)
    here = {note.card_id for note in notes}
    gone = {row.guid or note_guid(key, card_id): card_id for card_id, row in released.items() if card_id not in here}
    found = {}
    for note in notes:
        card_id = note.card_id
        if card_id in released:
            found[card_id] = card_id
        elif card_id in guids and guids[card_id] in gone:
            found[card_id] = gone[guids[card_id]]
    return found


def emptied_cards(key: str, lock: Lock, notes: list[RenderedNote], guids: dict[str, str]) -> list[Emptied]:
    """Released notes that lose cards they were released with (where the lock knows which they had)."""
    if not lock.released:
        return []
    emptied = []
    ids = released_ids(key, lock, notes, guids)
    for note in notes:
        was = ids.get(note.card_id)
        row = lock.released[was] if was is not None else None
        if row is None or row.ords is None or row.kind != note.note_type:
            continue  # not released, cards not known, or another note type (its cards are not these)
        lost = tuple(sorted(set(row.ords) - set(note.ords)))
        if lost:
            emptied.append(Emptied(note, was, lost))  # type: ignore[arg-type]
    return emptied


def card_names(note_type: NoteType, ords: Iterable[int]) -> str:
    """Cards as learners know them: 'cloze 2' for a cloze note, the template's name otherwise."""
    if note_type.is_cloze:
        return ", ".join(f"cloze {ord_ + 1}" for ord_ in ords)
    names = [t.name for t in note_type.templates]
    return ", ".join(f"card '{names[ord_]}'" if ord_ < len(names) else f"card {ord_ + 1}" for ord_ in ords)


def emptied_problem(emptied: Emptied, note_type: NoteType, severity: str = WARNING) -> Problem:
    """The located problem for cards an edit leaves empty."""
    note, lost = emptied.note, emptied.lost
    if note_type.is_cloze:
        numbers = ", ".join(f"c{ord_ + 1}" for ord_ in lost)
        hint = (f"keep the deletion's number: number the remaining deletions so that {numbers} is still used, "
                "numbers need not be consecutive; or release with --allow-empty-cards, and the release notes "
                "tell learners to use Tools › Empty Cards")
        what = f"removes {numbers} from a released cloze note"
    else:
        hint = ("keep the field the template needs filled; or release with --allow-empty-cards, and the "
                "release notes tell learners to use Tools › Empty Cards")
        what = f"no longer fills what {card_names(note_type, lost)} needs"
    return Problem(note.path, note.line, note.column, f"this edit {what}: learners who have the card keep it, "
                   "empty, in their reviews", note.card_id, hint, severity)


def lost_renames(key: str, lock: Lock, notes: list[RenderedNote], guids: dict[str, str]) -> list[Problem]:
    """A new card with the content of a released card that is gone: most likely renamed without `former_ids`."""
    if not lock.released:
        return []
    here = {note.card_id for note in notes}
    gone = {row.hash: card_id for card_id, row in sorted(lock.released.items())
            if not row.retired and row.hash and card_id not in here}
    if not gone:
        return []
    kept = set(released_ids(key, lock, notes, guids).values())
    return [
        Problem(note.path, note.line, note.column, f"same content as the released card '{old}', which is gone: "
                "learners would get this card as a second note", note.card_id,
                f"if it is that card renamed, add former_ids: [{old}]; learners then keep their note and its reviews",
                WARNING)
        for note in notes
        if note.card_id not in lock.released and (old := gone.get(note.hash)) is not None and old not in kept
    ]


def restamped(key: str, lock: Lock, notes: list[RenderedNote], guids: dict[str, str]) -> list[Problem]:
    """Cards back to the content their last release gave, but with a later time than that release (its note times
    not known: a format-3 lock): Anki would update learners' notes with the same content, losing their own edits."""
    found, ids = [], released_ids(key, lock, notes, guids)
    for note in notes:
        was = ids.get(note.card_id)
        row = lock.released.get(was) if was else None
        release = lock.releases.get(row.version) if row is not None else None
        if row is None or release is None or row.time or row.retired or row.hash != note.hash:
            continue
        before = lock.cards.get(note.card_id) or lock.cards.get(was or "")
        if before is None or before.hash != note.hash or before.mtime > release.time:
            found.append(Problem(
                note.path, note.line, note.column, f"back to the text release {row.version} gave, with a later "
                f"time: learners of {row.version} would get the note as updated, its content the same, and lose "
                "their own edits of it", note.card_id,
                f"set the card's time in deckgen.lock (second column of its 'cards' row) back to its note's time "
                f"in the {row.version} package, unless a media file it shows changed since; locks written by "
                "this deckgen's releases record that time and restore it themselves",
                WARNING))
    return found


def released_problems(key: str, note_types: dict[str, NoteType], lock: Lock, notes: list[RenderedNote],
                      guids: dict[str, str]) -> list[Problem]:
    """What `check` says about released cards: those an edit empties, those renamed without `former_ids`."""
    if not lock.released:
        return []
    emptied = [emptied_problem(e, note_types[e.note.note_type]) for e in emptied_cards(key, lock, notes, guids)]
    return emptied + lost_renames(key, lock, notes, guids) + restamped(key, lock, notes, guids)
