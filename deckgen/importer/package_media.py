"""The media files of a package that an import uses: their names known once the collection is read, their
content read from the zip only when the project's media folder is written, one file at a time.

The import's helper processes write shares of the media folder; each reads through a zip it opened
itself (a zip opened before the fork shares its file position with every process).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..safety.package_limits import MAX_MEDIA_TOTAL
from .archive import LATEST, Archive, PackageTooBig, open_archive, package_problems
from .source_deck import LazyMedia


class PackageMedia(LazyMedia):
    """Media file name -> content, read from the package when asked for (and counted against its budgets)."""

    def __init__(self, path: Path, members: dict[str, str]) -> None:
        super().__init__(members)  # name -> zip member
        self.path = path
        self._open: tuple[int, Archive] | None = None

    def read(self, name: str) -> bytes:
        with package_problems(self.path):
            content = self._archive().read_media(self.where[name], name)
        if content is None:
            raise KeyError(name)
        return content

    def _archive(self) -> Archive:
        """This process's own open package."""
        if self._open is None or self._open[0] != os.getpid():
            self._open = (os.getpid(), open_archive(self.path))
        return self._open[1]

    def close(self) -> None:
        """Close this process's zip (a later read opens it again)."""
        if self._open is not None and self._open[0] == os.getpid():
            self._open[1].zip.close()
        self._open = None


def package_media(archive: Archive, wanted: set[str]) -> PackageMedia:
    """The wanted media the package holds, refused before anything is read if the sizes it declares pass the
    ceilings."""
    members = archive.media_map()
    present = {name: members[name] for name in sorted(wanted & members.keys())
               if members[name] in archive.zip.NameToInfo}
    total = 0
    for name, member in present.items():
        size = declared_size(archive, member)
        archive.media_fits(name, size)
        total += size
    if total > MAX_MEDIA_TOTAL:
        raise PackageTooBig(f"the media files that notes use come to more than {MAX_MEDIA_TOTAL >> 20} MiB")
    return PackageMedia(archive.path, present)


def declared_size(archive: Archive, member: str) -> int:
    """What a member says it unpacks to: the zip's size, or the zstd frame's content size where it gives one
    (else its compressed size, which it cannot be much below)."""
    info = archive.zip.NameToInfo[member]
    if archive.version != LATEST:
        return info.file_size
    import zstandard

    with archive.zip.open(info) as stream:
        head = stream.read(18)  # a frame header is at most 18 bytes
    try:
        size = zstandard.get_frame_parameters(head).content_size
    except zstandard.ZstdError:
        return info.file_size
    return size if 0 <= size < zstandard.CONTENTSIZE_UNKNOWN else info.file_size
