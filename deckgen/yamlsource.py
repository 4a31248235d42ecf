"""Read YAML safely, keeping where every value stands.

deckgen composes YAML into nodes and builds the values itself instead of letting PyYAML construct
them: no tag can run code (only the YAML core schema is known), aliases cannot blow a document
up, duplicate keys are caught, and a value that YAML reads as something other than text
(`back: no` is a boolean) is kept as `Implicit` so that the checks can say "quote it" instead of
putting "False" on a card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import yaml

try:
    _Loader: type = yaml.CSafeLoader
    HAS_C_LOADER = True
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader
    HAS_C_LOADER = False

_TAG = "tag:yaml.org,2002:"
_KINDS = {"bool": "boolean", "int": "number", "float": "number", "timestamp": "date", "null": "null"}
_MAX_DEPTH = 64
_MAX_GROWTH = 100_000  # how many values aliases may add to a document beyond 4x its own size


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in a file."""

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


class YamlMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it, its keys and its values stand."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.value_pos: dict[str, Pos] = {}


class YamlList(list):  # type: ignore[type-arg]
    """A sequence that remembers where it and its items stand."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


Value = Union[str, None, Implicit, YamlMap, YamlList]


@dataclass
class YamlProblem(Exception):
    """Why a YAML document could not be read, and where."""

    message: str
    pos: Pos = field(default_factory=lambda: Pos(0, 0))
    hint: str | None = None


def parse(text: str) -> Value:
    """Parse one YAML document into located values; raise YamlProblem if it cannot be read."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_problem(exc) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(str(exc)) from None
    except RecursionError:
        raise YamlProblem("the document is nested too deeply") from None
    if node is None:
        return None
    _check_expansion(node)
    return _value(node, 0)


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _syntax_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    pos = Pos(mark.line + 1, mark.column + 1) if mark else Pos(0, 0)
    message = exc.problem or "invalid YAML"
    if exc.context:
        message = f"{message} ({exc.context})"
    hint = None
    if "'\\t'" in message or "\\t" in (exc.problem or ""):
        hint = "indent with spaces, YAML does not allow tabs"
    elif "mapping values are not allowed" in message:
        hint = "a value containing ': ' must be quoted"
    elif "found character '@'" in message or "found character '`'" in message:
        hint = "quote the value"
    elif "expected a single document" in message:
        hint = "a card file holds one document: remove the '---' separator"
    return YamlProblem(f"YAML syntax error: {message}", pos, hint)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases would expand it far beyond its own size."""
    sizes: dict[int, int] = {}
    distinct = _expanded_size(root, sizes, set())
    if distinct > 4 * len(sizes) + _MAX_GROWTH:
        raise YamlProblem(
            f"aliases expand this document to more than {distinct:,} values",
            _pos(root),
            "remove the anchors (&) and aliases (*) that repeat large parts",
        )


def _expanded_size(node: yaml.Node, sizes: dict[int, int], active: set[int]) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise YamlProblem("an alias refers to the structure that contains it", _pos(node))
    if len(active) > _MAX_DEPTH:
        raise YamlProblem(f"the document is nested more than {_MAX_DEPTH} levels deep", _pos(node))
    active.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes, active) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, sizes, active) + _expanded_size(v, sizes, active)
    active.discard(key)
    sizes[key] = size
    return size


def _value(node: yaml.Node, depth: int) -> Value:
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode) and node.tag == _TAG + "seq":
        return _sequence(node, depth)
    if isinstance(node, yaml.MappingNode) and node.tag == _TAG + "map":
        return _mapping(node, depth)
    raise _unknown_tag(node)


def _unknown_tag(node: yaml.Node) -> YamlProblem:
    return YamlProblem(
        f"unsupported YAML tag '{node.tag}'",
        _pos(node),
        "deckgen reads plain YAML only: remove the tag",
    )


def _scalar(node: yaml.ScalarNode) -> str | None | Implicit:
    tag = node.tag
    if tag == _TAG + "str":
        return str(node.value)
    kind = _KINDS.get(tag.removeprefix(_TAG)) if tag.startswith(_TAG) else None
    if kind is None:
        raise _unknown_tag(node)
    if kind == "null":
        return None
    return Implicit(kind, node.value, _implicit_value(node))


def _implicit_value(node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return node.value


def _sequence(node: yaml.SequenceNode, depth: int) -> YamlList:
    items = YamlList(_pos(node))
    for child in node.value:
        items.append(_value(child, depth + 1))
        items.item_pos.append(_pos(child))
    return items


def _mapping(node: yaml.MappingNode, depth: int) -> YamlMap:
    mapping = YamlMap(_pos(node))
    for key_node, value_node in node.value:
        key = _key(key_node)
        if key in mapping:
            first = mapping.key_pos[key]
            raise YamlProblem(
                f"duplicate key '{key}' (first at line {first.line})",
                _pos(key_node),
                "YAML would silently keep only the last one",
            )
        mapping[key] = _value(value_node, depth + 1)
        mapping.key_pos[key] = _pos(key_node)
        mapping.value_pos[key] = _pos(value_node)
    return mapping


def _key(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "merge":
        raise YamlProblem("merge keys ('<<') are not supported", _pos(node), "write the keys out")
    if not isinstance(node, yaml.ScalarNode):
        raise YamlProblem("a key must be plain text, not a list or mapping", _pos(node))
    value = _scalar(node)
    return str(value) if value is not None else "null"
