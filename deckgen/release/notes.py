"""Release notes for learners: what changed since the previous release, and what to do about it.

They cover everything between two releases, however many builds and merges lie between, because
they compare the project with what the previous release recorded, not with the last build. Notes
a release retires and notes whose cards it empties stay in learners' collections (an import
never deletes anything), so the notes give an Anki Browser search for each: `nid:` with the note
ids the releases gave them, which Anki keeps on import.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ..build.lock_file import EARLIER, Lock
from ..build.pipeline import Project
from ..build.released import Emptied, card_names, emptied_cards, released_ids
from ..build.render import RenderedNote
from ..project.config import ProjectConfig

_TAG = re.compile(r"<[^>]*>")
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)
_SPACE = re.compile(r"\s+")
_PRESETS = 'Anki applies it only if you tick "Import any deck presets" when you import'


@dataclass
class ReleaseNotes:
    """What a release changes for learners who have the previous one."""

    deck: str
    version: str
    previous: str | None  # None: the first release
    added: list[RenderedNote] = field(default_factory=list)
    changed: list[RenderedNote] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (released id, id now)
    restored: list[RenderedNote] = field(default_factory=list)
    moved: list[tuple[RenderedNote, str]] = field(default_factory=list)  # (note, the subdeck learners have it in)
    retired: list[str] = field(default_factory=list)  # card ids
    retired_note_ids: list[int] = field(default_factory=list)
    emptied: list[tuple[Emptied, str]] = field(default_factory=list)  # (emptied, which cards, in learners' words)
    emptied_note_ids: list[int] = field(default_factory=list)
    note_types: list[str] = field(default_factory=list)  # note types changed (names learners see)
    deck_options: bool = False
    fronts: dict[str, str] = field(default_factory=dict)  # card id -> its front, as plain text
    checked: list[tuple[str, str]] = field(default_factory=list)  # the rehearsal's figures, if one ran

    @property
    def retired_search(self) -> str:
        """The Anki Browser search that finds the notes this release retired."""
        return _search(self.retired_note_ids)

    @property
    def emptied_search(self) -> str:
        """The Anki Browser search that finds the notes whose cards this release left empty."""
        return _search(self.emptied_note_ids)

    def lines(self) -> list[str]:
        """A summary for the author's terminal."""
        since = f"since {self.previous}" if self.previous else "first release"
        counts = [f"{len(self.added)} new", f"{len(self.changed)} changed", f"{len(self.retired)} retired",
                  f"{len(self.emptied)} with emptied cards"]
        out = [f"release {self.version} ({since}): " + ", ".join(counts)]
        out += [f"renamed: {old} → {new} (learners keep their note and its reviews)" for old, new in self.renamed]
        out += [f"emptied: {e.note.card_id} ({names})" for e, names in self.emptied]
        out += [f"retired: {card_id}" for card_id in self.retired]
        return out

    def markdown(self) -> str:
        """The notes learners read, as Markdown."""
        head = [f"# {self.deck} {self.version}", ""]
        if self.previous is None:
            head += [f"The first release: {len(self.added)} notes.", ""]
        else:
            head += [f"What changes for you if you have {self.previous} and import this release. Your reviews "
                     "and your own edits to notes this release does not change are kept.", ""]
        body = self._changes() + self._retired() + self._emptied() + self._checked()
        if self.previous is not None and not body:
            body = ["Nothing changed for learners who have the previous release.", ""]
        return "\n".join(head + body)

    def _changes(self) -> list[str]:
        if self.previous is None:
            return []
        sections = [
            ("New", [self._front(n) for n in self.added], "new note{s}; {its} cards arrive as new cards"),
            ("Changed", [self._front(n) for n in self.changed], "note{s} updated in place; your reviews are kept"),
            ("Back again", [self._front(n) for n in self.restored], "note{s} retired earlier and brought back: "
             "if you kept {them}, {they} {are} updated, if not, {they} arrive{s1} as new"),
            ("Moved", [f"{self._front(n)} (stays in {deck}: Anki never moves cards you have)" for n, deck in self.moved],
             "note{s} now in another subdeck for new learners"),
            ("Card layout", self.note_types, "note type{s} whose templates or style changed: every card of "
             "{them} looks different"),
            ("Deck options", [f"The deck options preset changed: {_PRESETS}."] if self.deck_options else [], ""),
        ]
        out = []
        for heading, items, what in sections:
            if items:
                out += [f"## {heading}", ""] + ([_counted(len(items), what) + ":", ""] if what else [])
                out += [f"- {item}" for item in items] + [""]
        if self.renamed:
            out += [_counted(len(self.renamed), "note{s} {are} renamed by the author; for you {they} stay{s1} "
                             "the same note{s}, with {its} reviews") + ".", ""]
        return out

    def _retired(self) -> list[str]:
        if not self.retired:
            return []
        out = ["## Retired", "", _counted(len(self.retired), "note{s} {are} no longer part of the deck. Importing "
                                          "never deletes notes, so {they} stay{s1} in your collection, scheduled "
                                          "as before."), ""]
        if self.retired_note_ids:
            found = len(self.retired_note_ids)
            out += [_words(found, "To find {them}, search in Anki's Browser for"), "", f"`{self.retired_search}`",
                    "", _words(found, "then delete {them} (Notes › Delete) or, to keep {them} out of your reviews "
                               "but keep {its} history, select {its} cards and suspend them (Cards › Toggle "
                               "Suspend)."), ""]
        missing = len(self.retired) - len(self.retired_note_ids)
        if missing:
            out += [_words(missing, "{n} of them {are} from before deckgen recorded note ids: the search cannot "
                                    "name {them}."), ""]
        return out

    def _emptied(self) -> list[str]:
        if not self.emptied:
            return []
        out = ["## Cards left empty", "", _counted(len(self.emptied), "note{s} lost cards (a cloze deletion "
               "removed, or a card whose side is now empty). Anki keeps those cards: they show \"No cloze found on "
               "card\" or an empty side in your reviews."), ""]
        out += [f"- {self._front(e.note)}: {names}" for e, names in self.emptied] + [""]
        if self.emptied_note_ids:
            out += [_words(len(self.emptied_note_ids), "To find {them}, search in Anki's Browser for"), "",
                    f"`{self.emptied_search}`", ""]
        return out + ["Then delete the empty cards with Tools › Empty Cards (it lists them first), or suspend them.", ""]

    def _checked(self) -> list[str]:
        if not self.checked:
            return []
        return ["## Checked in Anki", "", f"This release was imported, with the official Anki backend, on top of "
                f"{self.previous} in the collection of a learner who studied every card and edited a note of "
                "their own:", "", *(f"- {what}: {value}" for what, value in self.checked), ""]

    def _front(self, note: RenderedNote) -> str:
        return self.fronts.get(note.card_id) or note.card_id


