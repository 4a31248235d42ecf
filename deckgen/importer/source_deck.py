"""The neutral model every reader produces and the project writer consumes.

A reader turns one kind of source (a package, a collection, a text export, a CSV) into an
`ImportedDeck`: note types with their ids and names exactly as Anki has them, notes with their
GUIDs and modification times, the deck each note sits in, and the media files. Nothing here
knows about deckgen's project syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, MutableMapping, NamedTuple

from ..problems import Problem

Progress = Callable[[str, int], Callable[[int], None]]  # (what, how many items) -> advance(by)
UNKNOWN_TIME = 315532800  # 1980-01-01: for notes whose source has no time; older than any Anki note


@dataclass(frozen=True)
class ImportedTemplate:
    """One card template, in Anki's own template language."""

    name: str
    front: str
    back: str
    group: str | None = None  # the group its cards go to, whatever the note's (set where the source's cards of
    # this template all sit in one other deck)


@dataclass(frozen=True)
class ImportedNoteType:
    """An Anki note type as the source has it; `id` is None where the source does not say."""

    name: str
    id: int | None
    is_cloze: bool
    fields: tuple[str, ...]
    templates: tuple[ImportedTemplate, ...]
    css: str = ""
    sort_field: int = 0
    mtime: int = UNKNOWN_TIME
    builtin: str | None = None  # a deckgen built-in card type the notes fill instead (plain CSV)
    latex_pre: str | None = None  # the LaTeX header and footer Anki renders [latex] with (None: not given)
    latex_post: str | None = None
    field_options: dict[str, dict[str, object]] | None = None  # field -> its options that differ from Anki's
    # defaults (schema 11 keys: font, size, sticky, rtl, plainText, ...); None: the source does not say


@dataclass(frozen=True)
class ImportedPreset:
    """A deck-options preset: the values deckgen.yaml's `options:` can carry."""

    id: int
    name: str
    new_per_day: int = 20
    reviews_per_day: int = 200
    learning_steps: tuple[float, ...] = (1.0, 10.0)
    relearning_steps: tuple[float, ...] = (10.0,)
    maximum_interval: int = 36500
    desired_retention: float = 0.9
    new_card_order: str = "due"


class ImportedNote(NamedTuple):
    """One note: its identity for learners (GUID, note type, time), its content and its deck.

    A tuple rather than a frozen dataclass: a big deck has tens of thousands, and a frozen
    dataclass sets each field through object.__setattr__ (ten times slower to make).
    """

    guid: str | None
    note_type: str  # the key of ImportedDeck.note_types
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str  # the full deck name, '::'-separated
    mtime: int = UNKNOWN_TIME
    origin: str = ""  # where it came from, for messages: 'notes.txt:12'
    card_decks: tuple[tuple[int, str], ...] = ()  # (ord, deck) of each card, where they are in several decks


@dataclass
class ImportedDeck:
    """Everything read from a source, before any of it is written."""

    source: Path
    note_types: dict[str, ImportedNoteType] = field(default_factory=dict)
    notes: list[ImportedNote] = field(default_factory=list)
    media: MutableMapping[str, bytes] = field(default_factory=dict)  # file name -> content (a package's: read
    # when asked for)
    deck_descriptions: dict[str, str] = field(default_factory=dict)
    deck_presets: dict[str, ImportedPreset] = field(default_factory=dict)  # full deck name -> its options preset
    card_decks: dict[str, dict[int, set[str]]] = field(default_factory=dict)  # note type key -> card ord -> the
    # decks its cards are in, for the note types with a note whose cards are in several decks
    problems: list[Problem] = field(default_factory=list)  # warnings found while reading


@dataclass(frozen=True)
class ImportOptions:
    """What the user said on the command line."""

    decks: tuple[str, ...] = ()  # --deck: keep these decks (and their subdecks)
    key: str | None = None  # the project key; default: a slug of the deck name
    note_types_from: Path | None = None  # a package whose note types a text export's notes use
    note_type: str | None = None  # plain CSV (default basic), or a text export naming none: the card type
    columns: tuple[tuple[str, str], ...] = ()  # plain CSV: (column, field or '-')
    deck: str | None = None  # plain CSV or a text export without a deck column: the deck name
    delimiter: str | None = None  # plain CSV: the separator; default: sniffed
    jobs: int | None = None  # processes that share the work; default: one per CPU core
    drop_remote: bool = False  # --drop-remote: what note types load from the network is left out, reported


def oversized_values(deck: ImportedDeck, most: int, listed: int = 20) -> list[Problem]:
    """Each value longer than `most` characters, by note and field (before anything converts it)."""
    problems = []
    for note in deck.notes:
        if any(len(value) > most for value in note.fields):
            names = deck.note_types[note.note_type].fields if note.note_type in deck.note_types else ()
            problems += [Problem(str(deck.source), message=f"{note.origin}, field '{name}': {len(value):,} characters, "
                                 f"more than the {most:,} a value may have", hint="shorten it, then import again")
                         for name, value in zip(names or range(1, len(note.fields) + 1), note.fields)
                         if len(value) > most]
            if len(problems) >= listed:
                break
    return problems[:listed]


class LazyMedia(MutableMapping[str, bytes]):
    """Media file name -> content, the names known at once and each file read only when asked for (`read`).

    A reader's subclass says where a name's bytes are (`where`: a zip member, a file) and how to read
    them; a file put in by hand (`deck.media[name] = ...`) is kept in memory.
    """

    def __init__(self, where: dict[str, Any]) -> None:
        self.where = where  # name -> where its bytes are, only for files that are there
        self.replaced: dict[str, bytes] = {}

    def read(self, name: str) -> bytes:
        """The file's bytes (KeyError if it cannot be had)."""
        raise NotImplementedError

    def __getitem__(self, name: str) -> bytes:
        return self.replaced[name] if name in self.replaced else self.read(name)

    def __setitem__(self, name: str, content: bytes) -> None:
        self.replaced[name] = content
        self.where.setdefault(name, None)

    def __delitem__(self, name: str) -> None:
        del self.where[name]
        self.replaced.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.where)

    def __contains__(self, name: object) -> bool:
        """Whether the file is there, without reading it (the mixin's default would read it)."""
        return name in self.where

    def __len__(self) -> int:
        return len(self.where)
