"""Writing the project's files: the field values converted, card ids, note types, card types, card files.

Everything goes into a fresh folder beside the target; `deckgen.importer` moves it into place
only once the project builds and its lock is written, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from ..anki.builtin_note_types import CardTemplate, NoteType, block_name
from ..build.render import media_hint, media_references
from ..anki.template_engine import generated_ords
from ..project.card_types import CARD_KEYS, CONTEXT_NAMES
from ..project.note_type_files import suggest_block
from .html_to_markdown import HTML, MARKDOWN, RAW, Converted, FieldConverter, plain_text
from .deck_plan import RESERVED_NOTE_TYPES, Layout, card_slug, slug, unique
from .source_deck import ImportedDeck, ImportedNote, ImportedNoteType

_NOT_WORDS = re.compile(r"\[sound:[^\]]*\]|\[/?(?:latex|\$\$?)\]|\\[()\[\]]", re.IGNORECASE)  # not words, for ids
_TAG = re.compile(r"<[^>]*>")
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
    if "\n" not in text and text.isprintable():  # most values: one line, quoted
        return "'" + text.replace("'", "''") + "'" if "\\" in text else _QUOTE(text)  # TeX's backslashes as they are
    if not text.replace("\n", "").replace("\t", "").isprintable():
        return yaml.dump(text, Dumper=_Dumper, allow_unicode=False, width=100000).rstrip("\n").removesuffix("\n...")
    lines = text.split("\n")
    block = len(lines) > 1 and lines[0][:1] not in ("", " ", "\t") and lines[-1] != ""
    if block and all(line == line.rstrip() for line in lines):
        return "|-\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return _QUOTE(text)


def field_blocks(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The Jinja block that fills each field: deckgen's default where it is a readable, unique name, else one of
    its own (`blocks:` in the note type file) that keeps the letters of any script (`汉字`, `f_1SG`)."""
    taken: set[str] = set()
    blocks = []
    for name in fields:
        default = block_name(name)
        block = default if name.isascii() and default.isidentifier() and default not in taken else \
            suggest_block(name, taken)
        taken.add(block)
        blocks.append(block)
    return tuple(blocks)


@dataclass
class CardTypePlan:
    """How one imported note type is written: its key, its data keys, how each field is rendered."""

    key: str
    note_type: ImportedNoteType
    data_keys: tuple[str, ...]  # one per Anki field, in field order
    modes: list[str] = field(default_factory=list)  # per field: MARKDOWN, HTML or RAW

    @functools.cached_property
    def anki_note_type(self) -> NoteType:
        """The note type as Anki's card generation sees it (which cards a note gets)."""
        templates = tuple(CardTemplate(t.name, t.front, t.back) for t in self.note_type.templates)
        return NoteType(self.key, self.note_type.fields, templates, self.note_type.is_cloze, sources_field=None,
                        path=f"note_types/{self.key}.yaml")


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
    """A note with the card id it got; once converted, its fields in their written form; once its card file
    is written, its values by data key as the file has them and its fields as the project renders them."""

    card_id: str  # "" until the processes have agreed on every note's
    note: ImportedNote
    index: int  # the note's place in the deck: card ids that would clash are numbered in this order
    row: list[Converted] = field(default_factory=list)  # one per field the note type has
    values: dict[str, str] = field(default_factory=dict)
    rendered: tuple[str, ...] = ()  # one per field of its note type: what `deckgen build` puts into Anki
    keep_empty: bool = False  # Anki gives the note no card of its own (an empty card 1): written `keep_empty: true`
    ords: tuple[int, ...] | None = None  # the cards Anki generates for it from `rendered` (None: not worked out)


Modes = dict[str, list[str]]  # for each note type (by source key): how each field is written
Agree = Callable[[Modes, Callable[[list[Modes]], Modes]], Modes]  # every process's modes, merged
NOTES_PER_STEP = 500  # notes converted between two reports of progress
_STRENGTH = {MARKDOWN: 0, HTML: 1, RAW: 2}  # a field is written in the strongest mode any of its values needs


def written_notes(deck: ImportedDeck) -> list[WrittenNote]:
    """Every note of the deck, its card id to be found."""
    return [WrittenNote("", note, index) for index, note in enumerate(deck.notes)]


