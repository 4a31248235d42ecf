"""Read YAML safely, keeping where every value stands.

deckgen composes YAML into nodes and builds the values itself instead of letting PyYAML construct
them: no tag can run code (only the YAML core schema is known), aliases cannot blow a document
up, duplicate keys are caught, and a value that YAML reads as something other than text
(`back: no` is a boolean) is kept as `Implicit` so that the checks can say "quote it" instead of
putting "False" on a card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, Union

import yaml

from ..safety.limits import MAX_ALIAS_CHARS

try:
    _BaseLoader: type = yaml.CSafeLoader
    HAS_C_LOADER = True
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader
    HAS_C_LOADER = False

# The first characters for which YAML's core schema has an implicit type (booleans, numbers, ...)
_IMPLICIT_FIRST = frozenset(key for key in _BaseLoader.yaml_implicit_resolvers if key)
_SCALAR_NODE = yaml.ScalarNode
_WORD_TAGS: dict[str, str] = {}  # the tags of short plain words such as keys: 'type' is text, 'no' a boolean


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, with a shortcut for the plain text that most of a card file is."""

    def resolve(self, kind, value, implicit):  # type: ignore[no-untyped-def]
        if kind is _SCALAR_NODE and value and (
            not implicit[0] or value[0] not in _IMPLICIT_FIRST or (len(value) > 5 and value[0].isalpha())
        ):  # quoted; or plain, and no implicit type starts this way (words of a letter are at most 'False')
            return "tag:yaml.org,2002:str"
        if kind is _SCALAR_NODE and implicit[0] and value[:1].isalpha():  # a short word: the same few again and again
            tag = _WORD_TAGS.get(value)
            if tag is None:
                tag = _WORD_TAGS[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node, current_index):  # type: ignore[no-untyped-def]
        """Nothing to do: path resolvers are never registered (PyYAML calls this for every node)."""

    def ascend_resolver(self):  # type: ignore[no-untyped-def]
        """Nothing to do, as above."""

_TAG = "tag:yaml.org,2002:"
_KINDS = {"bool": "boolean", "int": "number", "float": "number", "timestamp": "date", "null": "null"}
_MAX_DEPTH = 64
_STR, _SEQ, _MAP = _TAG + "str", _TAG + "seq", _TAG + "map"
_SCALAR_TAGS = (*_KINDS, "str", "value")
_MAX_GROWTH = 100_000  # how many values aliases may add to a document beyond 4x its own size
# Plain text that YAML 1.1 (PyYAML) keeps as text but YAML 1.2 tools read as a number: 1e3, 0o17.
_NUMBER_FIRST = frozenset("+-.0123456789")  # what such a number starts with
_YAML12_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+")


class Pos(NamedTuple):
    """A 1-based line and column in a file (a tuple: a card file has thousands)."""

    line: int
    column: int


@dataclass(frozen=True)
class Implicit:
    """A plain scalar that YAML reads as something other than text: `no`, `1e3`, `2024-01-01`."""

    kind: str
    raw: str
    value: object

    def __str__(self) -> str:
        return self.raw


def as_pos(mark: Pos | yaml.Mark) -> Pos:
    """A position from a parser mark (or a position already)."""
    return mark if isinstance(mark, Pos) else Pos(mark.line + 1, mark.column + 1)


class _Positions(dict):  # type: ignore[type-arg]
    """Positions by key, kept as the parser's marks and made into a Pos only when one is asked for.

    Positions are read only to report a problem, and a card file has thousands of them.
    """

    def __getitem__(self, key: str) -> Pos:
        return as_pos(dict.__getitem__(self, key))

    def get(self, key: str, default: Pos | None = None) -> Pos | None:  # type: ignore[override]
        return as_pos(dict.__getitem__(self, key)) if key in self else default

    mark = dict.__getitem__
    """The position as stored: for passing on to a report that may never be made."""


class _PositionList(list):  # type: ignore[type-arg]
    """Positions of a sequence's items, kept as marks like `_Positions`."""

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return as_pos(list.__getitem__(self, index))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return map(as_pos, list.__iter__(self))


class YamlMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it, its keys and its values stand."""

    __slots__ = ("pos", "key_pos", "value_pos", "folded")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = _Positions()
        self.value_pos: dict[str, Pos] = _Positions()
        self.folded: tuple[str, ...] = ()  # keys whose text spans lines that YAML joined with spaces


class YamlList(list):  # type: ignore[type-arg]
    """A sequence that remembers where it and its items stand."""

    __slots__ = ("pos", "item_pos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = _PositionList()


Value = Union[str, None, Implicit, YamlMap, YamlList]


@dataclass(frozen=True)
class YamlProblem:
    """One reason a YAML document cannot be read, and where."""

    message: str
    pos: Pos = Pos(0, 0)
    hint: str | None = None
    quote_at: Pos | None = None  # a value to quote (it starts with a character YAML reads as syntax)


class YamlError(Exception):
    """A YAML document that cannot be read, with every located problem found in it.

    `document` is what it reads as once the values the problems say to quote are quoted (None if
    that does not make it readable): the rest of the file can then still be checked.
    """

    def __init__(self, problems: list[YamlProblem], document: Value = None) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems
        self.document = document


_MAX_QUOTED = 20  # values quoted, one after another, to read on past syntax errors


def parse(text: str, quoted_before: int = 0) -> Value:
    """Parse one YAML document into located values; raise YamlError if it cannot be read."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _read_on(_syntax_problem(exc, text), text, quoted_before) from None
    except yaml.reader.ReaderError as exc:
        raise YamlError([_reader_problem(exc, text)]) from None
    except yaml.YAMLError as exc:
        raise YamlError([YamlProblem(f"YAML error: {exc}")]) from None
    except RecursionError:
        raise YamlError([YamlProblem("the document is nested too deeply")]) from None
    if node is None:
        return None
    if "&" in text:  # only anchors let nodes be shared, and so multiplied or looped
        _check_expansion(node, len(text))
    builder = _Builder()
    value = builder.value(node, 0)
    problems = builder.tag_problems or builder.problems + builder.duplicates  # nothing else counts beside foreign tags
    if problems:  # a duplicate key (the first is kept) hides nothing else: the document reads on without it
        raise YamlError(sorted(problems, key=lambda p: (p.pos.line, p.pos.column)),
                        None if builder.tag_problems or builder.problems else value)
    return value


def _read_on(problem: YamlProblem, text: str, quoted_before: int) -> YamlError:
    """The error, with what the rest of the document says once the value it names is quoted as the hint says."""
    if problem.quote_at is None or quoted_before >= _MAX_QUOTED:
        return YamlError([problem])
    lines = text.split("\n")
    line, start = lines[problem.quote_at.line - 1], problem.quote_at.column - 1
    lines[problem.quote_at.line - 1] = line[:start] + quoted(line[start:].rstrip())
    try:
        return YamlError([problem], parse("\n".join(lines), quoted_before + 1))
    except YamlError as later:
        return YamlError([problem, *later.problems], later.document)


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _mark_pos(mark: yaml.Mark | None) -> Pos:
    return Pos(mark.line + 1, mark.column + 1) if mark else Pos(0, 0)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """A parser error in words a person editing cards understands, at the place to fix."""
    problem, context = exc.problem or "invalid YAML", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line = _line(text, mark)
    message = f"YAML syntax error: {problem}"
    tab = _tab_pos(line, mark)
    if tab:
        return YamlProblem("YAML syntax error: a tab in the indentation", tab,
                           "indent with spaces, YAML does not allow tabs")
    if "quoted scalar" in context:
        return YamlProblem("YAML syntax error: a quoted value is never closed", _mark_pos(exc.context_mark),
                           "end it with the same quote it starts with")
    if "flow mapping" in context or "flow sequence" in context:
        return YamlProblem(message, _mark_pos(exc.context_mark),
                           "a value starting with '{' or '[' is read as a mapping or list: quote it, or close it")
    if problem.startswith(("did not find expected key", "expected <block end>")) and _after_quote(line, mark):
        return YamlProblem("YAML syntax error: text after the closing quote of a value", _mark_pos(mark),
                           "quote the whole value (inside \"...\" write \\\" for a quote, inside '...' write ''), "
                           "or close a quote left open above")
    start = _special_start(line) if mark else None
    if start is not None and start <= mark.column:  # type: ignore[union-attr]
        return _special_problem(line, mark.line + 1, start)  # type: ignore[union-attr]
    hint = _syntax_hint(problem, context, line, mark)
    if hint == _COLON_HINT:  # a value with ': ' in it: quoting it is the fix, and the rest can be read on
        start = _VALUE_START.match(line).end()  # type: ignore[union-attr]
        key = line[:start].strip().removeprefix("-").strip()
        return YamlProblem(message, _mark_pos(mark), f"{hint}: {key + ' ' if key else ''}"
                           f"{quoted(line[start:].rstrip())}", Pos(mark.line + 1, start + 1))  # type: ignore[union-attr]
    if context and hint is None:
        message += f" ({context})"
    return YamlProblem(message, _mark_pos(mark), hint)


_COLON_HINT = "a value containing ': ' must be quoted"


