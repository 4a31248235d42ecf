"""How to build: the options every command shares (kept light, for the CLI's quick paths)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildOptions:
    """How to build: where to, and how strict to be about the lock and note types."""

    output: Path | None = None
    frozen: bool = False
    strict: bool = False
    allow_note_type_change: bool = False
    report: Path | None = None
    use_cache: bool = True
    jobs: int | None = None  # worker processes; None: one per core
    fields: bool = True  # False: only checking, the notes' field text is not needed

    def stamp_settings(self) -> str:
        """The options that change what a build writes, for the build stamp."""
        return f"frozen={self.frozen};strict={self.strict};allow={self.allow_note_type_change}"