def card_id_bases(notes: list[WrittenNote], plans: dict[str, CardTypePlan]) -> dict[int, str]:
    """What each note's card id is made from, by its place in the deck: its sort field where that reads as
    words, else the first field that does (a sort field of media, markup or a number makes no id to keep)."""
    sort_fields = {source: plan.note_type.sort_field for source, plan in plans.items()}
    bases = {}
    for written in notes:
        fields = written.note.fields
        first = min(sort_fields[written.note.note_type], len(fields) - 1) if fields else 0
        candidates = (fields[first], *fields[:first], *fields[first + 1:]) if fields else ()
        bases[written.index] = (next(filter(None, map(_words_slug, candidates)), "") or _media_slug(candidates)
                                or card_slug(_card_text(plain_text(candidates[0] if candidates else ""))) or "note")
    return bases


def _media_slug(values: tuple[str, ...]) -> str:
    """A card id from the name of the first medium a note's fields name, without its extension."""
    names = [name for value in values for name in media_references(value)] if media_hint(values) else []
    return card_slug(names[0].rsplit(".", 1)[0]) if names else ""


def _words_slug(value: str) -> str:
    """A field's text as a card id, if it reads as words: sounds, images and TeX markers left out; '' for
    a field with no letter in it."""
    if not value:
        return ""
    text = _NOT_WORDS.sub(" ", value) if "[" in value or "\\" in value else value
    found = card_slug(_card_text(plain_text(text))) if "<" not in text or _has_text(text) else ""
    return found if any(map(str.isalpha, found)) else ""


def _has_text(fragment: str) -> bool:
    """Whether an HTML fragment has text outside its tags."""
    return bool(_TAG.sub("", fragment).strip())


def numbered_card_ids(bases: dict[int, str]) -> dict[int, str]:
    """The card ids that differ from their base, by the note's place: the second 'aspirin' in the deck
    is 'aspirin-2', and so on."""
    taken: set[str] = set()
    numbered = {}
    for index in sorted(bases):
        base = bases[index]
        card_id = unique(base, taken)
        if card_id != base:
            numbered[index] = card_id
    return numbered


def convert_fields(notes: list[WrittenNote], plans: dict[str, CardTypePlan], agree: Agree,
                   advance: Callable[[int], None] | None = None) -> FieldConverter:
    """These notes' field values in their most readable form (each note's `row`), every field's mode in
    `plans` (agreed with the other processes' notes), and the converter of the project they need (its
    `allow_html`: whether the project needs html: true).

    One pass: each distinct value is tried as Markdown, then as HTML under the sanitizer; only if
    some field needs HTML are the Markdown values checked again as an html: true project renders them.
    """
    markdown, with_html = FieldConverter(False), FieldConverter(True)
    cache: dict[str, Converted] = {"": Converted("", MARKDOWN)}
    for start in range(0, len(notes), NOTES_PER_STEP):
        step = notes[start:start + NOTES_PER_STEP]
        for value in dict.fromkeys(value for written in step for value in written.note.fields):
            if value not in cache:
                cache[value] = _convert(value, markdown, with_html)
        if advance:
            advance(len(step))
    _set_modes(plans, agree(_rows(notes, plans, cache), _strongest))
    if not any(mode != MARKDOWN for plan in plans.values() for mode in plan.modes):
        return markdown
    _set_modes(plans, agree(_recheck_markdown(notes, plans, cache, with_html), _strongest))
    return with_html


def _rows(notes: list[WrittenNote], plans: dict[str, CardTypePlan], cache: dict[str, Converted]) -> Modes:
    """Each note's converted fields (its `row`), and the modes its fields need: the strongest of their values'."""
    modes: Modes = {source: [MARKDOWN] * len(plan.data_keys) for source, plan in plans.items()}
    special = {value for value, converted in cache.items() if converted.mode != MARKDOWN}  # few, if any
    for written in notes:
        fields = written.note.fields
        field_modes = modes[written.note.note_type]
        written.row = [cache[value] for value in fields[:len(field_modes)]]
        if special and not special.isdisjoint(fields):
            for position, converted in enumerate(written.row):
                if _STRENGTH[converted.mode] > _STRENGTH[field_modes[position]]:
                    field_modes[position] = converted.mode
    return modes


def _strongest(all_modes: list[Modes]) -> Modes:
    """The modes of several processes' notes merged: each field's strongest."""
    return {source: [max(column, key=_STRENGTH.__getitem__) for column in zip(*(modes[source] for modes in all_modes))]
            for source in all_modes[0]}


