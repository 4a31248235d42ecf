"""`deckgen new`: a project that builds at once, with CI, editor support and lock merging set up;
`deckgen import`: a deck made elsewhere, set up the same way.

The files are package data (deckgen/scaffold/files/); the repository's own (.gitignore, CI, ...)
are written by `repository`.
"""

from __future__ import annotations

import json
import shutil
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..importer import ImportOptions, ImportResult, import_deck
from ..importer.source_deck import Progress
from ..problems import Problem, ProjectError
from ..project.deck_tree import deck_path_problem
from ..safety.confine import shown_name
from ..safety.scratch import scratch_folder
from .repository import DOTTED, SCAFFOLD_DIR, copy_file, set_up_git, set_up_repository

STANDARD_GROUPS = "groups:  # group key: subdeck title, in this order\n  cause: Causes\n  mechanism: Mechanism\n" \
                  "  treatment: Treatment\n"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class NewProject:
    """What `deckgen new` made."""

    root: Path
    deck: str
    files: list[Path] = field(default_factory=list)
    git: str = ""  # what was done with git, for the person who ran it


def new_project(root: Path, deck: str | None = None, key: str | None = None, flat: bool = False,
                git: bool = True) -> NewProject:
    """Write a new project into `root` (new or empty); raise ProjectError for a folder in use or a bad name."""
    deck = (deck or _title(root.absolute().name)).strip()
    key = key or _slug(deck)
    _check(root, deck, key)
    made = NewProject(root, deck)
    values = {"__DECK__": json.dumps(deck, ensure_ascii=False), "__KEY__": key, "__VERSION__": __version__,
              "__GROUPS__": "" if flat else STANDARD_GROUPS, "__DECK_TEXT__": deck, "__SLUG__": _slug(deck)}
    with scratch_folder() as staging:  # written and checked there first: nothing is written unless it all works
        written = [_copy(source, staging, values, flat) for source in sorted(SCAFFOLD_DIR.rglob("*"))
                   if source.is_file() and source.relative_to(SCAFFOLD_DIR).parts[0] not in DOTTED
                   and "__pycache__" not in source.parts]
        written += set_up_repository(staging, False, values).files
        _move_in(staging, root)
    made.files = [root / path.relative_to(staging) for path in written]
    made.git = set_up_git(root) if git else "git: not set up (--no-git)"
    return made


def _move_in(staging: Path, root: Path) -> None:
    """Move the checked project into its folder (made now, with its parents)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        for entry in sorted(staging.iterdir()):
            shutil.move(str(entry), str(root / entry.name))
    except OSError as exc:
        raise ProjectError([Problem(shown_name(str(root)), message=f"cannot write the project here: "
                                    f"{exc.strerror or exc}")]) from None


def _check(root: Path, deck: str, key: str) -> None:
    problems = []
    folder = _folder_problem(root)
    if folder:
        problems.append(folder)
    if not deck or "\n" in deck:
        problems.append(Problem(str(root), message="the deck name is empty", hint="pass --deck 'My Deck'"))
    elif deck_path_problem(deck):  # the option names it: deckgen.yaml is not written yet
        message, hint = deck_path_problem(deck)  # type: ignore[misc]
        problems.append(Problem("--deck", message=message, hint=hint))
    if not _KEY.match(key):
        problems.append(Problem(str(root), message=f"key '{key}' must be letters, digits, '-', '_' or '.'",
                                hint="pass --key my-deck"))
    if problems:
        raise ProjectError(problems)


def _folder_problem(root: Path) -> Problem | None:
    """Why `deckgen new` cannot start a project in this folder, or None."""
    shown = shown_name(str(root))
    try:
        if root.is_symlink() and not root.exists():
            return Problem(shown, message="this is a link to nothing", hint="remove the link, or name another folder")
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            return Problem(shown, message="the folder is not empty",
                           hint="deckgen new starts a project in a new or empty folder")
    except OSError as exc:
        return Problem(shown[:200] + ("..." if len(shown) > 200 else ""),
                       message=f"cannot use this folder: {exc.strerror or exc}", hint="name a shorter or other folder")
    return None


def _title(folder: str) -> str:
    """A deck name from a folder name: 'gout-deck' -> 'Gout Deck'."""
    words = re.split(r"[-_\s]+", folder.strip())
    return " ".join(word[:1].upper() + word[1:] for word in words if word)


def _slug(deck: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", deck.lower()).strip("-") or "deck"


def _copy(source: Path, root: Path, values: dict[str, str], flat: bool) -> Path:
    target = copy_file(source, root.joinpath(*source.relative_to(SCAFFOLD_DIR).parts), values)
    if flat and target.relative_to(root).parts[0] == "cards":
        text = target.read_text(encoding="utf-8")
        target.write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("group: ")),
                          encoding="utf-8")
    return target


@dataclass
class ImportedProject:
    """What `deckgen import` made: the import's result, and the repository set up around it."""

    result: ImportResult
    files: list[Path] = field(default_factory=list)
    git: str = ""


def import_project(source: Path, target: Path, options: ImportOptions | None = None,
                   progress: Progress | None = None, repository: bool = True) -> ImportedProject:
    """Import a deck into a new project, set up as a deck repository like `deckgen new`'s (unless `repository` is false)."""
    result = import_deck(source, target, options, progress)
    if not repository:
        return ImportedProject(result, git="repository files and git: not set up (--no-repo-setup)")
    setup = set_up_repository(target)
    return ImportedProject(result, setup.files, setup.git)
