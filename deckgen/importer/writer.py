"""Writing the project: deckgen.yaml, note types, card types, card files and media.

Everything goes into a fresh folder beside the target; `deckgen.importer` moves it into place
only once the project builds and its lock is written, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from ..cardtypes import CARD_KEYS, CONTEXT_NAMES
from .htmltext import HTML, MARKDOWN, RAW, Converted, FieldConverter, plain_text
from .layout import RESERVED_NOTE_TYPES, Layout, card_slug, slug, unique
from .model import ImportedDeck, ImportedNote, ImportedNoteType

_BLOCK_CHAR = re.compile(r"[^A-Za-z0-9_]")
_CLOZE_MARKER = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}")  # for card ids: the answer without the braces
_RESERVED_DATA = set(CARD_KEYS) | set(CONTEXT_NAMES) | {"guid", "former_ids", "restore", "lint_ignore"}
try:
    _Dumper: Any = yaml.CSafeDumper
except AttributeError:  # PyYAML without libyaml
    _Dumper = yaml.SafeDumper


class _ProjectDumper(_Dumper):  # type: ignore[misc,valid-type]
    """YAML as a person would write it: block text for several lines, no sorting."""


def _text(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value and not value.startswith(" ") and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ProjectDumper.add_representer(str, _text)


def dump(data: object) -> str:
    """YAML text of plain data."""
    return yaml.dump(data, Dumper=_ProjectDumper, allow_unicode=True, sort_keys=False, width=100000)


_QUOTE = json.encoder.encode_basestring  # json.dumps(text, ensure_ascii=False), without its set-up per call
_PLAIN_YAML = re.compile(r"[A-Za-z][A-Za-z0-9 ,.()'/-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}  # YAML 1.1 reads these as non-text


def yaml_text(text: str, indent: str) -> str:
    """A string as a YAML value: plain where that reads back the same, a block for several lines, else quoted.

    Hand-written for the card files, which hold most of a big deck; tests/test_import.py checks
    that PyYAML reads every form back as the same string.
    """
    if (_PLAIN_YAML.fullmatch(text) and not text.endswith(" ") and text.lower() not in _YAML_WORDS
            and ": " not in text and " #" not in text):
        return text
    if not text.replace("\n", "").replace("\t", "").isprintable():
        return yaml.dump(text, Dumper=_Dumper, allow_unicode=False, width=100000).rstrip("\n").removesuffix("\n...")
    lines = text.split("\n")
    block = len(lines) > 1 and lines[0][:1] not in ("", " ", "\t") and lines[-1] != ""
    if block and all(line == line.rstrip() for line in lines):
        return "|-\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return _QUOTE(text)


def block_name(field_name: str) -> str:
    """The Jinja block that fills an Anki field (DESIGN: every other character becomes '_')."""
    return _BLOCK_CHAR.sub("_", field_name)


@dataclass
class CardTypePlan:
    """How one imported note type is written: its key, its data keys, how each field is rendered."""

    key: str
    note_type: ImportedNoteType
    data_keys: tuple[str, ...]  # one per Anki field, in field order
    modes: list[str] = field(default_factory=list)  # per field: MARKDOWN, HTML or RAW


def plan_card_types(deck: ImportedDeck) -> dict[str, CardTypePlan]:
    """A key for every note type the notes use, and a data key for every field."""
    used = {note.note_type for note in deck.notes}
    taken = set(RESERVED_NOTE_TYPES)
    plans = {}
    for source_key, note_type in sorted(deck.note_types.items(), key=lambda item: item[1].name):
        if source_key not in used:
            continue
        if note_type.builtin:
            plans[source_key] = CardTypePlan(note_type.builtin, note_type, note_type.fields,
                                             [MARKDOWN] * len(note_type.fields))
            continue
        base = slug(note_type.name, 32) or "note-type"
        key = unique(f"anki-{base}" if base in RESERVED_NOTE_TYPES else base, taken)
        data_taken: set[str] = set(_RESERVED_DATA)
        data_keys = tuple(unique(_data_key(name), data_taken, "_") for name in note_type.fields)
        plans[source_key] = CardTypePlan(key, note_type, data_keys, [MARKDOWN] * len(note_type.fields))
    return plans


def _data_key(field_name: str) -> str:
    key = slug(field_name, 32).replace("-", "_") or "field"
    return key if key[0].isalpha() else f"f_{key}"


@dataclass
class WrittenNote:
    """A note as its card file has it, with the card id it got and its fields as the project renders them."""

    card_id: str
    note: ImportedNote
    values: dict[str, str]
    rendered: tuple[str, ...] = ()  # one per field of its note type: what `deckgen build` puts into Anki


def convert_fields(deck: ImportedDeck, plans: dict[str, CardTypePlan], progress: Callable[[int, int], None] | None
                   ) -> tuple[list[WrittenNote], bool]:
    """Every note's field values in their most readable form; whether the project needs html: true.

    One pass: each distinct value is tried as Markdown, then as HTML under the sanitizer; only if
    some field needs HTML are the Markdown values checked again as an html: true project renders them.
    """
    markdown, with_html = FieldConverter(False), FieldConverter(True)
    values = list({value: None for note in deck.notes for value in note.fields if value})
    cache = {value: _convert(value, markdown, with_html) for value in values}
    if progress:
        progress(len(values), len(values))
    cache[""] = Converted("", MARKDOWN)
    rows = []
    for note in deck.notes:
        plan = plans[note.note_type]
        row = []
        for position, value in enumerate(note.fields[:len(plan.data_keys)]):
            converted = cache[value]
            if converted.mode != MARKDOWN and plan.modes[position] != RAW:
                plan.modes[position] = converted.mode
            row.append(converted)
        rows.append(row)
    allow_html = any(mode != MARKDOWN for plan in plans.values() for mode in plan.modes)
    if allow_html:
        rows = _recheck_markdown(deck, plans, rows, cache, with_html)
    return _with_ids(deck, plans, rows, with_html if allow_html else markdown), allow_html


def _convert(value: str, markdown: FieldConverter, with_html: FieldConverter) -> Converted:
    result = markdown.convert(value)
    return with_html.convert(value) if result.mode == RAW else result


def _recheck_markdown(deck: ImportedDeck, plans: dict[str, CardTypePlan], rows: list[list[Converted]],
                      cache: dict[str, Converted], with_html: FieldConverter) -> list[list[Converted]]:
    """Markdown values as an html: true project renders them; a value that changes keeps its HTML.

    Judged once per distinct value (a note's converted value is the cache's); the notes are gone
    through only if some value changes, which is rare.
    """
    from .htmltext import equivalent

    changed = {value for value, converted in cache.items()
               if converted.mode == MARKDOWN and converted.text and converted.text != value
               and not with_html.keeps_markdown(converted, value)}
    if not changed:
        return rows
    for note, row in zip(deck.notes, rows):
        plan = plans[note.note_type]
        for position, converted in enumerate(row):
            original = note.fields[position]
            if original in changed:
                found = converted.shape
                row[position] = Converted(original, HTML, found, found.skeleton if found else None)
                if plan.modes[position] != RAW and not equivalent(with_html.rendered(original), original):
                    plan.modes[position] = RAW
    return rows


def _with_ids(deck: ImportedDeck, plans: dict[str, CardTypePlan], rows: list[list[Converted]],
              renderer: FieldConverter) -> list[WrittenNote]:
    """Each note with its card id and its values as written and as the project renders them."""
    taken: set[str] = set()
    rendered: dict[str, str] = {"": ""}  # a written value -> what the project renders it to (values repeat)
    written = []
    for note, row in zip(deck.notes, rows):
        plan = plans[note.note_type]
        values, shown = _note_values(note, row, plan, rendered, renderer)
        fields = note.fields
        sort_value = fields[min(plan.note_type.sort_field, len(fields) - 1)] if fields else ""
        card_id = unique(card_slug(_card_text(plain_text(sort_value))) or "note", taken)
        written.append(WrittenNote(card_id, note, values, shown))
    return written


def _note_values(note: ImportedNote, row: list[Converted], plan: CardTypePlan, rendered: dict[str, str],
                 renderer: FieldConverter) -> tuple[dict[str, str], tuple[str, ...]]:
    """A note's values by data key as its card file has them, and each field as the project renders it."""
    values = {}
    shown = [""] * len(plan.note_type.fields)
    keys, modes = plan.data_keys, plan.modes
    for position, (original, converted) in enumerate(zip(note.fields, row)):
        if not original:
            continue
        if modes[position] == RAW:  # printed with |safe, as the original has it
            values[keys[position]] = original
            shown[position] = original.strip()
            continue
        text = converted.text
        values[keys[position]] = text
        html = rendered.get(text)
        if html is None:
            html = rendered[text] = _rendered(converted, renderer)
        shown[position] = html
    return values, tuple(shown)


