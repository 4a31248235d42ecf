"""Temporary files and worker processes that never outlive the build that made them.

Every temporary name carries the id of the process that made it and a random part, so that
simultaneous builds never share one. A build killed outright (SIGKILL) cannot clean up after
itself, so the next build removes what a process that no longer exists left behind. Worker
processes ask the kernel to stop them when their parent dies, and check once that it has not.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Iterator

SCRATCH_PREFIX = "deckgen-"
_OURS = re.compile(r"^\.?(?P<name>.*?)\.(?P<pid>\d+)\.[A-Za-z0-9_-]+\.tmp$")
_SCRATCH = re.compile(rf"^\.?{SCRATCH_PREFIX}(?P<pid>\d+)-")
_PR_SET_PDEATHSIG = 1


def temporary_name(target: Path) -> Path:
    """A name beside `target` that only this process, this once, uses."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")


def unique_temporary(target: Path) -> Path:
    """A new empty file beside `target`, made by this process (never an existing file or link)."""
    clean_stale(target)
    path = temporary_name(target)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644))
    return path


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _ours_and_orphaned(path: Path, pid: int) -> bool:
    try:
        return path.lstat().st_uid == os.getuid() and not _alive(pid)
    except (OSError, AttributeError):
        return False


def clean_stale(target: Path) -> None:
    """Remove the temporary files beside `target` that a killed deckgen process left behind."""
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        match = _OURS.match(entry.name)
        if match and match["name"] == target.name and _ours_and_orphaned(Path(entry.path), int(match["pid"])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def clean_stale_scratch(folder: Path | None = None) -> None:
    """Remove scratch folders of killed deckgen processes from a folder (the system's temporary folder)."""
    folder = folder or Path(tempfile.gettempdir())
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _SCRATCH.match(entry.name)
        if match and entry.is_dir(follow_symlinks=False) and _ours_and_orphaned(Path(entry.path), int(match["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private temporary folder named after this process, removed on every way out."""
    clean_stale_scratch()
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as folder:
        yield Path(folder)


def die_with_parent(parent: int) -> None:
    """In a worker process: be stopped by the kernel when the parent dies (Linux), and stop now if it has."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