FIGURES = [("new", "new notes"), ("updated", "notes updated"), ("unchanged", "notes unchanged"),
           ("conflicting", "notes Anki would not update (conflicting)"), ("note_types_copied", "note types copied"),
           ("cards_emptied", "cards left empty"), ("reviews_lost", "reviews lost"), ("retired", "notes retired"),
           ("own_edit_kept", "the learner's own edit kept")]  # a rehearsal's JSON keys, in learners' words


def rehearsal_figures(data: dict[str, object]) -> list[tuple[str, str]]:
    """A rehearsal's figures (`Rehearsal.to_json()`) for the notes: counts, and yes or no."""
    shown = {True: "yes", False: "no"}
    return [(words, shown[value] if isinstance(value, bool) else str(len(value) if isinstance(value, list) else value))
            for key, words in FIGURES if (value := data.get(key)) is not None]


def _counted(count: int, text: str) -> str:
    """A count and its words: 'note{s} {are}' is '1 note is', '2 notes are'."""
    return _words(count, "{n} " + text)


def _words(count: int, text: str) -> str:
    """Text whose words agree with a count ({n}, {s}, {s1}, {are}, {they}, {them}, {its})."""
    one = count == 1
    return text.format(n=count, s="" if one else "s", s1="s" if one else "", are="is" if one else "are",
                       they="it" if one else "they", them="it" if one else "them", its="its" if one else "their")


def _search(note_ids: list[int]) -> str:
    return "nid:" + ",".join(map(str, sorted(note_ids))) if note_ids else ""


def plain_text(value: str, limit: int = 90) -> str:
    """A field as a short line a learner recognises: no HTML, clozes as their answers."""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", _CLOZE.sub(r"\1", value)))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def release_notes(project: Project, before: Lock, after: Lock, version: str, previous: str | None) -> ReleaseNotes:
    """The notes of releasing `version`: `before` holds what the previous release recorded, `after` this one."""
    config, note_types = project.config, project.templates.note_types
    label = "the previous release" if previous == EARLIER else previous
    notes = ReleaseNotes(config.deck, version, label if before.releases else None)
    guids = project.identities.guids
    ids = released_ids(config.key, before, project.notes, guids)
    for note in project.notes:
        notes.fronts[note.card_id] = plain_text(note.fields[note_types[note.note_type].sort_field_index])
        _sort(notes, note, ids.get(note.card_id), before, config)
    notes.retired = sorted(card_id for card_id, row in after.released.items() if row.retired == version)
    notes.retired_note_ids = [after.released[c].note_id for c in notes.retired if after.released[c].note_id]
    emptied = emptied_cards(config.key, before, project.notes, guids)
    notes.emptied = [(e, card_names(note_types[e.note.note_type], e.lost)) for e in emptied]
    notes.emptied_note_ids = [after.released[e.note.card_id].note_id for e in emptied]
    _note_types_and_options(notes, project, before)
    return notes


def _sort(notes: ReleaseNotes, note: RenderedNote, was: str | None, before: Lock, config: ProjectConfig) -> None:
    """Put one note where it belongs: new, restored, renamed, changed, moved, or nowhere (unchanged)."""
    row = before.released.get(was) if was else None
    if row is None:
        notes.added.append(note)
        return
    if row.retired:
        notes.restored.append(note)
        return
    if was != note.card_id:
        notes.renamed.append((was, note.card_id))  # type: ignore[arg-type]
    if row.hash != note.hash:
        notes.changed.append(note)
    if row.group != note.group and row.kind:
        notes.moved.append((note, _deck_name(config, row.group)))


def _deck_name(config: ProjectConfig, group: str) -> str:
    """The deck a group's cards are in, as learners' deck list names it (a group gone: its path)."""
    if group == "":
        return config.deck
    return config.group_deck(group) if group in config.group_paths() else group


def _note_types_and_options(notes: ReleaseNotes, project: Project, before: Lock) -> None:
    """The note types and deck options that changed since the previous release (its hashes of them)."""
    latest = before.previous_release()
    if latest is None:
        return
    release, lock = before.releases[latest], project.lock
    notes.note_types = sorted(project.templates.note_types[kind].display_name(project.config.deck)
                              for kind, entry in lock.note_types.items()
                              if kind in release.note_types and release.note_types[kind] != entry.hash)
    options = next(iter(lock.deck_options.values()), None)
    notes.deck_options = bool(options) and options.hash != release.deck_options  # type: ignore[union-attr]
