"""A package, collection or text file from a stranger: `deckgen import` ends, within its budgets, with a
located message and exit 1 (or a correct project), never a traceback, a hang or gigabytes of memory.

Each package is crafted here (tests/hostile_packages.py) and imported in a process of its own under a
3 GB memory cap and a 30 s limit; where the issue named memory, the import's own peak is held under 1.5 GB.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from pathlib import Path
from typing import Callable

import pytest
import zstandard
from deckgen.importer import ImportOptions, import_deck
from deckgen.problems import ProjectError
from hostile_packages import (
    BASIC_ID,
    PNG,
    Package,
    Run,
    current_collection,
    legacy_collection,
    legacy_models,
    message,
    run_import,
)

PEAK = 1536 << 20  # 1.5 GB


def _models(change: Callable[[dict], object]) -> Callable[[sqlite3.Connection], None]:
    """An edit of the legacy `col.models` JSON: `change` edits the Basic note type in place."""

    def edit(db: sqlite3.Connection) -> None:
        models = legacy_models()
        change(models[str(BASIC_ID)])
        db.execute("update col set models = ?", (json.dumps(models),))

    return edit


def _sql(*statements: str) -> Callable[[sqlite3.Connection], None]:
    def edit(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return edit


ENDLESS = "with recursive n(i) as (select 1 union all select i + 1 from n) select {} from n"
LEGACY_CASES = {  # name: (edit of the legacy collection, what the message says)
    "models as a list": (lambda db: db.execute("update col set models = ?", (json.dumps(list(legacy_models().values())),)),
                         "col.models is a JSON list"),
    "models not JSON": (_sql("update col set models = '{oops'"), "col.models is not JSON"),
    "models NULL": (_sql("update col set models = NULL"), "col.models is missing (or null), not JSON text"),
    "missing tmpls": (_models(lambda m: m.pop("tmpls")), "col.models, note type 1600000000001: 'tmpls' is missing (or null), not a list"),
    "missing flds": (_models(lambda m: m.pop("flds")), "col.models, note type 1600000000001: 'flds' is missing (or null), not a list"),
    "a field as text": (_models(lambda m: m.update(flds=["Front", "Back"])), "col.models, note type 1600000000001, field 0 is str 'Front', not a JSON object"),
    "a template's qfmt a number": (_models(lambda m: m["tmpls"][0].update(qfmt=5)), "col.models, note type 1600000000001, template 0: 'qfmt' is int 5, not text"),
    "an id that is no number": (_models(lambda m: m.update(id="abc")), "col.models, note type '1600000000001': 'id' is str 'abc', not a whole number"),
    "a sort field past the fields": (_models(lambda m: m.update(sortf=7)), "col.models, note type 1600000000001: 'sortf' is int 7, not a whole number from 0 to 1"),
    "decks as a list": (_sql("update col set decks = '[1, 2]'"), "col.decks is a JSON list"),
    "NULL flds": (_sql("update notes set flds = NULL where id = 2"), "note 2: its values are not text"),
    "NULL tags": (_sql("update notes set tags = NULL where id = 1"), "note 1: its tags are not text"),
    "an unknown mid": (_sql("update notes set mid = 42 where id = 2"), "note 2 has note type 42, which the collection"),
    "a text schema version": (_sql("alter table col rename to c0", "create table col (id, crt, mod, scm, ver, dty, "
                                    "usn, ls, conf, models, decks, dconf, tags)", "insert into col select * from c0",
                                    "drop table c0", "update col set ver = '11'"), "col.ver, the schema version, is text '11'"),
    "no col row": (_sql("delete from col"), "table 'col' has no row"),
    "two col rows": (_sql("insert into col select 2, crt, mod, scm, ver, dty, usn, ls, conf, models, decks, dconf, "
                          "tags from col"), "table 'col' has more than one row"),
    "a note time out of range": (_sql("update notes set mod = 99999999999 where id = 1"),
                                 "note 1: its modification time is not a whole number of seconds from 0 to 4294967295"),
    "a negative note time": (_sql("update notes set mod = -5 where id = 2"), "note 2: its modification time"),
    "a note type time out of range": (_models(lambda m: m.update(mod=1 << 40)), "col.models, note type 1600000000001: 'mod' is int 1099511627776, not a whole number from 0 to 4294967295"),
    "a GUID that is a blob": (_sql("update notes set guid = x'00ff' where id = 1"), "note 1: its GUID is not text"),
}
BUDGET_CASES = {  # the same, for those the audit saw hang or exhaust memory: each in a process of its own
    "col a view that counts forever": (_sql("alter table col rename to c", "create view col as select c.*, (select "
                                            "count(*) from (" + ENDLESS.format("i") + ")) as x from c"),
                                       "view 'col': Anki writes no views"),
    "notes a view of 900 MB values": (_sql("alter table notes rename to n", "create view notes as select id, guid, "
                                           "mid, mod, usn, tags, zeroblob(900000000) as flds, sfld, csum, flags, data "
                                           "from n"), "view 'notes': Anki writes no views"),
    "an endless cards view": (_sql("drop table cards", "create view cards as " + ENDLESS.format(
        "i as id, i as nid, 1 as did, 0 as ord, 0 as odid")), "view 'cards': Anki writes no views"),
    "a trigger": (_sql("create trigger t after insert on notes begin select 1; end"), "trigger 't'"),
    "a generated column": (_sql("drop table cards", "create table cards (id integer, nid integer, did integer, ord "
                                "integer, odid integer, big text generated always as (zeroblob(900000000)))"),
                           "table 'cards' has a generated column"),
    "a 5 MB value": (_sql("update notes set flds = 'x' || char(31) || printf('%.*c', 5000000, 'y') where id = 2"),
                     "note 2: its values together are longer than 2,000,000 characters"),
    "a 150,000-character value": (_sql("update notes set flds = 'x' || char(31) || printf('%.*c', 150000, 'y') "
                                       "where id = 2"), "note 2, field 'Back': 150,000 characters, more than the "
                                  "100,000 a value may have"),
    "a note type of 100,000 fields": (_models(lambda m: m.update(flds=[{"name": f"F{n}", "ord": n}
                                                                       for n in range(100_000)])),
                                      "col.models, note type 1600000000001: 'flds' has 100,000 entries, more than the 1,000 deckgen reads"),
}


@pytest.mark.parametrize("case", LEGACY_CASES)
def test_a_malformed_legacy_collection_is_a_located_message(case: str, tmp_path: Path) -> None:
    edit, expected = LEGACY_CASES[case]
    source = Package(legacy_collection(tmp_path / "collection", edit)).write(tmp_path / "hostile.apkg")
    assert f"hostile.apkg: collection.anki21: {expected}" in _refused(source, tmp_path)


@pytest.mark.parametrize("case", BUDGET_CASES)
def test_a_collection_that_would_hang_or_exhaust_memory_is_refused_at_once(case: str, tmp_path: Path) -> None:
    edit, expected = BUDGET_CASES[case]
    source = Package(legacy_collection(tmp_path / "collection", edit)).write(tmp_path / "hostile.apkg")
    _refused_with(run_import(source, tmp_path / "project", cwd=tmp_path), f"hostile.apkg: collection.anki21: {expected}")


CURRENT_CASES = {
    "a template config stored as text": (_sql("update templates set config = 'text'"),
                                         "table 'templates', ntid 1600000000001: a value of the wrong type"),
    "a note type config that is no protobuf": (_sql("update notetypes set config = x'1a10'"),
                                               "the config of note type 1600000000001 is not a protobuf message"),
    "a note type of 100,000 fields": (lambda db: db.executemany("insert into fields values (?, ?, ?, x'')",
                                                                ((BASIC_ID, n + 2, f"F{n}") for n in range(100_000))),
                                      "note type 1600000000001 has 100,002 fields, more than the 1,000 deckgen reads"),
    "a deck name that is no text": (_sql("update decks set name = x'00'"), "table 'decks', id 1600000000100"),
}


@pytest.mark.parametrize("case", CURRENT_CASES)
def test_a_malformed_current_collection_is_a_located_message(case: str, tmp_path: Path) -> None:
    edit, expected = CURRENT_CASES[case]
    source = Package(current_collection(tmp_path / "collection", edit), current=True).write(tmp_path / "hostile.apkg")
    assert f"hostile.apkg: collection.anki21b: {expected}" in _refused(source, tmp_path)


def _refused(source: Path, tmp_path: Path, options: ImportOptions | None = None) -> str:
    """The message of an import refused in this process (any other exception fails the test with its traceback),
    which wrote nothing."""
    with pytest.raises(ProjectError) as caught:
        import_deck(source, tmp_path / "project", options)
    assert not (tmp_path / "project").exists()
    return str(caught.value)


def _refused_with(run: Run, expected: str) -> None:
    """An import in its own process ended in time, with exit 1, the message expected, and no traceback."""
    assert not run.stopped and not run.traceback, run.output
    assert run.code == 1 and expected in run.output, run.output
    assert run.peak_bytes < PEAK
