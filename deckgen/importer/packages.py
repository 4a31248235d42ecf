"""The .apkg and .colpkg reader: the zip, the collection inside (either schema), the media."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .archive import open_archive
from .collection import read_collection
from .model import ImportedDeck


def read_package(path: Path) -> ImportedDeck:
    """Notes, note types, decks and every media file of an .apkg or .colpkg."""
    archive = open_archive(path)
    with archive.zip, tempfile.TemporaryDirectory(prefix="deckgen-import-") as scratch:
        database = archive.extract_collection(Path(scratch) / "collection.sqlite")
        deck = read_collection(database, path)
        for name, member in archive.media_map().items():
            content = archive.read_media(member)
            if content is not None:
                deck.media[name] = content
    return deck
