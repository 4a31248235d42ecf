"""Text sources: Anki's own text export (notes with '#' headers) and a plain CSV with a header row.

An Anki text export says in its headers which column holds the GUID, the note type, the deck
and the tags (1-based). It does not carry the note types themselves (fields, templates, ids):
those, and the media files, come from a package of the same collection (`--note-types`), or for
Anki's stock note types from `stock_note_types` (without ids). A plain CSV fills one of
deckgen's built-in card types, its columns mapped to the card type's fields by name or by
`--column COLUMN=FIELD`.
"""

from __future__ import annotations

import contextlib
import csv
import html
from pathlib import Path
from typing import IO, Iterator

from ..problems import Problem, ProjectError
from ..safety.limits import MAX_FIELD_CHARS
from ..safety.package_limits import MAX_CSV_LINE_CHARS, MAX_TEXT_CHARS
from .source_deck import UNKNOWN_TIME, ImportedDeck, ImportedNote, ImportedNoteType, ImportOptions
from .stock_note_types import BY_CARD_TYPE, STOCK_NOTE_TYPES

SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":"}
BUILTIN_FIELDS = {"basic": ("front", "back", "extra"), "reversed": ("front", "back", "extra"),
                  "cloze": ("text", "extra")}
REQUIRED = {"basic": ("front", "back"), "reversed": ("front", "back"), "cloze": ("text",)}
SPECIAL = ("tags", "deck", "guid", "-")
READS = "deckgen import reads .apkg, .colpkg, Anki text exports and CSV files"


