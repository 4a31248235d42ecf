"""A collection file opened for reading within budgets: its tables checked to be tables, every query stoppable.

A collection from a stranger is an SQLite file, and SQLite runs what the file says: a `notes`
that is a view can count forever or make gigabyte values, a trigger or a generated column can
compute anything. Before any query of deckgen's, the schema must hold the tables Anki writes as
plain tables (no views, triggers, virtual tables or generated columns). Every query runs under a
progress handler that stops it past a budget of steps or at Ctrl-C, and no value may pass a
length SQLite itself enforces.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from ..safety.package_limits import MAX_LEGACY_JSON_BYTES, MAX_SQL_STEPS, SQL_STEP_CHECK

LEGACY_TABLES = ("col", "notes", "cards")
CURRENT_TABLES = LEGACY_TABLES + ("notetypes", "fields", "templates", "decks")
MAX_SCHEMA_ENTRIES = 500  # Anki's own schema has a few dozen tables and indexes
MAX_VALUE_BYTES = MAX_LEGACY_JSON_BYTES  # SQLite refuses any longer string or blob


class Malformed(Exception):
    """The collection is not what Anki writes: the message says where and what."""


class StepBudget:
    """The steps a collection's queries have taken, and whether Ctrl-C was pressed during them."""

    def __init__(self) -> None:
        self.steps = 0
        self.interrupted = False

    def step(self) -> int:
        """SQLite's progress handler: non-zero stops the query."""
        self.steps += SQL_STEP_CHECK
        return int(self.interrupted or self.steps > MAX_SQL_STEPS)

    def stop(self, *_: Any) -> None:
        """SIGINT: noted, and raised as KeyboardInterrupt. Inside a query it is raised in the progress handler,
        where SQLite's caller swallows it and stops the query: `opened` raises it again."""
        self.interrupted = True
        raise KeyboardInterrupt


@contextlib.contextmanager
def opened(database: Path) -> Iterator[sqlite3.Connection]:
    """The collection, read-only, each query within the step budget; Ctrl-C raises KeyboardInterrupt at once."""
    budget = StepBudget()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    connection.set_progress_handler(budget.step, SQL_STEP_CHECK)
    try:
        with _ctrl_c_noted(budget):
            yield connection
    except sqlite3.DatabaseError:
        if budget.interrupted:
            raise KeyboardInterrupt from None
        if budget.steps > MAX_SQL_STEPS:
            raise Malformed(f"reading it takes more than {MAX_SQL_STEPS:,} SQLite steps") from None
        raise
    finally:
        connection.close()
    if budget.interrupted:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _ctrl_c_noted(budget: StepBudget) -> Iterator[None]:
    """SIGINT handled by the budget (Python's own handler cannot run inside a long SQLite step)."""
    try:
        previous = signal.signal(signal.SIGINT, budget.stop)
    except ValueError:  # not the main thread: Ctrl-C is not this thread's to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def check_schema(connection: sqlite3.Connection, tables: tuple[str, ...]) -> None:
    """Refuse anything but plain tables where deckgen reads, and any view or trigger at all."""
    entries = connection.execute("select type, name, coalesce(sql, '') from sqlite_master limit ?",
                                 (MAX_SCHEMA_ENTRIES + 1,)).fetchall()
    if len(entries) > MAX_SCHEMA_ENTRIES:
        raise Malformed(f"its schema has more than {MAX_SCHEMA_ENTRIES} entries; Anki's has a few dozen")
    kinds = {str(name).lower(): (str(kind), str(sql)) for kind, name, sql in entries}
    for kind, name, _ in entries:
        if kind not in ("table", "index"):
            raise Malformed(f"{kind} {name!r}: Anki writes no {kind}s, only tables and indexes")
    for table in tables:
        kind, sql = kinds.get(table, ("", ""))
        if kind != "table":
            raise Malformed(f"{table!r} is {'a ' + kind if kind else 'missing'}, not a table as Anki writes it")
        if sql.lstrip().upper().startswith("CREATE VIRTUAL"):
            raise Malformed(f"{table!r} is a virtual table, not a table as Anki writes it")
        if any(row[-1] not in (0, 1) for row in connection.execute(f"pragma table_xinfo({table})")):
            raise Malformed(f"table {table!r} has a generated column; Anki writes none")
