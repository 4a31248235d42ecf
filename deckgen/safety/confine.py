"""Confinement: a project reads only files inside its folder, and deckgen never writes onto its sources.

A project may come from a stranger, zipped or cloned with symlinks in it. Every file deckgen
reads for a project is resolved (links followed) and refused, as a located problem, when it ends
up outside the project folder; every place deckgen writes is checked against the project's
sources and against links on the way to it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Callable

import jinja2

from .limits import MAX_FILE_BYTES
from ..problems import Problem, ProjectError

SOURCES = ("deckgen.yaml", "deckgen.lock", "cards", "templates", "note_types", ".deckgen-cache")
_COPY_IT = "copy the file into the project instead of linking to it"


def shown_name(text: str) -> str:
    """A path as messages can print it (a name that is not UTF-8 keeps its bytes as \\x escapes)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_inside(path: Path, *folders: Path) -> bool:
    """Whether a path, with every link followed, is inside one of the folders."""
    target = path.resolve()
    return any(target.is_relative_to(folder.resolve()) for folder in folders)


def read_inside(path: Path, shown: str, problems: list[Problem], *folders: Path, parent_inside: bool = False
                ) -> bytes | None:
    """A project file's bytes; None with a located problem when it leads outside `folders` or is too big.

    `parent_inside`: the caller knows the file's folder is inside (card files, found without
    following links): then only a link in the file's own place can lead out.
    """
    printable = shown_name(shown)
    if printable != shown or _bad_name(path.name):
        shown = printable
        problems.append(Problem(shown, message="the file name is not UTF-8 text", hint="rename the file"))
        return None
    if parent_inside:
        before = len(problems)
        data = _read_unlinked(path, shown, problems)
        if data is not None or len(problems) > before:
            return data
    if not is_inside(path, *folders):
        problems.append(Problem(shown, message="this is a link to a file outside the project", hint=_COPY_IT))
        return None
    try:
        refused = _unreadable(path.stat(), shown)
        if refused is not None:
            problems.append(refused)
            return None
        return path.read_bytes()
    except OSError as exc:
        problems.append(Problem(shown, message=f"cannot read the file: {exc.strerror or exc}"))
        return None


def _read_unlinked(path: Path, shown: str, problems: list[Problem]) -> bytes | None:
    """A file that is not a link, read with one open (None, no problem: it is a link, check it the long way)."""
    try:
        if not hasattr(os, "O_NOFOLLOW"):  # no way to refuse a link in the same call: the long way
            return None
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        problems.append(Problem(shown, message=f"cannot read the file: {exc.strerror or exc}"))
        return None
    with os.fdopen(handle, "rb") as stream:
        refused = _unreadable(os.fstat(handle), shown)
        if refused is not None:
            problems.append(refused)
            return None
        return stream.read()


def _unreadable(info: os.stat_result, shown: str) -> Problem | None:
    """Why a file deckgen is about to read is refused: a FIFO or device would block, a huge file exhaust memory."""
    if not stat.S_ISREG(info.st_mode):
        return Problem(shown, message="this is not a regular file", hint="keep plain files in a project")
    if info.st_size > MAX_FILE_BYTES:
        return Problem(shown, message=f"the file is larger than deckgen's limit of "
                       f"{MAX_FILE_BYTES // (1024 * 1024)} MiB", hint="split it into smaller files")
    return None


def _bad_name(name: str) -> bool:
    try:
        name.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


class RefusedTemplate(jinja2.TemplateError):
    """A template file deckgen will not read: a link out of the project, or too big."""

    def __init__(self, name: str, filename: str, reason: str) -> None:
        super().__init__(f"template '{name}' is refused: {reason}")
        self.name, self.filename, self.reason = name, filename, reason


class ConfinedLoader(jinja2.FileSystemLoader):
    """The project's templates/: a template (or the folder itself) linking outside the project is refused."""

    def __init__(self, folder: Path, root: Path) -> None:
        super().__init__(str(folder))
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool] | None]:
        self._check_file(template)
        source, filename, uptodate = super().get_source(environment, template)
        path = Path(filename)
        if not is_inside(path, self.root):
            raise RefusedTemplate(template, filename, "it is a link to a file outside the project")
        if len(source) > MAX_FILE_BYTES:
            raise RefusedTemplate(template, filename, "it is larger than deckgen's limit for a file")
        return source, filename, uptodate


    def _check_file(self, template: str) -> None:
        """Refuse a template by its kind and size before Jinja reads it (a FIFO, a file of gigabytes)."""
        pieces = jinja2.loaders.split_template_path(template)
        for folder in self.searchpath:
            candidate = os.path.join(folder, *pieces)
            try:
                info = os.stat(candidate)
            except (OSError, ValueError):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise RefusedTemplate(template, candidate, "it is not a regular file")
            if info.st_size > MAX_FILE_BYTES:
                raise RefusedTemplate(template, candidate, "it is larger than deckgen's limit for a file")
            return


def _links_on_the_way(root: Path, target: Path) -> Path | None:
    """The first symlink between the project folder and `target` (inclusive), if any."""
    base = Path(os.path.abspath(root))
    lexical = Path(os.path.abspath(target))
    if not lexical.is_relative_to(base):
        return None
    current = base
    for part in lexical.relative_to(base).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def output_problem(root: Path, target: Path, media: str = "media", what: str = "the package") -> Problem | None:
    """Why deckgen must not write `target`: a project source, or a link on the way inside the project."""
    shown = shown_name(str(target))
    link = _links_on_the_way(root, target)
    if link is not None:
        return Problem(shown, message=f"cannot write {what} here: {shown_name(str(link))} is a link",
                       hint="deckgen never writes through a link inside the project; remove it or pass another -o")
    if _special(target):
        return Problem(shown, message=f"cannot write {what} here: it is not a regular file (a FIFO, socket or device)",
                       hint="remove it, or pass another -o")
    resolved, project = target.resolve(), root.resolve()
    if resolved == project or project.is_relative_to(resolved):
        return Problem(shown, message=f"cannot write {what} here: it is the project folder or contains it")
    for name in (*SOURCES, media):
        source = project / name
        if resolved == source or resolved.is_relative_to(source):
            return Problem(shown, message=f"cannot write {what} here: it is the project's source '{name}'",
                           hint="name a file of its own, e.g. -o dist/deck.apkg")
    return None


def _special(path: Path) -> bool:
    """Whether something other than a file or folder is there: writing would block on a FIFO or reach a device."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))


def check_output(root: Path, target: Path, media: str = "media", what: str = "the package") -> None:
    """Raise a ProjectError when `target` is not somewhere deckgen may write."""
    problem = output_problem(root, target, media, what)
    if problem is not None:
        raise ProjectError([problem])


def setting_inside(root: Path, value: str) -> bool:
    """Whether a path setting of deckgen.yaml stays inside the project (relative, no '..' out, no link out)."""
    if Path(value).is_absolute() or "\x00" in value:
        return False
    lexical = Path(os.path.abspath(root / value))
    return lexical.is_relative_to(os.path.abspath(root)) and is_inside(root / value, root)



def read_regular(path: Path, limit: int) -> bytes | str:
    """A regular file's bytes, or why not (a FIFO or device is never waited on, nor a file past `limit` read)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            return "this is not a regular file"
        if info.st_size > limit:
            return f"the file is larger than deckgen's limit of {limit // (1024 * 1024)} MiB"
        data = stream.read(limit + 1)
    return data if len(data) <= limit else f"the file is larger than deckgen's limit of {limit // (1024 * 1024)} MiB"
