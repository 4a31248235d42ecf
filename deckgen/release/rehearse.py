"""The rehearsal: a release imported, in the real Anki backend, on top of what a learner has.

A scratch collection plays a learner of the old package: it imports it as Anki's import dialog
does, answers "good" on every card and edits one note of its own (one the new package leaves as
it is), then imports the new package with the dialog's defaults. What that learner gets (new,
updated and unchanged notes, conflicts, copied note types, cards left empty, reviews lost, notes
retired, their own edit) is what every learner will get. The official `anki` package is an
optional extra, imported only here.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from ..build.build_options import BuildOptions
from ..build.render import media_references
from ..problems import Problem, ProjectError
from ..safety.scratch import scratch_folder

if TYPE_CHECKING:
    from anki.collection import Collection

    from ..build.pipeline import Project

INSTALL = "pip install 'deckgen[rehearse]'"
OWN_EDIT = "<br>my own mnemonic (a learner's edit, deckgen rehearse)"
_GOOD = 3  # the answer button a learner presses most
_SHOWN = 20  # notes listed per kind in the text report before "and N more"
_CLOZE = 1  # a note type's "type" for cloze note types


class RehearsalUnavailable(Exception):
    """The official `anki` package is not installed, so there is no backend to rehearse in."""

    def __init__(self) -> None:
        super().__init__(f"rehearsing needs the official Anki backend, the `anki` package: {INSTALL}")


@dataclass(frozen=True)
class NoteRef:
    """A note as the author recognises it: its GUID and its first field as plain text."""

    guid: str
    first_field: str
    card_id: str = ""  # the project's card id, where the rehearsal was given the project

    def __str__(self) -> str:
        return f'{self.card_id}: "{self.first_field}"' if self.card_id else f'"{self.first_field}" ({self.guid})'

    def named(self, card_ids: Mapping[str, str]) -> NoteRef:
        """The same note with its card id, if `card_ids` (GUID -> card id) knows it."""
        return replace(self, card_id=card_ids.get(self.guid, self.card_id))


@dataclass(frozen=True)
class CardRef:
    """One card of a note: its template's name, or "cloze N"."""

    note: NoteRef
    card: str

    def __str__(self) -> str:
        return f"{self.note}, {self.card}"

    def to_json(self) -> dict[str, str]:
        return {**asdict(self.note), "card": self.card}

    def named(self, card_ids: Mapping[str, str]) -> CardRef:
        return replace(self, note=self.note.named(card_ids))


@dataclass(frozen=True)
class CopiedNoteType:
    """A note type Anki copied instead of updating: the learner's name for it and the copy's."""

    name: str
    copy: str


@dataclass(frozen=True)
class OwnEdit:
    """The learner's own edit: which note, which field."""

    note: NoteRef
    field_name: str


