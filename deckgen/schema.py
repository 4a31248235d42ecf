"""Typed reads of located YAML values that report, rather than raise, what is wrong."""

from __future__ import annotations

from typing import Iterable

from .problems import Problem, did_you_mean
from .yamlsource import Implicit, Pos, Value, YamlList, YamlMap, YamlProblem, parse


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

    def __init__(self, path: str, problems: list[Problem], card: str | None = None) -> None:
        self.path = path
        self.problems = problems
        self.card = card

    def for_card(self, card: str | None) -> Reader:
        """The same reader, with messages naming a card."""
        return Reader(self.path, self.problems, card)

    def report(self, pos: Pos, message: str, hint: str | None = None, severity: str = "error") -> None:
        """Record a problem at a position of this file."""
        self.problems.append(
            Problem(self.path, pos.line, pos.column, message, self.card, hint, severity)
        )

    def text(self, mapping: YamlMap, key: str, required: bool = False) -> str | None:
        """A text value; numbers and booleans YAML guessed are reported with the fix."""
        if key not in mapping:
            if required:
                self.report(mapping.pos, f"missing field '{key}'")
            return None
        return self.text_value(mapping[key], mapping.value_pos[key], key, required)

    def text_value(self, value: Value, pos: Pos, name: str, required: bool = True) -> str | None:
        """Check that a value is non-empty text."""
        if isinstance(value, str):
            if required and not value.strip():
                self.report(pos, f"field '{name}' is empty")
                return None
            return value
        if isinstance(value, Implicit):
            self.report(
                pos,
                f"field '{name}' is {describe(value)}, not text",
                f'YAML reads {value.raw} as a {value.kind}: quote it, {name}: "{value.raw}"',
            )
        elif value is None:
            if required:
                self.report(pos, f"field '{name}' is empty")
        else:
            self.report(pos, f"field '{name}' must be text, not {describe(value)}")
        return None

    def text_list(self, mapping: YamlMap, key: str) -> list[tuple[str, Pos]]:
        """A list of text values (a single text is accepted as a list of one)."""
        if key not in mapping or mapping[key] is None:
            return []
        value, pos = mapping[key], mapping.value_pos[key]
        if not isinstance(value, YamlList):
            text = self.text_value(value, pos, key)
            return [(text, pos)] if text is not None else []
        out = []
        for item, item_pos in zip(value, value.item_pos):
            text = self.text_value(item, item_pos, f"{key}' item '{item}")
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

    def unknown_keys(self, mapping: YamlMap, allowed: Iterable[str], what: str) -> None:
        """Report every key that is not one of `allowed`, with a suggestion."""
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                self.report(mapping.key_pos[key], f"unknown {what} '{key}'", did_you_mean(key, allowed))


def decode(data: bytes, path: str, problems: list[Problem]) -> str | None:
    """A file's text, or None with a located problem for binary or non-UTF-8 content."""
    if b"\x00" in data:
        problems.append(Problem(path, 0, 0, "this is a binary file, not YAML text"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        problems.append(
            Problem(path, line, column, f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                    hint="save the file as UTF-8")
        )
        return None


def parse_document(data: bytes, path: str, problems: list[Problem]) -> Value:
    """Decode and parse one YAML file; problems are recorded, never raised."""
    text = decode(data, path, problems)
    if text is None:
        return None
    try:
        return parse(text)
    except YamlProblem as exc:
        problems.append(Problem(path, exc.pos.line, exc.pos.column, exc.message, hint=exc.hint))
        return None
