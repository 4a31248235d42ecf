"""The zip of an .apkg or .colpkg: which collection it holds, its media map, its media files.

Legacy packages hold `collection.anki2` (or `collection.anki21`) and a JSON media map; current
ones hold a zstd-compressed `collection.anki21b` (with a dummy `collection.anki2` beside it for
old Anki versions), a `meta` message giving the version, and a zstd-compressed protobuf media
map whose entries name the zip members "0", "1", ... holding zstd-compressed files.

Everything is read within the ceilings of `deckgen.safety.package_limits`, counted as it is
unpacked: the collection goes to a scratch file, and a media file is read only when asked for.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from ..problems import Problem, ProjectError
from ..safety.package_limits import (
    MAX_COLLECTION_BYTES,
    MAX_MEDIA_BYTES,
    MAX_MEDIA_FILES,
    MAX_MEDIA_MAP_BYTES,
    MAX_MEDIA_TOTAL,
    MAX_ZIP_MEMBERS,
)
from . import protobuf

LEGACY_1, LEGACY_2, LATEST = 1, 2, 3  # PackageMetadata.Version
_CHUNK = 1 << 20
_META_BYTES = 1 << 16


class PackageTooBig(Exception):
    """A part of the package unpacks to more than deckgen will hold."""


class Damaged(ValueError):
    """A part of the package is not what Anki writes: the message names the part."""


COLLECTIONS = {LATEST: "collection.anki21b", LEGACY_2: "collection.anki21", LEGACY_1: "collection.anki2"}


@dataclass
class Archive:
    """An open package: the version of the collection inside and how to read its parts."""

    path: Path
    zip: zipfile.ZipFile
    version: int
    media_read: int = 0  # bytes of media unpacked so far

    @property
    def collection_name(self) -> str:
        return COLLECTIONS[self.version]

    def extract_collection(self, target: Path) -> Path:
        """The collection as a plain SQLite file at target."""
        with self.zip.open(self.collection_name) as member, open(target, "wb") as out:
            stream = _decompressor().stream_reader(member) if self.version == LATEST else member
            written = 0
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                if written > MAX_COLLECTION_BYTES:
                    raise PackageTooBig(f"the collection unpacks to more than {MAX_COLLECTION_BYTES >> 30} GiB")
                out.write(chunk)
        return target

    def media_map(self) -> dict[str, str]:
        """Media file name -> zip member holding it."""
        if "media" not in self.zip.namelist():
            return {}
        with self.zip.open("media") as member:
            if self.version != LATEST:
                return _legacy_media_map(_bounded(member, MAX_MEDIA_MAP_BYTES, "the media map"))
            return _current_media_map(_bounded(_decompressor().stream_reader(member), MAX_MEDIA_MAP_BYTES,
                                               "the media map"))

    def read_media(self, member: str, name: str) -> bytes | None:
        """A media file's content, or None if the package lacks it; counted against the media budgets."""
        try:
            info = self.zip.getinfo(member)
        except KeyError:
            return None
        self.media_fits(name, info.file_size)
        with self.zip.open(info) as stream:
            reader = _decompressor().stream_reader(stream) if self.version == LATEST else stream
            data = _read_up_to(reader, min(MAX_MEDIA_BYTES, MAX_MEDIA_TOTAL - self.media_read) + 1)
        self.media_fits(name, len(data))
        self.media_read += len(data)
        return data

    def media_fits(self, name: str, size: int) -> None:
        """Refuse a media file past its own ceiling or the ceiling of all media read."""
        if size > MAX_MEDIA_BYTES:
            raise PackageTooBig(f"media file {name!r} is larger than {MAX_MEDIA_BYTES >> 20} MiB")
        if self.media_read + size > MAX_MEDIA_TOTAL:
            raise PackageTooBig(f"the media files that notes use come to more than {MAX_MEDIA_TOTAL >> 20} MiB")