def _card_text(text: str) -> str:
    """The text a card id is made from: cloze answers without their braces."""
    return _CLOZE_MARKER.sub(r"\1", text) if "{{c" in text else text


def _rendered(converted: Converted, renderer: FieldConverter) -> str:
    """What the project's card type renders a written Markdown or HTML value to ({{ key }}, stripped)."""
    if not converted.text:
        return ""
    texts = converted.shape.texts if converted.shape is not None else ()
    return renderer.rendered_value(converted.text, converted.form, texts)


def write_note_type(root: Path, plan: CardTypePlan) -> None:
    """note_types/<key>.yaml, templates/<key>.yaml and templates/<key>.html.j2."""
    if plan.note_type.builtin:
        return
    note_type = plan.note_type
    spec: dict[str, object] = {"name": note_type.name}
    if note_type.id is not None:
        spec["id"] = note_type.id
    spec["kind"] = "cloze" if note_type.is_cloze else "standard"
    spec["fields"] = list(note_type.fields)
    spec["sort_field"] = note_type.fields[min(note_type.sort_field, len(note_type.fields) - 1)]
    spec["css"] = note_type.css
    spec["templates"] = [{"name": t.name, "front": t.front, "back": t.back} for t in note_type.templates]
    (root / "note_types").mkdir(exist_ok=True)
    (root / "note_types" / f"{plan.key}.yaml").write_text(
        "# Imported from Anki: field and template names and the id are what learners' notes are tied to.\n"
        + dump(spec), encoding="utf-8")
    fields = {key: ({"markdown": False} if mode == RAW else {}) for key, mode in zip(plan.data_keys, plan.modes)}
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / f"{plan.key}.yaml").write_text(
        dump({"description": f"Fills the imported note type '{note_type.name}'.", "note_type": plan.key,
              "fields": fields}), encoding="utf-8")
    blocks = [
        f"{{% block {block_name(name)} %}}{{% if {key} %}}{{{{ {key}{'|safe' if mode == RAW else ''} }}}}"
        "{% endif %}{% endblock %}"
        for name, key, mode in zip(note_type.fields, plan.data_keys, plan.modes)
    ]
    (root / "templates" / f"{plan.key}.html.j2").write_text("\n".join(blocks) + "\n", encoding="utf-8")


