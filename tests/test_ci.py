"""CI and hooks for deck repositories: `check --format github`, the pre-commit hook, shell completion."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Callable

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, CliRun
from test_checks import BASIC, CARDS, cards

from deckgen.cli import main
from deckgen.problems import Problem, github_annotation


def test_github_annotations_for_errors(make_project: Callable[..., Path], deckgen: Callable[..., CliRun],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project({CARDS: cards(BASIC + "    backk: Trauma\n")})
    monkeypatch.chdir(project.parent)
    run = deckgen("check", "--format", "github", project.name)
    assert run.exit_code == 1
    folder = project.name
    assert run.stdout.splitlines() == [
        f"::error file={folder}/cards/causes.yaml,line=3,col=5::card 'trauma': missing field 'back' "
        "(card type 'basic' requires it)",
        f"::error file={folder}/cards/causes.yaml,line=5,col=5::card 'trauma': unknown field 'backk' "
        "(did you mean 'back'?)",
        "2 errors, 0 warnings",
    ]


def test_github_annotations_for_warnings(make_project: Callable[..., Path], deckgen: Callable[..., CliRun],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project({"media/unused.png": b"PNG"})
    monkeypatch.chdir(project)
    relaxed = deckgen("check", "--format", "github")
    expected = "::warning file=media/unused.png::media file is not used by any card (it is left out of the package)"
    assert (relaxed.exit_code, relaxed.stdout.splitlines()) == (0, [expected, "0 errors, 1 warning"])
    strict = deckgen("check", "--format", "github", "--strict")
    assert (strict.exit_code, strict.stdout.splitlines()[0]) == (1, expected)


def test_github_annotation_escapes_what_github_reads_as_syntax() -> None:
    problem = Problem("cards/a,b:c.yaml", 2, 0, "100% wrong\nsecond line", hint="fix it")
    assert github_annotation(problem, problem.path) == (
        "::error file=cards/a%2Cb%3Ac.yaml,line=2::100%25 wrong%0Asecond line (fix it)")


def test_pre_commit_hook_runs_deckgen_check(make_project: Callable[..., Path], deckgen: Callable[..., CliRun],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(hook for hook in hooks if hook["id"] == "deckgen-check")
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert all(files.search(p) for p in ("deckgen.yaml", "deckgen.lock", "cards/a/b.yaml", "templates/x.html.j2"))
    assert not any(files.search(p) for p in ("README.md", "dist/deck.apkg", "scripts/cards/x.py"))
    command = shlex.split(hook["entry"])
    assert command[0] == "deckgen"
    monkeypatch.chdir(make_project())
    assert deckgen(*command[1:]).exit_code == 0
    monkeypatch.chdir(make_project({CARDS: cards(BASIC)}))
    assert deckgen(*command[1:]).exit_code == 1


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts(shell: str) -> None:
    """The README's completion set-up: click writes the script for each shell."""
    result = CliRunner().invoke(main, [], prog_name="deckgen", env={"_DECKGEN_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0 and "_DECKGEN_COMPLETE" in result.stdout
    readme = (REPO / "README.md").read_text()
    assert f"_DECKGEN_COMPLETE={shell}_source deckgen" in readme


def test_completion_offers_commands() -> None:
    result = CliRunner().invoke(main, [], prog_name="deckgen",
                                env={"_DECKGEN_COMPLETE": "bash_complete", "COMP_WORDS": "deckgen ", "COMP_CWORD": "1"})
    offered = {line.split(",", 1)[1] for line in result.stdout.splitlines()}
    assert {"new", "build", "check", "preview", "schema", "lock-merge"} <= offered
