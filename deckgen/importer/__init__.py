"""`deckgen import`: an Anki package, collection, CrowdAnki folder, text export or CSV becomes a deckgen project.

The project keeps updating the original deck's learners: it pins every note's GUID and every
note type's id, keeps field and template names exactly, and seeds deckgen.lock with each note's
original modification time, so that building it unchanged gives Anki nothing newer to update.
Readers (`packages` with `archive`, `package_media`, `collection` with `collection_db` and
`legacy_json`, and `protobuf`; `crowdanki`; `text_export`) produce the neutral model (`source_deck`),
the packages' within the budgets of `deckgen.safety.package_limits`; `make_project` turns it into
files, with `deck_plan` (groups, card ids), `writer` and `conversion` (fields converted, files written
and compiled, shared between processes by `sharing`); `seed` compiles the project once as deckgen's
own pipeline would, for the lock, before it is moved into place.

May import: `deckgen.build` and everything below it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..problems import Problem, ProjectError
from ..safety.scratch import SCRATCH_PREFIX, clean_stale_scratch
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
        _check_source(crowdanki)
        deck = read_crowdanki(crowdanki, options)
        _check_values(deck)
    elif source.is_dir():
        raise ProjectError([Problem(str(source), message="a folder without a CrowdAnki deck.json",
                                    hint="deckgen imports a CrowdAnki folder (deck.json and media/), a package, "
                                         "an Anki text export or a CSV file")])
    else:
        deck = _read_file(source, options)
    from .deck_plan import select_decks

    select_decks(deck, options.decks)
    if not deck.notes:
        raise ProjectError([Problem(str(source), message="the source holds no notes")])
    return deck


def _check_values(deck: ImportedDeck) -> None:
    """Refuse a value longer than a card may hold before anything converts it (the package and text readers
    refuse one as they read)."""
    from ..safety.limits import MAX_FIELD_CHARS
    from .source_deck import oversized_values

    problems = oversized_values(deck, MAX_FIELD_CHARS)
    if problems:
        raise ProjectError(problems)


def _read_file(source: Path, options: ImportOptions) -> ImportedDeck:
    """A package, text export or CSV, once it is known to be a regular file."""
    _check_source(source)
    if source.suffix.lower() in PACKAGE_SUFFIXES or _is_zip(source):
        from .packages import read_package

        return read_package(source)
    from .text_export import read_text_file

    return read_text_file(source, options)


def _check_source(source: Path) -> None:
    """Refuse what is not a regular file before opening it (a FIFO or a device would block or never end)."""
    try:
        regular = source.is_file()
        present = regular or source.exists()
    except OSError as exc:
        raise ProjectError([Problem(str(source), message=f"cannot be read ({exc.strerror or exc})")]) from None
    if not regular:
        raise ProjectError([Problem(str(source), message="not a regular file" if present else "no such file",
                                    hint="deckgen import reads .apkg, .colpkg, CrowdAnki folders, Anki text exports "
                                         "and CSV files")])


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
    with _target_problems(target):
        _check_target(target)
    with gc_paused():  # many small acyclic objects: the collector would run again and again over them
        deck = read_source(source, options)
        from .make_project import write_project

        with _target_problems(target):
            scratch = _scratch_beside(target)
        try:
            result = write_project(deck, scratch, options, progress)
            with _target_problems(target):
                _move_into_place(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            getattr(deck.media, "close", lambda: None)()  # a package's zip, read until now
    result.project = target
    return result


@contextlib.contextmanager
def _target_problems(target: Path) -> Iterator[None]:
    """The project folder that cannot be made or written (a path too long, no permission), said of it."""
    try:
        yield
    except OSError as exc:
        raise ProjectError([Problem(str(target), message=f"the project folder cannot be written "
                                    f"({exc.strerror or exc})", hint="name a folder you can write to")]) from None


def _check_target(target: Path) -> None:
    if target.is_symlink():
        raise ProjectError([Problem(str(target), message="the project folder is a link",
                                    hint="deckgen import writes a new folder: name the folder itself, not a link")])
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ProjectError([Problem(str(target), message="the project folder is not empty",
                                    hint="deckgen import never overwrites: name a new or empty folder")])


def _scratch_beside(target: Path) -> Path:
    """A hidden folder beside the target, named after this process: what a killed import left is removed
    by the next one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_scratch(target.parent)
    return Path(tempfile.mkdtemp(prefix=f".{SCRATCH_PREFIX}{os.getpid()}-import-", dir=target.parent))


def _move_into_place(scratch: Path, target: Path) -> None:
    if target.is_symlink():  # made while the import ran
        raise ProjectError([Problem(str(target), message="the project folder became a link during the import")])
    if target.exists():
        target.rmdir()
    scratch.rename(target)
