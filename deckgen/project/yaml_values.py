"""Typed reads of located YAML values that report, rather than raise, what is wrong."""

from __future__ import annotations

import re
from typing import Iterable

from yaml import Mark

from ..safety.limits import MAX_FIELD_CHARS, MAX_LIST_ITEMS
from ..problems import Problem, did_you_mean
from .yaml_reader import (
    Implicit,
    Pos,
    Value,
    YamlError,
    YamlList,
    YamlMap,
    as_pos,
    parse,
)

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # all but tab and line breaks
_CONFLICT_MARKER = re.compile(r"^<<<<<<< ", re.MULTILINE)  # what git leaves in a file it could not merge
_NOT_TEXT_HINTS = {
    YamlList: "YAML reads '[...]' or lines starting with '- ' as a list: to write text, quote the whole value",
    YamlMap: "YAML reads '{...}' or 'word: ...' as a mapping: to write text, quote the whole value",
}
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a project's or note type's key: safe in file names and ids


def describe(value: Value) -> str:
    """How a person would name what YAML made of a value."""
    if isinstance(value, YamlMap):
        return "a mapping"
    if isinstance(value, YamlList):
        return "a list"
    if isinstance(value, Implicit):
        return f"the {value.kind} {value.raw}"
    if value is None:
        return "empty"
    return "text"


class Reader:
    """Reads fields of one file's mappings and collects located problems."""

    def __init__(self, path: str, problems: list[Problem], card: str | None = None, noun: str = "field") -> None:
        self.path = path
        self.problems = problems
        self.card = card
        self.noun = noun

    def for_card(self, card: str | None) -> Reader:
        """The same reader, with messages naming a card."""
        return Reader(self.path, self.problems, card, self.noun)

    def report(self, pos: Pos | Mark, message: str, hint: str | None = None, severity: str = "error") -> None:
        """Record a problem at a position of this file."""
        pos = as_pos(pos)
        self.problems.append(
            Problem(self.path, pos.line, pos.column, message, self.card, hint, severity)
        )

    def text(self, mapping: YamlMap, key: str, required: bool = False) -> str | None:
        """A text value; numbers and booleans YAML guessed are reported with the fix."""
        if key not in mapping:
            if required:
                self.report(mapping.pos, f"missing {self.noun} '{key}'")
            return None
        return self.text_value(mapping[key], mapping.value_pos.mark(key), key, required)  # type: ignore[attr-defined]

    def text_value(
        self, value: Value, pos: Pos | Mark, name: str, required: bool = True, label: str | None = None,
        item: bool = False,
    ) -> str | None:
        """Check that a value is non-empty text; `label` names it, `item` says it is in a list, not after 'name:'."""
        if isinstance(value, str):
            if (not required or value.strip()) and not CONTROL.search(value):
                return value  # the common case, before any message is put together
            return self._checked_text(value, pos, label or f"{self.noun} '{name}'", required)
        what = label or f"{self.noun} '{name}'"
        if isinstance(value, Implicit):
            example = f'"{value.raw}"' if item else f'{name}: "{value.raw}"'
            self.report(pos, f"{what} is {describe(value)}, not text",
                        f"YAML reads {value.raw} as a {value.kind}: quote it, {example}")
        elif value is None:
            if required:
                self.report(pos, f"{what} is empty")
        else:
            self.report(pos, f"{what} must be text, not {describe(value)}", _NOT_TEXT_HINTS.get(type(value)))
        return None

    def _checked_text(self, value: str, pos: Pos | Mark, what: str, required: bool) -> str | None:
        if required and not value.strip():
            self.report(pos, f"{what} is empty")
            return None
        control = CONTROL.search(value)
        if control:
            self.report(pos, f"{what} contains the control character U+{ord(control.group()):04X}",
                        "remove it: control characters do not belong on a card, and Anki drops most of them")
            return None
        return value

    def too_long(self, value: str, pos: Pos | Mark, what: str) -> bool:
        """Report (and say so) a text past deckgen's ceiling for one value."""
        if len(value) <= MAX_FIELD_CHARS:
            return False
        self.report(pos, f"{what} is {len(value):,} characters long, above deckgen's limit of {MAX_FIELD_CHARS:,}",
                    "split it up: a card is read in seconds")
        return True

    def text_list(self, mapping: YamlMap, key: str) -> list[tuple[str, Pos]]:
        """A list of text values (a single text is accepted as a list of one)."""
        if key not in mapping or mapping[key] is None:
            return []
        value, pos = mapping[key], mapping.value_pos[key]
        if not isinstance(value, YamlList):
            text = self.text_value(value, pos, key)
            return [(text, pos)] if text is not None else []
        if len(value) > MAX_LIST_ITEMS:
            self.report(pos, f"'{key}' has {len(value):,} items, above deckgen's limit of {MAX_LIST_ITEMS:,}")
            return []
        out = []
        for number, (item, item_pos) in enumerate(zip(value, value.item_pos), start=1):
            text = self.text_value(item, item_pos, key, label=f"item {number} of '{key}'", item=True)
            if text is not None:
                out.append((text, item_pos))
        return out

    def mapping(self, mapping: YamlMap, key: str) -> YamlMap | None:
        """A nested mapping, or None (reported) if the value is something else."""
        value = mapping.get(key)
        if value is None:
            return None
        if not isinstance(value, YamlMap):
            self.report(mapping.value_pos[key], f"'{key}' must be a mapping, not {describe(value)}")
            return None
        return value

    def flag(self, mapping: YamlMap, key: str, default: bool) -> bool:
        """A true/false value."""
        value = mapping.get(key)
        if value is None:
            return default
        if isinstance(value, Implicit) and isinstance(value.value, bool):
            return value.value
        self.report(mapping.value_pos[key], f"'{key}' must be true or false, not {describe(value)}")
        return default

    def unknown_keys(self, mapping: YamlMap, allowed: Iterable[str], what: str, hint: str | None = None) -> None:
        """Report every key that is not one of `allowed`, with a suggestion (or `hint` when none is close)."""
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                self.report(mapping.key_pos[key], f"unknown {what} '{key}'", did_you_mean(key, allowed) or hint)


