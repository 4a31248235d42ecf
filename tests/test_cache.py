"""The build cache and the parallel build: faster, never different."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen.build import compiler
from deckgen.build.pipeline import build
from deckgen.build.cache import CACHE_DIR
from deckgen.cli import main
from deckgen.build.build_options import BuildOptions

REPO = Path(__file__).parent.parent


def _many_files(project: Path, files: int = 12) -> None:
    """Spread extra cards over enough files for the build to use worker processes."""
    for number in range(files):
        cards = "".join(
            f"  - id: extra-{number}-{i}\n    front: Question {i} of file {number}?\n    back: Answer {i}\n"
            for i in range(5)
        )
        (project / "cards" / f"50-extra-{number:02d}.yaml").write_text(f"group: treatment\ncards:\n{cards}")


def test_cached_parallel_and_serial_builds_are_byte_identical(sample_project: Path, tmp_path: Path) -> None:
    _many_files(sample_project)
    build(sample_project, BuildOptions(output=tmp_path / "lock.apkg"))  # writes the lock all builds share
    serial = build(sample_project, BuildOptions(output=tmp_path / "serial.apkg", use_cache=False, jobs=1))
    parallel = build(sample_project, BuildOptions(output=tmp_path / "parallel.apkg", use_cache=False, jobs=2))
    shutil.rmtree(sample_project / CACHE_DIR)
    cold = build(sample_project, BuildOptions(output=tmp_path / "cold.apkg", jobs=2))
    warm = build(sample_project, BuildOptions(output=tmp_path / "warm.apkg", jobs=2))
    assert len(serial.project.notes) == 6 + 12 * 5
    first = serial.output.read_bytes()
    for other in (parallel, cold, warm):
        assert other.output.read_bytes() == first


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_forked_or_spawned_build_the_same(sample_project: Path, tmp_path: Path, start: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker uses the parent's compiler; a spawned one (where there is no fork) loads its own."""
    _many_files(sample_project)
    build(sample_project, BuildOptions(output=tmp_path / "lock.apkg"))
    serial = build(sample_project, BuildOptions(output=tmp_path / "serial.apkg", use_cache=False, jobs=1))
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: [start])
    if start == "fork":  # a forked worker inherits this: loading the templates again would fail its start
        monkeypatch.setattr(compiler, "load_templates", _refused)
    parallel = build(sample_project, BuildOptions(output=tmp_path / "parallel.apkg", use_cache=False, jobs=2))
    assert parallel.output.read_bytes() == serial.output.read_bytes()


def _refused(*args: object) -> None:
    raise AssertionError("a forked worker loaded the templates again")


def test_the_repository_deck_cached_equals_uncached(tmp_path: Path) -> None:
    project = tmp_path / "deck"
    project.mkdir()
    for name in ("deckgen.yaml", "deckgen.lock", "cards", "templates"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    uncached = build(project, BuildOptions(output=tmp_path / "uncached.apkg", use_cache=False, frozen=True))
    build(project, BuildOptions(output=tmp_path / "warming.apkg", frozen=True))
    cached = build(project, BuildOptions(output=tmp_path / "cached.apkg", frozen=True))
    assert cached.output.read_bytes() == uncached.output.read_bytes()


def test_a_corrupt_cache_entry_is_rebuilt_not_trusted(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    for entry in (sample_project / CACHE_DIR / "files").glob("*.json"):
        text = entry.read_text()
        entry.write_text(text.replace("What is", "Tampered:"))  # valid JSON, wrong content
    again = build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    assert all("Tampered" not in field for note in again.project.notes for field in note.fields)
    assert (tmp_path / "a.apkg").read_bytes() == (tmp_path / "b.apkg").read_bytes()
    for entry in (sample_project / CACHE_DIR / "files").glob("*.json"):
        entry.write_bytes(b"\x00garbage")
    third = build(sample_project, BuildOptions(output=tmp_path / "c.apkg"))
    assert (tmp_path / "c.apkg").read_bytes() == (tmp_path / "a.apkg").read_bytes()
    assert len(third.project.notes) == 6


def test_an_unchanged_build_rewrites_nothing(sample_project: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(sample_project)]).exit_code == 0
    package = sample_project / "dist" / "sample-deck.apkg"
    before = package.stat().st_mtime_ns
    result = runner.invoke(main, ["build", str(sample_project)])
    assert result.exit_code == 0
    assert "is up to date: nothing changed since the last build" in result.output
    assert package.stat().st_mtime_ns == before
    # any change to an input builds again: a card, a template, the lock
    cards = sample_project / "cards/02-reversed.yaml"
    cards.write_text(cards.read_text().replace("Death of tissue", "Tissue death"))
    assert "wrote" in runner.invoke(main, ["build", str(sample_project)]).output
    (sample_project / "templates/style.css").write_text(".card { color: red; }\n")
    assert "wrote" in runner.invoke(main, ["build", str(sample_project)]).output
    # a project's own media folder counts, whatever its name
    config = sample_project / "deckgen.yaml"
    (sample_project / "media").rename(sample_project / "pictures")
    config.write_text(config.read_text() + "media: pictures\n")
    assert "wrote" in runner.invoke(main, ["build", str(sample_project)]).output
    assert "up to date" in runner.invoke(main, ["build", str(sample_project)]).output
    (sample_project / "pictures" / "dot.png").write_bytes(b"\x89PNG changed")
    assert "wrote" in runner.invoke(main, ["build", str(sample_project)]).output
    # a package deleted or replaced behind deckgen's back is written again
    package.write_bytes(b"not a package")
    assert "wrote" in runner.invoke(main, ["build", str(sample_project)]).output


def test_no_cache_leaves_no_cache_folder(sample_project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--no-cache", str(sample_project), "-o", str(tmp_path / "x.apkg")])
    assert result.exit_code == 0, result.output
    assert not (sample_project / CACHE_DIR).exists()


def test_the_cache_folder_ignores_itself_in_git(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    assert (sample_project / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