def read_text_file(path: Path, options: ImportOptions) -> ImportedDeck:
    """A text export or a plain CSV, by whether it starts with Anki's '#' headers; read line by line, within
    the ceilings on a line, a value and the whole text."""
    where = str(path)
    try:
        with _field_limit(MAX_FIELD_CHARS), open(path, encoding="utf-8-sig", newline="") as handle:
            lines = _bounded_lines(handle, where)
            headers, first_line = _headers(lines)
            if headers:
                return _text_export(path, headers, lines, first_line, options)
            return _plain_csv(path, lines, options)
    except FileNotFoundError:
        raise ProjectError([Problem(where, message="no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ProjectError([Problem(where, message=f"not a text file in UTF-8 ({exc.reason} at byte {exc.start})",
                                    hint=READS)]) from None
    except OSError as exc:
        raise ProjectError([Problem(where, message=f"cannot be read ({exc.strerror or exc})")]) from None


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """The csv module's ceiling on one value, for this read only (it is the module's, not the reader's)."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


class _Lines:
    """The file's lines, each read with a ceiling, the whole counted; one line can be put back."""

    def __init__(self, handle: IO[str], where: str) -> None:
        self.handle, self.where = handle, where
        self.number = self.total = 0
        self.back: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.back:
            return self.back.pop()
        line = self.handle.readline(MAX_CSV_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        self.total += len(line)
        if len(line) > MAX_CSV_LINE_CHARS:
            raise ProjectError([Problem(self.where, self.number, message=f"the line is longer than "
                                        f"{MAX_CSV_LINE_CHARS:,} characters, the most deckgen reads")])
        if self.total > MAX_TEXT_CHARS:
            raise ProjectError([Problem(self.where, self.number, message=f"the file is longer than "
                                        f"{MAX_TEXT_CHARS:,} characters, the most deckgen reads")])
        return line


def _bounded_lines(handle: IO[str], where: str) -> _Lines:
    return _Lines(handle, where)


def _headers(lines: _Lines) -> tuple[dict[str, str], int]:
    """Anki's '#name:value' headers at the top, and the number of the first line after them."""
    headers = {}
    for line in lines:
        if not line.startswith("#") or ":" not in line:
            lines.back.append(line)
            break
        name, _, value = line[1:].rstrip("\r\n").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, len(headers) + 1


def _rows(lines: _Lines, separator: str, where: str, offset: int) -> Iterator[tuple[int, list[str]]]:
    """Each CSV row with the number of the line it ends on; a malformed one (a value past the ceiling) located."""
    reader = csv.reader(lines, delimiter=separator)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            too_long = "field limit" in str(exc)
            raise ProjectError([Problem(where, offset + reader.line_num, message=(
                f"a value has more than {MAX_FIELD_CHARS:,} characters, the most a value may have" if too_long
                else f"not a CSV row ({exc})"))]) from None
        yield offset + reader.line_num, row


def _peek(lines: _Lines) -> str:
    """The next line, left to be read again."""
    line = next(lines, "")
    if line:
        lines.back.append(line)
    return line


def _separator(value: str | None, first_line: str) -> str:
    if value:
        return SEPARATORS.get(value.lower(), value[:1])
    return max("\t,;|", key=first_line.count)  # the header row's most frequent candidate


def _column(headers: dict[str, str], name: str, where: str) -> int | None:
    value = headers.get(f"{name} column")
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ProjectError([Problem(where, message=f"'#{name} column:{value}' is not a column number")])
    return int(value) - 1


def _text_export(path: Path, headers: dict[str, str], lines: _Lines, first_line: int,
                 options: ImportOptions) -> ImportedDeck:
    where = str(path)
    separator = _separator(headers.get("separator"), _peek(lines))
    columns = {name: _column(headers, name, where) for name in ("guid", "notetype", "deck", "tags")}
    as_text = headers.get("html", "true").lower() == "false"  # plain text: '<' means '<'
    package = _package(options)
    note_types = {nt.name: nt for nt in package.note_types.values()} if package else STOCK_NOTE_TYPES
    named = _named_note_type(headers, columns["notetype"] is not None, options, where)
    deck = ImportedDeck(path)
    problems = []
    for line, row in _rows(lines, separator, where, first_line - 1):
        if not row:
            continue
        special = {name: (row[index] if index is not None and index < len(row) else None)
                   for name, index in columns.items()}
        values = tuple(html.escape(value, quote=False) if as_text else value
                       for index, value in enumerate(row) if index not in columns.values())
        if any(len(value) > MAX_FIELD_CHARS for value in values):
            problems.append(Problem(where, line, message=f"a value has more than {MAX_FIELD_CHARS:,} characters "
                                    "once its '<' and '&' are written as HTML, the most a value may have"))
            continue
        type_name = special["notetype"] or named
        note_type = note_types.get(type_name)
        if note_type is None:
            problems.append(_unknown_note_type(where, line, type_name, options, note_types))
            continue
        while len(values) > len(note_type.fields) and not values[-1]:
            values = values[:-1]  # Anki pads every row to the widest note type
        if len(values) > len(note_type.fields):
            problems.append(Problem(where, line, message=f"{len(values)} fields, but note type '{type_name}' has "
                                    f"{len(note_type.fields)} ({', '.join(note_type.fields)})"))
            continue
        deck.note_types.setdefault(type_name, note_type)
        tags = (special["tags"] or headers.get("tags") or "").split()
        deck.notes.append(ImportedNote(special["guid"] or None, type_name,
                                       values + ("",) * (len(note_type.fields) - len(values)), tuple(tags),
                                       special["deck"] or headers.get("deck") or options.deck or "Default",
                                       UNKNOWN_TIME, f"{path.name}:{line}"))
    if problems:
        raise ProjectError(problems[:20])
    if package is not None and options.note_types_from is not None:
        from .packages import read_media

        deck.media = read_media(options.note_types_from, deck.notes, deck.note_types)
    return deck


def _package(options: ImportOptions) -> ImportedDeck | None:
    """The package of the same collection that a text export's note types come from (its media: once the
    notes say which)."""
    if options.note_types_from is None:
        return None
    from .packages import read_package

    return read_package(options.note_types_from, with_media=False)


def _named_note_type(headers: dict[str, str], has_column: bool, options: ImportOptions, where: str) -> str:
    """The note type of rows without a note type column: the '#notetype' header's, or --note-type's stock one."""
    if options.note_type is None:
        return headers.get("notetype") or ""
    if has_column or "notetype" in headers:
        raise ProjectError([Problem(where, message="--note-type is for a CSV, or a text export that names no note "
                                    "type: this export names its notes' note types",
                                    hint="leave --note-type out")])
    return BY_CARD_TYPE[options.note_type]


def _unknown_note_type(where: str, line: int, name: str, options: ImportOptions,
                       known: dict[str, ImportedNoteType]) -> Problem:
    if not name:
        return Problem(where, line, message="the export names no note type (no '#notetype' header or column)",
                       hint="pass --note-type basic, reversed or cloze (Anki's Basic, Basic (and reversed card) "
                       "or Cloze), or export again with 'Include notetype name' ticked")
    if options.note_types_from is None:
        return Problem(where, line, message=f"an Anki text export does not carry note type '{name}' (its fields, "
                       "templates and id), and it is not one of Anki's stock note types",
                       hint="pass --note-types PACKAGE, an .apkg exported from the same collection; stock note "
                       "types: " + ", ".join(STOCK_NOTE_TYPES))
    return Problem(where, line, message=f"note type '{name}' is not in {options.note_types_from.name}",
                   hint="note types there: " + ", ".join(sorted(known)))


def _plain_csv(path: Path, lines: _Lines, options: ImportOptions) -> ImportedDeck:
    where = str(path)
    kind = options.note_type or "basic"
    if kind not in BUILTIN_FIELDS:
        raise ProjectError([Problem(where, message=f"--note-type '{kind}': a CSV fills one of deckgen's "
                                    "built-in card types", hint="one of: " + ", ".join(BUILTIN_FIELDS))])
    rows = _rows(lines, options.delimiter or _separator(None, _peek(lines)), where, 0)
    _, header = next(rows, (0, None))
    if header is None:
        raise ProjectError([Problem(where, message="the CSV file is empty")])
    targets = _map_columns(where, header, kind, dict(options.columns))
    fields = BUILTIN_FIELDS[kind]
    deck = ImportedDeck(path)
    deck.note_types[kind] = ImportedNoteType(kind, None, kind == "cloze", fields, (), builtin=kind)
    problems = []
    default_deck = options.deck or path.stem.replace("_", " ").replace("-", " ").strip().title() or "Imported"
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(where, number,
                                    message=f"{len(row)} columns, but the header row has {len(header)}"))
            continue
        by_target = {target: row[index] for index, target in enumerate(targets)}
        for required in REQUIRED[kind]:
            if not by_target.get(required, "").strip():
                problems.append(Problem(where, number, message=f"the column for '{required}' is empty"))
        deck.notes.append(ImportedNote(by_target.get("guid") or None, kind,
                                       tuple(by_target.get(name, "") for name in fields),
                                       tuple(by_target.get("tags", "").split()), by_target.get("deck") or default_deck,
                                       UNKNOWN_TIME, f"{path.name}:{number}"))
    if problems:
        raise ProjectError(problems[:20])
    return deck


def _map_columns(where: str, header: list[str], kind: str, mapping: dict[str, str]) -> list[str]:
    """What each column fills: a field of the card type, tags, deck, guid, or '-' (ignored)."""
    allowed = BUILTIN_FIELDS[kind] + SPECIAL
    problems = [Problem(where, message=f"--column {column}={target}: no such column", hint="columns: " + ", ".join(header))
                for column, target in mapping.items() if column not in header]
    targets = []
    for index, column in enumerate(header, start=1):
        target = mapping.get(column, column.strip().lower())
        if target not in allowed:
            problems.append(Problem(where, 1, index, f"column '{column}' matches no field of card type '{kind}'",
                                    hint=f"map it with --column '{column}=FIELD' (FIELD one of: {', '.join(allowed)}; "
                                    "'-' ignores it)"))
        targets.append(target)
    for required in REQUIRED[kind]:
        if required not in targets:
            problems.append(Problem(where, 1, message=f"no column fills '{required}', which card type '{kind}' needs",
                                    hint=f"map one with --column 'COLUMN={required}'"))
    if problems:
        raise ProjectError(problems)
    return targets
