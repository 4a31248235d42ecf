"""Mutated and generated locks fed to `deckgen lock-merge` and `deckgen check` (issue 23).

Whatever a lock holds (a bad paste, a half-resolved conflict, a crafted file), both end with exit 0
or exit 1 and a message, never with a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from conftest import CliRun
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import mutated

from deckgen.build.lock_file import CARD_COLUMNS, LOCK_FORMAT

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

LOCK = json.dumps({
    "format": LOCK_FORMAT, "card_columns": CARD_COLUMNS,
    "cards": {"trauma": ["0123456789abcdef", 1_700_000_000, 1_700_000_000, "cause", "basic"],
              "gone": ["fedcba9876543210", 1_700_000_100, 1_700_000_000, "cause", "basic"]},
    "note_types": {"basic": {"hash": "00", "mtime": 1_700_000_000, "added": 1_700_000_000, "fields": ["Front"],
                             "templates": ["Card 1"]}},
    "removed": {"old": 1_700_000_050}, "deck_options": {}, "guids": {"trauma": "abc"},
}, indent=1)
# What a bad merge, a paste or a stranger puts into a lock.
LOCK_PIECES = [
    "{", "}", "[", "]", ",", '"', ":", "null", "true", '"x"', "-1", "1e99", "1.5", "4294967296", "\n", " ",
    "<<<<<<< ours\n", "|||||||\n", "=======\n", ">>>>>>> theirs\n", '"mtime": "x"', '"mtime": []', '{"mtime": {}}',
    "[" * 50, "]" * 50, '"format": 1', '"format": "2"', '"cards": {}', '"cards": []', '"removed": []',
    '"card_columns": 3', '"note_types": {"x": 1}', "\x00", "\ufeff", "é",
]
LOCKS = mutated(LOCK, LOCK_PIECES)
VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                      max_leaves=12)
JUNK = st.one_of(st.none(), st.text(max_size=4), st.floats(allow_nan=False), st.booleans(), st.just([]),
                 st.just({}), st.integers(-2**70, 2**70))
ENTRIES = st.one_of(st.lists(JUNK, max_size=5), st.fixed_dictionaries({}, optional={"mtime": JUNK, "hash": JUNK}),
                    JUNK, VALUES)  # rows, objects, times, and anything
TABLES = st.fixed_dictionaries({"trauma": ENTRIES}, optional={"gone": ENTRIES, "old": ENTRIES})
SHAPED = st.fixed_dictionaries(  # a current lock's shape with anything in its places: entries that differ meet junk
    {"format": st.just(LOCK_FORMAT), "card_columns": st.sampled_from([CARD_COLUMNS, ["mtime"], "mtime", 3, None]),
     "cards": st.one_of(TABLES, TABLES, VALUES)},
    optional={"removed": st.one_of(TABLES, VALUES), "note_types": st.one_of(TABLES, VALUES),
              "guids": VALUES, "deck_options": VALUES},
).map(json.dumps)


def ends_well(run: CliRun) -> None:
    assert not run.crashed, run.exception
    assert run.exit_code in (0, 1), (run.exit_code, run.stderr[-2000:])


@FUZZ
@given(ours=SHAPED, theirs=SHAPED)
def test_lock_merge_of_sides_with_junk_entries(ours: str, theirs: str, tmp_path: Path,
                                               deckgen: Callable[..., CliRun]) -> None:
    merge_ends_well(LOCK, ours, theirs, tmp_path, deckgen)


@FUZZ
@given(ours=st.one_of(LOCKS, SHAPED), theirs=st.one_of(LOCKS, SHAPED), base=st.one_of(st.just(LOCK), LOCKS))
def test_lock_merge_of_mutated_sides(ours: str, theirs: str, base: str, tmp_path: Path,
                                     deckgen: Callable[..., CliRun]) -> None:
    merge_ends_well(base, ours, theirs, tmp_path, deckgen)


def merge_ends_well(base: str, ours: str, theirs: str, tmp_path: Path, deckgen: Callable[..., CliRun]) -> None:
    paths = []
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        paths.append(path)
    ends_well(deckgen("lock-merge", *paths))


@settings(FUZZ, max_examples=40)
@given(ours=st.one_of(LOCKS, SHAPED), theirs=LOCKS)
def test_check_of_any_lock_or_conflict(ours: str, theirs: str, make_project: Callable[..., Path],
                                       deckgen: Callable[..., CliRun]) -> None:
    conflicted = f"<<<<<<< ours\n{ours}\n=======\n{theirs}\n>>>>>>> theirs\n"
    for lock in (ours, conflicted):
        ends_well(deckgen("check", make_project({"deckgen.lock": lock.encode("utf-8", "surrogatepass")})))
