"""Text sources: Anki's own text export (notes with '#' headers) and a plain CSV with a header row.

An Anki text export says in its headers which column holds the GUID, the note type, the deck
and the tags (1-based). It does not carry the note types themselves (fields, templates, ids):
those, and the media files, come from a package of the same collection (`--note-types`), or for
Anki's stock note types from `stock_note_types` (without ids). A plain CSV fills one of
deckgen's built-in card types, its columns mapped to the card type's fields by name or by
`--column COLUMN=FIELD`.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from ..problems import Problem, ProjectError
from .source_deck import UNKNOWN_TIME, ImportedDeck, ImportedNote, ImportedNoteType, ImportOptions
from .stock_note_types import BY_CARD_TYPE, STOCK_NOTE_TYPES

SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":"}
BUILTIN_FIELDS = {"basic": ("front", "back", "extra"), "reversed": ("front", "back", "extra"),
                  "cloze": ("text", "extra")}
REQUIRED = {"basic": ("front", "back"), "reversed": ("front", "back"), "cloze": ("text",)}
SPECIAL = ("tags", "deck", "guid", "-")
READS = "deckgen import reads .apkg, .colpkg, Anki text exports and CSV files"


def read_text_file(path: Path, options: ImportOptions) -> ImportedDeck:
    """A text export or a plain CSV, by whether it starts with Anki's '#' headers."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProjectError([Problem(where, message="no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ProjectError([Problem(where, message=f"not a text file in UTF-8 ({exc.reason} at byte {exc.start})",
                                    hint=READS)]) from None
    headers, body, first_line = _headers(text)
    if headers:
        return _text_export(path, headers, body, first_line, options)
    return _plain_csv(path, text, options)


def _headers(text: str) -> tuple[dict[str, str], str, int]:
    headers = {}
    lines = text.splitlines(keepends=True)
    count = 0
    for line in lines:
        if not line.startswith("#") or ":" not in line:
            break
        name, _, value = line[1:].rstrip("\r\n").partition(":")
        headers[name.strip().lower()] = value.strip()
        count += 1
    return headers, "".join(lines[count:]), count + 1


def _separator(value: str | None, sample: str) -> str:
    if value:
        return SEPARATORS.get(value.lower(), value[:1])
    first_line = sample.split("\n", 1)[0]
    return max("\t,;|", key=first_line.count)  # the header row's most frequent candidate


def _column(headers: dict[str, str], name: str, where: str) -> int | None:
    value = headers.get(f"{name} column")
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ProjectError([Problem(where, message=f"'#{name} column:{value}' is not a column number")])
    return int(value) - 1


def _text_export(path: Path, headers: dict[str, str], body: str, first_line: int,
                 options: ImportOptions) -> ImportedDeck:
    where = str(path)
    separator = _separator(headers.get("separator"), body)
    columns = {name: _column(headers, name, where) for name in ("guid", "notetype", "deck", "tags")}
    as_text = headers.get("html", "true").lower() == "false"  # plain text: '<' means '<'
    package = _package(options)
    note_types = {nt.name: nt for nt in package.note_types.values()} if package else STOCK_NOTE_TYPES
    named = _named_note_type(headers, columns["notetype"] is not None, options, where)
    deck = ImportedDeck(path, media=package.media if package else {})
    problems = []
    for offset, row in enumerate(csv.reader(io.StringIO(body), delimiter=separator)):
        if not row:
            continue
        line = first_line + offset
        special = {name: (row[index] if index is not None and index < len(row) else None)
                   for name, index in columns.items()}
        values = tuple(html.escape(value, quote=False) if as_text else value
                       for index, value in enumerate(row) if index not in columns.values())
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
    return deck


def _package(options: ImportOptions) -> ImportedDeck | None:
    """The package of the same collection that a text export's note types and media come from."""
    if options.note_types_from is None:
        return None
    from .packages import read_package

    return read_package(options.note_types_from)


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


def _plain_csv(path: Path, text: str, options: ImportOptions) -> ImportedDeck:
    where = str(path)
    kind = options.note_type or "basic"
    if kind not in BUILTIN_FIELDS:
        raise ProjectError([Problem(where, message=f"--note-type '{kind}': a CSV fills one of deckgen's "
                                    "built-in card types", hint="one of: " + ", ".join(BUILTIN_FIELDS))])
    rows = list(csv.reader(io.StringIO(text), delimiter=options.delimiter or _separator(None, text)))
    if not rows:
        raise ProjectError([Problem(where, message="the CSV file is empty")])
    targets = _map_columns(where, rows[0], kind, dict(options.columns))
    fields = BUILTIN_FIELDS[kind]
    deck = ImportedDeck(path)
    deck.note_types[kind] = ImportedNoteType(kind, None, kind == "cloze", fields, (), builtin=kind)
    problems = []
    default_deck = options.deck or path.stem.replace("_", " ").replace("-", " ").strip().title() or "Imported"
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(rows[0]):
            problems.append(Problem(where, number,
                                    message=f"{len(row)} columns, but the header row has {len(rows[0])}"))
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
