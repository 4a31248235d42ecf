"""Problems found in a project, located like a compiler's diagnostics."""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, astuple, dataclass
from typing import Iterable

import click

ERROR = "error"
WARNING = "warning"
NOTE = "note"  # something deckgen did that the author should know of; never fails a build


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a project, with where it is and how to fix it."""

    path: str
    line: int = 0
    column: int = 0
    message: str = ""
    card: str | None = None
    hint: str | None = None
    severity: str = ERROR

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}:{self.column}" if self.column else f":{self.line}"
        what = f"card '{self.card}': {self.message}" if self.card else self.message
        if self.hint:
            what += f" ({self.hint})"
        prefix = f"{self.severity}: " if self.severity != ERROR else ""
        line = printable(f"{where}: {prefix}{what}")
        return "./" + line if line.startswith("::") else line  # never a line a CI runner reads as a command

    def to_json(self) -> dict[str, object]:
        """The problem as a plain dict, for `--format json`."""
        return asdict(self)

    def to_row(self) -> tuple[object, ...]:
        """The problem as a plain tuple, for the build cache."""
        return astuple(self)

    @classmethod
    def from_row(cls, row: list[object]) -> Problem:
        """A problem back from the build cache (raises on a malformed row)."""
        path, line, column, message, card, hint, severity = row
        optional = (lambda value: None if value is None else str(value))
        return cls(str(path), int(line), int(column), str(message), optional(card), optional(hint),  # type: ignore[arg-type]
                   str(severity))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A suggestion for a misspelt name, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that stop a build."""
    return [p for p in problems if p.severity == ERROR]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that are only reported."""
    return [p for p in problems if p.severity == WARNING]


def blocking(problems: Iterable[Problem], strict: bool) -> list[Problem]:
    """The problems that stop a build: errors, and warnings too under --strict."""
    return [p for p in problems if p.severity != NOTE] if strict else errors(problems)


def github_annotation(problem: Problem, path: str) -> str:
    """The problem as a GitHub Actions workflow command (`::error file=...,line=...,col=...::...`)."""
    kind = {ERROR: "error", WARNING: "warning"}.get(problem.severity, "notice")
    where = [f"file={_escape(printable(path, breaks=True), True)}"]
    if problem.line:
        where.append(f"line={problem.line}")
        if problem.column:
            where.append(f"col={problem.column}")
    text = f"card '{problem.card}': {problem.message}" if problem.card else problem.message
    if problem.hint:
        text += f" ({problem.hint})"
    return f"::{kind} {','.join(where)}::{_escape(printable(text, breaks=True), False)}"


# Control characters (terminal escape sequences, line breaks), line and paragraph separators, bidi controls.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, breaks: bool = False) -> str:
    """Text from a project as a terminal or a CI log may show it: every control character written as an escape,
    so that no escape sequence reaches the terminal and no line break starts a line of the project's making.

    `breaks`: keep line breaks (GitHub's own escaping writes them as %0A).
    """
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(_kept_breaks if breaks else _escaped, text)


def _kept_breaks(match: re.Match[str]) -> str:
    return match.group() if match.group() in "\r\n" else _escaped(match)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def _escape(text: str, is_property: bool) -> str:
    """GitHub's escaping of workflow command values: %, line breaks, and ':' ',' in properties."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if is_property else text


def summary(problems: list[Problem]) -> str:
    """'2 errors, 1 warning'."""
    counts = [(len(errors(problems)), "error"), (len(warnings(problems)), "warning")]
    return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)


class ProjectError(click.ClickException):
    """A project that cannot be built: its problems, located, and exit code 1."""

    exit_code = 1

    def __init__(self, problems: list[Problem], strict: bool = False) -> None:
        self.problems = sorted(problems, key=_sort_key)
        self.strict = strict
        super().__init__(self._text(strict))

    def read_only(self) -> ProjectError:
        """The same problems, summed up for a command that never writes (check, lint)."""
        error = ProjectError(self.problems, self.strict)
        error.message = error.message.replace("; nothing was written", "")  # type: ignore[misc]
        return error

    def _text(self, strict: bool) -> str:
        lines = [str(p) for p in self.problems]
        tail = f"{summary(self.problems)}; nothing was written"
        if strict and warnings(self.problems):
            tail += " (--strict: warnings count as errors)"
        return "\n".join(lines + [tail])

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        """Print the problems without click's 'Error:' prefix on the first one."""
        click.echo(self.format_message(), err=True, file=file)


def _sort_key(problem: Problem) -> tuple[object, ...]:
    return (problem.path, problem.line, problem.column, problem.message)
