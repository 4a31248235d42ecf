"""A failing build never costs a user their deck: the previous package survives byte for byte."""

from __future__ import annotations

import errno
import os
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from conftest import MINIMAL_CARDS, CliRun

CARDS = "cards/causes.yaml"
BROKEN_CARDS = MINIMAL_CARDS.replace("back: Trauma", "backk: Trauma")


@pytest.fixture
def built(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> Path:
    """A project with a good package at dist/test-deck.apkg and its lock."""
    project = make_project()
    run = deckgen("build", project)
    assert run.exit_code == 0, run.stderr
    return project


def package(project: Path) -> Path:
    return project / "dist" / "test-deck.apkg"


def snapshot(project: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification time of the package and the lock."""
    return {name: ((project / name).read_bytes(), (project / name).stat().st_mtime_ns)
            for name in ("dist/test-deck.apkg", "deckgen.lock")}


def test_good_package_survives_a_failing_build(built: Path, deckgen: Callable[..., CliRun]) -> None:
    before = snapshot(built)
    (built / CARDS).write_text(BROKEN_CARDS, encoding="utf-8")
    run = deckgen("build", built)
    assert run.exit_code == 1 and not run.crashed
    assert run.stderr.splitlines()[-1] == "2 errors, 0 warnings; nothing was written"
    assert snapshot(built) == before
    assert os.listdir(built / "dist") == ["test-deck.apkg"]


@pytest.mark.parametrize("breakage", [
    {CARDS: "cards:\n\t- id: x\n"},  # YAML syntax
    {CARDS: b"\x00\x01binary"},  # garbage
    {"deckgen.yaml": "deck: [\n"},  # the config
    {"templates/basic.html.j2": "{% block Front %}{{ front }"},  # a template
    {"media/x.png": b"PNG", CARDS: MINIMAL_CARDS.replace("Trauma", "'![x](../../x.png)'")},  # media
])
def test_good_package_survives_every_kind_of_failure(breakage: dict[str, str | bytes], built: Path,
                                                     deckgen: Callable[..., CliRun]) -> None:
    before = snapshot(built)
    for name, content in breakage.items():
        path = built / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    run = deckgen("build", built)
    assert run.exit_code == 1 and not run.crashed
    assert snapshot(built) == before
    assert os.listdir(built / "dist") == ["test-deck.apkg"]


def test_a_write_that_fails_midway_leaves_the_old_package(built: Path, deckgen: Callable[..., CliRun],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(built)
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "Trauma, e.g. a wound"), encoding="utf-8")
    written = []

    def disk_full(self: zipfile.ZipFile, info: object, payload: bytes, *args: object, **kwargs: object) -> None:
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(info)
        original(self, info, payload, *args, **kwargs)

    original = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    run = deckgen("build", built)
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"{package(built)}: cannot write here: No space left on device"]
    assert snapshot(built) == before
    assert os.listdir(built / "dist") == ["test-deck.apkg"]


def test_no_temporary_files_after_builds(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project()
    for cards in (MINIMAL_CARDS, BROKEN_CARDS, MINIMAL_CARDS.replace("Trauma", "A wound"), BROKEN_CARDS):
        (project / CARDS).write_text(cards, encoding="utf-8")
        deckgen("build", project)
        assert os.listdir(project / "dist") == ["test-deck.apkg"]
        assert not [p.name for p in project.iterdir() if p.name.endswith(".tmp")]
    assert zipfile.ZipFile(package(project)).testzip() is None


def test_output_under_a_file_is_a_clear_error(built: Path, deckgen: Callable[..., CliRun]) -> None:
    blocker = built / "notes.txt"
    blocker.write_text("a file, not a folder")
    run = deckgen("build", built, "-o", blocker / "deck.apkg")
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"{blocker}/deck.apkg: cannot write here: {blocker} is not a writable folder"]


def test_output_that_is_a_folder_is_a_clear_error(make_project: Callable[..., Path],
                                                  deckgen: Callable[..., CliRun]) -> None:
    project = make_project({"deckgen.yaml": "deck: Test Deck\nkey: test-deck\noutput: dist\n"
                                            "groups:\n  cause: Causes\n"})
    (project / "dist").mkdir()
    run = deckgen("build", project)
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"{project / 'dist'}: the output path is a folder (name a file, e.g. -o dist/deck.apkg)"]


def test_output_option_naming_a_folder_is_a_usage_error(built: Path, deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("build", built, "-o", built)
    assert run.exit_code == 2 and not run.crashed and "is a directory" in run.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_output_where_no_folder_can_be_made(built: Path, deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("build", built, "-o", "/proc/deckgen-test/deck.apkg")
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == ["/proc/deckgen-test: cannot write here: No such file or directory"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions that apply")
def test_read_only_output_folder(built: Path, deckgen: Callable[..., CliRun]) -> None:
    folder = built / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        run = deckgen("build", built, "-o", folder / "deck.apkg")
    finally:
        folder.chmod(0o755)
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"{folder}/deck.apkg: cannot write here: {folder} is not a writable folder"]


def test_report_into_a_missing_folder_writes_nothing(built: Path, deckgen: Callable[..., CliRun]) -> None:
    before = snapshot(built)
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "A wound"), encoding="utf-8")
    run = deckgen("build", built, "--report", built / "missing" / "report.md")
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"{built}/missing/report.md: cannot write the report: no such folder"]
    assert snapshot(built) == before