@dataclass
class CardFile:
    """A card file as written: its path in the project, its group, and where each card starts and has its GUID."""

    path: str
    group: str
    cards: list[tuple[WrittenNote, int, int]]  # the note, the line its card starts on, its 'guid:' line (or 0)


def write_cards(root: Path, layout: Layout, plans: dict[str, CardTypePlan], notes: list[WrittenNote]
                ) -> list[CardFile]:
    """One card file per subdeck (cards/<group path>.yaml; the root deck's in cards/<deck>.yaml)."""
    by_group: dict[str, list[WrittenNote]] = {}
    for written in notes:
        by_group.setdefault(layout.paths[written.note.deck], []).append(written)
    files = []
    for group, members in by_group.items():
        path = root / "cards" / f"{group or slug(layout.root.split('::')[-1]) or 'deck'}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        types = [plans[w.note.note_type].key for w in members]
        default_type = max(dict.fromkeys(types), key=types.count)  # the first of the most used: deterministic
        head = (f"group: {yaml_text(group, '  ')}\n" if group else "") + f"type: {yaml_text(default_type, '  ')}\n"
        cards = [_card(w, plans[w.note.note_type].key, default_type) for w in members]
        texts = [_card_yaml(card) for card in cards]
        path.write_text(head + "cards:\n" + "".join(texts), encoding="utf-8")
        files.append(CardFile(path.relative_to(root).as_posix(), group,
                              list(_lines(members, cards, texts, head.count("\n") + 2))))
    return files


def _lines(members: list[WrittenNote], cards: list[dict[str, object]], texts: list[str], line: int
           ) -> Iterator[tuple[WrittenNote, int, int]]:
    """Each card's note, first line and GUID line (its keys before 'guid:', id and type, take a line each)."""
    for written, card, text in zip(members, cards, texts):
        yield written, line, line + list(card).index("guid") if "guid" in card else 0
        line += text.count("\n")


def _card_yaml(card: dict[str, object]) -> str:
    """One card as a YAML list item (keys are plain words; values text or lists of text)."""
    lines = []
    for key, value in card.items():
        if isinstance(value, list):
            lines.append(f"{key}:\n" + "".join(map(_tag_line, value)))
        else:
            lines.append(f"{key}: {yaml_text(str(value), '    ')}\n")
    return "- " + "  ".join(lines)


@functools.lru_cache(maxsize=4096)
def _tag_line(item: str) -> str:
    """One item of a list (a card's tags: the same few, over and over)."""
    return f"  - {yaml_text(item, '    ')}\n"


def _card(written: WrittenNote, card_type: str, default_type: str) -> dict[str, object]:
    card: dict[str, object] = {"id": written.card_id}
    if card_type != default_type:
        card["type"] = card_type
    if written.note.guid:
        card["guid"] = written.note.guid
    if written.note.tags:
        card["tags"] = list(written.note.tags)
    card.update(written.values)
    return card
