"""The card files: their notes' fields converted, the files written and compiled, shared between processes.

This is most of an import's work, and it divides by card file: each process (`sharing.Split`)
converts the values of its own files' notes, writes those files and compiles them as the build
would. Two things are agreed on across all notes on the way: how each field is written (Markdown,
HTML or raw: a field takes the strongest mode any of its values needs), and only then, once this
process has written the project's settings that depend on it (html: true, the card types), do
the files get written against them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, NamedTuple

from ..problems import Problem, blocking
from .htmltext import FieldConverter
from .model import Progress
from .seed import Compiling, compiled_file, compiling, file_data, file_result
from .sharing import Split
from .writer import CardFile, CardTypePlan, convert_fields, write_card_file

if TYPE_CHECKING:
    from ..cardtypes import Templates
    from ..compiler import FileResult
    from ..config import ProjectConfig


class Compiled(NamedTuple):
    """The card files written: what the build's compile stage makes of each (None where only the build can
    say), and the project as loaded for the build's checks across files."""

    results: list[FileResult | None]
    converter: FieldConverter  # its allow_html: whether the project needs html: true
    config: ProjectConfig | None
    templates: Templates | None
    problems: list[Problem]  # the config's and templates'

    @property
    def complete(self) -> bool:
        """Every file compiled here: the build need not run."""
        return self.config is not None and self.templates is not None and None not in self.results


def write_cards(root: Path, files: list[CardFile], plans: dict[str, CardTypePlan],
                write_settings: Callable[[bool], None], jobs: int | None = None,
                progress: Progress | None = None) -> Compiled:
    """Convert, write and compile every card file; `write_settings(allow_html)` writes what the files are
    compiled against (deckgen.yaml, the card types) as soon as the fields' modes are agreed."""
    notes = sum(len(card_file.notes) for card_file in files)
    with Split([len(card_file.notes) for card_file in files], jobs) as split:
        leader = split.rank == 0
        if progress and leader:
            split.advance = progress(f"Converting the fields of {notes:,} notes", notes)
        mine = [files[index] for index in split.mine]
        converter = convert_fields([written for card_file in mine for written in card_file.notes], plans,
                                   split.agree, split.progress)
        if leader:
            write_settings(converter.allow_html)
        split.agree(None, lambda _: None)  # the helpers wait until the settings are written
        config, templates, problems, setup = _loaded(root, plans)
        if progress and leader:
            split.advance = progress(f"Writing {len(files):,} card files", len(files))
        results = split.gather(_written(root, (files, split.mine), plans, converter, setup, split.progress),
                               file_data, file_result)
    return Compiled([results[index] for index in range(len(files))], converter, config, templates, problems)


def _loaded(root: Path, plans: dict[str, CardTypePlan]
            ) -> tuple[ProjectConfig | None, Templates | None, list[Problem], Compiling | None]:
    """The project's config and templates as the build loads them, and the set-up for compiling its files
    (None where the build must compile them)."""
    from ..cardtypes import load_templates
    from ..config import load_config

    problems: list[Problem] = []
    config = load_config(root, problems)
    templates = load_templates(root, problems, config.css) if config is not None else None
    if config is None or templates is None or blocking(problems, False):
        return config, templates, problems, None
    return config, templates, problems, compiling(config, templates, plans)


def _written(root: Path, share: tuple[list[CardFile], list[int]], plans: dict[str, CardTypePlan],
             converter: FieldConverter, setup: Compiling | None, advance: Callable[[int], None]
             ) -> dict[int, FileResult | None]:
    """This process's card files written, and compiled where `setup` allows, by index."""
    files, mine = share
    rendered: dict[str, str] = {"": ""}  # a written value -> what the project renders it to (values repeat)
    results = {}
    for index in mine:
        write_card_file(root, files[index], plans, converter, rendered)
        results[index] = compiled_file(files[index], setup) if setup is not None else None
        advance(1)
    return results
