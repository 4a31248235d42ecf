"""The .apkg and .colpkg reader: the zip, the collection inside (either schema), the media notes use.

The collection is read first; of the media, only the files its notes refer to or its note types'
templates and CSS name are taken (`package_media`), and read only when the project's media folder is
written, within the package's budgets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from ..build.render import media_hint, media_references
from ..safety.scratch import scratch_folder
from .archive import Archive, open_archive, package_problems
from .package_media import PackageMedia, package_media
from .collection import read_collection
from .source_deck import ImportedDeck, ImportedNote, ImportedNoteType


def read_package(path: Path, with_media: bool = True) -> ImportedDeck:
    """Notes, note types, decks and the media files they use of an .apkg or .colpkg; a damaged or oversized
    one is a located error."""
    with package_problems(path):
        return _read(path, with_media)


def read_media(path: Path, notes: Iterable[ImportedNote], note_types: dict[str, ImportedNoteType]
               ) -> PackageMedia:
    """The media files of a package that these notes (of another source) and note types use."""
    with package_problems(path):
        archive = open_archive(path)
        with archive.zip:
            return _used_media(archive, notes, note_types)


def _read(path: Path, with_media: bool) -> ImportedDeck:
    archive = open_archive(path)
    with archive.zip, scratch_folder() as scratch:
        database = archive.extract_collection(scratch / "collection.sqlite")
        deck = read_collection(database, path, archive.collection_name)
        database.unlink()
        if with_media:
            deck.media = _used_media(archive, deck.notes, deck.note_types)
    return deck


def _used_media(archive: Archive, notes: Iterable[ImportedNote], note_types: dict[str, ImportedNoteType]
                ) -> PackageMedia:
    """The media files the notes refer to and the templates or CSS name (read when they are written)."""
    return package_media(archive, referenced_media(notes) | template_words(note_types))


_WORDS = re.compile(r"""[^\s"'()<>\[\]:;,=]+|"([^"]*)"|'([^']*)'|\(([^()]*)\)""")


def template_words(note_types: dict[str, ImportedNoteType]) -> set[str]:
    """Every word, quoted text or parenthesised text of the templates and CSS: the names they may use, found
    in one pass (a name's own search through the templates for each of 300,000 names would not be)."""
    words: set[str] = set()
    for note_type in note_types.values():
        for text in (note_type.css, *(t.front + "\n" + t.back for t in note_type.templates)):
            for match in _WORDS.finditer(text):
                words.update(part.strip().strip("\"'") for part in match.groups(match[0]))
    return words


def referenced_media(notes: Iterable[ImportedNote]) -> set[str]:
    """The media files these notes' values refer to."""
    used: set[str] = set()
    for note in notes:
        if media_hint(note.fields):
            for value in note.fields:
                used.update(media_references(value))
    return used