@dataclass
class Rehearsal:
    """What a learner who studied every card of the old package gets from importing the new one."""

    old_package: str
    new_package: str
    cards_studied: int
    new: list[NoteRef] = field(default_factory=list)
    updated: list[NoteRef] = field(default_factory=list)
    unchanged: list[NoteRef] = field(default_factory=list)  # Anki's import log: "duplicate"
    conflicting: list[NoteRef] = field(default_factory=list)
    note_types_copied: list[CopiedNoteType] = field(default_factory=list)
    cards_emptied: list[CardRef] = field(default_factory=list)
    reviews_lost: int = 0
    scheduling_lost: list[CardRef] = field(default_factory=list)
    retired: list[NoteRef] = field(default_factory=list)  # in the old package, not in the new one
    own_edit: OwnEdit | None = None  # None: the new package changes every note, so none was edited
    own_edit_kept: bool = True

    def name_cards(self, card_ids: Mapping[str, str]) -> None:
        """Name the notes by the project's card ids (GUID -> card id), as the author knows them."""
        for kind in ("new", "updated", "unchanged", "conflicting", "retired", "cards_emptied", "scheduling_lost"):
            setattr(self, kind, [item.named(card_ids) for item in getattr(self, kind)])
        if self.own_edit is not None:
            self.own_edit = replace(self.own_edit, note=self.own_edit.note.named(card_ids))

    @property
    def loses_anything(self) -> bool:
        """Whether the learner ends up with something broken or loses something they had."""
        return bool(self.conflicting or self.note_types_copied or self.cards_emptied or self.reviews_lost
                    or self.scheduling_lost or not self.own_edit_kept)

    def to_json(self) -> dict[str, Any]:
        """The rehearsal as plain data, for `--format json` and for other programs."""
        notes = {kind: [asdict(note) for note in getattr(self, kind)]
                 for kind in ("new", "updated", "unchanged", "conflicting", "retired")}
        return {
            "old_package": self.old_package, "new_package": self.new_package, "cards_studied": self.cards_studied,
            **notes,
            "note_types_copied": [asdict(copied) for copied in self.note_types_copied],
            "cards_emptied": [card.to_json() for card in self.cards_emptied],
            "reviews_lost": self.reviews_lost,
            "scheduling_lost": [card.to_json() for card in self.scheduling_lost],
            "own_edit": None if self.own_edit is None else {**asdict(self.own_edit.note),
                                                             "field": self.own_edit.field_name},
            "own_edit_kept": self.own_edit_kept,
            "loses_anything": self.loses_anything,
        }

    def lines(self) -> list[str]:
        """The report for the author, one finding a line, what the learner loses last."""
        return [
            f"A learner of {self.old_package} who studied all {self.cards_studied} cards"
            f"{'' if self.own_edit is None else ' and edited a note of their own'} imports {self.new_package} "
            "(Anki's default import options):",
            *_listed("new notes", self.new, limit=_SHOWN),
            f"  updated: {len(self.updated)}",
            f"  unchanged: {len(self.unchanged)}",
            *_listed("conflicting (Anki does not update them: another note type holds their GUID)", self.conflicting),
            *_listed("note types copied (Anki added a copy instead of updating them)",
                     [f"{c.name} -> {c.copy}" for c in self.note_types_copied]),
            *_listed("cards left empty (Anki shows them with an error; Tools > Empty Cards deletes them)",
                     self.cards_emptied),
            f"  reviews lost: {self.reviews_lost}",
            *_listed("cards that lost their scheduling", self.scheduling_lost, always=False),
            *_listed("retired (in the old package, gone from the new one: they stay in the learner's collection)",
                     self.retired),
            self._own_edit_line(),
            self._verdict(),
        ]

    def _own_edit_line(self) -> str:
        if self.own_edit is None:
            return "  own edit: not tried (the new package changes every note the learner has)"
        what = f"field {self.own_edit.field_name} of {self.own_edit.note}"
        return f"  own edit: {'kept' if self.own_edit_kept else 'LOST'} ({what})"

    def _verdict(self) -> str:
        if not self.loses_anything:
            return "The learner loses nothing."
        losses = [(len(self.conflicting), "conflicting notes"), (len(self.note_types_copied), "note types copied"),
                  (len(self.cards_emptied), "cards left empty"), (self.reviews_lost, "reviews lost"),
                  (len(self.scheduling_lost), "cards' scheduling lost"),
                  (0 if self.own_edit_kept else 1, "own edit overwritten")]
        return "The learner would lose: " + ", ".join(f"{n} {what}" for n, what in losses if n) + "."


def _listed(title: str, items: Sequence[object], limit: int | None = None, always: bool = True) -> list[str]:
    """'  title: N', then one line per item (the first `limit` of them)."""
    if not items and not always:
        return []
    shown = list(items) if limit is None else list(items)[:limit]
    more = [f"    ... and {len(items) - len(shown)} more (--format json lists them all)"] if len(shown) < len(items) else []
    return [f"  {title}: {len(items)}", *(f"    {item}" for item in shown), *more]


def rehearse_project(old_package: Path, root: Path, options: BuildOptions | None = None) -> Rehearsal:
    """Build the project to a scratch package (nothing written in the project) and rehearse it on `old_package`."""
    _backend()  # before the build: say at once that the extra is missing
    from ..build.pipeline import build_package_to

    with scratch_folder() as folder:
        project = build_package_to(root, folder / "next-release.apkg", options)
        rehearsal = rehearse(old_package, folder / "next-release.apkg")
    rehearsal.new_package = f"{project.config.output_path.name} as built now from {root}"
    rehearsal.name_cards(card_ids(project))
    return rehearsal


