"""Media: the files in media/ that notes refer to, confined to the project and named as Anki keeps them."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path, PurePath
from typing import Iterable

from ..project.config import ProjectConfig
from ..safety.confine import shown_name
from ..safety.limits import MAX_MEDIA_BYTES
from ..problems import WARNING, Problem
from .render import LATEX_IMAGE, RenderedNote

_ANKI_STRIPS = re.compile(r'[\[\]<>:"/?*^\\|\x00-\x1f\x7f]')
_MAX_NAME_BYTES = 120
_COPY_IT = "copy the file into the project instead"


def anki_name_problem(name: str) -> str | None:
    """Why Anki would rename a media file of this name on import, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not UTF-8 text"
    if unicodedata.normalize("NFC", name) != name:
        return "is not in Unicode NFC form"
    if _ANKI_STRIPS.search(name):
        return 'contains a character Anki removes ([]<>:"/?*^\\| or a control character)'
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        return f"is longer than Anki's {_MAX_NAME_BYTES} bytes"
    return None


def collect_media(
    config: ProjectConfig, notes: Iterable[RenderedNote], problems: list[Problem], unparsed: Iterable[bytes] = (),
) -> dict[str, Path]:
    """Every media file the package needs, by name; problems for anything missing or unsafe.

    `unparsed`: card files that could not be read; a file they name is taken as used, not reported unused.
    """
    media_dir = config.media_dir
    found: dict[str, Path] = {}
    referenced: set[str] = set()
    plain_files = _inside(media_dir, config.root) and _lexically_inside(media_dir, config.root)
    for note in notes:
        for name in note.media:
            referenced.add(name)
            if name in found:
                continue  # used by an earlier note too
            if LATEX_IMAGE.fullmatch(name) and not (media_dir / name).is_file():
                continue  # an image Anki renders from the note's LaTeX: shipped where the deck has it
            path = (_plain_file(media_dir, name) if plain_files else None) or _resolve(
                config, media_dir, name, note, problems)
            if path is not None and _small_enough(path, f"media file '{name}'", problems, note):
                found[name] = path
    for path in _template_media(config, media_dir, problems):
        if _small_enough(path, f"media file '{path.name}'", problems):
            found.setdefault(path.name, path)
    _warn_unused(config, media_dir, referenced, problems, b"\n".join(unparsed))
    return found


def media_digests(media: dict[str, Path]) -> dict[str, str]:
    """A hash of each media file's bytes: a note must reach learners again when a file it shows changes."""
    digests = {}
    for name, path in media.items():
        try:
            digests[name] = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
        except OSError:
            continue  # the package reports a file it cannot read
    return digests


def _small_enough(path: Path, what: str, problems: list[Problem], note: RenderedNote | None = None) -> bool:
    """Whether a media file fits deckgen's limit, told by its size on disk before anything reads it."""
    try:
        size = path.stat().st_size
    except OSError:
        return True  # the build reports it when it cannot read it
    if size <= MAX_MEDIA_BYTES:
        return True
    where = (note.path, note.line, note.column) if note else (f"{path.parent.name}/{shown_name(path.name)}", 0, 0)
    problems.append(Problem(*where, f"{what} is larger than deckgen's limit of {MAX_MEDIA_BYTES // 2**20} MiB",
                            note.card_id if note else None, "make the file smaller, or split it"))
    return False


def _lexically_inside(path: Path, folder: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))


