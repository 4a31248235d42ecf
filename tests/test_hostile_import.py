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


NT = "col.models, note type 1600000000001"
ENDLESS = "with recursive n(i) as (select 1 union all select i + 1 from n) select {} from n"
LEGACY_CASES = {  # name: (edit of the legacy collection, what the message says)
    "models as a list": (lambda db: db.execute("update col set models = ?",
                                               (json.dumps(list(legacy_models().values())),)),
                         "col.models is a JSON list"),
    "models not JSON": (_sql("update col set models = '{oops'"), "col.models is not JSON"),
    "models NULL": (_sql("update col set models = NULL"), "col.models is missing (or null), not JSON text"),
    "missing tmpls": (_models(lambda m: m.pop("tmpls")), NT + ": 'tmpls' is missing (or null), not a list"),
    "missing flds": (_models(lambda m: m.pop("flds")), NT + ": 'flds' is missing (or null), not a list"),
    "a field as text": (_models(lambda m: m.update(flds=["Front", "Back"])), NT + ", field 0 is str 'Front', not a JSON object"),
    "a template's qfmt a number": (_models(lambda m: m["tmpls"][0].update(qfmt=5)), NT + ", template 0: 'qfmt' is int 5, not text"),
    "an id that is no number": (_models(lambda m: m.update(id="abc")), "col.models, note type '1600000000001': 'id' is str 'abc', not a whole number"),
    "a sort field past the fields": (_models(lambda m: m.update(sortf=7)), NT + ": 'sortf' is int 7, not a whole number from 0 to 1"),
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
    "a note type time out of range": (_models(lambda m: m.update(mod=1 << 40)), NT + ": 'mod' is int 1099511627776, not a whole number from 0 to 4294967295"),
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
                                      NT + ": 'flds' has 100,000 entries, more than the 1,000 deckgen reads"),
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
    run = run_import(source, tmp_path / "project", cwd=tmp_path)
    _refused_with(run, f"hostile.apkg: collection.anki21: {expected}")


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


def _current_with_media(tmp_path: Path, media: bytes, members: dict[str, bytes]) -> Path:
    collection = current_collection(tmp_path / "collection")
    return Package(collection, current=True, media=media, members=members).write(tmp_path / "hostile.apkg")


