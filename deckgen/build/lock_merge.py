"""Merging two branches' deckgen.lock, so that two authors working in parallel never lose a change time.

The lock has one line per card, sorted by id, so two branches that touch cards whose ids sort next
to each other make git stop on a conflict in it. The lock is data, not text: each of its
top-level tables is a mapping of entries, and two sides merge entry by entry. An entry comes from
the side that changed it since the common ancestor; where both changed it, the later change time
wins; a card removed on one side stays removed unless the other side changed it. Times therefore
only ever grow, and the next build recomputes every hash anyway.

Two ways in: git's merge driver (`deckgen lock-merge %O %A %B`, which has the common ancestor) and
a lock that already holds git's conflict markers (which has the ancestor only in git's diff3
style; without it, where the sides differ, the later time wins and a removal wins over an entry
older than it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..safety.confine import read_regular
from ..safety.limits import MAX_LOCK_BYTES, MAX_LOCK_DEPTH
from .lock_file import LOCK_FORMAT, Lock, lock_from_data

TOMBSTONES = {"cards": "removed"}  # a table of entries -> the table of its removed keys
_MISSING: Any = object()
_TRANSITIONS = {  # (where a line is, the marker it starts with) -> where the lines after it are
    ("common", "<<<<<<<"): "ours", ("ours", "|||||||"): "base", ("ours", "======="): "theirs",
    ("base", "======="): "theirs", ("theirs", ">>>>>>>"): "common",
}
# Each repair scans the white space after one candidate character at most once: linear in the lock.
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_MISSING_COMMA = re.compile(r'([\]}"0-9]|true|false|null)(\s+)(?=")')


class LockMergeError(ValueError):
    """The sides cannot be read as locks: they are not JSON, or not a lock deckgen knows."""


@dataclass
class LockMerge:
    """The merged lock and what the merge decided."""

    lock: Lock
    from_ours: list[str] = field(default_factory=list)  # 'table/key' taken from one side's change
    from_theirs: list[str] = field(default_factory=list)
    both: list[str] = field(default_factory=list)  # changed on both sides: the later time kept
    had_base: bool = False

    def describe(self) -> str:
        """One sentence for the person who merged: what came from which side."""
        if not self.had_base:  # which side changed an entry cannot be told without the common ancestor
            differed = self.from_ours + self.from_theirs + self.both
            return (f"merged both sides without their common ancestor: {_entries(len(differed))} differed, "
                    f"the later change of each kept{_named(differed)}")
        parts = [f"{_entries(len(self.from_ours))} changed on our side only{_named(self.from_ours)}",
                 f"{_entries(len(self.from_theirs))} on theirs only{_named(self.from_theirs)}"]
        if self.both:
            parts.append(f"{_entries(len(self.both))} on both sides, the later change kept{_named(self.both)}")
        return "merged both sides: " + ", ".join(parts)


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _named(entries: list[str], shown: int = 5) -> str:
    """' (cards/b, cards/c and 3 more)': which entries, as far as a line can say."""
    if not entries:
        return ""
    more = f" and {len(entries) - shown} more" if len(entries) > shown else ""
    return f" ({', '.join(entries[:shown])}{more})"


def merge_conflicted(text: str) -> LockMerge:
    """The lock a file with git's conflict markers stands for: both sides merged."""
    base, ours, theirs = split_conflict(text)
    return merge_texts(base, ours, theirs)


def merge_files(base: Path, ours: Path, theirs: Path) -> LockMerge:
    """git's merge driver: merge the three versions and write the result over `ours`."""
    texts = [_side_text(path) for path in (base, ours, theirs)]
    merged = merge_texts(texts[0] or None, texts[1], texts[2])
    ours.write_text(merged.lock.to_json(), encoding="utf-8")
    return merged


