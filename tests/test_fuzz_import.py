"""Malformed collections and packages, made by mutating a valid small one: `deckgen import` ends with a project
or a located ProjectError, never another exception (which a command would show as a traceback).

Imports run in this process: an exception other than ProjectError fails the example with its traceback.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hostile_packages import Package, current_collection, legacy_collection, legacy_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen.importer import import_deck
from deckgen.problems import ProjectError

FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = {  # what deckgen reads, in both schemas
    "col": ("ver", "models", "decks"),
    "notes": ("id", "guid", "mid", "mod", "tags", "flds"),
    "cards": ("nid", "did", "odid", "ord"),
    "notetypes": ("id", "name", "mtime_secs", "config"),
    "fields": ("ntid", "ord", "name"),
    "templates": ("ntid", "ord", "name", "config"),
    "decks": ("id", "name"),
}
LEGACY = ("col", "notes", "cards")
SQL_VALUES = st.one_of(
    st.none(), st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1), st.floats(allow_nan=False),
    st.text(max_size=30), st.binary(max_size=30),
    st.sampled_from(["", "\x1f", "a\x1fb\x1fc", "{}", "[]", "{\"1\": 2}", "11", "x" * 100_001, "\x1f" * 5000]),
)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=8)
_runs = itertools.count()


def _import(package: Package) -> None:
    """Import the package; anything but a project or a ProjectError fails the example."""
    with tempfile.TemporaryDirectory(prefix="fuzz-import-") as folder:
        source = package.write(Path(folder) / f"fuzz{next(_runs)}.apkg")
        try:
            import_deck(source, Path(folder) / "project")
        except ProjectError as exc:
            assert exc.problems and all(problem.path for problem in exc.problems)


@st.composite
def table_edits(draw: Any, current: bool) -> list[tuple[str, str, object, bool]]:
    tables = sorted(COLUMNS) if current else LEGACY
    return draw(st.lists(st.tuples(st.sampled_from(tables), st.integers(0, 5), SQL_VALUES, st.booleans()),
                         min_size=1, max_size=3))


def _edited(edits: list[tuple[str, int, object, bool]]):  # type: ignore[no-untyped-def]
    def edit(db: sqlite3.Connection) -> None:
        for table, column, value, one_row in edits:
            name = COLUMNS[table][column % len(COLUMNS[table])]
            try:
                db.execute(f"update {table} set {name} = ?" + (" where rowid = (select min(rowid) from "
                                                               f"{table})" if one_row else ""), (value,))
            except sqlite3.IntegrityError:
                continue  # the table's own constraints refuse it: Anki's schema would too

    return edit


@FUZZ
@given(edits=table_edits(current=False))
def test_mutated_legacy_tables_never_raise(edits: list[tuple[str, int, object, bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _import(Package(legacy_collection(Path(folder) / "collection", _edited(edits))))


@FUZZ
@given(edits=table_edits(current=True))
def test_mutated_current_tables_never_raise(edits: list[tuple[str, int, object, bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _import(Package(current_collection(Path(folder) / "collection", _edited(edits)), current=True))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indexes."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


@FUZZ
@given(data=st.data())
def test_mutated_note_type_json_never_raises(data: Any) -> None:
    models = legacy_models()
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(models)))
        replacement = data.draw(JSON_VALUES)
        if not path:
            models = replacement
            break
        parent = models
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = replacement

    def edit(db: sqlite3.Connection) -> None:
        db.execute("update col set models = ?", (json.dumps(models),))

    with tempfile.TemporaryDirectory() as folder:
        _import(Package(legacy_collection(Path(folder) / "collection", edit)))


@pytest.mark.filterwarnings("ignore:Duplicate name")  # a member twice in the zip: a package a stranger can make
@FUZZ
@given(current=st.booleans(), media=st.one_of(JSON_VALUES, st.binary(max_size=40)),
       members=st.dictionaries(st.sampled_from(["0", "1", "7", "b'z'", "media", "meta"]), st.binary(max_size=40),
                               max_size=3),
       cut=st.one_of(st.none(), st.integers(0, 4096)), flip=st.one_of(st.none(), st.integers(0, 8191)))
def test_mutated_packages_never_raise(current: bool, media: Any, members: dict[str, bytes], cut: int | None,
                                      flip: int | None) -> None:
    """The media map, the members and the collection's bytes of a package, damaged."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection"
        (current_collection if current else legacy_collection)(path)
        data = bytearray(path.read_bytes())
        if flip is not None and flip < len(data):
            data[flip] ^= 0xFF
        path.write_bytes(bytes(data[:cut] if cut is not None else data))
        if current and not isinstance(media, bytes):
            media = json.dumps(media).encode()
        _import(Package(path, current=current, media=media, members=members or None))
