"""The build cache: what each card file compiled to, and a stamp of the last build's inputs.

An entry is keyed by the file's content and by everything else that shaped the result (deckgen's
version, deckgen.yaml, every template file): an unchanged file is neither parsed nor rendered
again. Entries are JSON (read and written with orjson), never pickle, so that a cache folder that
came with someone else's project cannot run code; an entry that does not read back exactly is ignored and rebuilt.

This module imports nothing heavy: the "nothing changed" check runs before the pipeline loads.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

import orjson

from . import __version__

CACHE_DIR = ".deckgen-cache"
_FORMAT = 2
_PROJECT_INPUTS = ("deckgen.yaml", "deckgen.lock")
_BUILTIN_TEMPLATES = Path(__file__).parent / "templates"


def digest(data: bytes) -> str:
    """A content hash for cache keys."""
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """deckgen's own code: a cache entry made by other code is stale, whatever the version says."""
    package = Path(__file__).parent
    return digest(b"".join(path.read_bytes() for path in sorted(package.glob("*.py"))))


def context_key(config_bytes: bytes, template_files: dict[str, bytes]) -> str:
    """What shapes every file's result besides the file itself."""
    parts = [__version__.encode(), code_fingerprint().encode(), config_bytes]
    for name in sorted(template_files):
        parts += [name.encode(), template_files[name]]
    return digest(b"\x00".join(parts))


def _write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(temporary, path)


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

    def _entry(self, path: str) -> Path:
        return self.folder / "files" / (digest(path.encode())[:32] + ".json")

    def _header(self, path: str, content: str, summary: bytes) -> bytes:
        return orjson.dumps({"format": _FORMAT, "context": self.context, "path": path, "content": content,
                             "summary": digest(summary)})

    def load(self, path: str, content: str, fields: bool = True) -> tuple[dict[str, Any], Any] | None:
        """The cached (summary, fields) for this content, or None when missing, stale or damaged.

        An entry is a header line (what it was made from, and a checksum of the summary), the
        summary, and the field text with its own checksum: anything truncated, edited or from
        another deckgen fails a comparison. Without `fields`, the field text is not even parsed.
        """
        try:
            with self._entry(path).open("rb") as entry:
                header, summary = entry.readline().rstrip(b"\n"), entry.readline().rstrip(b"\n")
                if header != self._header(path, content, summary):
                    return None
                texts = None
                if fields:
                    checksum, texts = entry.readline().rstrip(b"\n"), entry.read()
                    if checksum != digest(texts).encode():
                        return None
            result = orjson.loads(summary), orjson.loads(texts) if texts is not None else None
        except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
            return None
        return result if isinstance(result[0], dict) and (result[1] is None or isinstance(result[1], list)) else None

    def store(self, path: str, content: str, summary: dict[str, Any], fields: list[list[str]]) -> None:
        """Remember one file's result (a cache that cannot be written is only slower)."""
        summary_bytes, texts = orjson.dumps(summary), orjson.dumps(fields)
        entry = b"\n".join([self._header(path, content, summary_bytes), summary_bytes, digest(texts).encode(), texts])
        try:
            _ensure_ignored(self.folder)
            _write_atomic(self._entry(path), entry)
        except OSError:
            pass


def _tree_files(folder: Path) -> Iterable[Path]:
    if folder.is_dir():
        yield from sorted(p for p in folder.rglob("*") if p.is_file())


def input_stamp(root: Path, output: Path | None, settings: str, media: str) -> str:
    """A hash of every input of a build, read as bytes (nothing parsed): equal stamps, equal packages.

    `media` is the project's media folder, as the config named it at the last build (a change of
    the setting changes deckgen.yaml, and so the stamp, anyway).
    """
    target = str(output.resolve()) if output else "<default>"
    hasher = hashlib.sha256(f"{__version__}\x00{code_fingerprint()}\x00{target}\x00{settings}".encode())
    for name in _PROJECT_INPUTS:
        path = root / name
        hasher.update(name.encode() + b"\x00" + (path.read_bytes() if path.is_file() else b"-"))
    for folder in (root / "cards", root / "templates", root / "note_types", _BUILTIN_TEMPLATES):
        for path in _tree_files(folder):
            hasher.update(str(path).encode() + b"\x00" + path.read_bytes())
    for path in _tree_files(root / media):
        stat = path.stat()
        hasher.update(f"{path}\x00{stat.st_size}\x00{stat.st_mtime_ns}".encode())
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
        record = json.loads((root / CACHE_DIR / "stamp.json").read_text(encoding="utf-8"))
        written = Path(record["output"])
        current = record["stamp"] == input_stamp(root, output, settings, record["media"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not current or record.get("package") != _output_fingerprint(written):
        return None
    return written


def record_build(root: Path, output: Path | None, written: Path, settings: str, media: str) -> None:
    """Remember the inputs of the build that just wrote `written` (asked for as `output`)."""
    record = {"stamp": input_stamp(root, output, settings, media), "output": str(written.resolve()),
              "package": _output_fingerprint(written), "media": media}
    try:
        _ensure_ignored(root / CACHE_DIR)
        _write_atomic(root / CACHE_DIR / "stamp.json", json.dumps(record))
    except OSError:
        pass
