"""The build cache: what each card file compiled to, and a stamp of the last build's inputs.

An entry is keyed by the file's content and by everything else that shaped the result (deckgen's
version, deckgen.yaml, every template file): an unchanged file is neither parsed nor rendered
again. Entries are JSON (read and written with orjson), never pickle, so that a cache folder that
came with someone else's project cannot run code; an entry that does not read back exactly is ignored and rebuilt.

A cache folder and a build stamp may also come with someone else's project, crafted. Every entry
and the stamp therefore carry an HMAC made with a secret that never leaves this machine (kept in
the user's cache folder, `$XDG_CACHE_HOME/deckgen/secret`, readable by the user only): what this
machine did not write fails the comparison and is rebuilt. deckgen never writes through a cache
folder that is a link.

This module imports nothing heavy: the "nothing changed" check runs before the pipeline loads.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Iterable

import orjson

from .. import __version__
from ..safety.limits import MAX_FILE_BYTES

CACHE_DIR = ".deckgen-cache"
_FORMAT = 4
_PROJECT_INPUTS = ("deckgen.yaml", "deckgen.lock")
_PACKAGE = Path(__file__).parents[1]  # deckgen/
_BUILTIN_TEMPLATES = _PACKAGE / "project" / "builtin_card_types"
_COMPILING_CODE = ("", "anki", "build", "project", "safety")  # the packages whose code shapes a file's result


_SECRET_BYTES = 32


def _secret_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deckgen" / "secret"


@functools.lru_cache(maxsize=1)
def machine_secret() -> bytes:
    """This user's key for the cache's HMACs; made once, 0600. Without a place for it: one per process."""
    path = _secret_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            handle = -1
        if handle >= 0:
            with os.fdopen(handle, "wb") as stream:
                stream.write(secrets.token_bytes(_SECRET_BYTES))
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(handle, "rb") as stream:
            info = os.fstat(stream.fileno())
            secret = stream.read(_SECRET_BYTES + 1)
        if len(secret) == _SECRET_BYTES and info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return secret
    except (OSError, AttributeError):
        pass
    return secrets.token_bytes(_SECRET_BYTES)


def mac(*parts: bytes) -> str:
    """An HMAC of the parts with this machine's secret: only this machine can make it."""
    return hmac.digest(machine_secret(), b"\x00".join(parts), "sha256").hex()


def _nofollow(path: str, flags: int) -> int:
    """Open a cache file: never through a link, never waiting on a FIFO, never a device."""
    handle = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise OSError(errno.EINVAL, "not a regular file", path)
    return handle


def _linked(*paths: Path) -> bool:
    """Whether any of these is a link (the cache never writes through one)."""
    return any(path.is_symlink() for path in paths)


def digest(data: bytes) -> str:
    """A content hash for cache keys."""
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """deckgen's own code: a cache entry made by other code is stale, whatever the version says."""
    files = sorted(path for folder in _COMPILING_CODE for path in (_PACKAGE / folder).glob("*.py"))
    return digest(b"".join(path.read_bytes() for path in files))


def context_key(config_bytes: bytes, template_files: dict[str, bytes]) -> str:
    """What shapes every file's result besides the file itself."""
    parts = [__version__.encode(), code_fingerprint().encode(), config_bytes]
    for name in sorted(template_files):
        parts += [name.encode(), template_files[name]]
    return digest(b"\x00".join(parts))


def _write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def _ensure_ignored(folder: Path) -> None:
    """Make the cache folder ignore itself in git, as pytest's cache does."""
    marker = folder / ".gitignore"
    if not marker.exists():
        _write_atomic(marker, "# deckgen's build cache: safe to delete, never commit\n*\n")


