"""The command line: a thin click layer over deckgen.build (and deckgen.preview)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Iterator

import click

from . import __version__
from .build import BuildOptions, Progress, Project, build, prepare
from .load import find_card_files
from .problems import ProjectError, summary, warnings

PROJECT_DIR = click.argument(
    "project_dir", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path),
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
@STRICT
def build_command(project_dir: Path, output: Path | None, frozen: bool, report: Path | None,
                  allow_note_type_change: bool, strict: bool) -> None:
    """Check the project and write an .apkg that Anki imports.

    Nothing is written if any check fails: the previous package stays as it was. The lock file
    (deckgen.lock) records when each card last changed; commit it with the sources.
    """
    options = BuildOptions(output, frozen, strict, allow_note_type_change, report)
    with _progress(project_dir) as progress:
        result = build(project_dir, options, progress)
    _echo_warnings(result.project)
    _echo_summary(result.project, result.output)


@main.command("check")
@PROJECT_DIR
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the problems.")
@STRICT
def check_command(project_dir: Path, output_format: str, strict: bool) -> None:
    """Check everything `build` would use, without writing anything.

    Exits 0 when the project is clean, 1 when it has problems.
    """
    try:
        with _progress(project_dir) as progress:
            project = prepare(project_dir, BuildOptions(strict=strict), progress)
    except ProjectError as exc:
        if output_format == "json":
            click.echo(_json_report(exc.problems, ok=False))
            sys.exit(1)
        raise
    if output_format == "json":
        click.echo(_json_report(project.problems, ok=True))
        return
    _echo_warnings(project)
    click.echo(f"{len(project.notes)} cards checked: {summary(project.problems)}")


def _json_report(problems: list, ok: bool) -> str:  # type: ignore[type-arg]
    return json.dumps({"ok": ok, "summary": summary(problems), "problems": [p.to_json() for p in problems]},
                      indent=2)


@contextlib.contextmanager
def _progress(project_dir: Path) -> Iterator[Progress | None]:
    """A progress bar over card files on a terminal, for projects big enough to wait for."""
    files = len(find_card_files(project_dir)) if sys.stderr.isatty() else 0
    if files < 20:
        yield None
        return
    with click.progressbar(length=files, label="Reading cards", file=sys.stderr) as bar:
        yield bar.update


def _echo_warnings(project: Project) -> None:
    for problem in warnings(project.problems):
        click.echo(str(problem), err=True)


def _echo_summary(project: Project, output: Path) -> None:
    counts = project.cards_per_group()
    click.echo(f"wrote {output}: {len(project.notes)} notes in {sum(1 for n in counts.values() if n)} subdecks")
    width = max(len(title) for title in project.config.groups.values())
    for group, count in counts.items():
        click.echo(f"  {project.config.groups[group]:<{width}}  {count}")
    for line in project.report.lines(project.config):
        click.echo(f"  {line}")
