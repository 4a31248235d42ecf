"""Packages a stranger could craft, made here with sqlite3, zipfile and zstandard (no Anki needed), for
tests/test_hostile_import.py: a small valid collection of either schema, then edited into what Anki never writes."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import zstandard

BASIC_ID = 1_600_000_000_001
DECK_ID = 1_600_000_000_100
NOTES = (("What is <b>gout</b>?", 'Arthritis <img src="crystal.png">'), ("Necrosis", "Death of tissue"))
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
MEMORY_CAP = 3 << 30  # the address space each import may use
TIME_LIMIT = 30.0  # seconds before an import is stopped (a hang, not a measure of speed)

Edit = Callable[[sqlite3.Connection], object]


def legacy_models() -> dict[str, object]:
    """`col.models` of a legacy collection with one Basic note type."""
    return {str(BASIC_ID): {
        "id": BASIC_ID, "name": "Basic", "type": 0, "mod": 1_600_000_000, "sortf": 0, "css": ".card {}",
        "flds": [{"name": "Front", "ord": 0}, {"name": "Back", "ord": 1}],
        "tmpls": [{"name": "Card 1", "ord": 0, "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}]}}


def _notes_and_cards(db: sqlite3.Connection) -> None:
    db.execute("create table notes (id integer primary key, guid text not null, mid integer not null, "
               "mod integer not null, usn integer not null, tags text, flds text, "
               "sfld integer not null, csum integer not null, flags integer not null, data text not null)")
    db.execute("create table cards (id integer primary key, nid integer not null, did integer not null, "
               "ord integer not null, mod integer not null, usn integer not null, type integer not null, "
               "queue integer not null, due integer not null, ivl integer not null, factor integer not null, "
               "reps integer not null, lapses integer not null, left integer not null, odue integer not null, "
               "odid integer not null, flags integer not null, data text not null)")
    for number, fields in enumerate(NOTES, start=1):
        db.execute("insert into notes values (?, ?, ?, 1600000000, 0, ' tag ', ?, 0, 0, 0, '')",
                   (number, f"guid{number}", BASIC_ID, "\x1f".join(fields)))
        db.execute("insert into cards values (?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '')",
                   (number, number, DECK_ID))


def legacy_collection(path: Path, edit: Edit | None = None) -> Path:
    """A schema-11 collection (as collection.anki21 holds), edited."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("create table col (id integer primary key, crt integer, mod integer, scm integer, ver integer, "
                   "dty integer, usn integer, ls integer, conf text, models text, decks text, dconf text, tags text)")
        decks = {str(DECK_ID): {"id": DECK_ID, "name": "Hostile", "desc": ""}}
        db.execute("insert into col values (1, 0, 0, 0, 11, 0, 0, 0, '{}', ?, ?, '{}', '{}')",
                   (json.dumps(legacy_models()), json.dumps(decks)))
        _notes_and_cards(db)
        if edit:
            edit(db)
        db.commit()
    return path


def message(*fields: tuple[int, int | bytes | str]) -> bytes:
    """A protobuf message of (field number, value): ints as varints, the rest length-delimited."""
    out = bytearray()
    for number, value in fields:
        if isinstance(value, int):
            out += _varint(number << 3) + _varint(value)
        else:
            data = value.encode() if isinstance(value, str) else value
            out += _varint(number << 3 | 2) + _varint(len(data)) + data
    return bytes(out)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def current_collection(path: Path, edit: Edit | None = None) -> Path:
    """A schema-18 collection (as collection.anki21b holds, before compression), edited."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("create table col (id integer primary key, crt integer, mod integer, scm integer, ver integer, "
                   "dty integer, usn integer, ls integer, conf text, models text, decks text, dconf text, tags text)")
        db.execute("insert into col values (1, 0, 0, 0, 18, 0, 0, 0, '', '', '', '', '')")
        db.execute("create table notetypes (id integer primary key, name text, mtime_secs integer, usn integer, "
                   "config blob)")
        db.execute("create table fields (ntid integer, ord integer, name text, config blob)")
        db.execute("create table templates (ntid integer, ord integer, name text, mtime_secs integer, usn integer, "
                   "config blob)")
        db.execute("create table decks (id integer primary key, name text, mtime_secs integer, usn integer, "
                   "common blob, kind blob)")
        db.execute("insert into notetypes values (?, 'Basic', 1600000000, 0, ?)",
                   (BASIC_ID, message((1, 0), (2, 0), (3, ".card {}"))))
        db.executemany("insert into fields values (?, ?, ?, x'')", [(BASIC_ID, 0, "Front"), (BASIC_ID, 1, "Back")])
        db.execute("insert into templates values (?, 0, 'Card 1', 0, 0, ?)",
                   (BASIC_ID, message((1, "{{Front}}"), (2, "{{FrontSide}}<hr id=answer>{{Back}}"))))
        db.execute("insert into decks values (?, 'Hostile', 0, 0, x'', x'')", (DECK_ID,))
        _notes_and_cards(db)
        if edit:
            edit(db)
        db.commit()
    return path


@dataclass
class Package:
    """What goes into a package's zip: the collection file, and the media map and members."""

    collection: Path
    current: bool = False
    media: object = None  # the legacy JSON map (any JSON, or bytes as they are), or a current package's protobuf
    members: dict[str, bytes] | None = None

    def write(self, target: Path) -> Path:
        with zipfile.ZipFile(target, "w") as archive:
            if self.current:
                archive.writestr("meta", message((1, 3)))
                archive.writestr("collection.anki21b", zstandard.compress(self.collection.read_bytes()))
                archive.writestr("collection.anki2", b"")
                media = self.media if self.media is not None else message(
                    (1, message((1, "crystal.png"), (2, len(PNG)))))
                archive.writestr("media", zstandard.compress(media))  # type: ignore[arg-type]
                members = self.members if self.members is not None else {"0": zstandard.compress(PNG)}
            else:
                archive.write(self.collection, "collection.anki21")
                media = self.media if self.media is not None else {"0": "crystal.png"}
                archive.writestr("media", media if isinstance(media, bytes) else json.dumps(media))
                members = self.members if self.members is not None else {"0": PNG}
            for name, data in members.items():
                archive.writestr(name, data)
        return target


@dataclass
class Run:
    """An import run in a process of its own: how it ended, what it said, and the most memory it held."""

    code: int
    output: str
    peak_bytes: int
    stopped: bool  # it ran past TIME_LIMIT and was killed

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.output


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_import(*arguments: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`deckgen import ...` under a memory cap and a time limit; its own peak memory (ru_maxrss) from wait4."""
    log = cwd / "import.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "deckgen", "import", *map(str, arguments)], cwd=cwd,
                                   stdout=out, stderr=subprocess.STDOUT, preexec_fn=_limited,
                                   env={**os.environ, **(env or {})})
    deadline = time.monotonic() + TIME_LIMIT
    stopped = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline and not stopped:
            process.send_signal(signal.SIGKILL)
            stopped = True
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_bytes().decode("utf-8", "replace")
    return Run(process.returncode, output, usage.ru_maxrss * 1024, stopped)