def card_ids(project: Project) -> dict[str, str]:
    """GUID -> card id: the project's cards, and those its lock knows (removed ones too) that it no longer has."""
    from ..build.render import note_guid

    lock = project.old_lock
    gone = {lock.guids.get(card_id) or note_guid(project.config.key, card_id): card_id
            for card_id in (*lock.cards, *lock.removed)}
    return {**gone, **{note.guid: note.card_id for note in project.notes}}


def rehearse(old_package: Path, new_package: Path) -> Rehearsal:
    """Import `old_package` as a learner, study it, edit a note, import `new_package`: what does the learner get?"""
    _backend()
    with scratch_folder() as folder:
        with _collection(folder / "fresh") as fresh:
            _import(fresh, new_package)
            incoming = _notes(fresh)
        with _collection(folder / "learner") as learner:
            return _rehearse(learner, old_package, new_package, incoming)


def _backend() -> None:
    """Make sure the official backend is there (it is imported only by a rehearsal)."""
    try:
        importlib.import_module("anki.collection")
    except ImportError as exc:
        raise RehearsalUnavailable() from exc


@contextlib.contextmanager
def _collection(folder: Path) -> Iterator[Collection]:
    from anki.collection import Collection

    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


def _import(col: Collection, package: Path) -> Any:
    """Import as Anki's import dialog does by default; a package Anki refuses is a located problem."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.errors import AnkiException

    request = ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions())
    try:
        return col.import_anki_package(request).log
    except AnkiException as exc:
        raise ProjectError([Problem(str(package), message=f"Anki cannot import this package: {exc}")]) from None


@dataclass(frozen=True)
class _Note:
    """A note of a collection, as the rehearsal compares it."""

    id: int
    ref: NoteRef
    content: tuple[tuple[str, ...], str, tuple[str, ...]]  # fields, tags, hashes of the media files they show


def _notes(col: Collection) -> dict[str, _Note]:
    """Every note of the collection by GUID, in the order they were added."""
    notes, files = {}, _MediaHashes(Path(col.media.dir()))
    for note_id in sorted(col.find_notes("")):
        note = col.get_note(note_id)
        shown = tuple(map(files.of, media_references("".join(note.fields))))
        notes[note.guid] = _Note(note_id, _ref(col, note.guid, note.fields[0]),
                                 (tuple(note.fields), note.string_tags(), shown))
    return notes


@dataclass
class _MediaHashes:
    """The hashes of a collection's media files: a note whose image was replaced under its name is not the same."""

    folder: Path
    known: dict[str, str] = field(default_factory=dict)

    def of(self, name: str) -> str:
        if name not in self.known:
            path = self.folder / name  # Anki's media folder has no subfolders: a name with one is not in it
            plain = "/" not in name and "\\" not in name and name not in (".", "..") and path.is_file()
            self.known[name] = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest() if plain else ""
        return self.known[name]


def _ref(col: Collection, guid: str, first_field: str) -> NoteRef:
    """As Anki's import log shows a field: without HTML, on one line, at most 80 characters."""
    return NoteRef(guid, col._backend.html_to_text_line(text=first_field, preserve_media_filenames=True)[:80])


def _rehearse(learner: Collection, old_package: Path, new_package: Path, incoming: dict[str, _Note]) -> Rehearsal:
    _import(learner, old_package)
    had = _notes(learner)
    studied = _study_everything(learner)
    own = _edit_own_note(learner, had, incoming)
    before = _State.of(learner)
    log = _import(learner, new_package)
    after = _State.of(learner)
    by_source_id = {note.id: note.ref for note in incoming.values()}
    return Rehearsal(
        str(old_package), str(new_package), studied,
        new=_logged(learner, log.new), updated=_logged(learner, log.updated),
        unchanged=_logged(learner, log.duplicate),
        conflicting=[by_source_id.get(note.id.nid) or NoteRef("", note.fields[0]) for note in log.conflicting],
        note_types_copied=_copied_note_types(before.note_types, after.note_types),
        cards_emptied=[_card(learner, card_id) for card_id in sorted(after.empty - before.empty)],
        reviews_lost=max(0, before.reviews - after.reviews),
        scheduling_lost=_scheduling_lost(learner, before, after),
        retired=[note.ref for guid, note in had.items() if guid not in incoming],
        own_edit=own[0] if own else None,
        own_edit_kept=own is None or _kept(learner, *own[1:]),
    )


