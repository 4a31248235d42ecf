"""CI and hooks for deck repositories: `check --format github`, the pre-commit hook, shell completion."""

from __future__ import annotations

import json
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


GH_STUB = """#!/bin/sh
# gh, as the release job uses it, on a folder of releases ($RELEASES/<tag>/<files>, created in order)
echo "$*" >> "$RELEASES/gh.log"
case "$1 $2" in
  "release list") ls -t "$RELEASES" | grep '^v' | head -n 1 ;;
  "release download") mkdir -p "$7" && cp "$RELEASES/$3"/*.apkg "$7"/ ;;
  "release create") tag=$3; shift 3; mkdir -p "$RELEASES/$tag"
    while [ $# -gt 0 ]; do case "$1" in --title|--notes-file) shift 2 ;; *) cp "$1" "$RELEASES/$tag"/; shift ;; esac; done
    sleep 1 ;;
esac
"""


def _release_job(workflow_path: Path) -> list[str]:
    """The release job's shell steps, as GitHub runs them (pip's install left out: deckgen is at hand)."""
    workflow = yaml.safe_load(workflow_path.read_text())
    job = workflow["jobs"]["release"]
    assert job["if"] == "startsWith(github.ref, 'refs/tags/v')" and job["needs"] == "deck"
    assert job["permissions"] == {"contents": "write"} and "rehearse" in job["env"]["DECKGEN"]
    return [step["run"] for step in job["steps"] if "run" in step and not step["run"].startswith("pip ")]


def test_a_version_tag_makes_a_release_with_package_notes_and_lock(tmp_path: Path, deckgen: Callable[..., CliRun],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's release job, run step by step with real git and bash, gh stubbed: two tags, two releases."""
    import os
    import subprocess
    import sys

    bin_dir, releases, origin, project = (tmp_path / name for name in ("bin", "releases", "origin.git", "gout"))
    bin_dir.mkdir()
    releases.mkdir()
    (bin_dir / "gh").write_text(GH_STUB)
    (bin_dir / "deckgen").write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m deckgen \"$@\"\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO), "HOME": str(tmp_path),
           "GIT_CONFIG_NOSYSTEM": "1", "RELEASES": str(releases), "RELEASE_OPTIONS": "", "DEFAULT_BRANCH": "main",
           "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@localhost", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@localhost"}

    def run(*command: str) -> str:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        return done.stdout

    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    assert deckgen("new", "--no-git", project).exit_code == 0
    for command in (["git", "init", "-q", "-b", "main"], ["git", "remote", "add", "origin", str(origin)],
                    ["git", "add", "-A"], ["git", "commit", "-q", "-m", "cards"], ["git", "push", "-q", "origin", "main"]):
        run(*command)
    steps = _release_job(project / ".github" / "workflows" / "deck.yml")
    for tag in ("v1.0.0", "v1.1.0"):
        if tag == "v1.1.0":  # the author edits a card after the first release, commits and tags
            run("git", "pull", "-q", "origin", "main")
            cards = project / "cards" / "treatment.yaml"
            cards.write_text(cards.read_text().replace("Allopurinol", "Allopurinol, taken every day"))
            run("git", "commit", "-q", "-am", "edit")
            run("git", "push", "-q", "origin", "main")
        run("git", "tag", tag)
        env["GITHUB_REF_NAME"] = tag
        for step in steps:
            run("bash", "-e", "-c", step)
        run("git", "checkout", "-q", "main")
    assert sorted(p.name for p in (releases / "v1.1.0").iterdir()) == ["gout-1.1.0.apkg", "gout-1.1.0.md"]
    log = (releases / "gh.log").read_text()
    assert "release download v1.0.0 --pattern *.apkg --dir dist/previous" in log
    assert "--notes-file dist/gout-1.1.0.md" in log
    notes = (releases / "v1.1.0" / "gout-1.1.0.md").read_text()
    assert "## Changed" in notes and "Allopurinol, taken every day" in notes
    lock = json.loads(run("git", "--git-dir", str(origin), "show", "main:deckgen.lock"))
    assert sorted(lock["releases"]) == ["1.0.0", "1.1.0"]