def _plain_file(media_dir: Path, name: str) -> Path | None:
    """The file of a plain name that _resolve would accept, found with one system call (None: ask _resolve).

    For a media folder inside the project, a name without folders that is a regular file there
    (not a link) passes every check of _resolve; anything else goes through them one by one.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name or anki_name_problem(name):
        return None
    target = media_dir / name
    try:
        return target if stat.S_ISREG(os.lstat(target).st_mode) else None
    except (OSError, ValueError):
        return None


def check_media(config: ProjectConfig, note: RenderedNote, problems: list[Problem]) -> None:
    """Problems for the media files a note names that the package could not take (missing, outside, ...)."""
    for name in note.media:
        if not (LATEX_IMAGE.fullmatch(name) and not (config.media_dir / name).is_file()):
            _resolve(config, config.media_dir, name, note, problems)


def _inside(path: Path, folder: Path) -> bool:
    """Whether a path, with its links followed, is inside a folder."""
    return path.resolve().is_relative_to(folder.resolve())


def _resolve(
    config: ProjectConfig, media_dir: Path, name: str, note: RenderedNote, problems: list[Problem]
) -> Path | None:
    """The file a note refers to, if it is a plain name of a file inside the project's media folder."""
    def report(message: str, hint: str | None = None) -> None:
        problems.append(Problem(note.path, *_where_named(config.root / note.path, note, name), message,
                                note.card_id, hint))

    lexical = Path(os.path.abspath(media_dir / name.replace("\\", "/")))  # '..' resolved, links not followed
    if Path(name).is_absolute() or not lexical.is_relative_to(os.path.abspath(config.root)):
        report(f"media '{name}' is outside the project", f"put the file in {config.media}/ and refer to it by name")
        return None
    if not lexical.is_relative_to(os.path.abspath(media_dir)):
        report(f"media '{name}' is outside {config.media}/", f"put the file in {config.media}/ and refer to it by name")
        return None
    if "/" in name or "\\" in name:
        report(f"media '{name}' is not a file name in {config.media}/: Anki's media has no folders",
               f"put it directly in {config.media}/ and refer to it as '{PurePath(name).name}'")
        return None
    why = anki_name_problem(name)
    if why:
        report(f"media name '{name}' {why}, so Anki would rename it and the card would lose it", "rename the file")
        return None
    target = media_dir / name
    if not target.is_file():
        if name in config.missing_media:
            problems.append(Problem(note.path, note.line, note.column, f"media file '{name}' is missing (listed "
                                    "under missing_media): the card names it without it", note.card_id,
                                    f"put it into {config.media}/ and drop it from missing_media", WARNING))
        else:
            report(f"media file '{name}' not found in {config.media}/",
                   f"put it into {config.media}/, or list it under missing_media in deckgen.yaml to build without it")
        return None
    if not _inside(target, config.root):
        report(f"media '{name}' is a link to a file outside the project", _COPY_IT)
        return None
    return target


def _where_named(path: Path, note: RenderedNote, name: str) -> tuple[int, int]:
    """Where the card names a media file (the field that holds it), or the card's own place if it cannot be told."""
    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError):
        return note.line, note.column
    for number in range(note.line - 1, min(len(lines), note.line + 500)):
        column = lines[number].find(name, note.column - 1 if number == note.line - 1 else 0)
        if column >= 0:
            return number + 1, column + 1
    return note.line, note.column  # named by its card type's template, not by the card


def _template_media(config: ProjectConfig, media_dir: Path, problems: list[Problem]) -> list[Path]:
    """Files whose names start with '_': Anki keeps them for templates even when no note uses them."""
    if not media_dir.is_dir():
        return []
    with os.scandir(media_dir) as entries:
        files = sorted(media_dir / entry.name for entry in entries if entry.name.startswith("_") and entry.is_file())
    usable = []
    for path in files:
        shown = f"{config.media}/{shown_name(path.name)}"
        why = anki_name_problem(path.name)
        if not _inside(path, config.root):
            problems.append(Problem(shown, message="this is a link to a file outside the project", hint=_COPY_IT))
        elif why:
            problems.append(Problem(shown, message=f"media name {why}, so Anki would rename it", hint="rename the file"))
        else:
            usable.append(path)
    return usable


def _warn_unused(config: ProjectConfig, media_dir: Path, used: set[str], problems: list[Problem],
                 unparsed: bytes = b"") -> None:
    if not media_dir.is_dir():
        return
    with os.scandir(media_dir) as entries:  # names first: most files are used, and need no system call
        unused = sorted(entry.name for entry in entries
                        if entry.name not in used and not entry.name.startswith((".", "_")) and entry.is_file())
    unused = [name for name in unused if os.fsencode(name) not in unparsed] if unparsed else unused
    for name in unused:
        problems.append(Problem(f"{config.media}/{shown_name(name)}", message="media file is not used by any card",
                                severity=WARNING, hint="it is left out of the package"))
