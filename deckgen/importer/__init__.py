"""`deckgen import`: an Anki package, collection, CrowdAnki folder, text export or CSV becomes a deckgen project.

The project keeps updating the original deck's learners: it pins every note's GUID and every
note type's id, keeps field and template names exactly, and seeds deckgen.lock with each note's
original modification time, so that building it unchanged gives Anki nothing newer to update.
Readers (`packages` with `archive`, `collection` and `protobuf`; `crowdanki`; `text_export`) produce the neutral
model (`source_deck`); `make_project` turns it into files, with `deck_plan` (groups, card ids),
`writer` and `conversion` (fields converted, files written and compiled, shared between processes
by `sharing`); `seed` compiles the project once as deckgen's own pipeline would, for the lock,
before it is moved into place.

May import: `deckgen.build` and everything below it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from ..problems import Problem, ProjectError
from .source_deck import ImportedDeck, ImportOptions, Progress

PACKAGE_SUFFIXES = {".apkg", ".colpkg", ".zip"}

__all__ = ["ImportOptions", "ImportResult", "default_target", "import_deck", "read_source"]


@dataclass
class ImportResult:
    """What an import wrote."""

    project: Path
    notes: int
    note_types: list[str]
    media: int
    deck: str
    html: bool
    warnings: list[Problem] = field(default_factory=list)


def read_source(source: Path, options: ImportOptions) -> ImportedDeck:
    """The source, read into the neutral model by the reader its kind needs."""
    from .crowdanki import deck_json, read_crowdanki

    crowdanki = deck_json(source)
    if crowdanki is not None:
        deck = read_crowdanki(crowdanki, options)
    elif source.is_dir():
        raise ProjectError([Problem(str(source), message="a folder without a CrowdAnki deck.json",
                                    hint="deckgen imports a CrowdAnki folder (deck.json and media/), a package, "
                                         "an Anki text export or a CSV file")])
    elif source.suffix.lower() in PACKAGE_SUFFIXES or _is_zip(source):
        from .packages import read_package

        deck = read_package(source)
    else:
        from .text_export import read_text_file

        deck = read_text_file(source, options)
    from .deck_plan import select_decks

    select_decks(deck, options.decks)
    if not deck.notes:
        raise ProjectError([Problem(str(source), message="the source holds no notes")])
    return deck


def default_target(source: Path) -> Path:
    """The project folder an import writes when none is named: beside the source, never the source itself."""
    from .crowdanki import deck_json

    crowdanki = deck_json(source)
    if crowdanki is None:
        return Path(source.stem)
    folder = crowdanki.parent.resolve()
    return Path(f"{folder.name}-deckgen")


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def import_deck(source: Path, target: Path, options: ImportOptions | None = None,
                progress: Progress | None = None) -> ImportResult:
    """Read the source, write the project into target (new or empty), build it once, write its lock."""
    from ..build.compiler import gc_paused

    options = options or ImportOptions()
    _check_target(target)
    with gc_paused():  # many small acyclic objects: the collector would run again and again over them
        deck = read_source(source, options)
        from .make_project import write_project

        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".deckgen-import-", dir=target.parent))
        try:
            result = write_project(deck, scratch, options, progress)
            _move_into_place(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    result.project = target
    return result


def _check_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ProjectError([Problem(str(target), message="the project folder is not empty",
                                    hint="deckgen import never overwrites: name a new or empty folder")])


def _move_into_place(scratch: Path, target: Path) -> None:
    if target.exists():
        target.rmdir()
    scratch.rename(target)
