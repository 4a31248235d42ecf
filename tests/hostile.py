"""Helpers for the hostile-project corpus (tests/test_hostile.py): a stranger's project next to a
user's private files, and checks that nothing outside the project was read or written."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SECRET = "SECRET-OUTSIDE-THE-PROJECT"
PACKAGE = "dist/test-deck.apkg"


@dataclass
class Outside:
    """The user's own folder beside the project: a secret file, and a record of what was there."""

    folder: Path

    @property
    def secret(self) -> Path:
        return self.folder / "secret.txt"

    def snapshot(self) -> dict[str, tuple[int, bytes]]:
        """Every file under the folder (links not followed), with its size and bytes."""
        found = {}
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(self.folder).as_posix()] = (path.stat().st_size, path.read_bytes())
        return found


def make_outside(tmp_path: Path) -> Outside:
    folder = tmp_path / "outside"
    (folder / "templates").mkdir(parents=True)
    (folder / "cards").mkdir()
    outside = Outside(folder)
    outside.secret.write_text(SECRET + "\n", encoding="utf-8")
    (folder / "cards" / "stolen.yaml").write_text(
        f"group: cause\ncards:\n  - id: stolen\n    front: {SECRET}\n    back: x\n", encoding="utf-8")
    (folder / "templates" / "basic.html.j2").write_text(
        "{% block Front %}" + SECRET + "{{ front }}{% endblock %}{% block Back %}{{ back }}{% endblock %}",
        encoding="utf-8")
    (folder / "style.css").write_text(f".card::after {{ content: '{SECRET}'; }}\n", encoding="utf-8")
    (folder / "deckgen.yaml").write_text(f"deck: {SECRET}\nkey: stolen\n", encoding="utf-8")
    (folder / "victim.txt").write_text("the user's own file\n", encoding="utf-8")
    return outside


def link(project: Path, name: str, target: Path) -> None:
    """Replace `name` in the project by a symlink to `target`."""
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    os.symlink(target, path)


def dead_pid() -> int:
    """The id of a process that has finished (so no process of that id runs, for a while)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
