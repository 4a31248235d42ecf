"""Stage 3: card files, read into located card sources (shape only; meaning is checked later)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..safety.confine import is_inside
from ..problems import WARNING, Problem
from .yaml_values import Reader, describe, parse_document
from .yaml_reader import Pos, YamlList, YamlMap, quoted

CARDS_DIR = "cards"
CARD_SUFFIXES = (".yaml", ".yml")
FILE_KEYS = ("cards", "group", "type", "tags")
DEFAULT_TYPE = "basic"
CARD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # the ASCII ids most decks use: checked first
_ID_PUNCTUATION = frozenset("-_.")


@dataclass(frozen=True)
class FileDefaults:
    """What a card file says for all its cards."""

    group: str | None = None
    type: str = DEFAULT_TYPE
    tags: tuple[tuple[str, Pos], ...] = ()
    positions: dict[str, Pos] = field(default_factory=dict, compare=False)  # of 'group' and 'type'
    unreadable: frozenset[str] = frozenset()  # settings given but unreadable (already reported)


class CardSource(NamedTuple):
    """One card as written: its id, where it stands, and its raw located mapping (a tuple: a big deck has many)."""

    id: str
    path: str
    pos: Pos
    data: YamlMap
    defaults: FileDefaults


def find_card_files(root: Path) -> list[Path]:
    """Every card file under cards/, in the order learners will see their cards."""
    cards_dir = root / CARDS_DIR
    if not cards_dir.is_dir():
        return []
    if not is_inside(cards_dir, root):
        return [cards_dir]  # refused, located, when read: never walk a tree outside the project
    files = [p for p in cards_dir.rglob("*") if p.suffix.lower() in CARD_SUFFIXES and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(cards_dir).as_posix())


def load_card_file(data: bytes, path: str, problems: list[Problem]) -> list[CardSource]:
    """The cards of one file; shape problems are recorded, and readable cards still returned."""
    before = len(problems)
    document = parse_document(data, path, problems, read_on=True)
    if len(problems) > before and document is None:
        return []
    read = Reader(path, problems)
    if document is None:
        read.report(Pos(1, 1), "the file is empty", "a card file starts with 'cards:'")
        return []
    if not isinstance(document, YamlMap):
        read.report(Pos(1, 1), f"a card file must be a mapping with 'cards:', not {describe(document)}")
        return []
    read.unknown_keys(document, FILE_KEYS, "file setting", "a card's fields go under its '- id:', lined up with 'id'")
    defaults = _defaults(document, read)
    cards = _cards(document, defaults, read)
    for card in cards:
        if card.data.folded:
            _folded_lines(card, problems)
    if b" #" in data:  # rare: only then can a comment have cut a value short
        _values_cut_by_comments(data.decode("utf-8-sig").split("\n"), cards, problems)
    return cards


def _folded_lines(card: CardSource, problems: list[Problem]) -> None:
    """Warn where a card's text spans lines that YAML joined with spaces: learners would see one line."""
    from .card_types import CARD_KEYS  # Jinja: only for the rare card with such a value

    for key in card.data.folded:
        if key not in CARD_KEYS:
            Reader(card.path, problems, card.id).report(
                card.data.value_pos[key], f"field '{key}' is written on several lines, but YAML joins them with "
                "spaces: learners see one line", f"to keep the lines, write '{key}: |' and the lines below it, "
                "indented (or put the text on one line)", severity=WARNING)


_PLAIN_THEN_COMMENT = re.compile(  # a key or a list item with an unquoted value, then ' #'
    r"""\s*(?:- +(?:[^\s:#'"]+: +)?|[^\s:#'"]+: +)[^\s"'#|>].*? #""")
_KEY_THEN_COMMENT = re.compile(r"""\s*(?:- +)?[^\s:#'"]+: +#""")  # 'extra: #1 choice': no value, all a comment