def decode(data: bytes, path: str, problems: list[Problem], kind: str = "YAML") -> str | None:
    """A file's text, or None with a located problem for binary, UTF-16 or non-UTF-8 content."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(path, message="the file is UTF-16 text, not UTF-8", hint="save it as UTF-8"))
        return None
    if b"\x00" in data:
        problems.append(Problem(path, message=f"this is a binary file, not {kind} text"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        problems.append(
            Problem(path, line, column, f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                    hint="save the file as UTF-8")
        )
        return None


def parse_document(data: bytes, path: str, problems: list[Problem], read_on: bool = False) -> Value:
    """Decode and parse one YAML file; problems are recorded, never raised.

    With `read_on`, a file with syntax errors whose fix is to quote a value gives the document it
    is with them quoted, so that the rest of it can still be checked; else None.
    """
    text = decode(data, path, problems)
    if text is None:
        return None
    marker = _CONFLICT_MARKER.search(text) if "<<<<<<< " in text else None  # a substring first: most files have none
    if marker:
        problems.append(Problem(path, text.count("\n", 0, marker.start()) + 1, 1,
                                "git conflict markers: a merge left this file unresolved",
                                hint="keep what both sides wrote, delete the <<<<<<<, ======= and >>>>>>> lines, "
                                     "then 'git add' the file"))
        return None
    try:
        return parse(text)
    except YamlError as exc:
        problems.extend(
            Problem(path, problem.pos.line, problem.pos.column, problem.message, hint=problem.hint)
            for problem in exc.problems
        )
        return exc.document if read_on else None
