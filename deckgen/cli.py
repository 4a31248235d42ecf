"""The command line: a thin click layer over the packages that do the work (build, preview, import, lint, ...).

The pipeline's modules (Jinja, genanki, the YAML reader, ...) are imported inside the commands
that use them, so that `deckgen build` with nothing to do answers at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import click

from . import __version__
from .build.cache import current_package
from .build.build_options import BuildOptions
from .problems import ERROR, Problem, ProjectError, github_annotation, printable, summary

if TYPE_CHECKING:
    from .build.pipeline import Project
    from .preview.server import Rebuild

def _find_project(ctx: click.Context, param: click.Parameter, given: Path) -> Path:
    """The project a folder belongs to: the nearest folder upwards with a deckgen.yaml, as git finds its repository."""
    from .project.config import CONFIG_FILE

    start = given.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            if folder != start:
                shown = os.path.relpath(folder) if folder in Path.cwd().resolve().parents else str(folder)
                click.echo(f"using the project in {shown} ({folder})", err=True)
                return Path(shown)
            return given
    return given  # no project: the command reports the missing deckgen.yaml


PROJECT_DIR = click.argument(
    "project_dir", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path),
    callback=_find_project,
)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="deckgen")
def main() -> None:
    """Build Anki decks from YAML fact cards and Jinja card templates.

    A project folder holds deckgen.yaml, cards/**/*.yaml and, optionally, templates/ and media/.
    """


@main.command("build")
@PROJECT_DIR
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the package. [default: dist/<deck-slug>.apkg in the project]")
@click.option("--frozen", is_flag=True,
              help="Fail if deckgen.lock is out of date instead of updating it (for CI).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the release report to this file, as Markdown.")
@click.option("--allow-note-type-change", is_flag=True,
              help="Allow changes that make Anki fork a note type or refuse to update a card.")
@click.option("--no-cache", is_flag=True,
              help="Ignore the build cache (.deckgen-cache/): parse and render every file again.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes for big projects. [default: one per CPU core]")
@STRICT
def build_command(project_dir: Path, output: Path | None, frozen: bool, report: Path | None,
                  allow_note_type_change: bool, no_cache: bool, jobs: int | None, strict: bool) -> None:
    """Check the project and write an .apkg that Anki imports.

    Nothing is written if any check fails: the previous package stays as it was. The lock file
    (deckgen.lock) records when each card last changed; commit it with the sources. When
    nothing changed since the last build, nothing is rewritten.
    """
    options = BuildOptions(output, frozen, strict, allow_note_type_change, report, not no_cache, jobs)
    current = current_package(project_dir, output, options.stamp_settings()) if not no_cache and not report else None
    if current is not None:
        click.echo(f"{current} is up to date: nothing changed since the last build")
        return
    from .build.pipeline import build
    from .editor.schemas import refresh_schemas  # they read deckgen's definitions, lint's among them

    with _progress(project_dir) as progress:
        result = build(project_dir, options, progress)
    refresh_schemas(project_dir)
    _echo_warnings(result.project)
    _echo_summary(result.project, result.output)


@main.command("check")
@PROJECT_DIR
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="How to print the problems (github: GitHub Actions annotations).")
@STRICT
def check_command(project_dir: Path, output_format: str, strict: bool) -> None:
    """Check everything `build` would use, without writing anything.

    Exits 0 when the project is clean, 1 when it has problems.
    """
    from .build.pipeline import prepare

    try:
        with _progress(project_dir) as progress:
            project = prepare(project_dir, BuildOptions(strict=strict, fields=False), progress)
    except ProjectError as exc:
        if _echo_problems(exc.problems, output_format, project_dir, ok=False):
            sys.exit(1)
        raise exc.read_only() from None
    if _echo_problems(project.problems, output_format, project_dir, ok=True):
        return
    _echo_warnings(project)
    count = len(project.notes)
    click.echo(f"{count} card{'' if count == 1 else 's'} checked: {summary(project.problems)}")


@main.command("rehearse")
@click.argument("old_package", metavar="OLD.apkg", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PROJECT_DIR
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to print what the learner gets.")
@click.option("--allow-note-type-change", is_flag=True,
              help="Rehearse a build that forks a note type or changes a card's note type (as build allows it).")
def rehearse_command(old_package: Path, project_dir: Path, output_format: str, allow_note_type_change: bool) -> None:
    """Try the next release on a learner of OLD.apkg, in the real Anki backend, before sharing it.

    Builds the project to a temporary package (nothing is written in the project: no lock, no
    dist/), then, in a scratch collection, imports OLD.apkg, answers every card, edits a note of
    the learner's own, and imports the new package with Anki's default options. Prints what the
    learner gets: new, updated and unchanged notes, conflicts, copied note types, cards left
    empty, reviews lost, retired notes, their own edit. Exits 1 when the learner would lose
    anything. Needs the official Anki backend: pip install 'deckgen[rehearse]'.
    """
    from .release.rehearse import RehearsalUnavailable, rehearse_project

    try:
        rehearsal = rehearse_project(old_package, project_dir, BuildOptions(allow_note_type_change=allow_note_type_change))
    except RehearsalUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(rehearsal.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(rehearsal.lines()))
    if rehearsal.loses_anything:
        sys.exit(1)


@main.command("lint")
@PROJECT_DIR
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="How to print the findings (github: GitHub Actions annotations).")
@click.option("--explained", is_flag=True, help="Also list the findings that a card's lint_ignore explains.")
@click.option("--strict", is_flag=True, help="Also fail on lint_ignore entries that explain no finding.")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=2),
              help="Processes that run the rules (1 or 2). [default: 2 for a deck of 5,000 notes or more]")
def lint_command(project_dir: Path, output_format: str, explained: bool, strict: bool, jobs: int | None) -> None:
    """Report the formulation defects a program can see in the cards.

    Near-duplicate fronts, answers given away by other cards, list answers, overloaded clozes,
    fronts that ask nothing, fronts that show their own answer. Exits 0 when every finding is
    explained by a card's lint_ignore, 1 otherwise.
    """
    from .lint import lint_project
    from .lint.output import github_lines, json_text, text_lines

    try:
        report = lint_project(project_dir, jobs=jobs)
    except ProjectError as exc:
        if _echo_problems(exc.problems, output_format, project_dir, ok=False):
            sys.exit(1)
        raise exc.read_only() from None
    if output_format == "json":
        click.echo(json_text(report, strict))
    else:
        lines = github_lines(report, strict) if output_format == "github" else text_lines(report, explained)
        click.echo("\n".join(printable(line) for line in lines))  # one line each, as the project wrote none
    if not report.passed(strict):
        sys.exit(1)


@main.command("preview")
@PROJECT_DIR
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site to. [default: dist/preview in the project]")
@click.option("--serve", is_flag=True,
              help="Serve the site on localhost, rebuild it when a source changes and reload the page.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port for --serve; 0 picks a free one.")
@STRICT
def preview_command(project_dir: Path, output: Path | None, serve: bool, port: int, strict: bool) -> None:
    """Write every card, front and back, as a static HTML site that shows it as Anki does.

    The site has filters by subdeck and tag, a search box and a night-mode switch, and works
    offline from a file:// URL. Nothing is written if the project has errors.
    """
    from .build.pipeline import prepare
    from .preview.site import default_output, write_preview

    out_dir = output or default_output(project_dir)
    if serve:
        _serve(project_dir, out_dir, port, strict)
        return
    with _progress(project_dir) as progress:
        project = prepare(project_dir, BuildOptions(strict=strict), progress)
    _echo_warnings(project)
    result = write_preview(project, out_dir)
    click.echo(f"wrote {result.index}: {result.cards} cards of {result.notes} notes")


@main.command("new")
@click.argument("project_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--deck", help="The deck's name in Anki. [default: from the folder's name]")
@click.option("--key", help="The project key that seeds every Anki id. [default: from the deck name]")
@click.option("--flat", is_flag=True, help="No groups: every card in the deck itself, no subdecks.")
@click.option("--no-git", is_flag=True, help="Do not run git (no 'git init', no merge driver set up).")
def new_command(project_dir: Path, deck: str | None, key: str | None, flat: bool, no_git: bool) -> None:
    """Start a deck project in a new or empty folder: it builds at once.

    Writes deckgen.yaml (with the groups cause, mechanism and treatment unless --flat), one example
    card of each card type, a card type of the project's own, .gitignore, a GitHub Actions
    workflow, editor schemas and settings, and sets up git to merge deckgen.lock.
    """
    from .scaffold.starter import new_project

    made = new_project(project_dir, deck, key, flat, git=not no_git)
    click.echo(f"created {project_dir}: the deck '{made.deck}' with {len(made.files)} files")
    click.echo(made.git)
    here = "" if project_dir.resolve() == Path.cwd().resolve() else f"cd {shlex.quote(str(project_dir))}\n  "
    click.echo(f"next:\n  {here}deckgen preview --serve   # every card as Anki shows it, updated as you edit\n"
               "  deckgen build             # the .apkg to import in Anki, in dist/")


@main.command("schema")
@PROJECT_DIR
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the schemas to. [default: schemas/ in the project]")
def schema_command(project_dir: Path, output: Path | None) -> None:
    """Write JSON Schemas of the project's card files and of deckgen.yaml, for YAML editors.

    Editors that use yaml-language-server (VS Code's YAML extension, Neovim, Helix, JetBrains)
    then complete and check card files while you type. `deckgen build` keeps them up to date.
    """
    from .editor.schemas import write_schemas

    for path in write_schemas(project_dir, output):
        click.echo(f"wrote {path}")


@main.command("lock-merge")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
def lock_merge_command(base: Path, ours: Path, theirs: Path) -> None:
    """git's merge driver for deckgen.lock: merge THEIRS and BASE into OURS.

    Set up once per clone (deckgen new does it) with the full path of the Python that has deckgen:
    git config merge.deckgen-lock.driver "/path/to/python -m deckgen lock-merge %O %A %B || git merge-file %A %O %B"
    with 'deckgen.lock merge=deckgen-lock' in .gitattributes (see README.md).
    """
    from .build.lock_merge import LockMergeError, merge_files

    try:
        merged = merge_files(base, ours, theirs)
    except (LockMergeError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"deckgen.lock: cannot merge ({exc}); resolve it by hand") from None
    click.echo(f"deckgen.lock: {merged.describe()}", err=True)


def _serve(project_dir: Path, out_dir: Path, port: int, strict: bool) -> None:
    from .preview.server import PreviewServer

    server = PreviewServer(project_dir, out_dir, port, on_rebuild=_echo_rebuild, strict=strict)
    server.start()
    click.echo(f"Serving the preview at {server.url} (writing {out_dir}); press Ctrl-C to stop")
    try:
        server.wait()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.stop()


def _echo_rebuild(outcome: Rebuild) -> None:
    if outcome.result is not None:
        click.echo(f"built: {outcome.result.cards} cards of {outcome.result.notes} notes, {summary(outcome.problems)}")
        return
    for problem in outcome.problems:
        click.echo(str(problem), err=True)
    click.echo(f"not built: {summary(outcome.problems)}; the page shows the problems", err=True)


def _echo_problems(problems: list[Problem], output_format: str, project_dir: Path, ok: bool) -> bool:
    """Print problems in a machine format (json, github); False for text, which each command prints its own way."""
    if output_format == "json":
        click.echo(_json_report(problems, ok))
    elif output_format == "github":
        _echo_github(problems, project_dir)
    else:
        return False
    return True


def _echo_github(problems: list[Problem], project_dir: Path) -> None:
    """Annotations on the files of the repository the workflow checked out, then the summary."""
    for problem in problems:
        click.echo(github_annotation(problem, _repository_path(project_dir, problem.path)))
    click.echo(summary(problems))


def _repository_path(project_dir: Path, path: str) -> str:
    """A problem's path as GitHub names files: relative to the checkout (the working directory)."""
    if path.startswith("<"):
        return path
    full = project_dir / path
    try:
        return full.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def _json_report(problems: list[Problem], ok: bool) -> str:
    return json.dumps({"ok": ok, "summary": summary(problems), "problems": [p.to_json() for p in problems]},
                      indent=2)


@contextlib.contextmanager
def _progress(project_dir: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over card files on a terminal, for projects big enough to wait for."""
    from .project.card_files import find_card_files
    from .project.yaml_reader import HAS_C_LOADER

    if not HAS_C_LOADER:
        click.echo("note: PyYAML has no C loader (libyaml) here, so reading cards is slower", err=True)
    files = len(find_card_files(project_dir)) if sys.stderr.isatty() else 0
    if files < 20:
        yield None
        return
    with click.progressbar(length=files, label="Reading cards", file=sys.stderr) as bar:
        yield bar.update


@contextlib.contextmanager
def _import_progress() -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """A progress bar for each long stage of an import (converting the fields, writing the card files)."""
    if not sys.stderr.isatty():
        yield None
        return
    with contextlib.ExitStack() as stack:

        def stage(label: str, length: int) -> Callable[[int], None]:
            stack.close()  # the previous stage's bar ends where the next one starts
            bar = stack.enter_context(click.progressbar(length=length, label=label, file=sys.stderr))
            return bar.update

        yield stage


def _echo_warnings(project: Project) -> None:
    for problem in project.problems:
        if problem.severity != ERROR:
            click.echo(str(problem), err=True)


def _echo_summary(project: Project, output: Path) -> None:
    heading, *lines = project.layout_lines()
    click.echo(f"wrote {output}: {printable(heading)}")
    for line in lines:
        click.echo(printable(line))
    for line in project.report.lines(project.config):
        click.echo(f"  {printable(line)}")


@main.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("project_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--deck", "decks", multiple=True, metavar="NAME",
              help="Import only this deck and its subdecks (repeatable; needed for a .colpkg with several decks).")
@click.option("--key", help="The new project's key. [default: from the deck name]")
@click.option("--note-types", "note_types_from", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Text export or CrowdAnki folder: an .apkg of the same collection that holds its note types "
                   "(their ids, which learners' notes are matched by; a text export's media too).")
@click.option("--note-type", type=click.Choice(["basic", "reversed", "cloze"]),
              help="Plain CSV: the built-in card type its rows fill [default: basic]; a text export that names "
                   "no note type: Anki's stock Basic, Basic (and reversed card) or Cloze.")
@click.option("--column", "columns", multiple=True, metavar="COLUMN=FIELD",
              help="Plain CSV: fill FIELD (or tags, deck, guid; '-' ignores it) from COLUMN (repeatable).")
@click.option("--deck-name", help="Plain CSV or text export without a deck column: the deck name.")
@click.option("--delimiter", help="Plain CSV: the separator. [default: guessed]")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Processes that share the work of a big import. [default: one per CPU core]")
@click.option("--no-repo-setup", is_flag=True,
              help="Write only the project: no .gitignore, .gitattributes, CI workflow, editor settings, "
                   "schemas or git set-up.")
@click.option("--drop-remote", is_flag=True,
              help="Leave out what note types load from the network (a web font's @import, say), each reported, "
                   "instead of refusing them; learners of the original keep theirs.")
def import_command(source: Path, project_dir: Path | None, decks: tuple[str, ...], key: str | None,
                   note_types_from: Path | None, note_type: str | None, columns: tuple[str, ...],
                   deck_name: str | None, delimiter: str | None, jobs: int | None, no_repo_setup: bool,
                   drop_remote: bool) -> None:
    """Turn an Anki package (.apkg, .colpkg), CrowdAnki folder, Anki text export or CSV into a deckgen project.

    PROJECT_DIR (default: a new folder named after SOURCE; for a CrowdAnki folder, its name with
    '-deckgen') must be new or empty. The project
    keeps the deck's GUIDs, note type ids and note times, so that building it updates nothing
    for learners of the original until you change something. Like `deckgen new`, it gets
    .gitignore, a CI workflow, editor schemas and git set up to merge deckgen.lock.
    """
    from .importer import ImportOptions, default_target
    from .scaffold.starter import import_project

    mapping = tuple(tuple(item.split("=", 1)) for item in columns if "=" in item)
    if len(mapping) != len(columns):
        raise click.UsageError("--column takes COLUMN=FIELD")
    options = ImportOptions(decks, key, note_types_from, note_type, mapping, deck_name, delimiter,  # type: ignore[arg-type]
                            jobs, drop_remote)
    target = project_dir or default_target(source)
    with _import_progress() as progress:
        made = import_project(source, target, options, progress, repository=not no_repo_setup)
    result = made.result
    for problem in result.warnings:
        click.echo(str(problem), err=True)
    click.echo(f"wrote {result.project}: deck '{result.deck}', {result.notes} notes, note types "
               f"{', '.join(result.note_types)}, {result.media} media files"
               + (" (html: true: some fields keep their HTML)" if result.html else ""))
    click.echo(made.git)
    click.echo(f"next: deckgen build {shlex.quote(str(result.project))}")


@main.command("release")
@click.argument("version")
@PROJECT_DIR
@click.option("--allow-empty-cards", is_flag=True,
              help="Release even though an edit leaves cards learners have empty (a cloze number removed).")
@click.option("--allow-note-type-change", is_flag=True,
              help="Allow changes that make Anki fork a note type or refuse to update a card.")
@click.option("--previous", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The previous release's package, to rehearse on. [default: dist/<deck-slug>-<previous>.apkg]")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes for big projects. [default: one per CPU core]")
@STRICT
def release_command(version: str, project_dir: Path, allow_empty_cards: bool, allow_note_type_change: bool,
                    previous: Path | None, jobs: int | None, strict: bool) -> None:
    """Release VERSION: check, write dist/<deck-slug>-VERSION.apkg and its release notes (.md), record it in deckgen.lock.

    Only a release binds later builds: its card ids are never reused and its GUIDs never change.
    The notes cover everything since the previous release, with Anki searches for the notes it
    retires or leaves with empty cards. With the previous release's package at hand and the anki
    extra installed (pip install 'deckgen[rehearse]'), the release is imported on top of it first.
    """
    from .editor.schemas import refresh_schemas
    from .release.make import ReleaseOptions, release

    options = ReleaseOptions(BuildOptions(strict=strict, allow_note_type_change=allow_note_type_change, jobs=jobs),
                             allow_empty_cards, previous)
    result = release(project_dir, version, options)
    refresh_schemas(project_dir)
    _echo_warnings(result.project)
    click.echo(f"wrote {result.package}: {result.project.layout_lines()[0]}")
    for line in result.notes.lines():
        click.echo(f"  {line}")
    if result.rehearsal is not None:
        click.echo(f"rehearsed on {result.previous_package}:")
        for line in result.rehearsal.lines():  # type: ignore[attr-defined]
            click.echo(f"  {line}")
        if getattr(result.rehearsal, "loses_anything", False):
            click.echo("warning: the rehearsal says learners of the previous release lose something (above)", err=True)
    else:
        click.echo(f"not rehearsed: {result.rehearsal_skipped}")
    click.echo(f"wrote {result.notes_path}: the release notes for learners; commit {result.project.config.root / 'deckgen.lock'}")
