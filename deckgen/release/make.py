"""`deckgen release VERSION`: the one step that makes a release.

It checks the project like `build` (and refuses released cards an edit leaves empty unless
allowed), writes `dist/<deck-slug>-<VERSION>.apkg`, records the release in deckgen.lock, rehearses
the import on top of the previous release's package when that package and the `anki` extra are at
hand, and writes the release notes for learners beside the package.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..build.build_options import BuildOptions
from ..build.lock import prepare_lock
from ..build.lock_file import EARLIER, LOCK_FILE, Lock
from ..build.package import PackageInput, note_ids, write_package
from ..build.pipeline import Project, prepare
from ..build.released import emptied_cards, emptied_problem
from ..build.render import Renderer
from ..problems import ERROR, Problem, ProjectError, blocking
from ..safety.confine import check_output
from .notes import ReleaseNotes, rehearsal_figures, release_notes
from .record import from_previous_package, previous_version, record_release

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")


@dataclass(frozen=True)
class ReleaseOptions:
    """How to release: the build's options, whether emptied cards are allowed, the previous package."""

    build: BuildOptions = field(default_factory=BuildOptions)
    allow_empty_cards: bool = False
    previous: Path | None = None  # the previous release's package [default: dist/<slug>-<previous>.apkg]


@dataclass
class ReleaseResult:
    """What a release wrote and found."""

    project: Project
    package: Path
    notes_path: Path
    notes: ReleaseNotes
    previous_package: Path | None  # the package the rehearsal imported on, if it was at hand
    rehearsal: object | None = None  # a deckgen.release.rehearse.Rehearsal, when one ran
    rehearsal_skipped: str = ""  # why none ran


def release(root: Path, version: str, options: ReleaseOptions | None = None) -> ReleaseResult:
    """Check, package, record and describe release `version`; raise ProjectError, writing nothing, if it cannot be made."""
    options = options or ReleaseOptions()
    project = prepare(root, dataclasses.replace(options.build, strict=False))  # --strict: below, emptied cards aside
    _check_version(project.old_lock, version)
    package = _package_path(root, project, version)
    previous = previous_version(project.old_lock, project.config.version, version)
    at_hand = _previous_package(package, project, previous, options.previous)
    before = project.lock if at_hand is None else from_previous_package(project.lock, project, at_hand)
    _refuse_emptied(project, before, options.allow_empty_cards, options.build.strict)
    after = record_release(project, before, version, note_ids(_package_input(project, before, version)), project.now)
    _write(root, project, after, package, version)
    notes = release_notes(project, before, after, version, previous)
    result = ReleaseResult(project, package, package.with_suffix(".md"), notes, at_hand)
    _rehearse(result)
    result.notes_path.write_text(notes.markdown(), encoding="utf-8")
    return result


def _package_path(root: Path, project: Project, version: str) -> Path:
    """dist/<deck-slug>-<VERSION>.apkg (beside where `build` writes), checked with its notes before anything is written."""
    config = project.config
    package = config.output_path.parent / f"{config.slug}-{version}.apkg"
    for target, what in ((package, "the package"), (package.with_suffix(".md"), "the release notes")):
        check_output(root, target, config.media, what)
    return package


def _previous_package(package: Path, project: Project, previous: str | None, given: Path | None) -> Path | None:
    """The previous release's package, if it is at hand: the one given, or dist/<deck-slug>-<previous>.apkg."""
    if given is not None:
        return given
    if previous is None or previous == EARLIER:
        return None
    found = package.parent / f"{project.config.slug}-{previous}.apkg"
    return found if found.is_file() else None


def _check_version(lock: Lock, version: str) -> None:
    if not _VERSION.match(version) or version == EARLIER:
        raise ProjectError([Problem("VERSION", message=f"'{version[:70]}' is not a version",
                                    hint="letters, digits, '.', '+', '-' and '_', starting with a letter or digit: 1.2.0")])
    if version in lock.releases:
        raise ProjectError([Problem(LOCK_FILE, message=f"version {version} was already released",
                                    hint=f"give this release a new version; the last one is {lock.previous_release()}")])


def _refuse_emptied(project: Project, before: Lock, allowed: bool, strict: bool) -> None:
    """Released cards an edit leaves empty stop the release, located, unless the author allows them
    (then, under --strict, they do not count as warnings either: the author has said yes to them)."""
    note_types = project.templates.note_types
    emptied = emptied_cards(project.config.key, before, project.notes, project.identities.guids)
    problems = [] if allowed else [emptied_problem(e, note_types[e.note.note_type], ERROR) for e in emptied]
    warned = [emptied_problem(e, note_types[e.note.note_type]) for e in emptied]  # check's warnings of them
    others = [p for p in project.problems if p not in warned]
    if problems or blocking(others, strict):
        raise ProjectError(problems + [p for p in others if p.severity != ERROR], strict)


def _package_input(project: Project, lock: Lock, version: str) -> PackageInput:
    """The package's contents; the deck's description gives this release's version (not deckgen.yaml's)."""
    config = dataclasses.replace(project.config, version=version)
    renderer = Renderer(config, project.templates)
    return PackageInput(project.config, project.notes, lock, project.templates.css, renderer.deck_description(),
                        project.media, project.templates.note_types, renderer.group_descriptions())


def _write(root: Path, project: Project, lock: Lock, package: Path, version: str) -> None:
    """The package, then the lock (prepared first, so that a full disk fails before the package is written)."""
    next_lock = prepare_lock(root, lock)
    try:
        write_package(_package_input(project, lock, version), package)
        os.replace(next_lock, root / LOCK_FILE)
    except OSError as exc:
        raise ProjectError([Problem(str(exc.filename or package), message=f"cannot write here: {exc.strerror or exc}")])
    finally:
        next_lock.unlink(missing_ok=True)


def _rehearse(result: ReleaseResult) -> None:
    """Import the new package on top of the previous one in the real Anki backend, if both are at hand."""
    if result.previous_package is None:
        result.rehearsal_skipped = "no previous release's package at hand (pass --previous FILE)"
        return
    try:
        from .rehearse import RehearsalUnavailable, rehearse  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        result.rehearsal_skipped = "this deckgen has no rehearsal"
        return
    try:
        rehearsal = rehearse(result.previous_package, result.package)
    except RehearsalUnavailable as exc:
        result.rehearsal_skipped = str(exc)
        return
    try:
        from .rehearse import card_ids  # type: ignore[import-not-found,unused-ignore]
        rehearsal.name_cards(card_ids(result.project))  # notes named by card id, not only by GUID
    except (ImportError, AttributeError):
        pass
    result.rehearsal = rehearsal
    result.notes.checked = rehearsal_figures(rehearsal.to_json())
