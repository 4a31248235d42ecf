"""Anki's own card rendering, in pure Python, for deckgen's note types.

``render_cards`` gives the cards Anki generates for a note and the HTML its reviewer shows, so
the preview needs no Anki at run time. Each question/answer equals the official backend's
``Card.question()`` / ``Card.answer()`` byte for byte once their leading
``<style>{note type CSS}</style>`` is removed (the preview links the CSS itself).

The rules mirror Anki's Rust code (``rslib/src/template.rs``, ``cloze.rs``, ``cardgen.rs``) and
are checked against the real backend in ``tests/test_anki_render.py``. Not mirrored, because
deckgen never writes them: LaTeX (``[latex]``, ``[$]``), ``[anki:tts]`` directives, image
occlusion, and template filters other than ``cloze``.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from deckgen.notetypes import NoteType

MAX_CARD_ORD = 499
"""Anki puts every cloze number above 500 on card ord 499."""

_MAX_OPEN_CLOZES = 10
_MAX_CLOZE_NUMBER = 65535
_MORE_INFO = "https://docs.ankiweb.net/templates/errors.html"


@dataclass(frozen=True)
class RenderedCard:
    """One card of a note, as Anki's reviewer shows it (without the note type's CSS)."""

    ord: int
    question: str
    answer: str


def render_cards(note_type: NoteType, fields: dict[str, str]) -> list[RenderedCard]:
    """The cards Anki generates for a note of this type, in ord order, rendered as Anki does."""
    values = _stored_fields(note_type, fields)
    return [_render_card(note_type, values, card_ord) for card_ord in _card_ords(note_type, values)]


# Fields as Anki stores them
# ----------------------------------------

_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_EMPTY_FIELD = re.compile(r"(?:[\t\n\x0b\x0c\r ]|</?(?:br|div) ?/?>)*", re.IGNORECASE)


def _stored_fields(note_type: NoteType, fields: dict[str, str]) -> dict[str, str]:
    """Every field of the note type, cleaned as Anki cleans a note it saves."""
    _check_names(note_type, fields)
    return {name: _stored_value(fields.get(name, "")) for name in note_type.fields}


def _check_names(note_type: NoteType, fields: dict[str, str]) -> None:
    if not note_type.field_set.issuperset(fields):
        unknown = sorted(set(fields) - note_type.field_set)
        raise ValueError(f"note type {note_type.kind!r} has no field {', '.join(unknown)}")


def _stored_value(value: str) -> str:
    """Anki drops ASCII control characters except tab and newline, then NFC-normalises."""
    if value.isprintable():  # the common case: nothing to drop, and only NFC could change it
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if _INVALID_CHARS.search(value):
        value = _INVALID_CHARS.sub("", value)
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def _is_empty(value: str) -> bool:
    """Anki's idea of an empty field: only ASCII whitespace and bare <br>/<div> tags."""
    return _EMPTY_FIELD.fullmatch(value) is not None


def _nonempty(fields: dict[str, str]) -> frozenset[str]:
    """The names of the fields that count as filled."""
    return frozenset(name for name, value in fields.items() if not _is_empty(value))


# Which cards a note has
# ----------------------------------------


def generated_ords(note_type: NoteType, fields: dict[str, str]) -> list[int]:
    """The ords of the cards Anki generates for a note; empty when the note would have none."""
    if not note_type.is_cloze:
        _check_names(note_type, fields)
        filled = frozenset(name for name, value in fields.items() if _filled(value))
        known = note_type.generated_cards
        if filled not in known:
            known[filled] = _front_back_ords(note_type, filled)
        return list(known[filled])
    values = _stored_fields(note_type, fields)
    return sorted(min(number - 1, MAX_CARD_ORD) for number in _note_cloze_numbers(values))


def _filled(value: str) -> bool:
    """Whether a field counts as filled; text that starts with a letter or digit always does."""
    return value[:1].isalnum() or not _is_empty(_stored_value(value))


def _front_back_ords(note_type: NoteType, nonempty: frozenset[str]) -> tuple[int, ...]:
    """Which templates make a card (it depends only on which fields are filled: the callers remember it)."""
    return tuple(i for i, t in enumerate(note_type.templates) if _renders(_parse(t.question), nonempty))