def _set_modes(plans: dict[str, CardTypePlan], modes: Modes) -> None:
    for source, plan in plans.items():
        plan.modes = list(modes[source])


def _convert(value: str, markdown: FieldConverter, with_html: FieldConverter) -> Converted:
    result = markdown.convert(value)
    return with_html.convert(value, result.shape) if result.mode == RAW else result  # its shape found once


def _recheck_markdown(notes: list[WrittenNote], plans: dict[str, CardTypePlan], cache: dict[str, Converted],
                      with_html: FieldConverter) -> Modes:
    """Markdown values as an html: true project renders them: a value that changes keeps its HTML (in its
    notes' rows), and a field where that HTML does not render back the same is written raw.

    Judged once per distinct value; the notes are gone through only if some value changes, which is rare.
    Returns the field modes with those raw fields.
    """
    modes = {source: list(plan.modes) for source, plan in plans.items()}
    changed = {value for value, converted in cache.items()
               if converted.mode == MARKDOWN and converted.text and converted.text != value
               and not with_html.keeps_markdown(converted, value)}
    if not changed:
        return modes
    for written in notes:
        field_modes = modes[written.note.note_type]
        for position, converted in enumerate(written.row):
            original = written.note.fields[position]
            if original in changed:
                found = converted.shape
                written.row[position] = Converted(original, HTML, found, found.skeleton if found else None)
                if field_modes[position] != RAW and with_html.rendered(original) != original:
                    field_modes[position] = RAW
    return modes


def _note_values(written: WrittenNote, plan: CardTypePlan, rendered: dict[str, str],
                 renderer: FieldConverter) -> tuple[dict[str, str], tuple[str, ...]]:
    """A note's values by data key as its card file has them, and each field as the project renders it."""
    values = {}
    shown = [""] * len(plan.note_type.fields)
    keys, modes = plan.data_keys, plan.modes
    for position, (original, converted) in enumerate(zip(written.note.fields, written.row)):
        if not original:
            continue
        if modes[position] == RAW:  # printed with |safe, as the original has it
            values[keys[position]] = original
            shown[position] = original
            continue
        text, _, found, form = converted
        values[keys[position]] = text
        html = rendered.get(text)
        if html is None:
            html = rendered[text] = renderer.rendered_value(text, form, found.texts if found else ())
        shown[position] = html
    return values, tuple(shown)


def _card_text(text: str) -> str:
    """The text a card id is made from: cloze answers without their braces."""
    return _CLOZE_MARKER.sub(r"\1", text) if "{{c" in text else text


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
    blocks = field_blocks(note_type.fields)
    given = {name: block for name, block in zip(note_type.fields, blocks) if block != block_name(name)}
    if given:
        spec["blocks"] = given
    spec["sort_field"] = note_type.fields[min(note_type.sort_field, len(note_type.fields) - 1)]
    spec["css"] = note_type.css
    if note_type.latex_pre is not None:
        spec["latex_pre"], spec["latex_post"] = note_type.latex_pre, note_type.latex_post or ""
    if note_type.field_options is not None:
        spec["field_options"] = note_type.field_options
    spec["templates"] = [{"name": t.name, "front": t.front, "back": t.back, **({"group": t.group} if t.group is not None
                                                                                else {})}
                         for t in note_type.templates]
    (root / "note_types").mkdir(exist_ok=True)
    (root / "note_types" / f"{plan.key}.yaml").write_text(
        "# Imported from Anki: field and template names and the id are what learners' notes are tied to.\n"
        + dump(spec), encoding="utf-8")
    fields = {key: ({"markdown": False} if mode == RAW else {}) for key, mode in zip(plan.data_keys, plan.modes)}
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / f"{plan.key}.yaml").write_text(
        dump({"description": f"Fills the imported note type '{note_type.name}'.", "note_type": plan.key,
              "strip": False, "fields": fields}), encoding="utf-8")
    filled = [
        f"{{% block {block} %}}{{% if {key} %}}{{{{ {key}{'|safe' if mode == RAW else ''} }}}}"
        "{% endif %}{% endblock %}"
        for block, key, mode in zip(blocks, plan.data_keys, plan.modes)
    ]
    (root / "templates" / f"{plan.key}.html.j2").write_text("\n".join(filled) + "\n", encoding="utf-8")


MAX_CARDS_PER_FILE = 1000  # a bigger subdeck is written as several files: easier to read and diff, and
# the build compiles, caches and rebuilds a project file by file


