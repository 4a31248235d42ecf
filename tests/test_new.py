"""`deckgen new`: a project that passes `check --strict` and builds at once, imports into Anki, and comes
with CI, editor schemas and the lock merge driver set up."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import jsonschema
import pytest
import yaml
from ankitools import import_package, open_collection, rendered_cards
from conftest import REPO, CliRun
from test_jsonschema import errors

from deckgen.editor.schemas import CARDS_SCHEMA, CONFIG_SCHEMA, SCHEMA_DIR
from deckgen.project.card_files import find_card_files


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git without the machine's global config."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def test_new_project_builds_at_once_and_imports(tmp_path: Path, deckgen: Callable[..., CliRun],
                                                git_env: None) -> None:
    project = tmp_path / "gout-deck"
    run = deckgen("new", project)
    assert run.exit_code == 0, run.stderr
    assert "the deck 'Gout Deck'" in run.stdout
    check = deckgen("check", "--strict", project)
    assert (check.exit_code, check.stdout, check.stderr) == (0, "4 cards checked: 0 errors, 0 warnings\n", "")
    lint = deckgen("lint", project)  # the examples show good cards: nothing to fix
    assert lint.exit_code == 0, lint.stdout + lint.stderr
    build = deckgen("build", project)
    assert build.exit_code == 0, build.stderr
    config = yaml.safe_load((project / "deckgen.yaml").read_text())
    assert config["groups"] == {"cause": "Causes", "mechanism": "Mechanism", "treatment": "Treatment"}
    col = open_collection(tmp_path)
    try:
        assert len(import_package(col, project / "dist" / "gout-deck.apkg").log.new) == 4
        cards = rendered_cards(col)
    finally:
        col.close()
    kinds = {(card.deck, card.note_type.split(" (")[-1].rstrip(")"), card.ord) for card in cards}
    assert kinds == {("Gout Deck::Causes", "basic", 0), ("Gout Deck::Causes", "reversed", 0),
                     ("Gout Deck::Causes", "reversed", 1), ("Gout Deck::Mechanism", "cloze", 0),
                     ("Gout Deck::Mechanism", "cloze", 1), ("Gout Deck::Treatment", "basic", 0)}
    drug = next(card for card in cards if "Allopurinol" in card.question)
    assert "Used for: long-term" in drug.answer and "<em>xanthine oxidase</em>" in drug.answer


def test_flat_deck_and_names(tmp_path: Path, deckgen: Callable[..., CliRun]) -> None:
    project = tmp_path / "x"
    run = deckgen("new", "--flat", "--deck", "Pathology::Gout", "--key", "gout-2026", "--no-git", project)
    assert run.exit_code == 0, run.stderr
    config = yaml.safe_load((project / "deckgen.yaml").read_text())
    assert (config["deck"], config["key"], "groups" in config) == ("Pathology::Gout", "gout-2026", False)
    assert not any(line.startswith("group:") for path in find_card_files(project)
                   for line in path.read_text().splitlines())
    assert not (project / ".git").exists()
    assert deckgen("check", "--strict", project).exit_code == 0
    build = deckgen("build", project)
    assert build.exit_code == 0, build.stderr


@pytest.mark.parametrize("existing", ["notes.txt", ".git/HEAD"])
def test_refuses_a_folder_in_use(tmp_path: Path, deckgen: Callable[..., CliRun], existing: str) -> None:
    (tmp_path / "deck" / existing).parent.mkdir(parents=True)
    (tmp_path / "deck" / existing).write_text("mine")
    run = deckgen("new", tmp_path / "deck")
    assert run.exit_code == 1 and not run.crashed
    assert "the folder is not empty" in run.stderr
    assert sorted(p.name for p in (tmp_path / "deck").rglob("*")) == sorted(Path(existing).parts)


def test_bad_key_is_refused(tmp_path: Path, deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("new", "--key", "my key", tmp_path / "deck")
    assert run.exit_code == 1 and "key 'my key' must be" in run.stderr and not (tmp_path / "deck").exists()


def test_editor_wiring(tmp_path: Path, deckgen: Callable[..., CliRun]) -> None:
    project = tmp_path / "deck"
    assert deckgen("new", "--no-git", project).exit_code == 0
    schemas = project / SCHEMA_DIR
    for path in find_card_files(project):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/cards.schema.json"
        assert (path.parent / first.split("=", 1)[1]).resolve() == (schemas / CARDS_SCHEMA).resolve()
        assert errors(_json(schemas / CARDS_SCHEMA), path) == []
    config_line = (project / "deckgen.yaml").read_text().splitlines()[0]
    assert (project / config_line.split("=", 1)[1]).resolve() == (schemas / CONFIG_SCHEMA).resolve()
    assert errors(_json(schemas / CONFIG_SCHEMA), project / "deckgen.yaml") == []
    settings = _json(project / ".vscode" / "settings.json")
    assert settings["yaml.schemas"] == {"./schemas/cards.schema.json": ["cards/**/*.yaml", "cards/**/*.yml"],
                                        "./schemas/deckgen.schema.json": "deckgen.yaml",
                                        "./schemas/note_type.schema.json": ["note_types/*.yaml", "note_types/*.yml"]}
    jsonschema.Draft7Validator.check_schema(_json(schemas / CARDS_SCHEMA))


def test_ci_workflow_commands_pass(tmp_path: Path, deckgen: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's deckgen steps, run in order in a new project whose author built and committed the lock."""
    project = tmp_path / "deck"
    assert deckgen("new", "--no-git", project).exit_code == 0
    workflow = yaml.safe_load((project / ".github" / "workflows" / "deck.yml").read_text())
    steps = [step["run"] for step in workflow["jobs"]["deck"]["steps"] if "run" in step]
    commands = [shlex.split(step) for step in steps if step.startswith("deckgen ")]
    assert [c[:2] for c in commands] == [["deckgen", "check"], ["deckgen", "build"], ["deckgen", "preview"]]
    assert "--frozen" in commands[1] and "--format" in commands[0]
    assert any(step["uses"].startswith("actions/upload-artifact") for step in workflow["jobs"]["deck"]["steps"]
               if "uses" in step)
    assert deckgen("build", project).exit_code == 0  # the author's first build writes the lock
    monkeypatch.chdir(project)
    for command in commands:
        run = deckgen(*command[1:])
        assert run.exit_code == 0, (command, run.stdout, run.stderr)
    assert (project / "dist" / "preview" / "index.html").is_file()
    assert (project / "dist" / "release-notes.md").is_file()


