"""The .apkg and .colpkg reader: the zip, the collection inside (either schema), the media."""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from pathlib import Path

from ..problems import Problem, ProjectError
from .archive import PackageTooBig, open_archive
from .collection import read_collection
from .source_deck import ImportedDeck


def read_package(path: Path) -> ImportedDeck:
    """Notes, note types, decks and every media file of an .apkg or .colpkg; a damaged one is a located error."""
    try:
        return _read(path)
    except PackageTooBig as exc:
        raise ProjectError([Problem(str(path), message=f"refused: {exc}",
                                    hint="a package this large is likely damaged or hostile")]) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, UnicodeDecodeError, _zstd_error()) as exc:
        raise ProjectError([Problem(str(path), message=f"the package is damaged ({exc})",
                                    hint="export it from Anki again")]) from None


def _zstd_error() -> type[Exception]:
    import zstandard

    return zstandard.ZstdError


def _read(path: Path) -> ImportedDeck:
    archive = open_archive(path)
    with archive.zip, tempfile.TemporaryDirectory(prefix="deckgen-import-") as scratch:
        database = archive.extract_collection(Path(scratch) / "collection.sqlite")
        deck = read_collection(database, path)
        for name, member in archive.media_map().items():
            content = archive.read_media(member)
            if content is not None:
                deck.media[name] = content
    return deck