def _syntax_hint(problem: str, context: str, line: str, mark: yaml.Mark | None) -> str | None:
    column = mark.column if mark else 0
    if "mapping values are not allowed" in problem:
        if re.fullmatch(r"\s+[^\s:#'\"][^:#]*", line[:column]):
            return "this line is indented more than the line above it: align it with its siblings"
        return _COLON_HINT
    if "cannot start any token" in problem and column < len(line):
        return f"quote the value: plain YAML text cannot start with '{line[column]}'"
    if "undefined alias" in problem or "anchor" in context or "alias" in context:
        return "'*' and '&' start aliases and anchors in YAML: quote the value"
    if problem.startswith(("did not find expected", "expected <block end>")):
        return "check the indentation: the fields of a card start in one column, and each card starts with '- '"
    if "expected a single document" in context:
        return "a card file holds one document: remove the '---' separator"
    return None


# What YAML makes of a plain value's first character, for the characters that cannot start text
_SPECIAL_FIRST = {
    "!": "YAML reads it as a tag", "[": "YAML reads it as the start of a list",
    "{": "YAML reads it as the start of a mapping", "*": "YAML reads it as an alias",
    "&": "YAML reads it as an anchor", "|": "YAML reads it as the start of a block of lines",
    ">": "YAML reads it as the start of a folded block of lines", "%": "YAML reads it as a directive",
    "@": "YAML reserves it", "`": "YAML reserves it",
}
_VALUE_START = re.compile(r"\s*(?:-\s+)*(?:[^\s#'\"\[\]{}:,][^:#]*:\s+)?")  # '- ', 'key: ' or '- key: '


def _special_start(line: str) -> int | None:
    """The column (0-based) of a line's value when it starts with a character YAML does not take for text."""
    start = _VALUE_START.match(line).end()  # type: ignore[union-attr]
    rest = line[start:].rstrip()
    if rest[:1] in _SPECIAL_FIRST and not (rest[:1] in "|>" and re.fullmatch(r"[|>][-+0-9]*", rest)):
        return start
    return None


def _special_problem(line: str, line_number: int, start: int) -> YamlProblem:
    """A value that starts with a character YAML reads as syntax: say which, and how to quote it."""
    value = line[start:].rstrip()
    key = line[:start].strip().removeprefix("-").strip()
    return YamlProblem(
        f"YAML syntax error: a value cannot start with '{value[0]}' unless quoted "
        f"({_SPECIAL_FIRST[value[0]]})", Pos(line_number, start + 1),
        f"quote the whole value: {key + ' ' if key else ''}{quoted(value)}", Pos(line_number, start + 1))


def quoted(text: str) -> str:
    """Text as a quoted YAML value that reads back as the same text."""
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line(text: str, mark: yaml.Mark | None) -> str:
    lines = text.split("\n")
    return lines[mark.line] if mark and mark.line < len(lines) else ""


def _tab_pos(line: str, mark: yaml.Mark | None) -> Pos | None:
    """Where a tab breaks the indentation of the line at `mark`, if one does."""
    if mark is None:
        return None
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in indent or (mark.column < len(line) and line[mark.column] == "\t"):
        return Pos(mark.line + 1, line.index("\t") + 1)
    return None


def _after_quote(line: str, mark: yaml.Mark | None) -> bool:
    return (line[: mark.column].rstrip() if mark else "").endswith(("'", '"'))


