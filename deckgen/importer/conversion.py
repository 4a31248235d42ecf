"""The card files: their notes' fields converted, the files written and compiled, shared between processes.

This is most of an import's work, and it divides by card file: each process (`sharing.Split`)
converts the values of its own files' notes, writes those files and compiles them as the build
would, and writes its share of the media files. Some things are agreed on across all notes on
the way: how each field is written (Markdown, HTML or raw: a field takes the strongest mode any
of its values needs), the card ids (numbered where they would clash, in deck order) and the
media files the notes use; and once this process has written the project's settings that depend
on them (html: true, the card types), the files are written against them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, NamedTuple

from ..build.compiler import FileResult
from ..problems import Problem, blocking
from ..build.render import media_hint, media_references
from .html_to_markdown import FieldConverter
from .source_deck import Progress
from .seed import Compiling, compiled_file, compiling
from .sharing import Split
from .writer import (
    CardFile,
    CardTypePlan,
    WrittenNote,
    card_id_bases,
    convert_fields,
    numbered_card_ids,
    write_card_file,
)

if TYPE_CHECKING:
    from ..project.card_types import Templates
    from ..project.config import ProjectConfig


SHARED_FROM_NOTES = 2000  # a smaller deck takes less time than starting a helper saves


class Writers(NamedTuple):
    """The project's other files, written by the caller's functions when the shared part knows enough."""

    settings: Callable[[bool, set[str]], None]  # settings(allow_html, media used): deckgen.yaml, the card types
    media: Callable[[set[str], int, int], None]  # media(used, part, parts): one of `parts` shares of the files


class Compiled(NamedTuple):
    """The card files written: what the build's compile stage makes of each (None where only the build can
    say), and the project as loaded for the build's checks across files."""

    results: list[FileResult | None]
    converter: FieldConverter  # its allow_html: whether the project needs html: true
    media: set[str]  # the media files the notes refer to
    config: ProjectConfig | None
    templates: Templates | None
    problems: list[Problem]  # the config's and templates'

    @property
    def complete(self) -> bool:
        """Every file compiled here: the build need not run."""
        return self.config is not None and self.templates is not None and None not in self.results


def write_cards(root: Path, cards: tuple[list[CardFile], dict[str, CardTypePlan]], writers: Writers,
                jobs: int | None = None, progress: Progress | None = None) -> Compiled:
    """Convert, write and compile every card file, and have the other files written when they can be."""
    files, plans = cards
    notes = sum(len(card_file.notes) for card_file in files)
    with Split([len(card_file.notes) for card_file in files], jobs if notes >= SHARED_FROM_NOTES else 1) as split:
        mine = [written for index in split.mine for written in files[index].notes]
        _stage(split, progress, f"Converting the fields of {notes:,} notes", notes)
        converter = convert_fields(mine, plans, split.agree, split.progress)
        media = _agree_ids_and_media(split, files, mine, plans)
        if split.rank == 0:
            writers.settings(converter.allow_html, media)
        split.agree(None, lambda _: None)  # the helpers wait until the settings are written
        config, templates, problems, setup = _loaded(root, plans)
        _stage(split, progress, f"Writing {len(files):,} card files", len(files))
        _write(root, (files, plans), converter, setup, split)
        writers.media(media, split.rank, split.size)
        results = split.collect(_received)
    return Compiled([results[index] for index in range(len(files))], converter, media, config, templates, problems)


def _stage(split: Split, progress: Progress | None, label: str, total: int) -> None:
    """A progress bar for the next stage, shown by this process (the helpers' progress is told to it)."""
    if progress and split.rank == 0:
        split.advance = progress(label, total)


def _agree_ids_and_media(split: Split, files: list[CardFile], mine: list[WrittenNote],
                         plans: dict[str, CardTypePlan]) -> set[str]:
    """Card ids for this process's notes (and in this process, every note's, for the lock's times), and the
    media files all notes use."""
    agreed = _Agreed(card_id_bases(mine, plans))
    numbered, media = split.agree((agreed.bases, _media_references(mine)), agreed.merge)
    known = agreed.bases  # this process: every note's, once merged
    for written in (written for card_file in files for written in card_file.notes if written.index in known):
        written.card_id = numbered.get(written.index) or known[written.index]
    return media


def _media_references(notes: list[WrittenNote]) -> set[str]:
    """The media files these notes' fields refer to."""
    used: set[str] = set()
    for written in notes:
        if media_hint(written.note.fields):  # most notes have none: one search for all their fields
            for value in written.note.fields:
                used.update(media_references(value))
    return used


class _Agreed:
    """The card id bases this process knows (this process, once merged: every note's), and the merge."""

    def __init__(self, bases: dict[int, str]) -> None:
        self.bases = bases

    def merge(self, shares: list[tuple[dict[int, str], set[str]]]) -> tuple[dict[int, str], set[str]]:
        """From every process's card id bases and media: the card ids that are numbered, and all media used."""
        self.bases = {index: base for share, _ in shares for index, base in share.items()}
        return numbered_card_ids(self.bases), set().union(*(media for _, media in shares))


def _loaded(root: Path, plans: dict[str, CardTypePlan]
            ) -> tuple[ProjectConfig | None, Templates | None, list[Problem], Compiling | None]:
    """The project's config and templates as the build loads them, and the set-up for compiling its files
    (None where the build must compile them)."""
    from ..project.card_types import load_templates
    from ..project.config import load_config

    problems: list[Problem] = []
    config = load_config(root, problems)
    templates = load_templates(root, problems, config.css) if config is not None else None
    if config is None or templates is None or blocking(problems, False):
        return config, templates, problems, None
    return config, templates, problems, compiling(config, templates, plans)


def _write(root: Path, cards: tuple[list[CardFile], dict[str, CardTypePlan]], converter: FieldConverter,
           setup: Compiling | None, split: Split) -> None:
    """This process's card files written, and compiled where `setup` allows; each result delivered at once."""
    files, plans = cards
    rendered: dict[str, str] = {"": ""}  # a written value -> what the project renders it to (values repeat)
    for index in split.mine:
        write_card_file(root, files[index], plans, converter, rendered)
        split.deliver(index, compiled_file(files[index], setup) if setup is not None else None, _sent)
        split.progress(1)


def _sent(result: FileResult | None) -> object:
    """What a helper sends of a file's result: what the checks across files and the lock need."""
    return None if result is None else result.to_rows()


def _received(rows: tuple[object, ...] | None) -> FileResult | None:
    return None if rows is None else FileResult.from_rows(rows)
