"""A project or lock from a stranger cannot hang deckgen, exhaust memory or crash it (issue 23).

Each input is built here, small on disk, and run by deckgen in a process of its own with a 3 GB
memory cap and a 30 s limit: it must end with a located message and exit 1 (or a correct result),
never a traceback, a MemoryError or a hang.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from deckgen.build.lock_file import CARD_COLUMNS, LOCK_FORMAT
from deckgen.editor.schemas import CARDS_SCHEMA, CONFIG_SCHEMA, SCHEMA_DIR
from deckgen.preview.server import PreviewServer
from deckgen.safety.limits import MAX_LOCK_BYTES

REPO = Path(__file__).resolve().parents[1]
MEMORY_CAP = 3 * 1024**3
TIME_LIMIT = 30

BIG_NOTE_TYPE = 'fields: [F, B]\ntemplates:\n  - name: Card 1\n    front: "{front}"\n    back: "{{{{B}}}}"\n'
BIG_SPEC = "note_type: big\nfields:\n  f: {required: true}\n  b: {}\n"
BIG_TEMPLATE = "{% block F %}{{ f }}{% endblock %}{% block B %}{% if b %}{{ b }}{% endif %}{% endblock %}"


def run_capped(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`deckgen ARGS` in a process of its own, under the memory cap and the time limit."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "deckgen", *map(str, args)], capture_output=True, text=True,
                          timeout=TIME_LIMIT, preexec_fn=cap, env=env, cwd=cwd or REPO, check=False)


def refused(run: subprocess.CompletedProcess[str], message: str) -> list[str]:
    """The run ended with exit 1 and a located line saying `message`, without a traceback."""
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "MemoryError" not in output, output[-3000:]
    assert run.returncode == 1, output[-3000:]
    lines = [line for line in output.splitlines() if message in line]
    assert lines, output[-3000:]
    return lines


def big_note_type_project(make_project: Callable[..., Path], front: str, value: str) -> Path:
    return make_project({"note_types/big.yaml": BIG_NOTE_TYPE.format(front=front), "templates/big.yaml": BIG_SPEC,
                         "templates/big.html.j2": BIG_TEMPLATE,
                         "cards/causes.yaml": f"group: cause\ntype: big\ncards:\n  - id: huge\n    f: {value}\n"})


# Anki templates, note type files, YAML
# ----------------------------------------


@pytest.mark.parametrize("command", ["preview", "lint"])
def test_an_anki_template_repeating_a_long_field_is_a_located_problem(command: str, make_project: Callable[..., Path],
                                                                       tmp_path: Path) -> None:
    project = big_note_type_project(make_project, "{{F}}" * 10_000, "a" * 20_000)
    args = [command, project] + (["-o", tmp_path / "site"] if command == "preview" else [])
    lines = refused(run_capped(*args), "more than 2,000,000 characters on one side")
    assert lines[0].startswith("cards/causes.yaml:4:5: card 'huge': its card would have")


def test_many_escaped_field_uses_in_a_note_type_are_checked_in_linear_time(make_project: Callable[..., Path]) -> None:
    project = big_note_type_project(make_project, "\\x7B{F}}" * 120_000, "short")
    run = run_capped("check", project)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]


def test_the_note_type_locator_points_at_each_use() -> None:
    from deckgen.project.note_type_files import _Locator
    from deckgen.project.yaml_reader import Pos

    locator = _Locator(b'front: "{{A}} {{{B}} x"\nback: "{{B}}{{A}}"\n')
    assert locator.find(Pos(1, 8), "A") == Pos(1, 9)
    assert locator.find(Pos(1, 8), "{B") == Pos(1, 15) and locator.find(Pos(1, 8), "B") == Pos(1, 16)
    assert locator.find(Pos(2, 7), "A") == Pos(2, 13)  # not the earlier one of the front
    assert locator.find(Pos(2, 7), "C") == Pos(2, 7)  # not written literally: the template's start


def test_aliases_that_multiply_characters_are_refused(make_project: Callable[..., Path]) -> None:
    aliases = ", ".join(["*a"] * 10_000)
    card_file = f"group: cause\nx-anchor: &a {'x' * 99_000}\nx-many: [{aliases}]\ncards:\n  - id: trauma\n" \
                "    front: Which injury?\n    back: Trauma\n"
    run = run_capped("check", make_project({"cards/causes.yaml": card_file}))
    refused(run, "cards/causes.yaml:1:1: aliases expand this document to 990,")


def test_aliases_within_the_budget_still_work() -> None:
    from deckgen.project.yaml_reader import parse

    assert parse(f"a: &a {'x' * 1000}\nb: [{', '.join(['*a'] * 500)}]\n")["b"][499] == "x" * 1000


# Locks
# ----------------------------------------


def lock_text(mtime: object = 1_700_000_000, **extra: object) -> str:
    return json.dumps({"format": LOCK_FORMAT, "card_columns": CARD_COLUMNS,
                       "cards": {"trauma": ["0" * 16, mtime, 1_700_000_000, "cause", "basic"]},
                       "note_types": {}, "removed": {}, **extra})


def test_a_conflicted_lock_that_made_the_repair_backtrack_is_read_in_linear_time(
        make_project: Callable[..., Path]) -> None:
    lock = "<<<<<<< ours\n{\"x\": 0" + "\n" * 200_000 + "=======\n{}\n>>>>>>> theirs\n"
    run = run_capped("check", make_project({"deckgen.lock": lock}))
    refused(run, "deckgen.lock: the lock file is damaged")


def test_the_lock_repair_still_adds_the_comma_a_hunk_lost() -> None:
    from deckgen.build.lock_merge import _repaired

    assert _repaired('{"a": 1\n  "b": [2,\n]\n}') == {"a": 1, "b": [2]}
    assert _repaired('{"a": "x y"  , "b": true\n"c": null}') == {"a": "x y", "b": True, "c": None}


@pytest.mark.parametrize("ours,message", [
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    (json.dumps({"format": LOCK_FORMAT, "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}),
     "nests more than 32 levels"),
    (lock_text(mtime="yesterday"), "change time that is not a whole number"),
    (lock_text(mtime=[1, 2]), "change time that is not a whole number"),
    (lock_text(card_columns="mtime"), "the merged lock is not valid"),
    (lock_text(card_columns=3), "the merged lock is not valid"),
    (json.dumps({"format": LOCK_FORMAT, "cards": {"trauma": {"mtime": {}}}}), "not a whole number"),
    (lock_text(pad="x" * (MAX_LOCK_BYTES + 1)), "larger than deckgen's limit of 8 MiB"),
])
def test_lock_merge_of_malformed_sides_is_a_message(ours: str, message: str, tmp_path: Path) -> None:
    files = {"base": lock_text(), "ours": ours, "theirs": lock_text(mtime=1_800_000_000)}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    lines = refused(run_capped("lock-merge", tmp_path / "base", tmp_path / "ours", tmp_path / "theirs"), message)
    assert lines[0].startswith("Error: deckgen.lock: cannot merge (")


def test_lock_merge_never_waits_on_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "base").write_text(lock_text(), encoding="utf-8")
    (tmp_path / "ours").write_text(lock_text(), encoding="utf-8")
    os.mkfifo(tmp_path / "theirs")
    refused(run_capped("lock-merge", tmp_path / "base", tmp_path / "ours", tmp_path / "theirs"),
            "theirs: this is not a regular file")


# Media, special files, the watcher
# ----------------------------------------


@pytest.mark.parametrize("command", ["build", "preview"])
def test_a_huge_sparse_media_file_is_refused_before_it_is_read(command: str, make_project: Callable[..., Path]
                                                               ) -> None:
    card = "group: cause\ncards:\n  - id: trauma\n    front: Which injury?\n    back: '![x](big.png)'\n"
    project = make_project({"cards/causes.yaml": card, "media/big.png": b""})
    with open(project / "media/big.png", "r+b") as stream:
        stream.truncate(4 * 1024**3)  # 4 GiB, none of it on disk
    lines = refused(run_capped(command, project), "media file 'big.png' is larger than deckgen's limit of 256 MiB")
    assert lines[0].startswith("cards/causes.yaml:3:5: card 'trauma': ")


def test_fifos_in_the_cache_and_the_schemas_never_hang_a_build(make_project: Callable[..., Path]) -> None:
    project = make_project({f"{SCHEMA_DIR}/{CARDS_SCHEMA}": "{}\n"})
    (project / ".deckgen-cache/files").mkdir(parents=True)
    os.mkfifo(project / ".deckgen-cache/stamp.json")
    os.mkfifo(project / SCHEMA_DIR / CONFIG_SCHEMA)
    for _ in range(2):  # the second build reads the stamp
        run = run_capped("build", project)
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert stat.S_ISFIFO(os.lstat(project / SCHEMA_DIR / CONFIG_SCHEMA).st_mode)  # never opened, never replaced
    assert (project / "dist/test-deck.apkg").is_file()


def test_the_watcher_never_follows_a_link_out_of_the_project(sample_project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    for number in range(20):
        (outside / f"folder-{number}").mkdir(parents=True)
    (sample_project / "cards" / "deeper").mkdir()
    os.symlink(outside, sample_project / "cards" / "linked")
    server = PreviewServer(sample_project, tmp_path / "site", port=0)
    try:
        folders = server.watched_folders()
    finally:
        server.stop()
    assert str(sample_project / "cards" / "deeper") in folders
    assert not [folder for folder in folders if "linked" in folder or str(outside) in folder]


# deckgen new, output
# ----------------------------------------


def test_new_into_a_link_to_nothing_is_a_message(tmp_path: Path) -> None:
    os.symlink(tmp_path / "nowhere" / "x", tmp_path / "dangling")
    refused(run_capped("new", tmp_path / "dangling", "--no-git"), "dangling: this is a link to nothing")


def test_new_with_a_bad_deck_path_writes_nothing(tmp_path: Path) -> None:
    lines = refused(run_capped("new", tmp_path / "deck", "--deck", "::", "--no-git"), "has an empty part")
    assert lines == ["--deck: the deck path '::' has an empty part (write it as 'Parent::Child::Deck', each part a "
                     "name)"]  # the option, not a deckgen.yaml the user never sees
    assert not (tmp_path / "deck").exists()


def test_new_past_the_path_limit_is_a_message(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a" * 200] * 30)
    refused(run_capped("new", deep, "--no-git"), "cannot use this folder: File name too long")
    assert not (tmp_path / ("a" * 200)).exists()


@pytest.mark.parametrize("output_format", ["text", "github"])
def test_unknown_keys_never_reach_the_terminal_or_ci_raw(output_format: str, make_project: Callable[..., Path]
                                                         ) -> None:
    card = ('group: cause\ncards:\n  - id: trauma\n    front: Which injury?\n    back: Trauma\n'
            '    "x\\e[2J\\e]0;owned\\a\\n::stop-commands::token\\n::error::fake": 1\n')
    run = run_capped("check", make_project({"cards/causes.yaml": card}), "--format", output_format)
    lines = refused(run, "stop-commands")
    output = run.stdout + run.stderr
    assert "\x1b" not in output and "\x07" not in output
    assert all(not line.startswith("::") or line.startswith(("::error file=", "::warning file="))
               for line in output.splitlines())
    assert "x\\x1b[2J" in lines[0]


@pytest.mark.parametrize("kind", ["fifo", "huge"])
def test_a_template_that_is_a_fifo_or_huge_is_refused_unread(kind: str, make_project: Callable[..., Path]) -> None:
    project = make_project({"templates/basic.html.j2": None})
    template = project / "templates/basic.html.j2"
    if kind == "fifo":
        os.mkfifo(template)
    else:
        with open(template, "wb") as stream:
            stream.truncate(4 * 1024**3)
    reason = "not a regular file" if kind == "fifo" else "larger than deckgen's limit"
    refused(run_capped("check", project), "templates/basic.html.j2: template 'basic.html.j2' is refused: it is")
    assert reason in run_capped("check", project).stderr


def test_a_fifo_left_in_the_preview_folder_never_hangs_it(make_project: Callable[..., Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    os.mkfifo(site / ".deckgen-preview.json")
    run = run_capped("preview", make_project(), "-o", site)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert (site / "index.html").is_file()
