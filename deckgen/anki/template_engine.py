"""Anki's own card rendering, in pure Python, for deckgen's note types.

``render_cards`` gives the cards Anki generates for a note and the HTML its reviewer shows, so
the preview needs no Anki at run time. Each question/answer equals the official backend's
``Card.question()`` / ``Card.answer()`` byte for byte once their leading
``<style>{note type CSS}</style>`` is removed (the preview links the CSS itself).

The rules mirror Anki's Rust code (``rslib/src/template.rs``, ``cloze.rs``, ``cardgen.rs``) and
are checked against the real backend in ``tests/test_anki_render.py`` and ``tests/test_note_types.py``.
The filters a project's own note type may use are mirrored: ``cloze``, ``cloze-only``, ``hint``,
``text``, ``type`` (as the backend returns it: a ``[[type:Field]]`` marker the reviewer replaces,
see ``typed_answer_sides``), ``furigana``, ``kana``, ``kanji`` and ``tts``; so are Anki's special
fields (``{{Tags}}``, ``{{Deck}}``, ...) when the caller passes the note's ``NoteContext``.
Not mirrored: LaTeX (``[latex]``, ``[$]``), image occlusion, the special field ``CardID``
(``check`` refuses it in a note type), a ``[anki:tts]`` directive without ``lang`` (Anki shows an
error text there) and the option order of other ``[anki:...]`` directives with several options
(Anki's own order is a hash map's).
"""

from __future__ import annotations

import functools
import html
import html.entities
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from deckgen.anki.builtin_note_types import NoteType
from deckgen.safety.limits import MAX_CARD_OUTPUT

MAX_CARD_ORD = 499
"""Anki puts every cloze number above 500 on card ord 499."""

_MAX_OPEN_CLOZES = 10
_MAX_CLOZE_NUMBER = 65535
_MORE_INFO = "https://docs.ankiweb.net/templates/errors.html"


class CardTooLarge(ValueError):
    """A card side would pass deckgen's output ceiling: a template repeating a long field thousands of times."""

    def __init__(self) -> None:
        super().__init__(f"its card would have more than {MAX_CARD_OUTPUT:,} characters on one side "
                         "as Anki renders it")


@dataclass(frozen=True)
class RenderedCard:
    """One card of a note, as Anki's reviewer shows it (without the note type's CSS)."""

    ord: int
    question: str
    answer: str


@dataclass(frozen=True)
class NoteContext:
    """What Anki's special fields show besides the note's own: ``{{Tags}}``, ``{{Type}}``, ``{{Deck}}``."""

    tags: tuple[str, ...] = ()
    note_type_name: str = ""
    deck: str = ""

    def special_fields(self, template_name: str) -> dict[str, str]:
        """Anki's special fields for a new card of this note (``add_special_fields`` in rslib)."""
        return {"Tags": " ".join(self.tags), "Type": self.note_type_name, "Deck": self.deck,
                "Subdeck": self.deck.rsplit("::", 1)[-1], "CardFlag": "flag0", "Card": template_name}


SPECIAL_FIELDS = ("Tags", "Type", "Deck", "Subdeck", "CardFlag", "Card")
"""The special fields the renderer shows (``CardID`` is not one: the learner's collection decides it)."""


def render_cards(note_type: NoteType, fields: dict[str, str], note: NoteContext | None = None) -> list[RenderedCard]:
    """The cards Anki generates for a note of this type, in ord order, rendered as Anki does."""
    values = _stored_fields(note_type, fields)
    return [_render_card(note_type, values, card_ord, note) for card_ord in _card_ords(note_type, values)]


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
        filled = frozenset(itertools.compress(fields, map(_filled, fields.values())))  # the filled fields
        known = note_type.generated_cards
        if filled not in known:
            known[filled] = _front_back_ords(note_type, filled)
        return list(known[filled])
    values = _stored_fields(note_type, fields)
    return sorted(min(number - 1, MAX_CARD_ORD) for number in _note_cloze_numbers(values))


