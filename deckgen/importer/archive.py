"""The zip of an .apkg or .colpkg: which collection it holds, its media map, its media files.

Legacy packages hold `collection.anki2` (or `collection.anki21`) and a JSON media map; current
ones hold a zstd-compressed `collection.anki21b` (with a dummy `collection.anki2` beside it for
old Anki versions), a `meta` message giving the version, and a zstd-compressed protobuf media
map whose entries name the zip members "0", "1", ... holding zstd-compressed files.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..problems import Problem, ProjectError
from . import protobuf

LEGACY_1, LEGACY_2, LATEST = 1, 2, 3  # PackageMetadata.Version
MAX_COLLECTION_BYTES = 4 << 30  # unpacked: a package from a stranger may be a decompression bomb
MAX_MEDIA_BYTES = 256 << 20  # one media file, unpacked (AnkiWeb syncs none over 100 MB)
_CHUNK = 1 << 20


class PackageTooBig(Exception):
    """A part of the package unpacks to more than deckgen will hold."""
COLLECTIONS = {LATEST: "collection.anki21b", LEGACY_2: "collection.anki21", LEGACY_1: "collection.anki2"}


@dataclass
class Archive:
    """An open package: the version of the collection inside and how to read its parts."""

    path: Path
    zip: zipfile.ZipFile
    version: int

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
        raw = self.zip.read("media")
        if self.version != LATEST:
            return {name: member for member, name in json.loads(raw or b"{}").items()}
        entries = protobuf.parse(_decompress(raw)).get(1, [])
        found = {}
        for index, entry in enumerate(entries):
            fields = protobuf.parse(entry) if isinstance(entry, bytes) else {}
            legacy_name = fields.get(255)
            found[protobuf.text(fields, 1)] = str(legacy_name[-1] if legacy_name else index)
        return found

    def read_media(self, member: str) -> bytes | None:
        """A media file's content, or None if the package lacks it."""
        try:
            info = self.zip.getinfo(member)
        except KeyError:
            return None
        if info.file_size > MAX_MEDIA_BYTES:
            raise PackageTooBig(f"media file {member} is larger than {MAX_MEDIA_BYTES >> 20} MiB")
        data = self.zip.read(info)
        return _decompress(data) if self.version == LATEST else data


def open_archive(path: Path) -> Archive:
    """Open a package, or raise ProjectError saying what is wrong with it."""
    where = str(path)
    if not path.is_file():
        raise ProjectError([Problem(where, message="no such file")])
    if not zipfile.is_zipfile(path):
        raise ProjectError([Problem(where, message="not an Anki package: the file is not a zip archive",
                                    hint="deckgen import reads .apkg, .colpkg, Anki text exports and CSV files")])
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


def _meta_version(archive: zipfile.ZipFile, names: set[str], where: str) -> int | None:
    if "meta" not in names:
        return None
    try:
        version = protobuf.integer(protobuf.parse(archive.read("meta")), 1)
    except protobuf.WireError:
        version = -1
    if version > LATEST or version < 0:
        archive.close()
        raise ProjectError([Problem(where, message=f"the package format (version {version}) is newer than "
                                    "deckgen understands (up to 3)",
                                    hint="export it again from Anki with 'Support older Anki versions' ticked")])
    return version or None


def _decompressor():  # type: ignore[no-untyped-def]
    import zstandard

    return zstandard.ZstdDecompressor()


def _decompress(data: bytes) -> bytes:
    """A zstd frame unpacked, refused past MAX_MEDIA_BYTES (its header may not say its size)."""
    unpacked = _decompressor().stream_reader(data).read(MAX_MEDIA_BYTES + 1)
    if len(unpacked) > MAX_MEDIA_BYTES:
        raise PackageTooBig(f"a part of the package unpacks to more than {MAX_MEDIA_BYTES >> 20} MiB")
    return unpacked