def _card_ords(note_type: NoteType, fields: dict[str, str]) -> list[int]:
    """Anki's card generation; a note that would have no card still gets card 0."""
    return generated_ords(note_type, fields) or [0]


def _note_cloze_numbers(fields: dict[str, str]) -> set[int]:
    """Cloze numbers in any field of the note (not only the one the template clozes)."""
    return set().union(*(_cloze_numbers(_parse_clozes(value)) for value in fields.values() if "{{c" in value))


# Rendering one card
# ----------------------------------------


def _render_card(note_type: NoteType, fields: dict[str, str], card_ord: int) -> RenderedCard:
    """Both sides of one card, following Anki's render pipeline."""
    template = note_type.templates[0 if note_type.is_cloze else card_ord]
    context = _Context(_card_fields(fields, card_ord), card_ord)
    question_nodes = _parse(template.question)
    question = _render(question_nodes, context)
    blank = _blank_message(note_type, fields, card_ord, question_nodes, context)
    if blank:
        return RenderedCard(card_ord, _play_refs(question + blank, "q"), _play_refs(blank, "a"))
    question = _play_refs(question, "q")
    answer = _render(_parse(template.answer), replace(context, front_side=question))
    return RenderedCard(card_ord, question, _play_refs(answer, "a"))


def _card_fields(fields: dict[str, str], card_ord: int) -> dict[str, str]:
    """The note's fields plus the special ``c<n>`` field Anki sets for the card's cloze number."""
    return {f"c{card_ord + 1}": "1", **fields}


def _blank_message(
    note_type: NoteType,
    fields: dict[str, str],
    card_ord: int,
    question_nodes: tuple[_Node, ...],
    context: _Context,
) -> str:
    """Anki's error text for a card with nothing to ask, or "" for a normal card."""
    if note_type.is_cloze:
        if card_ord + 1 in _note_cloze_numbers(fields):
            return ""
        text = (
            f"No cloze \u2068{card_ord + 1}\u2069 found on card.\n"
            "Please either add a cloze deletion, or use the Empty Cards tool."
        )
        return _error_div(text, "no-cloze-filter-on-cloze-note-type")
    if _renders(question_nodes, context.nonempty):
        return ""
    return _error_div("The front of this card is blank.", "front-of-card-is-blank")


def _error_div(text: str, anchor: str) -> str:
    """Anki's (English) error block with its "More information" link."""
    return f"<div>{text}<br><a href='{_MORE_INFO}#{anchor}'>More information</a></div>"


_SOUND = re.compile(r"\[sound:([^\]]+)\]")


def _play_refs(html: str, side: str) -> str:
    """Replace ``[sound:...]`` tags with the numbered ``[anki:play:q:0]`` refs Anki returns."""
    counter = itertools.count()
    return _SOUND.sub(lambda _: f"[anki:play:{side}:{next(counter)}]", html)


# Anki's template language
# ----------------------------------------


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Replacement:
    key: str
    filters: tuple[str, ...]  # in the order they apply: the one nearest the field name first


@dataclass(frozen=True)
class _Section:
    key: str
    negated: bool
    children: tuple[_Node, ...]


_Node = _Text | _Replacement | _Section