def _bounded(stream: IO[bytes], cap: int, what: str) -> bytes:
    """At most `cap` bytes of a stream; refused past them."""
    data = _read_up_to(stream, cap + 1)
    if len(data) > cap:
        raise PackageTooBig(f"{what} unpacks to more than {cap >> 20} MiB")
    return data


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes, however few each read of the stream gives."""
    parts, left = [], size
    while left > 0 and (chunk := stream.read(min(left, _CHUNK))):
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _legacy_media_map(raw: bytes) -> dict[str, str]:
    """The JSON map of a legacy package: {"0": "name.png", ...}."""
    try:
        entries = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Damaged(f"the media map is not JSON ({exc})") from None
    if not isinstance(entries, dict):
        raise Damaged(f"the media map is a JSON {type(entries).__name__}, not an object of member: name")
    _count_media(len(entries))
    found = {}
    for member, name in entries.items():
        if not isinstance(name, str):
            raise Damaged(f"the media map gives member {member!r} the name {name!r}, which is not text")
        found[name] = member
    return found


def _current_media_map(raw: bytes) -> dict[str, str]:
    """The protobuf map of a current package: MediaEntries, read entry by entry and stopped at the ceiling."""
    found = {}
    try:
        for index, (number, entry) in enumerate(protobuf.fields(raw)):
            _count_media(index + 1)
            if number != 1:
                continue
            fields = protobuf.parse(entry) if isinstance(entry, bytes) else {}
            legacy = fields.get(255)  # MediaEntry.legacy_zip_filename, a uint32
            if legacy and not isinstance(legacy[-1], int):
                raise Damaged(f"entry {index} of the media map names its zip member in the wrong type")
            found[protobuf.text(fields, 1)] = str(legacy[-1] if legacy else index)
    except (protobuf.WireError, UnicodeDecodeError) as exc:
        raise Damaged(f"the media map is damaged ({exc})") from None
    return found


def _count_media(entries: int) -> None:
    if entries > MAX_MEDIA_FILES:
        raise PackageTooBig(f"the media map lists more than {MAX_MEDIA_FILES:,} files")


def open_archive(path: Path) -> Archive:
    """Open a package, or raise ProjectError saying what is wrong with it."""
    where = str(path)
    if not path.is_file():
        raise ProjectError([Problem(where, message="no such file")])
    if not zipfile.is_zipfile(path):
        raise ProjectError([Problem(where, message="not an Anki package: the file is not a zip archive",
                                    hint="deckgen import reads .apkg, .colpkg, Anki text exports and CSV files")])
    _check_member_count(path)
    archive = zipfile.ZipFile(path)
    names = set(archive.namelist())
    version = _meta_version(archive, names, where)
    if version is None:
        version = next((v for v in (LEGACY_2, LEGACY_1) if COLLECTIONS[v] in names), None)
    if version is None or COLLECTIONS[version] not in names:
        archive.close()
        raise ProjectError([Problem(where, message="the zip holds no Anki collection "
                                    "(no collection.anki21b, collection.anki21 or collection.anki2)",
                                    hint="is this an Anki package?")])
    return Archive(path, archive, version)


def _check_member_count(path: Path) -> None:
    """Refuse a zip whose directory lists more members than a package has, before reading that directory."""
    with open(path, "rb") as handle:
        end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]  # the end record: where zipfile starts
    if end and end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ZIP_MEMBERS:  # type: ignore[attr-defined]
        raise PackageTooBig(f"the zip lists more than {MAX_ZIP_MEMBERS:,} members")


def _meta_version(archive: zipfile.ZipFile, names: set[str], where: str) -> int | None:
    if "meta" not in names:
        return None
    try:
        with archive.open("meta") as member:
            version = protobuf.integer(protobuf.parse(_bounded(member, _META_BYTES, "meta")), 1)
    except (protobuf.WireError, PackageTooBig):
        version = -1
    if version > LATEST or version < 0:
        archive.close()
        raise ProjectError([Problem(where, message=f"the package format (version {version}) is newer than "
                                    "deckgen understands (up to 3)",
                                    hint="export it again from Anki with 'Support older Anki versions' ticked")])
    return version or None


@contextlib.contextmanager
def package_problems(path: Path) -> Iterator[None]:
    """What goes wrong reading a package, said of the package."""
    import zstandard

    try:
        yield
    except PackageTooBig as exc:
        raise ProjectError([Problem(str(path), message=f"refused: {exc}",
                                    hint="a package this large is likely damaged or hostile")]) from None
    except Damaged as exc:
        raise ProjectError([Problem(str(path), message=str(exc), hint="export it from Anki again")]) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, UnicodeDecodeError, zstandard.ZstdError) as exc:
        raise ProjectError([Problem(str(path), message=f"the package is damaged ({exc})",
                                    hint="export it from Anki again")]) from None
    except OSError as exc:
        raise ProjectError([Problem(str(path), message=f"cannot be read or unpacked ({exc.strerror or exc})")
                            ]) from None


def _decompressor():  # type: ignore[no-untyped-def]
    import zstandard

    return zstandard.ZstdDecompressor()