def _side_text(path: Path) -> str:
    """One side git hands the driver: a regular file of at most the lock's size limit ('' when there is none)."""
    if not path.exists():
        return ""
    data = read_regular(path, MAX_LOCK_BYTES)
    if isinstance(data, str):
        raise LockMergeError(f"{path}: {data}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise LockMergeError(f"{path}: the file is not UTF-8 text") from None


def split_conflict(text: str) -> tuple[str | None, str, str]:
    """(base, ours, theirs) rebuilt from git's conflict markers; base is None unless every hunk has one."""
    sides: dict[str, list[str]] = {"base": [], "ours": [], "theirs": []}
    state, hunk_has_base, every_hunk_has_base = "common", False, True
    for line in text.splitlines(keepends=True):
        new = _TRANSITIONS.get((state, line[:7]))
        if new is None:
            for side in (sides if state == "common" else (state,)):
                sides[side].append(line)
            continue
        if new == "common":
            every_hunk_has_base = every_hunk_has_base and hunk_has_base
        hunk_has_base = new == "base" or (hunk_has_base and new != "ours")
        state = new
    if state != "common":
        raise LockMergeError("a conflict is not closed with '>>>>>>>'")
    base = "".join(sides["base"]) if every_hunk_has_base else None
    return base, "".join(sides["ours"]), "".join(sides["theirs"])


def merge_texts(base: str | None, ours: str, theirs: str) -> LockMerge:
    """Merge three versions of a lock's text (base None: no common ancestor known)."""
    if any(text is not None and len(text) > MAX_LOCK_BYTES for text in (base, ours, theirs)):
        raise LockMergeError(f"a side of the lock is larger than deckgen's limit of {MAX_LOCK_BYTES // 2**20} MiB")
    sides = [_data(text) if text is not None else None for text in (base, ours, theirs)]
    merge = _Merger(*sides)
    merged = merge.run()
    try:
        lock = lock_from_data(merged)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LockMergeError(f"the merged lock is not valid ({exc})") from None
    return LockMerge(lock, merge.ours, merge.theirs, merge.both, had_base=base is not None)


def _data(text: str) -> dict[str, Any]:
    """One side's lock as JSON data, in the current format (an older one is read and rewritten first)."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except RecursionError:
        raise LockMergeError("a side of the lock nests too deeply to be a lock") from None
    except ValueError:
        data = _repaired(text)
    if not isinstance(data, dict):
        raise LockMergeError("a side of the lock is not a JSON object")
    if _depth(data) > MAX_LOCK_DEPTH:
        raise LockMergeError(f"a side of the lock nests more than {MAX_LOCK_DEPTH} levels deep: it is no lock")
    if data.get("format") != LOCK_FORMAT:
        try:
            data = json.loads(lock_from_data(data).to_json())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LockMergeError(f"a side of the lock cannot be read ({exc})") from None
    return data


def _depth(data: Any) -> int:
    """How deep JSON data nests, counted without recursion (stops counting past the limit)."""
    deepest, level = 0, [data]
    while level and deepest <= MAX_LOCK_DEPTH:
        deepest += 1
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _repaired(text: str) -> Any:
    """A side rebuilt from conflict hunks can miss a comma or keep one too many at a hunk's edge."""
    fixed = _MISSING_COMMA.sub(_comma, _TRAILING_COMMA.sub(r"\1", text))
    try:
        return json.loads(fixed)
    except RecursionError:
        raise LockMergeError("a side of the lock nests too deeply to be a lock") from None
    except ValueError as exc:
        raise LockMergeError(f"a side of the lock is not JSON ({exc})") from None


def _comma(match: re.Match[str]) -> str:
    """A value, then a line break before the next key or value: the comma a hunk's edge lost."""
    return f"{match[1]},{match[2]}" if "\n" in match[2] else match[0]


class _Merger:
    """Merges every top-level table of two sides, entry by entry."""

    def __init__(self, base: dict[str, Any] | None, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
        self.base, self.sides = base, (ours, theirs)
        self.ours: list[str] = []
        self.theirs: list[str] = []
        self.both: list[str] = []

    def run(self) -> dict[str, Any]:
        ours, theirs = self.sides
        merged: dict[str, Any] = {}
        for name in [*ours, *(key for key in theirs if key not in ours)]:
            a, b = ours.get(name, _MISSING), theirs.get(name, _MISSING)
            if isinstance(a, dict) or isinstance(b, dict):
                merged[name] = self._table(name, _as_table(a), _as_table(b))
            else:
                merged[name] = self._value(name, a, b)
        for table, tombstones in TOMBSTONES.items():
            if isinstance(merged.get(table), dict) and isinstance(merged.get(tombstones), dict):
                self._settle_removals(merged, table, tombstones)
        return {key: value for key, value in merged.items() if value is not _MISSING}

    def _value(self, name: str, a: Any, b: Any) -> Any:
        """A plain top-level value (the format, the column names): the side that changed it."""
        if self.base is not None and a == self.base.get(name, _MISSING):
            return b
        return a if a is not _MISSING else b

    def _table(self, name: str, ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
        base = _as_table(self.base.get(name, _MISSING)) if self.base is not None else None
        merged = {}
        for key in sorted(ours.keys() | theirs.keys()):
            entry = self._entry(name, key, ours.get(key, _MISSING), theirs.get(key, _MISSING), base)
            if entry is not _MISSING:
                merged[key] = entry
        return merged

    def _entry(self, table: str, key: str, a: Any, b: Any, base: dict[str, Any] | None) -> Any:
        if a == b:
            return a
        where = f"{table}/{key}"
        if base is not None:
            before = base.get(key, _MISSING)
            if a == before:
                self.theirs.append(where)
                return b
            if b == before:
                self.ours.append(where)
                return a
        if a is _MISSING or b is _MISSING:  # changed on one side, removed on the other: the change stays
            (self.theirs if a is _MISSING else self.ours).append(where)
            return b if a is _MISSING else a
        self.both.append(where)
        return a if self._time(table, a) >= self._time(table, b) else b

    def _time(self, table: str, entry: Any) -> int:
        """An entry's change time: a number, an object's 'mtime', or a row's mtime column."""
        value = self._raw_time(table, entry)
        if isinstance(value, bool) or not isinstance(value, int):
            raise LockMergeError(f"an entry of '{table}' has a change time that is not a whole number: "
                                 f"{json.dumps(value)[:40]}")
        return value

    def _raw_time(self, table: str, entry: Any) -> Any:
        if isinstance(entry, dict):
            return entry.get("mtime", 0)
        columns = self.sides[0].get(table.rstrip("s") + "_columns")
        columns = columns if isinstance(columns, list) else []
        if isinstance(entry, list) and "mtime" in columns and len(entry) > columns.index("mtime"):
            return entry[columns.index("mtime")]
        return entry if isinstance(entry, int) else 0

    def _settle_removals(self, merged: dict[str, Any], table: str, tombstones: str) -> None:
        """A key both live and removed: live if a side changed it after (or, without a base, later than) the removal."""
        for key in sorted(merged[table].keys() & merged[tombstones].keys()):
            removed_at = self._time(tombstones, merged[tombstones][key])
            if self.base is not None or self._time(table, merged[table][key]) > removed_at:
                del merged[tombstones][key]
            else:
                del merged[table][key]


def _as_table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