_HANDLE = re.compile(r"\{\{(.*?)\}\}|<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class _Context:
    fields: dict[str, str]
    card_ord: int
    front_side: str | None = None  # None while rendering the question
    nonempty: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nonempty", _nonempty(self.fields))


@functools.lru_cache(maxsize=64)
def _parse(template: str) -> tuple[_Node, ...]:
    """Parse an Anki template into text, field replacements and sections (cached: templates are few)."""
    return _parse_nodes(_template_tokens(template), None)


def _template_tokens(template: str) -> Iterator[tuple[str, bool]]:
    """(text, False) for text and comments, (inner text, True) for each ``{{...}}``."""
    start = 0
    for match in _HANDLE.finditer(template):
        if match.start() > start:
            yield template[start : match.start()], False
        is_handle = match.group(1) is not None
        yield (match.group(1) if is_handle else match.group(0)), is_handle
        start = match.end()
    if start < len(template):
        yield template[start:], False


def _parse_nodes(tokens: Iterator[tuple[str, bool]], open_key: str | None) -> tuple[_Node, ...]:
    """Nodes up to the ``{{/open_key}}`` that closes the current section."""
    nodes: list[_Node] = []
    for text, is_handle in tokens:
        kind, key = _classify(text) if is_handle else ("text", text)
        if kind == "/":
            if key != open_key:
                raise ValueError(f"template closes {{{{/{key}}}}} but {open_key!r} is open")
            return tuple(nodes)
        nodes.append(_node(kind, key, tokens))
    if open_key is not None:
        raise ValueError(f"template never closes {{{{#{open_key}}}}}")
    return tuple(nodes)


def _node(kind: str, key: str, tokens: Iterator[tuple[str, bool]]) -> _Node:
    """One node; a section consumes the tokens up to its closing handle."""
    if kind == "text":
        return _Text(key)
    if kind in ("#", "^"):
        return _Section(key, kind == "^", _parse_nodes(tokens, key))
    *filters, name = key.split(":")
    return _Replacement(name, tuple(reversed(filters)))


def _classify(handle: str) -> tuple[str, str]:
    """Kind ("#", "^", "/" or "" for a replacement) and key of a ``{{...}}`` handle."""
    inner = handle.lstrip("{").strip()
    if len(inner.encode()) >= 2 and inner[0] in "#^/":
        return inner[0], inner[1:].lstrip()
    return "", inner


def _renders(nodes: Iterable[_Node], nonempty: frozenset[str]) -> bool:
    """Anki's "template is not empty" check: some shown replacement has a non-empty field."""
    return any(_node_renders(node, nonempty) for node in nodes)


def _node_renders(node: _Node, nonempty: frozenset[str]) -> bool:
    """Whether this node contributes a non-empty field."""
    if isinstance(node, _Text):
        return False
    if isinstance(node, _Replacement):
        return node.key in nonempty
    return (node.key in nonempty) != node.negated and _renders(node.children, nonempty)


def _render(nodes: Iterable[_Node], context: _Context) -> str:
    """Render template nodes to HTML."""
    return "".join(_render_node(node, context) for node in nodes)


def _render_node(node: _Node, context: _Context) -> str:
    """Render one node; hidden sections are still rendered so that errors surface."""
    if isinstance(node, _Text):
        return node.text
    if isinstance(node, _Replacement):
        return _replace(node, context)
    children = _render(node.children, context)
    return children if _section_shown(node, context) else ""


def _section_shown(section: _Section, context: _Context) -> bool:
    """Whether ``{{#key}}`` / ``{{^key}}`` shows its content."""
    if section.key not in context.fields and not re.fullmatch(r"c\d+", section.key):
        raise ValueError(f"template has a section on unknown field {section.key!r}")
    return (section.key in context.nonempty) != section.negated


def _replace(node: _Replacement, context: _Context) -> str:
    """The text of a field replacement, ``{{FrontSide}}`` included."""
    if node.key == "FrontSide":
        return context.front_side or ""
    if node.key not in context.fields:
        raise ValueError(f"template refers to unknown field {node.key!r}")
    text = context.fields[node.key]
    for name in node.filters:
        text = _apply_filter(name, text, context)
    return text


def _apply_filter(name: str, text: str, context: _Context) -> str:
    """Apply one of the template filters deckgen's note types use."""
    if name == "":
        return text
    if name == "cloze":
        return _cloze_filter(text, context.card_ord + 1, context.front_side is None)
    raise ValueError(f"template filter {name!r} is not supported by deckgen's renderer")


# Cloze deletions
# ----------------------------------------


@dataclass
class _Cloze:
    number: int
    nodes: list[str | _Cloze]
    hint: str | None = None


_CLOZE_MARKER = re.compile(r"\{\{c(\d+)::|\}\}")
_MATHJAX = re.compile(r"(\\[(\[])(.*?)(\\[\])])", re.DOTALL | re.IGNORECASE)
_HTML_TAG = re.compile(
    r"<!--.*?-->|<style.*?>.*?</style>|<script.*?>.*?</script>|<.*?>", re.DOTALL | re.IGNORECASE
)
_ATTRIBUTE_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


def _cloze_filter(text: str, number: int, question: bool) -> str:
    """``{{cloze:Field}}``: "" unless cloze ``number`` occurs, MathJax stripped of tags."""
    nodes = _parse_clozes(text)
    if number not in _cloze_numbers(nodes):
        return ""
    revealed = "".join(_reveal(node, number, question) for node in nodes)
    return _MATHJAX.sub(lambda m: m[1] + _HTML_TAG.sub("", m[2]) + m[3], revealed)


def _cloze_tokens(text: str) -> Iterator[str | int | None]:
    """Text runs (str), cloze openings (their number) and closing ``}}`` (None)."""
    start = position = 0
    while match := _CLOZE_MARKER.search(text, position):
        number = match.group(1)
        if number is not None and int(number) > _MAX_CLOZE_NUMBER:
            position = match.start() + 1  # not a number Anki accepts: plain text
            continue
        if match.start() > start:
            yield text[start : match.start()]
        yield None if number is None else int(number)
        start = position = match.end()
    if start < len(text):
        yield text[start:]


def _parse_clozes(text: str) -> list[str | _Cloze]:
    """Text and closed clozes; an unclosed cloze is dropped with its content, as Anki does."""
    output: list[str | _Cloze] = []
    open_clozes: list[_Cloze] = []
    for token in _cloze_tokens(text):
        if isinstance(token, str):
            _add_text(open_clozes[-1] if open_clozes else None, output, token)
        elif token is None:
            _close(open_clozes, output)
        elif len(open_clozes) < _MAX_OPEN_CLOZES:
            open_clozes.append(_Cloze(token, []))
    return output


def _add_text(cloze: _Cloze | None, output: list[str | _Cloze], text: str) -> None:
    """Add a text run; inside a cloze, ``::`` starts the hint (the last one given wins)."""
    if cloze is None:
        output.append(text)
        return
    text, separator, hint = text.partition("::")
    if separator:
        cloze.hint = hint
    cloze.nodes.append(text)


def _close(open_clozes: list[_Cloze], output: list[str | _Cloze]) -> None:
    """Close the innermost cloze; a ``}}`` outside any cloze is plain text."""
    if not open_clozes:
        output.append("}}")
        return
    cloze = open_clozes.pop()
    (open_clozes[-1].nodes if open_clozes else output).append(cloze)


def _cloze_numbers(nodes: Iterable[str | _Cloze]) -> set[int]:
    """Cloze numbers at any depth, without 0 (which never makes a card)."""
    numbers: set[int] = set()
    for node in nodes:
        if isinstance(node, _Cloze):
            numbers.add(node.number)
            numbers |= _cloze_numbers(node.nodes)
    return numbers - {0}


def _reveal(node: str | _Cloze, number: int, question: bool) -> str:
    """HTML of a text run or cloze for the card of cloze ``number``."""
    if isinstance(node, str):
        return node
    inner = "".join(_reveal(child, number, question) for child in node.nodes)
    if node.number != number:
        return f'<span class="cloze-inactive" data-ordinal="{node.number}">{inner}</span>'
    if not question:
        return f'<span class="cloze" data-ordinal="{node.number}">{inner}</span>'
    hint = "..." if node.hint is None else node.hint
    return (
        f'<span class="cloze" data-cloze="{_attribute(inner)}" '
        f'data-ordinal="{node.number}">[{hint}]</span>'
    )


def _attribute(text: str) -> str:
    """Escape as Rust's htmlescape::encode_attribute: Latin-1 non-alphanumerics as ``&#xHH;``."""
    return "".join(_attribute_char(char) for char in text)


def _attribute_char(char: str) -> str:
    """One character of an attribute value."""
    if char in _ATTRIBUTE_ENTITIES:
        return _ATTRIBUTE_ENTITIES[char]
    if ord(char) < 256 and not (char.isascii() and char.isalnum()):
        return f"&#x{ord(char):02X};"
    return char


def cloze_deletions(text: str, number: int) -> list[str]:
    """The HTML each deletion of cloze ``number`` hides, in order: what its card asks for (deckgen.lint)."""
    found: list[str] = []
    _collect_deletions(_parse_clozes(_stored_value(text)), number, found)
    return found


def _collect_deletions(nodes: Iterable[str | _Cloze], number: int, found: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Cloze):
            if node.number == number:
                found.append("".join(_reveal(child, number, False) for child in node.nodes))
            else:
                _collect_deletions(node.nodes, number, found)
