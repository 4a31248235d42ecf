"""Shared fixtures: sample projects copied to a temporary folder, and built; projects written from text."""

from __future__ import annotations

import itertools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Union

import pytest
from click.testing import CliRunner

from deckgen.cli import main

if TYPE_CHECKING:
    from anki.collection import Collection

PROJECTS = Path(__file__).parent / "projects"
REPO = Path(__file__).parent.parent


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A copy of tests/projects/sample (it uses every card type), free to edit and build."""
    target = tmp_path / "sample"
    shutil.copytree(PROJECTS / "sample", target, ignore=shutil.ignore_patterns("deckgen.lock", "dist"))
    return target



@pytest.fixture
def learner(tmp_path: Path) -> Iterator[Collection]:
    """A learner's empty Anki collection (tmp_path/learner), closed after the test."""
    from ankitools import open_collection  # anki is imported only by the tests that use a collection

    (tmp_path / "learner").mkdir()
    col = open_collection(tmp_path / "learner")
    yield col
    col.close()

# ---------------------------------------------------------------------------------------------
# Projects written from text, and the CLI run on them in-process
# (test_checks.py, test_safety.py, test_nothing_lost.py, test_fuzz.py)
# ---------------------------------------------------------------------------------------------

FileContent = Union[str, bytes, None]

MINIMAL_CONFIG = """\
deck: Test Deck
key: test-deck
groups:
  cause: Causes
  mechanism: Mechanism
sources:
  article: An article
"""
MINIMAL_CARDS = """\
group: cause
cards:
  - id: trauma
    front: Which injury?
    back: Trauma
"""
MINIMAL_FILES: dict[str, FileContent] = {"deckgen.yaml": MINIMAL_CONFIG, "cards/causes.yaml": MINIMAL_CARDS}

# One problem line: 'path:line:col: ...', 'path:line: ...' (template lines have no column) or 'path: ...'.
CAUSE_SPEC = """\
note_type: basic
fields:
  cause: {required: true}
  scope: {required: true, choices: [local, generalized]}
  example: {}
  items: {list: true}
"""  # a project card type with every kind of field, for the checks and the fuzz tests
PROBLEM_LINE = re.compile(r"^[^\s:]+(:[1-9]\d*(:[1-9]\d*)?)?: \S.*$")
SUMMARY_LINE = re.compile(r"^\d+ errors?, \d+ warnings?(; nothing was written)?( \(--strict: .*\))?$")


def write_project(root: Path, files: Mapping[str, FileContent], base: bool = True) -> Path:
    """A project folder: the minimal valid project (if `base`) with `files` written over it; None deletes."""
    for name, content in ({**MINIMAL_FILES, **files} if base else dict(files)).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.unlink(missing_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """make_project({path: text}) -> a new project folder under tmp_path (see write_project)."""
    numbers = itertools.count()

    def make(files: Mapping[str, FileContent] | None = None, base: bool = True) -> Path:
        return write_project(tmp_path / f"project-{next(numbers)}", files or {}, base)

    return make


@dataclass(frozen=True)
class CliRun:
    """What one in-process `deckgen ...` run printed and how it ended."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None  # an uncaught exception: a traceback a user would have seen

    @property
    def problems(self) -> list[str]:
        """The problem lines printed on stderr (without the summary line)."""
        return [line for line in self.stderr.splitlines() if line and not SUMMARY_LINE.match(line)]

    @property
    def crashed(self) -> bool:
        return self.exception is not None


def run_deckgen(*args: object) -> CliRun:
    """Run the CLI in this process, as a user would from a shell (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, [str(arg) for arg in args], prog_name="deckgen")
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return CliRun(result.exit_code, result.stdout, result.stderr, exception)


@pytest.fixture
def deckgen() -> Callable[..., CliRun]:
    """deckgen("check", project) -> CliRun."""
    return run_deckgen