def _filled(value: str) -> bool:
    """Whether a field counts as filled; text that starts with a letter or digit always does."""
    return value[:1].isalnum() or (bool(value) and not _is_empty(_stored_value(value)))


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


def render_questions(note_type: NoteType, fields: dict[str, str]) -> list[tuple[int, str]]:
    """Each card's ord and front, as ``render_cards`` gives them: for a reader of fronts alone (lint), half the work."""
    values = _stored_fields(note_type, fields)
    return [(card_ord, _render_question(note_type, values, card_ord)[0]) for card_ord in _card_ords(note_type, values)]


def _render_card(note_type: NoteType, fields: dict[str, str], card_ord: int, note: NoteContext | None = None
                 ) -> RenderedCard:
    """Both sides of one card, following Anki's render pipeline."""
    question, blank, context = _render_question(note_type, fields, card_ord, note)
    if blank:
        return RenderedCard(card_ord, question, _play_refs(blank, "a"))
    template = note_type.templates[0 if note_type.is_cloze else card_ord]
    answer = _render(_parse(template.answer), replace(context, front_side=question, written=[0]))
    return RenderedCard(card_ord, question, _play_refs(answer, "a"))


def _render_question(note_type: NoteType, fields: dict[str, str], card_ord: int, note: NoteContext | None = None
                     ) -> tuple[str, str, _Context]:
    """A card's front, Anki's error text if it has nothing to ask (else ""), and the context its back renders in."""
    template = note_type.templates[0 if note_type.is_cloze else card_ord]
    special = note.special_fields(template.name) if note else {}
    context = _Context(_card_fields({**special, **fields}, card_ord), card_ord)
    question_nodes = _parse(template.question)
    question = _render(question_nodes, context)
    blank = _blank_message(note_type, fields, card_ord, question_nodes, context)
    return _play_refs(question + blank, "q"), blank, context


def _card_fields(fields: dict[str, str], card_ord: int) -> dict[str, str]:
    """The note's fields (and special fields) plus the ``c<n>`` field Anki sets for the card's cloze number."""
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




_AV_TAG = re.compile(
    r"\[sound:[^\]]+\]"
    r"|\[anki:(?P<name>[^\] \t\r\n]+)[ \t\r\n]*"
    r"(?P<options>(?:[^\] \t\r\n=]+=(?:\"[^\"]*\"|[^\] \t\r\n\"]*)[ \t\r\n]*)*)\]"
    r"(?P<content>.*?)\[/anki:(?P=name)\]",
    re.DOTALL,
)
_DIRECTIVE_OPTION = re.compile(r"([^\] \t\r\n=]+)=(?:\"([^\"]*)\"|([^\] \t\r\n\"]*))")


def _play_refs(html: str, side: str) -> str:
    """Anki's AV tags as ``Card.question()``/``answer()`` return them (``card_rendering/writer.rs``).

    ``[sound:...]`` and ``[anki:tts lang=...]...[/anki:tts]`` become numbered ``[anki:play:q:0]``
    refs; other ``[anki:...]`` directives are written back with their options normalised.
    """
    counter = itertools.count()
    return _rewrite_av_tags(html, lambda: f"[anki:play:{side}:{next(counter)}]")


def _strip_av_tags(html: str) -> str:
    """Anki's ``strip_av_tags``: sounds and text-to-speech removed."""
    return _rewrite_av_tags(html, lambda: "")


def _rewrite_av_tags(html: str, av_tag: Callable[[], str]) -> str:
    """Each sound and text-to-speech tag replaced by ``av_tag()``; other directives written as Anki writes them."""
    if "[sound:" not in html and "[anki:" not in html:
        return html

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name is None:
            return av_tag()
        options = [(key, quoted or plain) for key, quoted, plain in _DIRECTIVE_OPTION.findall(match["options"])]
        if name == "tts":
            lang = next((value for key, value in reversed(options) if key == "lang"), "")
            return av_tag() if lang else match[0]  # no lang: Anki's error text, not mirrored
        written = "".join(_directive_option(key, value) for key, value in options)
        return f"[anki:{name}{written}]{match['content']}[/anki:{name}]"

    return _AV_TAG.sub(replace, html)