def _values_cut_by_comments(lines: list[str], cards: list[CardSource], problems: list[Problem]) -> None:
    """Warn where ' #' ended a card's text: YAML drops the rest of the line as a comment, and learners never see it."""
    from .card_types import CARD_KEYS  # Jinja: only for the rare file with ' #' in it

    commented = {number for number, line in enumerate(lines, 1) if " #" in line and _PLAIN_THEN_COMMENT.match(line)}
    emptied = {number for number, line in enumerate(lines, 1) if ": #" in line and _KEY_THEN_COMMENT.match(line)}
    if not commented and not emptied:  # every ' #' is inside quotes (or a block): nothing was cut
        return
    for card in cards:
        for key, value in card.data.items():
            if key in CARD_KEYS:
                continue
            if value is None and card.data.key_pos[key].line in emptied:
                _emptied_by_comment(lines, key, card.data.key_pos[key], Reader(card.path, problems, card.id))
                continue
            places = [(value, card.data.value_pos[key], False)] if isinstance(value, str) else \
                list(zip(value, value.item_pos, [True] * len(value))) if isinstance(value, YamlList) else []
            for text, pos, item in places:
                if isinstance(text, str) and pos.line in commented:
                    _cut_by_comment(lines, key, text, pos, Reader(card.path, problems, card.id), item)


def _cut_by_comment(lines: list[str], key: str, value: str, pos: Pos, read: Reader, item: bool = False) -> None:
    rest = lines[pos.line - 1][pos.column - 1:] if pos.line <= len(lines) else ""
    if not rest.startswith(value) or not rest[len(value):].lstrip(" \t").startswith("#") or not value:
        return  # quoted, a block of lines, or no comment after it
    whole = rest.rstrip()
    read.report(pos, f"field '{key}' ends before ' #': YAML reads '{rest[len(value):].strip()}' as a comment "
                "and leaves it off the card",
                f"quote the whole value to keep it: {'- ' if item else key + ': '}{quoted(whole)}", severity=WARNING)


def _emptied_by_comment(lines: list[str], key: str, pos: Pos, read: Reader) -> None:
    """Warn where a value starts with '#': YAML reads all of it as a comment, and the field is empty."""
    line = lines[pos.line - 1]
    start = line.index("#", pos.column - 1 + len(key))
    comment = line[start:].rstrip()
    read.report(Pos(pos.line, start + 1), f"field '{key}' is empty: YAML reads '{comment}' as a comment, "
                "since a value cannot start with '#'", f"quote the whole value to keep it: {key}: {quoted(comment)}",
                severity=WARNING)


def _defaults(document: YamlMap, read: Reader) -> FileDefaults:
    values = {key: read.text(document, key, required=key in document and document[key] != "")  # group: '' is the
              for key in ("group", "type")}  # deck itself
    return FileDefaults(
        group=values["group"],
        type=values["type"] or DEFAULT_TYPE,
        tags=tuple(read.text_list(document, "tags")),
        positions={key: document.value_pos[key] for key in values if key in document},
        unreadable=frozenset(key for key, value in values.items() if key in document and value is None),
    )


def _cards(document: YamlMap, defaults: FileDefaults, read: Reader) -> list[CardSource]:
    if "cards" not in document:
        read.report(document.pos, "missing 'cards:' (the list of cards)")
        return []
    items = document["cards"]
    if items is None:
        return []
    if not isinstance(items, YamlList):
        read.report(document.value_pos["cards"], f"'cards' must be a list, not {describe(items)}",
                    "start each card with '- id: ...'")
        return []
    cards = []
    for item, pos in zip(items, items.item_pos):
        card = _card(item, pos, defaults, read)
        if card is not None:
            cards.append(card)
    return cards


def _card(item: object, pos: Pos, defaults: FileDefaults, read: Reader) -> CardSource | None:
    if not isinstance(item, YamlMap):
        read.report(pos, f"a card must be a mapping of fields, not {describe(item)}",  # type: ignore[arg-type]
                    "write each card as '- id: ...' followed by its fields")
        return None
    if "id" not in item:
        read.report(pos, "card has no 'id'", "every card needs a unique id that never changes")
        return None
    card_id = read.text(item, "id", required=True)
    if card_id is None:
        return None
    if not CARD_ID.match(card_id):
        card_id = card_key(card_id)  # not a plain ASCII id: any script's letters and digits
    if card_id is None:
        read.report(item.value_pos["id"], f"card id '{item['id']}' must be letters, digits, '-', '_' or '.'",
                    "no spaces")
        return None
    return CardSource(card_id, read.path, pos, item, defaults)


def card_key(text: str) -> str | None:
    """A card id as deckgen keeps it (NFC-normalised, so that however an editor wrote 'é' it is one
    id), or None if it is not one: any script's letters and digits (with their combining marks), '-', '_', '.'."""
    if CARD_ID.match(text):
        return text
    text = unicodedata.normalize("NFC", text)
    if not text or not text[0].isalnum() or text != text.strip():
        return None
    for char in text:
        if not (char in _ID_PUNCTUATION or unicodedata.category(char)[0] in "LNM"):
            return None
    return text