def _study_everything(col: Collection) -> int:
    """Answer "good" on every card, as a learner who studied the whole deck did."""
    card_ids = col.find_cards("")
    for card_id in card_ids:
        card = col.get_card(card_id)
        card.start_timer()
        col.sched.answerCard(card, _GOOD)
    return len(card_ids)


def _edit_own_note(col: Collection, had: dict[str, _Note], incoming: dict[str, _Note]) -> tuple[OwnEdit, int, int] | None:
    """The learner adds a line to a note the new package leaves as it is: the first by GUID.

    The field edited is the note's last non-empty one, so that no card appears or disappears.
    """
    same = sorted(guid for guid, note in had.items() if guid in incoming and incoming[guid].content == note.content)
    if not same:
        return None
    note = col.get_note(had[same[0]].id)  # type: ignore[arg-type]
    index = max((i for i, value in enumerate(note.fields) if value.strip()), default=len(note.fields) - 1)
    note.fields[index] += OWN_EDIT
    col.update_note(note)
    return OwnEdit(had[same[0]].ref, note.keys()[index]), note.id, index


def _kept(col: Collection, note_id: int, index: int) -> bool:
    """Whether the learner's edit is still in the note after the import."""
    found = col.find_notes(f"nid:{note_id}")
    return bool(found) and col.get_note(found[0]).fields[index].endswith(OWN_EDIT)


@dataclass(frozen=True)
class _State:
    """What the learner has, as far as losing it matters."""

    reviews: int
    scheduling: dict[int, tuple[int, int]]  # card id -> (card type, reviews)
    note_types: dict[int, str]
    empty: set[int]  # the cards Anki's own empty-cards report names

    @classmethod
    def of(cls, col: Collection) -> _State:
        assert col.db is not None
        scheduling = {card_id: (kind, reps) for card_id, kind, reps in col.db.all("select id, type, reps from cards")}
        note_types = {entry.id: entry.name for entry in col.models.all_names_and_ids()}
        empty = {card_id for note in col.get_empty_cards().notes for card_id in note.card_ids}
        return cls(col.db.scalar("select count() from revlog"), scheduling, note_types, empty)


def _logged(col: Collection, notes: Sequence[Any]) -> list[NoteRef]:
    """The notes of an import log (new, updated, duplicate: ids in the learner's collection)."""
    refs = []
    for logged in notes:
        note = col.get_note(logged.id.nid)
        refs.append(_ref(col, note.guid, note.fields[0]))
    return refs


def _copied_note_types(before: dict[int, str], after: dict[int, str]) -> list[CopiedNoteType]:
    """Note types the import added as a copy of one the learner has ("Name+"), instead of updating it."""
    names = set(before.values())
    added = [name for type_id, name in after.items() if type_id not in before]
    return [CopiedNoteType(name.rstrip("+"), name) for name in added if name.rstrip("+") in names]


def _card(col: Collection, card_id: int) -> CardRef:
    """A card named by its note and template, as the author knows it."""
    card = col.get_card(card_id)  # type: ignore[arg-type]
    note = card.note()
    note_type = note.note_type() or {}
    templates = note_type.get("tmpls", [])
    if note_type.get("type") == _CLOZE:
        name = f"cloze {card.ord + 1}"
    else:
        name = templates[card.ord]["name"] if card.ord < len(templates) else f"card {card.ord + 1}"
    return CardRef(_ref(col, note.guid, note.fields[0]), name)


def _scheduling_lost(col: Collection, before: _State, after: _State) -> list[CardRef]:
    """Cards the learner had studied that are gone or back to new after the import."""
    lost = [card_id for card_id, (kind, reps) in before.scheduling.items()
            if card_id in after.scheduling and (after.scheduling[card_id][1] < reps
                                                or (kind and not after.scheduling[card_id][0]))]
    gone = [card_id for card_id in before.scheduling if card_id not in after.scheduling]
    return [_card(col, card_id) for card_id in lost] + [CardRef(NoteRef("", "(deleted)"), f"card {card_id}")
                                                      for card_id in gone]