def _directive_option(key: str, value: str) -> str:
    """One option of a directive as Anki writes it back: quoted only where it must be."""
    return f' {key}="{value}"' if any(char in value for char in "] \t\r\n") else f" {key}={value}"


# Anki's template language
# ----------------------------------------


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Replacement:
    key: str
    filters: tuple[str, ...]  # in the order they apply: the one nearest the field name first
    handle: str = field(default="", compare=False)  # as written between {{ and }}, for messages


@dataclass(frozen=True)
class _Section:
    key: str
    negated: bool
    children: tuple[_Node, ...]
    handle: str = field(default="", compare=False)


_Node = _Text | _Replacement | _Section

_HANDLE = re.compile(r"\{\{(.*?)\}\}|<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class _Context:
    fields: dict[str, str]
    card_ord: int
    front_side: str | None = None  # None while rendering the question
    nonempty: frozenset[str] = field(init=False)
    written: list[int] = field(default_factory=lambda: [0], compare=False)  # characters so far, this side

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


def template_texts(template: str) -> list[str]:
    """The template's own text between its ``{{...}}`` handles (comments included), run by run."""
    texts, run = [], ""
    for text, is_handle in _template_tokens(template):
        if is_handle:
            texts.append(run)
            run = ""
        else:
            run += text
    return [*texts, run]


def _parse_nodes(tokens: Iterator[tuple[str, bool]], open_key: str | None) -> tuple[_Node, ...]:
    """Nodes up to the ``{{/open_key}}`` that closes the current section."""
    nodes: list[_Node] = []
    for text, is_handle in tokens:
        kind, key = _classify(text) if is_handle else ("text", text)
        if kind == "/":
            if key != open_key:
                raise ValueError(f"template closes {{{{/{key}}}}} but {open_key!r} is open")
            return tuple(nodes)
        nodes.append(_node(kind, key, tokens, text))
    if open_key is not None:
        raise ValueError(f"template never closes {{{{#{open_key}}}}}")
    return tuple(nodes)


def _node(kind: str, key: str, tokens: Iterator[tuple[str, bool]], handle: str) -> _Node:
    """One node; a section consumes the tokens up to its closing handle."""
    if kind == "text":
        return _Text(key)
    if kind in ("#", "^"):
        return _Section(key, kind == "^", _parse_nodes(tokens, key), handle)
    *filters, name = key.split(":")
    return _Replacement(name, tuple(reversed(filters)), handle)


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
    if isinstance(node, (_Text, _Replacement)):
        text = node.text if isinstance(node, _Text) else _replace(node, context)
        context.written[0] += len(text)
        if context.written[0] > MAX_CARD_OUTPUT:  # stopped before the side is joined into one huge text
            raise CardTooLarge()
        return text
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
    if node.filters[-1:] == ("type",):  # Anki: type:cloze and type:nc are kept, any other type: is plain
        inner = {("cloze", "type"): "cloze:", ("nc", "type"): "nc:"}.get(node.filters, "")
        return f"[[type:{inner}{node.key}]]"
    text = context.fields[node.key]
    for name in node.filters:
        text = _apply_filter(name, text, node.key, context)
    return text


def _apply_filter(name: str, text: str, field_name: str, context: _Context) -> str:
    """Apply one of Anki's template filters (``rslib/src/template_filters.rs``)."""
    if name == "":
        return text
    if name == "cloze":
        return _cloze_filter(text, context.card_ord + 1, context.front_side is None)
    if name == "cloze-only":
        return _cloze_only_filter(text, context.card_ord + 1, context.front_side is None)
    if name == "text":
        return strip_html(text)
    if name == "hint":
        return _hint_filter(text, field_name)
    if name in _RUBY_FILTERS:
        return _ruby_filter(name, text)
    if name.startswith("tts "):
        return f"[anki:tts lang={name[4:]}]{text}[/anki:tts]"
    raise ValueError(f"template filter {name!r} is not supported by deckgen's renderer")


# Template filters
# ----------------------------------------

RENDERED_FILTERS = frozenset({"", "cloze", "cloze-only", "text", "hint", "type", "furigana", "kana", "kanji"})
"""Anki's filters that this module renders; ``nc`` only in ``type:nc:``."""

_RUBY = re.compile(r" ?([^ >]+?)\[(.+?)\]")
_RUBY_FILTERS = ("furigana", "kana", "kanji")


def filter_problem(filters: tuple[str, ...]) -> str | None:
    """Why Anki or deckgen cannot render these filters (in the order they apply), or None."""
    if filters[-1:] == ("type",):
        return None  # Anki renders any type:...: as the typing box
    for name in filters:
        if name not in RENDERED_FILTERS and not name.startswith("tts "):
            return f"'{name}' is not one of Anki's template filters"
    return None


def strip_html(text: str) -> str:
    """Anki's ``strip_html``: tags, comments, styles and scripts removed, entities decoded."""
    text = _HTML_TAG.sub("", text)
    return _decode_entities(text) if "&" in text else text


_ENTITY = re.compile(r"&(?:#([0-9]+)|#x([0-9A-Fa-f]+)|([A-Za-z0-9]+));")


def _decode_entities(text: str) -> str:
    """Rust's ``htmlescape::decode_html`` as Anki uses it: all or nothing.

    Every ``&`` must start an HTML 4 entity or a numeric character reference; one that does not
    leaves the whole text as it is. Decoded no-break spaces become spaces.
    """
    parts: list[str] = []
    start = 0
    while (amp := text.find("&", start)) != -1:
        match = _ENTITY.match(text, amp)
        char = _entity_char(match) if match else None
        if char is None:
            return text
        parts += [text[start:amp], char]
        start = match.end()  # type: ignore[union-attr]
    return ("".join(parts) + text[start:]).replace("\xa0", " ")


def _entity_char(match: re.Match[str]) -> str | None:
    """The character an entity stands for, or None when it stands for none."""
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        code = html.entities.name2codepoint.get(name)
    else:
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code is None or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _hint_filter(text: str, field_name: str) -> str:
    """``{{hint:Field}}``: a link that shows the field when clicked, with Anki's blake3-based DOM id."""
    if not text.strip():
        return text
    import blake3  # only decks whose templates give hints need it

    digest = blake3.blake3(text.encode() + field_name.encode()).digest()[:8].hex()
    return (
        '\n<a class=hint href="#"\nonclick="this.style.display=\'none\';\n'
        f"document.getElementById('hint{digest}').style.display='block';\n"
        f"return false;\" draggable=false>\n{field_name}</a>\n"
        f'<div id="hint{digest}" class=hint style="display: none">{text}</div>\n'
    )


def _ruby_filter(name: str, text: str) -> str:
    """``furigana``/``kana``/``kanji``: ``漢字[かんじ]`` as ruby, reading only or base only."""

    def replace(match: re.Match[str]) -> str:
        if match[2].startswith("sound:"):
            return match[0]
        if name == "kana":
            return match[2]
        if name == "kanji":
            return match[1]
        return f"<ruby><rb>{match[1]}</rb><rt>{match[2]}</rt></ruby>"

    return _RUBY.sub(replace, text.replace("&nbsp;", " "))


_TYPE_MARKER = re.compile(r"\[\[type:(.+?)\]\]")
_LINEBREAKS = re.compile(r"(?:\n|<br\s?/?>|</?div>)+", re.IGNORECASE)


def typed_answer_sides(question: str, answer: str, fields: dict[str, str], card_ord: int = 0) -> tuple[str, str]:
    """Both sides as Anki's reviewer shows them to a learner who typed nothing.

    The backend leaves ``[[type:Field]]`` for the reviewer: the question gets the typing box, the
    answer the backend's comparison of the expected text (for ``type:cloze:``, the card's cloze
    texts) with the (empty) typed text.
    """
    if "[[type:" not in question + answer:
        return question, answer
    box = '<center><input type=text id=typeans disabled placeholder="(type the answer)"></center>'
    question = _TYPE_MARKER.sub(box, question)

    def comparison(match: re.Match[str]) -> str:
        *how, name = match[1].split(":")
        if name not in fields:
            return ""
        expected = fields[name]
        if how == ["cloze"]:
            expected = _cloze_for_typing(expected, card_ord + 1)
        return typed_comparison(expected)

    return question, _TYPE_MARKER.sub(comparison, answer)


def _cloze_for_typing(text: str, number: int) -> str:
    """Anki's ``extract_cloze_for_typing``: the card's cloze texts, once if they are all the same."""
    output: list[str] = []
    _cloze_only_texts(_parse_clozes(text), number, False, output)
    return output[0] if output and len(set(output)) == 1 else ", ".join(output)


def typed_comparison(expected: str) -> str:
    """The backend's ``compare_answer(expected, "")``: the expected text, plain and escaped."""
    stripped = strip_html(_LINEBREAKS.sub(" ", _strip_av_tags(expected))).strip()
    return f"<code id=typeans>{html.escape(stripped)}</code>"  # htmlescape's encode_minimal


# What a template can show
# ----------------------------------------


@dataclass(frozen=True)
class TemplateUse:
    """One ``{{...}}`` of a template: the field key, its filters (in the order they apply), its kind."""

    key: str
    filters: tuple[str, ...]
    section: bool
    handle: str  # as written: "#Side effects", "hint:Class"


def parse_template(template: str) -> tuple[TemplateUse, ...]:
    """Every field reference of an Anki template; raises ValueError for unbalanced sections."""
    return tuple(_uses(_parse(template)))


def _uses(nodes: Iterable[_Node]) -> Iterator[TemplateUse]:
    for node in nodes:
        if isinstance(node, _Replacement):
            yield TemplateUse(node.key, node.filters, False, node.handle)
        elif isinstance(node, _Section):
            yield TemplateUse(node.key, (), True, node.handle)
            yield from _uses(node.children)


@functools.lru_cache(maxsize=64)
def cloze_fields(note_type: NoteType) -> tuple[str, ...]:
    """The fields a cloze note type's front clozes (``{{cloze:Text}}``), in the order they appear."""
    uses = parse_template(note_type.templates[0].question)
    return tuple(dict.fromkeys(use.key for use in uses if "cloze" in use.filters and use.key in note_type.field_set))


def can_render(template: str, fields: Iterable[str]) -> bool:
    """Whether some set of filled fields makes this front render, so that Anki makes a card."""
    return _can_render(_parse(template), frozenset(fields), frozenset(), frozenset())


def _can_render(nodes: Iterable[_Node], fields: frozenset[str], needed: frozenset[str],
                empty: frozenset[str]) -> bool:
    """A replacement of a field reachable with consistent conditions: `needed` filled, `empty` not."""
    for node in nodes:
        if isinstance(node, _Replacement):
            if node.key in fields and node.key not in empty:
                return True
        elif isinstance(node, _Section) and node.key in fields:
            inner = (needed, empty | {node.key}) if node.negated else (needed | {node.key}, empty)
            if not (inner[0] & inner[1]) and _can_render(node.children, fields, *inner):
                return True
    return False


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


def _cloze_only_filter(text: str, number: int, question: bool) -> str:
    """``{{cloze-only:Field}}``: the hints (question) or texts (answer) of cloze ``number``, comma-joined."""
    output: list[str] = []
    _cloze_only_texts(_parse_clozes(text), number, question, output)
    return ", ".join(output)


def _cloze_only_texts(nodes: Iterable[str | _Cloze], number: int, question: bool, output: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Cloze):
            if node.number == number:
                output.append(("..." if node.hint is None else node.hint) if question else _clozed_text(node))
            _cloze_only_texts(node.nodes, number, question, output)


def _clozed_text(cloze: _Cloze) -> str:
    """The text a cloze hides, nested clozes' text included."""
    return "".join(node if isinstance(node, str) else _clozed_text(node) for node in cloze.nodes)


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