def test_git_is_set_up_to_merge_the_lock(tmp_path: Path, deckgen: Callable[..., CliRun], git_env: None) -> None:
    project = tmp_path / "deck"
    assert deckgen("new", project).exit_code == 0
    attribute = subprocess.run(["git", "check-attr", "merge", "deckgen.lock"], cwd=project, capture_output=True,
                               text=True, check=True).stdout
    assert attribute.strip() == "deckgen.lock: merge: deckgen-lock"
    driver = subprocess.run(["git", "config", "merge.deckgen-lock.driver"], cwd=project, capture_output=True,
                            text=True, check=True).stdout
    assert re.fullmatch(r".+ -m deckgen lock-merge %O %A %B \|\| git merge-file %A %O %B\n", driver)
    assert shlex.split(driver)[0] == sys.executable  # found whether or not deckgen is on git's PATH
    python = "'$(python3 -c 'import sys; print(sys.executable)')'"
    for readme in (REPO / "README.md", project / "README.md"):  # deckgen's own, and the one new writes
        text = readme.read_text(encoding="utf-8")
        lines = re.findall(r'git config merge\.deckgen-lock\.driver "(.*)"\n', text)
        assert [line.replace(python, shlex.quote(sys.executable)) for line in lines] == [driver.strip()], readme


def test_new_inside_an_existing_repository_keeps_it(tmp_path: Path, deckgen: Callable[..., CliRun],
                                                    git_env: None) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    assert deckgen("new", tmp_path / "repo" / "decks" / "gout").exit_code == 0
    assert not (tmp_path / "repo" / "decks" / "gout" / ".git").exists()


def test_readme_walk_through_works_as_written(tmp_path: Path, deckgen: Callable[..., CliRun],
                                              monkeypatch: pytest.MonkeyPatch, git_env: None) -> None:
    """Every deckgen command of the README's "Start your own deck", in order (the install step aside)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Start your own deck", 1)[1].split("\n## ", 1)[0]
    assert readme.index("## Start your own deck") < readme.index("## Two commands")
    lines = [line.split("#", 1)[0].strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
             for line in block.splitlines()]
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in lines:
        if line.startswith("cd "):
            monkeypatch.chdir(Path.cwd() / line.split()[1])
        elif line.startswith("deckgen ") and "--serve" not in line:
            run = deckgen(*shlex.split(line)[1:])
            assert run.exit_code == 0, (line, run.stdout, run.stderr)
            ran.append(shlex.split(line)[1])
    assert ran[:1] == ["new"] and "build" in ran and "release" in ran


def _json(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())


def test_wheel_ships_the_scaffold(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(REPO / "deckgen", source / "deckgen", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(source)], check=True, capture_output=True)
    names = set(zipfile.ZipFile(next(tmp_path.glob("deckgen-*.whl"))).namelist())
    scaffold = REPO / "deckgen" / "scaffold" / "files"
    expected = {f"deckgen/scaffold/files/{p.relative_to(scaffold).as_posix()}" for p in scaffold.rglob("*") if p.is_file()}
    assert expected and expected <= names


def test_an_imported_project_gets_the_repository_setup_new_gives(tmp_path: Path, deckgen: Callable[..., CliRun],
                                                                 git_env: None) -> None:
    assert deckgen("new", tmp_path / "new").exit_code == 0
    source = tmp_path / "quiz.csv"
    source.write_text("front,back\nWhat is gout?,Arthritis from urate crystals\n", encoding="utf-8")
    run = deckgen("import", source, tmp_path / "imported")
    assert run.exit_code == 0, run.stderr
    assert "git: new repository; deckgen.lock merges with deckgen's merge driver" in run.stdout

    def repository_files(root: Path) -> dict[str, bytes]:
        return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*")
                if path.is_file() and path.relative_to(root).parts[0] in (".gitignore", ".gitattributes", ".github",
                                                                          ".vscode")}

    def driver(root: Path) -> str:
        return subprocess.run(["git", "config", "merge.deckgen-lock.driver"], cwd=root, capture_output=True,
                              text=True, check=True).stdout

    assert repository_files(tmp_path / "imported") == repository_files(tmp_path / "new") != {}
    assert driver(tmp_path / "imported") == driver(tmp_path / "new")
    assert (tmp_path / "imported" / "schemas" / "cards.schema.json").is_file()
    assert deckgen("check", "--strict", tmp_path / "imported").exit_code == 0
    bare = deckgen("import", "--no-repo-setup", source, tmp_path / "bare")
    assert bare.exit_code == 0 and not (tmp_path / "bare" / ".git").exists()
    assert repository_files(tmp_path / "bare") == {} and not (tmp_path / "bare" / "schemas").exists()