def _reader_problem(exc: yaml.reader.ReaderError, text: str) -> YamlProblem:
    """A character YAML refuses, such as a control character, located."""
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    before = text[: exc.position]
    pos = Pos(before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
    return YamlProblem(f"the control character U+{code:04X} is not allowed in YAML", pos, "remove it")


def _shown_tag(tag: str) -> str:
    """A tag as it was most likely written: '!!python/object' rather than its long form."""
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _check_expansion(root: yaml.Node, length: int) -> None:
    """Refuse a document whose aliases would expand it far beyond its own size, in values or in characters."""
    sizes: dict[int, tuple[int, int]] = {}
    distinct, characters = _expanded_size(root, sizes, set())
    if distinct > 4 * len(sizes) + _MAX_GROWTH:
        raise YamlError([YamlProblem(
            f"aliases expand this document to {distinct:,} values",
            _pos(root),
            "remove the anchors (&) and aliases (*) that repeat large parts",
        )])
    if characters > length + MAX_ALIAS_CHARS:
        raise YamlError([YamlProblem(
            f"aliases expand this document to {characters:,} characters, more than {MAX_ALIAS_CHARS:,} "
            f"beyond its own {length:,}", _pos(root),
            "remove the anchors (&) and aliases (*) that repeat long texts",
        )])


def _expanded_size(node: yaml.Node, sizes: dict[int, tuple[int, int]], active: set[int]) -> tuple[int, int]:
    """(values, characters) of a node with every alias in it expanded."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise YamlError([YamlProblem("an alias refers to the structure that contains it", _pos(node))])
    if len(active) > _MAX_DEPTH:
        raise YamlError([YamlProblem(f"the document is nested more than {_MAX_DEPTH} levels deep", _pos(node))])
    active.add(key)
    size, characters = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
    children = node.value if isinstance(node, yaml.SequenceNode) else (
        [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) else [])
    for child in children:
        values, text = _expanded_size(child, sizes, active)
        size, characters = size + values, characters + text
    active.discard(key)
    sizes[key] = size, characters
    return size, characters


class _Builder:
    """Builds located values in one pass over the nodes, collecting every problem instead of stopping.

    Every explicit tag beyond plain YAML is refused here (nothing is ever constructed from one).
    """

    def __init__(self) -> None:
        self.problems: list[YamlProblem] = []
        self.tag_problems: list[YamlProblem] = []
        self.duplicates: list[YamlProblem] = []  # keys given twice: the first is kept, and the rest can be read

    def value(self, node: yaml.Node, depth: int) -> Value:
        if depth > _MAX_DEPTH:
            self.problems.append(YamlProblem(f"the document is nested more than {_MAX_DEPTH} levels deep",
                                             _pos(node)))
            return None
        text = _text(node)
        if text is not None:
            return text
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return self._sequence(node, depth)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return self._mapping(node, depth)
        if isinstance(node, yaml.ScalarNode) and node.tag.removeprefix(_TAG) in _SCALAR_TAGS:
            return _scalar(node)
        shown = _shown_tag(node.tag)
        text = "" if shown.startswith("!!") else ", or quote the value if the '!' belongs to its text"
        self.tag_problems.append(YamlProblem(f"YAML tag '{shown}' is not allowed", _pos(node),
                                             f"deckgen reads plain YAML only: remove the tag{text}"))
        return None

    def _sequence(self, node: yaml.SequenceNode, depth: int) -> YamlList:
        items = YamlList(_pos(node))
        for child in node.value:
            items.append(self.value(child, depth + 1))
            items.item_pos.append(child.start_mark)
        return items

    def _mapping(self, node: yaml.MappingNode, depth: int) -> YamlMap:
        mapping = YamlMap(_pos(node))
        key_pos, value_pos = mapping.key_pos, mapping.value_pos
        for key_node, value_node in node.value:
            key = _text(key_node)  # the common case, inline: a card file is mostly text keys and values
            if key is None:
                key = self._key(key_node)
                if key is None:
                    continue
            if key in mapping:
                self.duplicates.append(YamlProblem(
                    f"duplicate key '{key}' (first at line {mapping.key_pos[key].line})",
                    _pos(key_node), "keep one of the two: another YAML reader would keep only the last one, "
                                    "deckgen reads on with the first",
                ))
                continue
            value = _text(value_node) if depth < _MAX_DEPTH else None
            mapping[key] = self.value(value_node, depth + 1) if value is None else value
            key_pos[key] = key_node.start_mark
            value_pos[key] = value_node.start_mark
            if value_node.end_mark.line != value_node.start_mark.line and _folds(value_node):
                mapping.folded += (key,)
        return mapping

    def _key(self, node: yaml.Node) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "merge":
            self.problems.append(YamlProblem("merge keys ('<<') are not supported", _pos(node), "write the keys out"))
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problems.append(YamlProblem("a key must be plain text, not a list or mapping", _pos(node)))
            return None
        if node.tag.removeprefix(_TAG) not in _SCALAR_TAGS:
            self.value(node, 0)  # reports the tag
            return None
        value = _scalar(node)
        return str(value) if value is not None else "null"


def _folds(node: yaml.Node) -> bool:
    """Whether plain or quoted text that spans lines had a line joined to the next with a space.

    YAML folds each single line break of such a value to a space (an empty line to a line break).
    """
    return (isinstance(node, yaml.ScalarNode) and node.style in (None, "", "'", '"')  # plain: None, or '' from libyaml
            and node.end_mark.line - node.start_mark.line > 2 * node.value.count("\n"))


def _text(node: yaml.Node) -> str | None:
    """The node's text if it is plain text that no YAML reader could take for anything else; else None."""
    if type(node) is yaml.ScalarNode and node.tag == _STR:
        value = node.value
        if node.style or value[:1] not in _NUMBER_FIRST or not _YAML12_NUMBER.fullmatch(value):
            return value
    return None


def _scalar(node: yaml.ScalarNode) -> str | None | Implicit:
    kind = _KINDS.get(node.tag.removeprefix(_TAG))
    if kind is None:  # text ('str', or PyYAML's 'value' for a lone '=')
        if not node.style and _YAML12_NUMBER.fullmatch(node.value):  # plain: None, or '' from libyaml
            return Implicit("number", node.value, _number(node.value))
        return str(node.value)
    if kind == "null":
        return None
    return Implicit(kind, node.value, _implicit_value(node))


def _number(raw: str) -> object:
    """The value of a YAML 1.2 number that PyYAML's YAML 1.1 rules read as text."""
    try:
        return int(raw, 0)
    except ValueError:
        return float(raw)


def _implicit_value(node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return node.value