def _zstd_of_zeros(size: int, entry: bytes = b"\0") -> bytes:
    """A zstd frame of `size` bytes of repeated `entry`, made a mebibyte at a time."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    chunk = entry * ((1 << 20) // len(entry))
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def test_a_media_map_of_134_million_empty_entries_is_refused_at_once(tmp_path: Path) -> None:
    source = _current_with_media(tmp_path, b"", {})
    with zipfile.ZipFile(source, "a") as archive:  # the map, replaced: 268 MB of empty MediaEntry messages
        archive.writestr("media2", _zstd_of_zeros(268 << 20, b"\x0a\x00"))
    _rename_member(source, "media2", "media")
    _refused_with(run_import(source, tmp_path / "project", cwd=tmp_path),
                  "hostile.apkg: refused: the media map unpacks to more than 32 MiB")


def _rename_member(source: Path, old: str, new: str) -> None:
    """The package with member `old` taking the place of `new`."""
    copy = source.with_suffix(".tmp")
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(copy, "w") as renamed:
        for info in original.infolist():
            if info.filename != new:
                renamed.writestr(new if info.filename == old else info.filename, original.read(info))
    copy.replace(source)


def test_a_media_map_past_its_entries_is_refused(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from deckgen.importer import archive

    monkeypatch.setattr(archive, "MAX_MEDIA_FILES", 1000)
    entries = message(*((1, message((1, f"{n}.png"))) for n in range(1001)))
    source = _current_with_media(tmp_path, entries, {})
    assert "hostile.apkg: refused: the media map lists more than 1,000 files" in _refused(source, tmp_path)


def test_unused_members_of_a_gibibyte_are_never_read(tmp_path: Path) -> None:
    big = _zstd_of_zeros(250 << 20)
    entries = message((1, message((1, "crystal.png"))), *((1, message((1, f"big{n}.bin"))) for n in range(4)))
    source = _current_with_media(tmp_path, entries, {"0": zstandard.compress(PNG), **{str(n): big for n in range(1, 5)}})
    run = run_import(source, tmp_path / "project", cwd=tmp_path)
    assert run.code == 0 and not run.traceback, run.output
    assert sorted(path.name for path in (tmp_path / "project" / "media").iterdir()) == ["crystal.png"]
    assert run.peak_bytes < PEAK


def test_a_thousand_names_of_one_member_are_refused(tmp_path: Path) -> None:
    """A legacy zip name given as bytes (MediaEntry.legacy_zip_filename is a number) is not read as "b'z'"."""
    entries = message(*((1, message((1, f"{n}.png"), (255, b"z"))) for n in range(1000)))
    source = _current_with_media(tmp_path, entries, {"b'z'": zstandard.compress(PNG)})
    assert "hostile.apkg: entry 0 of the media map names its zip member in the wrong type" in _refused(source, tmp_path)


def test_names_that_share_a_member_count_against_the_budget_each(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from deckgen.importer import package_media

    monkeypatch.setattr(package_media, "MAX_MEDIA_TOTAL", 3 * len(PNG))
    entries = message(*((1, message((1, f"{n}.png"), (255, 7))) for n in range(4)))
    collection = current_collection(tmp_path / "collection", _sql(
        "update notes set flds = flds || '<img src=\"0.png\"><img src=\"1.png\"><img src=\"2.png\"><img src=\"3.png\">'"))
    source = Package(collection, current=True, media=entries, members={"7": zstandard.compress(PNG)}).write(
        tmp_path / "hostile.apkg")
    assert "hostile.apkg: refused: the media files that notes use come to more than 0 MiB" in _refused(source, tmp_path)


@pytest.mark.parametrize("media", [[1, 2], {"0": 5}, "not json"])
def test_a_legacy_media_map_that_is_not_an_object_of_names(media: object, tmp_path: Path) -> None:
    source = Package(legacy_collection(tmp_path / "collection"), media=media).write(tmp_path / "hostile.apkg")
    if media == "not json":
        with zipfile.ZipFile(source, "a") as archive:
            archive.writestr("media2", "{not json")
        _rename_member(source, "media2", "media")
    assert "hostile.apkg: the media map " in _refused(source, tmp_path)


@pytest.mark.parametrize("present", [True, False])
def test_a_300_byte_media_name_is_located(present: bool, tmp_path: Path) -> None:
    """No file system takes the name: never written (nor a stand-in for it), and the card that uses it is named."""
    name = "é" * 150 + ".png"  # 304 bytes in UTF-8
    collection = legacy_collection(tmp_path / "collection", _sql(f"update notes set flds = flds || '<img src=\"{name}\">' "
                                                                 "where id = 2"))
    media, members = ({"0": "crystal.png", "1": name}, {"0": PNG, "1": PNG}) if present else (None, None)
    source = Package(collection, media=media, members=members).write(tmp_path / "hostile.apkg")
    message_ = _refused(source, tmp_path)
    assert f": media name '{name}' is longer than Anki's 120 bytes" in message_ and "the note in deck 'Hostile'" in message_


def test_extra_note_values_are_reported(tmp_path: Path) -> None:
    collection = legacy_collection(tmp_path / "collection", _sql("update notes set flds = flds || char(31) || "
                                                                 "'lost?' where id = 2"))
    result = import_deck(Package(collection).write(tmp_path / "hostile.apkg"), tmp_path / "project")
    assert [str(w) for w in result.warnings if "more values" in str(w)] == [
        f"{tmp_path / 'hostile.apkg'}: warning: 1 notes have more values than their note type has fields; the values "
        "past the last field were left out, as Anki shows none of them: collection.anki21: note 2"]


def test_a_link_to_an_empty_folder_is_refused(tmp_path: Path) -> None:
    source = Package(legacy_collection(tmp_path / "collection")).write(tmp_path / "hostile.apkg")
    (tmp_path / "empty").mkdir()
    os.symlink(tmp_path / "empty", tmp_path / "project")
    with pytest.raises(ProjectError) as caught:
        import_deck(source, tmp_path / "project")
    assert "project: the project folder is a link" in str(caught.value)
    assert not any((tmp_path / "empty").iterdir())


def test_a_folder_chain_past_the_path_limit_is_refused(tmp_path: Path) -> None:
    source = Package(legacy_collection(tmp_path / "collection")).write(tmp_path / "hostile.apkg")
    deep = tmp_path.joinpath(*["d" * 200] * 25)
    with pytest.raises(ProjectError) as caught:
        import_deck(source, deep)
    assert "the project folder cannot be written (File name too long)" in str(caught.value)


@pytest.mark.parametrize("name", ["deck.apkg", "notes.csv", "deck.json"])
def test_a_fifo_as_source_is_never_opened(name: str, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / name)
    assert f"{name}: not a regular file" in _refused(tmp_path / name, tmp_path)


def test_a_crowdanki_value_past_the_ceiling_is_refused_before_conversion(tmp_path: Path) -> None:
    model = {"crowdanki_uuid": "u1", "name": "Basic", "flds": [{"name": "Front", "ord": 0}, {"name": "Back", "ord": 1}],
             "tmpls": [{"name": "Card 1", "ord": 0, "qfmt": "{{Front}}", "afmt": "{{Back}}"}]}
    note = {"note_model_uuid": "u1", "fields": ["x", "y" * 150_000], "guid": "g1", "tags": []}
    (tmp_path / "deck").mkdir()
    (tmp_path / "deck" / "deck.json").write_text(json.dumps({"name": "D", "note_models": [model], "notes": [note],
                                                             "children": [], "media_files": []}), encoding="utf-8")
    assert "deck.json: deck.json: deck 'D', note 1 (GUID g1), field 'Back': 150,000 characters, more than the " \
           "100,000 a value may have" in _refused(tmp_path / "deck", tmp_path)


def test_a_zip_of_too_many_members_is_refused_before_its_directory_is_read(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from deckgen.importer import archive

    monkeypatch.setattr(archive, "MAX_ZIP_MEMBERS", 2)
    source = Package(legacy_collection(tmp_path / "collection")).write(tmp_path / "hostile.apkg")
    assert "hostile.apkg: refused: the zip lists more than 2 members" in _refused(source, tmp_path)


def test_a_csv_cell_past_the_ceiling_is_located(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    source.write_text("front,back\nshort,fine\nlong," + "x" * 131_073 + "\n", encoding="utf-8")
    message_ = _refused(source, tmp_path)
    assert f"{source}:3: a value has more than 100,000 characters, the most a value may have" in message_


def test_a_text_export_value_past_the_ceiling_once_escaped_is_located(tmp_path: Path) -> None:
    package = Package(legacy_collection(tmp_path / "collection")).write(tmp_path / "types.apkg")
    source = tmp_path / "notes.txt"
    source.write_text("#separator:tab\n#html:false\n#notetype:Basic\nfront\t" + "<" * 60_000 + "\n", encoding="utf-8")
    message_ = _refused(source, tmp_path, ImportOptions(note_types_from=package))
    assert f"{source}:4: a value has more than 100,000 characters once its '<' and '&' are written" in message_


def test_a_gigabyte_line_of_csv_is_refused_without_reading_it(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    with open(source, "wb") as out:
        out.write(b"front,back\n")
        out.truncate(1 << 30)  # sparse: a second line of a gigabyte of NUL characters
    _refused_with(run_import(source, tmp_path / "project", cwd=tmp_path),
                  f"{source}:2: the line is longer than 2,000,000 characters, the most deckgen reads")


def test_scratch_of_killed_imports_is_removed(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from hostile import dead_pid

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    pid = dead_pid()
    (temporary / f"deckgen-{pid}-abc").mkdir()
    (tmp_path / f".deckgen-{pid}-import-abc").mkdir()
    source = Package(legacy_collection(tmp_path / "collection")).write(tmp_path / "hostile.apkg")
    import_deck(source, tmp_path / "project")
    assert not list(temporary.iterdir())
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".deckgen-")]


def test_ctrl_c_during_an_import_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from deckgen.importer import packages

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    def interrupted(database: Path, *_: object) -> None:
        assert database.is_file()  # the collection was unpacked into scratch
        raise KeyboardInterrupt

    monkeypatch.setattr(packages, "read_collection", interrupted)
    source = Package(legacy_collection(tmp_path / "collection")).write(tmp_path / "hostile.apkg")
    with pytest.raises(KeyboardInterrupt):
        import_deck(source, tmp_path / "project")
    assert not list(temporary.iterdir()) and not (tmp_path / "project").exists()


ENDLESS_QUERY = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"


def test_ctrl_c_stops_a_query_at_once(tmp_path: Path) -> None:
    """SIGINT while SQLite works is noted by the step budget's handler, which stops the query: KeyboardInterrupt."""
    import signal
    import threading

    from deckgen.importer.collection_db import opened

    database = legacy_collection(tmp_path / "collection")
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        with opened(database) as connection:
            timer.start()
            connection.execute(ENDLESS_QUERY).fetchone()
    timer.join()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_query_past_the_step_budget_is_stopped(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from deckgen.importer import collection_db

    monkeypatch.setattr(collection_db, "MAX_SQL_STEPS", 1_000_000)
    database = legacy_collection(tmp_path / "collection")
    with pytest.raises(collection_db.Malformed, match="reading it takes more than 1,000,000 SQLite steps"):
        with collection_db.opened(database) as connection:
            connection.execute(ENDLESS_QUERY).fetchone()
