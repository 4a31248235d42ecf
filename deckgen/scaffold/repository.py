"""What a deck repository gets besides its deck: .gitignore, the lock's merge setup, editor schemas and CI.

`deckgen new` and `deckgen import` both give a project these, so that an imported deck is set up
like a new one. The files are package data (files/); their names are stored without the leading
dot (a wheel's package-data globs skip dotfiles) and get it back here.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..editor.schemas import write_schemas

SCAFFOLD_DIR = Path(__file__).parent / "files"
DOTTED = ("gitignore", "gitattributes", "github", "vscode")  # the repository's files, stored without their dot
MERGE_DRIVER = "merge.deckgen-lock.driver"


@dataclass
class RepositorySetup:
    """The files written and what was done with git, for the person who ran the command."""

    files: list[Path] = field(default_factory=list)
    git: str = ""


def merge_driver_command() -> str:
    """git's merge driver for deckgen.lock: this Python by its full path, so that it runs whatever git's PATH is.

    If that Python is gone one day, git's own merge leaves conflict markers (and says so), which
    deckgen build merges instead.
    """
    return f"{shlex.quote(sys.executable)} -m deckgen lock-merge %O %A %B || git merge-file %A %O %B"


def set_up_repository(root: Path, git: bool = True, values: dict[str, str] | None = None) -> RepositorySetup:
    """Write the repository's files into a project (never over one it has) and set git up to merge the lock."""
    values = {"__VERSION__": __version__, **(values or {})}
    setup = RepositorySetup()
    for source in sorted(SCAFFOLD_DIR.rglob("*")):
        parts = source.relative_to(SCAFFOLD_DIR).parts
        if source.is_file() and parts[0] in DOTTED and "__pycache__" not in parts:
            target = root.joinpath("." + parts[0], *parts[1:])
            if not target.exists():
                setup.files.append(copy_file(source, target, values))
    setup.files += write_schemas(root)
    setup.git = set_up_git(root) if git else "git: not set up (--no-git)"
    return setup


def copy_file(source: Path, target: Path, values: dict[str, str]) -> Path:
    """A package-data file copied with its placeholders filled in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = source.read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    target.write_text(text, encoding="utf-8")
    return target


def set_up_git(root: Path) -> str:
    """A git repository (unless the folder is in one already) with deckgen's merge driver for deckgen.lock."""
    if shutil.which("git") is None:
        return "git: not found, so the lock's merge driver is not set up (see README.md)"
    inside = _git(root, "rev-parse", "--is-inside-work-tree").returncode == 0
    if not inside and _git(root, "init", "-q").returncode != 0:
        return "git: 'git init' failed, so the lock's merge driver is not set up (see README.md)"
    if _git(root, "config", MERGE_DRIVER, merge_driver_command()).returncode != 0:
        return "git: could not set up the lock's merge driver (see README.md)"
    return ("git: " + ("" if inside else "new repository; ") + "deckgen.lock merges with deckgen's merge driver")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