class FileCache:
    """Per card file: the compiled result of one exact content under one context."""

    def __init__(self, root: Path, context: str) -> None:
        self.folder = root / CACHE_DIR
        self.context = context
        self.writable = not _linked(self.folder, self.folder / "files")

    def _entry(self, path: str) -> Path:
        return self.folder / "files" / (digest(path.encode())[:32] + ".json")

    def _header(self, path: str, content: str, summary: bytes) -> bytes:
        signed = mac(self.context.encode(), path.encode("utf-8", "surrogateescape"), content.encode(), summary)
        return orjson.dumps({"format": _FORMAT, "path": path, "content": content, "mac": signed})

    def load(self, path: str, content: str, fields: bool = True) -> tuple[dict[str, Any], Any] | None:
        """The cached (summary, fields) for this content, or None when missing, stale or damaged.

        An entry is a header line (what it was made from, and a checksum of the summary), the
        summary, and the field text with its own checksum: anything truncated, edited or from
        another deckgen fails a comparison. Without `fields`, the field text is not even parsed.
        """
        try:
            with open(self._entry(path), "rb", opener=_nofollow) as entry:
                header, summary = entry.readline().rstrip(b"\n"), entry.readline().rstrip(b"\n")
                if header != self._header(path, content, summary):
                    return None
                texts = None
                if fields:
                    checksum, texts = entry.readline().rstrip(b"\n"), entry.read()
                    if checksum != mac(header, texts).encode():
                        return None
            result = orjson.loads(summary), orjson.loads(texts) if texts is not None else None
        except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
            return None
        return result if isinstance(result[0], dict) and (result[1] is None or isinstance(result[1], list)) else None

    def store(self, path: str, content: str, summary: dict[str, Any], fields: list[list[str]]) -> None:
        """Remember one file's result (a cache that cannot be written is only slower)."""
        if not self.writable:
            return
        summary_bytes, texts = orjson.dumps(summary), orjson.dumps(fields)
        header = self._header(path, content, summary_bytes)
        entry = b"\n".join([header, summary_bytes, mac(header, texts).encode(), texts])
        try:
            _ensure_ignored(self.folder)
            _write_atomic(self._entry(path), entry)
        except OSError:
            pass


def _tree_files(folder: Path) -> Iterable[Path]:
    if folder.is_dir() and not folder.is_symlink():  # a linked folder: its link is hashed, never walked
        yield from sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def _file_bytes(path: Path) -> bytes:
    """A file's bytes for the stamp; a link's target instead, never what is behind it."""
    if path.is_symlink():
        return b"link:" + os.readlink(path).encode("utf-8", "surrogateescape")
    try:
        with open(path, "rb", opener=_nofollow) as stream:
            info = os.fstat(stream.fileno())
            if info.st_size > MAX_FILE_BYTES:  # the build refuses it: its size and time stand for it
                return f"big:{info.st_size}:{info.st_mtime_ns}".encode()
            return stream.read()
    except OSError:
        return b"-"


def input_stamp(root: Path, output: Path | None, settings: str, media: str) -> str:
    """A hash of every input of a build, read as bytes (nothing parsed): equal stamps, equal packages.

    `media` is the project's media folder, as the config named it at the last build (a change of
    the setting changes deckgen.yaml, and so the stamp, anyway).
    """
    target = str(output.resolve()) if output else "<default>"
    hasher = hashlib.sha256(f"{__version__}\x00{code_fingerprint()}\x00{target}\x00{settings}".encode())
    for name in _PROJECT_INPUTS:
        path = root / name
        hasher.update(name.encode() + b"\x00" + _file_bytes(path))
    for folder in (root / "cards", root / "templates", root / "note_types", _BUILTIN_TEMPLATES):
        hasher.update(_file_bytes(folder) if folder.is_symlink() else b"")
        for path in _tree_files(folder):
            hasher.update(str(path).encode("utf-8", "surrogateescape") + b"\x00" + _file_bytes(path))
    for path in _tree_files(root / media):
        stat = path.lstat()
        hasher.update(f"{path}\x00{stat.st_size}\x00{stat.st_mtime_ns}".encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()


def _output_fingerprint(output: Path) -> list[int] | None:
    try:
        stat = output.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def current_package(root: Path, output: Path | None, settings: str) -> Path | None:
    """The package of the last build, if its inputs are exactly today's and it is untouched since.

    `output` is the path asked for (None: the project's default); the answer is where it is.
    """
    try:
        with open(root / CACHE_DIR / "stamp.json", "rb", opener=_nofollow) as stream:
            raw = stream.read(65536)
        record = json.loads(raw)
        signed = record.pop("mac")
        if not hmac.compare_digest(str(signed), mac(b"stamp", json.dumps(record, sort_keys=True).encode())):
            return None  # not written by this machine
        written = Path(record["output"])
        current = record["stamp"] == input_stamp(root, output, settings, record["media"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not current or record.get("package") != _output_fingerprint(written):
        return None
    return written


def record_build(root: Path, output: Path | None, written: Path, settings: str, media: str) -> None:
    """Remember the inputs of the build that just wrote `written` (asked for as `output`)."""
    record: dict[str, object] = {"stamp": input_stamp(root, output, settings, media),
                                 "output": str(written.resolve()), "package": _output_fingerprint(written),
                                 "media": media}
    record["mac"] = mac(b"stamp", json.dumps(record, sort_keys=True).encode())
    if _linked(root / CACHE_DIR):
        return
    try:
        _ensure_ignored(root / CACHE_DIR)
        _write_atomic(root / CACHE_DIR / "stamp.json", json.dumps(record))
    except OSError:
        pass