@dataclass
class CardFile:
    """A card file: its path in the project, its group, its notes, and once written where each card starts
    and has its GUID."""

    path: str
    group: str
    notes: list[WrittenNote]
    default_type: str
    root_beside_groups: bool = False  # the root deck's own notes in a deck with groups: written `group: ''`
    cards: list[tuple[WrittenNote, int, int]] = field(default_factory=list)  # once written: each note, its
    # first line and its 'guid:' line (or 0)


def plan_card_files(layout: Layout, plans: dict[str, CardTypePlan], notes: list[WrittenNote]) -> list[CardFile]:
    """One card file per subdeck (cards/<group path>.yaml; the root deck's in cards/<deck>.yaml), several
    numbered ones (cards/<group path>.1.yaml, ...) for a subdeck of more than MAX_CARDS_PER_FILE notes."""
    by_group: dict[str, list[WrittenNote]] = {}
    for written in notes:
        by_group.setdefault(layout.paths[written.note.deck], []).append(written)
    files = []
    for group, members in by_group.items():
        base = f"cards/{group or slug(layout.root.split('::')[-1]) or 'deck'}"
        types = [plans[w.note.note_type].key for w in members]
        default_type = max(dict.fromkeys(types), key=types.count)  # the first of the most used: deterministic
        parts = -(-len(members) // MAX_CARDS_PER_FILE)
        for number in range(parts):
            name = f"{base}.{number + 1:0{len(str(parts))}d}.yaml" if parts > 1 else f"{base}.yaml"
            chunk = members[number * MAX_CARDS_PER_FILE:(number + 1) * MAX_CARDS_PER_FILE]
            files.append(CardFile(name, group, chunk, default_type, not group and bool(layout.groups)))
    return files


def write_card_file(root: Path, card_file: CardFile, plans: dict[str, CardTypePlan], renderer: FieldConverter,
                    rendered: dict[str, str]) -> None:
    """The card file written; its notes' values and rendered fields and its cards' lines filled in.

    `rendered` maps a written value to what the project renders it to (values repeat across files).
    """
    group, default_type = card_file.group, card_file.default_type
    named = group or card_file.root_beside_groups
    head = (f"group: {yaml_text(group, '  ')}\n" if named else "") + f"type: {yaml_text(default_type, '  ')}\n"
    texts, cards = [], []
    line = head.count("\n") + 2  # after the head and 'cards:'
    for written in card_file.notes:
        plan = plans[written.note.note_type]
        written.values, written.rendered = _note_values(written, plan, rendered, renderer)
        if not plan.note_type.builtin:
            fields = dict(zip(plan.note_type.fields, written.rendered))
            written.ords = tuple(generated_ords(plan.anki_note_type, fields))
        written.keep_empty = not plan.note_type.builtin and not written.ords
        note = written.note
        text, guid_line = _card_yaml(written.card_id, plan.key if plan.key != default_type else None, note.guid,
                                     note.tags, written.values, written.keep_empty)
        texts.append(text)
        cards.append((written, line, line + guid_line if guid_line else 0))
        line += text.count("\n")
    path = root / card_file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "cards:\n" + "".join(texts), encoding="utf-8")
    card_file.cards = cards


def _card_yaml(card_id: str, card_type: str | None, guid: str | None, tags: tuple[str, ...],
               values: dict[str, str], keep_empty: bool = False) -> tuple[str, int]:
    """One card as a YAML list item (its data keys are plain words), and the line of its 'guid:' in it (0: none)."""
    lines = [f"- id: {yaml_text(card_id, '    ')}\n"]
    if card_type is not None:
        lines.append(f"  type: {yaml_text(card_type, '    ')}\n")
    guid_line = 0
    if guid:
        guid_line = len(lines)
        lines.append(f"  guid: {yaml_text(guid, '    ')}\n")
    if tags:
        lines.append("  tags:\n" + "".join(map(_tag_line, tags)))
    if keep_empty:
        lines.append("  keep_empty: true\n")
    lines += [f"  {key}: {yaml_text(value, '    ')}\n" for key, value in values.items()]
    return "".join(lines), guid_line


@functools.lru_cache(maxsize=4096)
def _tag_line(item: str) -> str:
    """One item of a card's tags (the same few, over and over)."""
    return f"  - {yaml_text(item, '    ')}\n"
