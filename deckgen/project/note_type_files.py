"""Stage 2a: a project's own Anki note types, read from `note_types/<key>.yaml` and checked.

A note type file gives Anki's own templates (`{{Field}}`, `{{#Field}}...{{/Field}}`,
`{{cloze:Text}}`): plain strings that never pass through Jinja. Everything Anki would refuse,
strip or silently turn into a card-less note is reported here, located, before any card is read.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Container

from ..anki.template_engine import SPECIAL_FIELDS, TemplateUse, can_render, filter_problem, parse_template
from ..anki.builtin_note_types import FIELD_OPTION_DEFAULTS, MAX_ID, NOTE_TYPES, CardTemplate, NoteType, block_name
from ..problems import Problem, did_you_mean
from ..safety.confine import read_inside
from ..safety.remote import REMOTE_HINT, css_remote_problem, remote_problem
from .yaml_values import KEY, Reader, describe, parse_document
from .yaml_reader import Implicit, Pos, YamlList, YamlMap

NOTE_TYPES_DIR = "note_types"
KINDS = ("standard", "cloze")
NOTE_TYPE_KEYS = ("name", "id", "kind", "fields", "blocks", "sort_field", "sources_field", "css", "templates",
                  "latex_pre", "latex_post", "field_options")
TEMPLATE_KEYS = ("name", "front", "back")  # each required
TEMPLATE_OPTIONAL_KEYS = ("group",)  # the group a template's cards go to, whatever the note's group
_STRIPPED = re.compile(r'[:{}"]')
_CLOZE_NUMBER = re.compile(r"c\d+")
UNSHOWN_FIELDS = ("CardID",)  # Anki's special fields the preview cannot show


@dataclass(frozen=True)
class ProjectNoteTypes:
    """The note types card types can name: the built-ins and the project's own that loaded cleanly."""

    note_types: dict[str, NoteType]
    broken: frozenset[str] = frozenset()  # declared, but with problems (already reported)


def load_note_types(root: Path, problems: list[Problem], files: dict[str, bytes]) -> ProjectNoteTypes:
    """The built-in note types plus every `note_types/*.yaml`; problems are collected, not raised."""
    note_types = dict(NOTE_TYPES)
    broken: set[str] = set()
    for path in _note_type_files(root / NOTE_TYPES_DIR):
        shown = f"{NOTE_TYPES_DIR}/{path.name}"
        declared = path.stem in broken or (path.stem in note_types and path.stem not in NOTE_TYPES)
        note_type = _read(path, shown, declared, problems, files, root)
        if note_type is None or _pins_a_taken_id(note_type, note_types, problems):
            broken.add(path.stem)
        else:
            note_types[path.stem] = note_type
    return ProjectNoteTypes(note_types, frozenset(broken) - set(NOTE_TYPES))


def _note_type_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []


def _read(path: Path, shown: str, declared: bool, problems: list[Problem], files: dict[str, bytes],
          root: Path) -> NoteType | None:
    """One note type file, read and checked; None (reported) when it cannot be used."""
    data = read_inside(path, shown, problems, root)
    if data is None:
        return None
    files[shown] = data
    if declared:
        problems.append(Problem(shown, 1, 1, f"note type '{path.stem}' is declared twice",
                                hint=f"keep one of {path.stem}.yaml and {path.stem}.yml"))
        return None
    return _load(path.stem, shown, data, problems)


def _pins_a_taken_id(note_type: NoteType, note_types: dict[str, NoteType], problems: list[Problem]) -> bool:
    """Anki tells note types apart by id: two that pin the same one would be one note type to it."""
    twin = next((t for t in note_types.values() if t.id is not None and t.id == note_type.id), None)
    if twin is not None:
        problems.append(Problem(note_type.path, 1, 1, f"note type '{note_type.kind}' pins the id of note type "
                                f"'{twin.kind}'", hint="Anki tells note types apart by id: give each its own"))
    return twin is not None


class _Locator:
    """Where a ``{{handle}}`` of a template is written in the note type file.

    The file is indexed once (every ``{{...}}`` written literally, by its handle), so that finding
    each of a template's field uses costs a lookup, not another search through the file.
    """

    def __init__(self, data: bytes) -> None:
        self.lines = data.decode("utf-8-sig", "replace").split("\n")
        self._index: dict[str, list[tuple[int, int]]] | None = None

    def find(self, start: Pos, handle: str) -> Pos:
        """The first ``{{handle}}`` at or after the template's start; the start if YAML escaped it."""
        if self._index is None:
            self._index = _handle_index(self.lines)
        places = self._index.get(handle, [])
        at = bisect.bisect_left(places, (start.line, start.column))
        return Pos(*places[at]) if at < len(places) else start


_OPEN, _CLOSE = re.compile(r"(?=\{\{)"), re.compile(r"(?=\}\})")
_MAX_HANDLE = 256  # longer is no field use a message needs to point at


def _handle_index(lines: list[str]) -> dict[str, list[tuple[int, int]]]:
    """(line, column) of every ``{{handle}}`` written literally, by handle, in file order."""
    index: dict[str, list[tuple[int, int]]] = {}
    for number, line in enumerate(lines, 1):
        if "{{" not in line:
            continue
        closes = [match.start() for match in _CLOSE.finditer(line)]
        for opening in _OPEN.finditer(line):
            start = opening.start() + 2
            at = bisect.bisect_left(closes, start)
            if at < len(closes) and closes[at] - start <= _MAX_HANDLE:
                index.setdefault(line[start:closes[at]], []).append((number, opening.start() + 1))
    return index


def _load(key: str, shown: str, data: bytes, problems: list[Problem]) -> NoteType | None:
    before = len(problems)
    document = parse_document(data, shown, problems)
    read = Reader(shown, problems, noun="setting")
    if len(problems) > before:
        return None
    if not isinstance(document, YamlMap):
        read.report(Pos(1, 1), f"a note type file must be a mapping with 'fields' and 'templates', "
                               f"not {describe(document)}")
        return None
    if not _key_ok(key, read):
        return None
    read.unknown_keys(document, NOTE_TYPE_KEYS, "note type setting")
    note_type = _note_type(key, shown, document, read, _Locator(data))
    return note_type if len(problems) == before else None


def _key_ok(key: str, read: Reader) -> bool:
    if key in NOTE_TYPES:
        read.report(Pos(1, 1), f"'{key}' is one of deckgen's built-in note types and cannot be redefined",
                    f"name the file after a key of your own, e.g. note_types/my-{key}.yaml")
        return False
    if not KEY.match(key):
        read.report(Pos(1, 1), f"note type key '{key}' (the file name) must be letters, digits, '-', '_' or '.'")
        return False
    return True


def _note_type(key: str, shown: str, spec: YamlMap, read: Reader, locator: _Locator) -> NoteType | None:
    kind = _kind(spec, read)
    fields = _fields(spec, read)
    templates = _templates(spec, read)
    css = read.text(spec, "css") if "css" in spec else None
    _check_remote(css, "css", spec.value_pos.get("css"), read, css=True)
    name = read.text(spec, "name", required="name" in spec)
    if kind is None or not fields or not templates:
        return None
    sort_field = _field_setting(spec, "sort_field", fields, read) or fields[0]
    sources_field = _field_setting(spec, "sources_field", fields, read)
    blocks = _blocks(spec, fields, sources_field, read)  # None: reported, and the note type is dropped by _load
    is_cloze = kind == "cloze"
    _check_templates(spec, templates, fields, is_cloze, read, locator)
    return NoteType(key, tuple(fields), tuple(t for t, _ in templates), is_cloze, name, _pinned_id(spec, read),
                    css, fields.index(sort_field), sources_field, shown, blocks or (),
                    read.text(spec, "latex_pre") if "latex_pre" in spec else None,
                    read.text(spec, "latex_post") if "latex_post" in spec else None, _field_options(spec, fields, read))


FieldOptions = tuple[tuple[str, tuple[tuple[str, object], ...]], ...]  # (field, its (option, value) pairs)


def _field_options(spec: YamlMap, fields: list[str], read: Reader) -> FieldOptions | None:
    """`field_options:`: a field -> its Anki options (font, size, sticky, rtl, plainText, ...), each checked."""
    mapping = read.mapping(spec, "field_options")
    if mapping is None:
        return None
    found = []
    for name, options in mapping.items():
        if name not in fields:
            read.report(mapping.key_pos[name], f"field_options names '{name}', which is not a field",
                        did_you_mean(str(name), fields) or "name one of the fields")
        elif isinstance(options, YamlMap):
            found.append((str(name), tuple(_field_option(options, key, read) for key in options)))
        else:
            read.report(mapping.value_pos[name], f"the options of field '{name}' must be a mapping, not "
                        f"{describe(options)}", "write e.g. {font: Arial, size: 20, rtl: true}")
    return tuple(found)


def _field_option(options: YamlMap, key: str, read: Reader) -> tuple[str, object]:
    """One field option, of the type Anki keeps it as (a wrong one is reported and gets Anki's default)."""
    default = FIELD_OPTION_DEFAULTS.get(key)
    value = options[key]
    value = value.value if isinstance(value, Implicit) else value
    if default is None:
        read.report(options.key_pos[key], f"unknown field option '{key}'",
                    did_you_mean(key, FIELD_OPTION_DEFAULTS) or "one of: " + ", ".join(FIELD_OPTION_DEFAULTS))
    elif type(value) is not type(default):
        read.report(options.value_pos[key], f"field option '{key}' must be {type(default).__name__}, "
                    f"not {describe(options[key])}")
        return key, default
    return key, value


def _kind(spec: YamlMap, read: Reader) -> str | None:
    kind = read.text(spec, "kind") if "kind" in spec else "standard"
    if kind is not None and kind not in KINDS:
        read.report(spec.value_pos["kind"], f"unknown note type kind '{kind}'",
                    did_you_mean(kind, KINDS) or "standard or cloze")
        return None
    return kind


def _fields(spec: YamlMap, read: Reader) -> list[str]:
    if "fields" not in spec:
        read.report(spec.pos, "missing 'fields': the list of the note type's field names")
        return []
    if not isinstance(spec["fields"], YamlList) or not spec["fields"]:
        read.report(spec.value_pos["fields"], "'fields' must be a list of field names",
                    "write fields: [Drug, Class, Mechanism]")
        return []
    names: list[str] = []
    ok = True
    for name, pos in read.text_list(spec, "fields"):
        problem = _field_name_problem(name, names)
        if problem:
            read.report(pos, problem[0], problem[1])
            ok = False
        names.append(name)
    return names if ok and len(names) == len(spec["fields"]) else []


def _field_name_problem(name: str, earlier: list[str]) -> tuple[str, str] | None:
    """Why Anki would change or refuse a field name, and the fix."""
    if name != name.strip():
        return f"field name '{name}' starts or ends with a space, which Anki removes", f"write '{name.strip()}'"
    if _STRIPPED.search(name) or name[:1] in "#/^":
        fixed = _STRIPPED.sub("", name).lstrip("#/^ ")
        return (f"field name '{name}' has characters Anki strips from field names "
                "(: { } \" anywhere, # / ^ at the start)", f"write '{fixed}'" if fixed else "rename it")
    if name in ("FrontSide", *SPECIAL_FIELDS, *UNSHOWN_FIELDS):
        return f"'{name}' is a name Anki's templates reserve", "choose another field name"
    if name.casefold() in (n.casefold() for n in earlier):
        return f"field name '{name}' is used twice (Anki ignores case)", "every field needs its own name"
    return None


def _blocks(spec: YamlMap, fields: list[str], sources_field: str | None, read: Reader
            ) -> tuple[tuple[str, str], ...] | None:
    """The Jinja blocks `blocks:` gives fields whose names make none (a leading digit, two names that
    make the same block); every field's block must be a name Jinja reads, and each its own."""
    given = _given_blocks(spec, fields, read)
    if given is None:
        return None
    positions = dict(zip(fields, spec["fields"].item_pos))
    taken: dict[str, str] = {}
    ok = True
    for name in (name for name in fields if name != sources_field):  # deckgen fills the sources field itself
        block = given.get(name) or block_name(name)
        clash = taken.setdefault(block, name)
        if not block.isidentifier() or clash != name:
            why = (f"fields '{clash}' and '{name}' would both be filled by {{% block {block} %}}" if clash != name
                   else f"field name '{name}' makes the Jinja block name '{block}', which Jinja cannot read")
            read.report(positions[name], why, f"name its block yourself: blocks: {{{name}: {suggest_block(name, taken)}}}")
            ok = False
    return tuple(given.items()) if ok else None


def _given_blocks(spec: YamlMap, fields: list[str], read: Reader) -> dict[str, str] | None:
    if "blocks" not in spec:
        return {}
    value = read.mapping(spec, "blocks")
    if value is None:
        return None
    given = {}
    for field_name in value:
        block = read.text(value, field_name, required=True)
        if field_name not in fields:
            read.report(value.key_pos[field_name], f"blocks: '{field_name}' is not one of the note type's fields",
                        did_you_mean(field_name, fields) or "fields: " + ", ".join(fields))
        elif block is not None:
            given[field_name] = block
    return given if len(given) == len(value) else None


def suggest_block(field_name: str, taken: Container[str] = ()) -> str:
    """A Jinja block name for a field, as readable as the name allows (letters of any script stay), not yet taken."""
    block = re.sub(r"\W", "_", field_name) or "field"
    block = block if block.isidentifier() else f"f_{block}"
    candidates = (block if n == 1 else f"{block}_{n}" for n in itertools.count(1))
    return next(candidate for candidate in candidates if candidate not in taken)


def _templates(spec: YamlMap, read: Reader) -> list[tuple[CardTemplate, YamlMap]]:
    value = spec.get("templates")
    if not isinstance(value, YamlList) or not value:
        where = spec.value_pos["templates"] if "templates" in spec else spec.pos
        read.report(where, "'templates' must be a list of card templates, each with name, front and back")
        return []
    templates = []
    names: list[str] = []
    for item, pos in zip(value, value.item_pos):
        if not isinstance(item, YamlMap):
            read.report(pos, f"a card template must be a mapping with name, front and back, not {describe(item)}")
            continue
        read.unknown_keys(item, TEMPLATE_KEYS + TEMPLATE_OPTIONAL_KEYS, "card template setting")
        name, front, back = (read.text(item, key, required=True) for key in TEMPLATE_KEYS)
        group = read.text(item, "group", required=True) if "group" in item else None
        if name is not None and name.casefold() in (n.casefold() for n in names):
            read.report(item.value_pos["name"], f"card template name '{name}' is used twice (Anki ignores case)",
                        "Anki tells a note's cards apart by their template names")
        elif name is not None and front is not None and back is not None:
            names.append(name)
            pos = item.value_pos["group"] if group is not None else item.pos
            templates.append((CardTemplate(name, front, back, group, (pos.line, pos.column)), item))
    return templates if len(templates) == len(value) else []


def _field_setting(spec: YamlMap, key: str, fields: list[str], read: Reader) -> str | None:
    if key not in spec:
        return None
    name = read.text(spec, key, required=True)
    if name is not None and name not in fields:
        read.report(spec.value_pos[key], f"{key} '{name}' is not one of the note type's fields",
                    did_you_mean(name, fields) or "fields: " + ", ".join(fields))
        return None
    return name


def _pinned_id(spec: YamlMap, read: Reader) -> int | None:
    if "id" not in spec:
        return None
    value = spec["id"]
    number = value.value if isinstance(value, Implicit) else None
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= MAX_ID:
        read.report(spec.value_pos["id"], f"note type id must be a whole number from 1 to {MAX_ID}, "
                    f"not {describe(value) if not isinstance(value, Implicit) else value.raw}",
                    "pin the id of the note type learners already have, as Anki shows it")
        return None
    return number


# Anki's templates
# ----------------------------------------


def _check_templates(spec: YamlMap, templates: list[tuple[CardTemplate, YamlMap]], fields: list[str],
                     is_cloze: bool, read: Reader, locator: _Locator) -> None:
    if is_cloze and len(templates) != 1:
        read.report(spec.value_pos["templates"], f"a cloze note type has exactly one card template, not {len(templates)}",
                    "Anki makes one card per cloze number from that template")
    _check_fronts_differ(templates, read)
    for template, item in templates:
        for side, text in (("front", template.question), ("back", template.answer)):
            _check_remote(text, f"the {side} template", item.value_pos[side], read)
            uses = _uses(text, item.value_pos[side], side, read)
            if uses is not None:
                _check_uses(uses, fields, is_cloze, side, read, lambda use, at=item.value_pos[side]:
                            locator.find(at, use.handle))
        _check_front(template, item, fields, is_cloze, read)


def _check_remote(text: str | None, what: str, pos: Pos | None, read: Reader, css: bool = False) -> None:
    """Learners' Anki would fetch it every time a card shows (security: see deckgen.safety.remote)."""
    remote = (css_remote_problem if css else remote_problem)(text) if text else None
    if remote is not None and pos is not None:
        read.report(pos, f"{what} {remote[1]}", REMOTE_HINT)


def _check_fronts_differ(templates: list[tuple[CardTemplate, YamlMap]], read: Reader) -> None:
    """Anki refuses two templates with the same front (unless it shows {{Card}}): they would be one card."""
    seen: dict[str, str] = {}
    for template, item in templates:
        first = seen.setdefault(template.question, template.name)
        if first != template.name and not re.search(r"\{\{\s*Card\s*\}\}", template.question):
            read.report(item.value_pos["front"], f"card template '{template.name}' has the same front as '{first}'",
                        "Anki refuses such a note type: its cards would ask the same question")


_SECTION_HANDLE = re.compile(r"\{\{\s*([#^/])")
MAX_NESTING = 50


def _nesting(text: str) -> int:
    """How deep the template's sections nest (an upper bound when they do not balance)."""
    depth = deepest = 0
    for match in _SECTION_HANDLE.finditer(text):
        depth += -1 if match[1] == "/" else 1
        deepest = max(deepest, depth)
    return deepest


def _uses(text: str, pos: Pos, side: str, read: Reader) -> tuple[TemplateUse, ...] | None:
    if _nesting(text) > MAX_NESTING:
        read.report(pos, f"the {side} template nests sections more than {MAX_NESTING} deep")
        return None
    try:
        return parse_template(text)
    except ValueError as exc:
        read.report(pos, f"the {side} template's sections do not balance: {exc}",
                    "close every {{#Field}} or {{^Field}} with {{/Field}}, innermost first")
        return None


def _check_uses(uses: tuple[TemplateUse, ...], fields: list[str], is_cloze: bool, side: str, read: Reader,
                where: Callable[[TemplateUse], Pos]) -> None:
    for use in uses:
        pos = where(use)
        if use.key in fields or (use.key == "FrontSide" and not use.section) or use.key in SPECIAL_FIELDS or (
                use.section and is_cloze and _CLOZE_NUMBER.fullmatch(use.key)):
            problem = filter_problem(use.filters)
            if problem:
                read.report(pos, f"the {side} template's {{{{{':'.join((*reversed(use.filters), use.key))}}}}}: "
                                 f"{problem}", "Anki's filters: text, hint, type, cloze, cloze-only, "
                                               "furigana, kana, kanji, tts <lang>")
            elif "cloze" in use.filters and not is_cloze:
                read.report(pos, f"the {side} template uses {{{{cloze:{use.key}}}}} in a standard note type",
                            "only a note type with 'kind: cloze' makes cards from cloze markers")
        elif not use.key:
            read.report(pos, f"the {side} template has {{{{{use.handle}}}}}, which names no field",
                        "write {{Field}}, or remove the braces")
        elif use.key in UNSHOWN_FIELDS:
            read.report(pos, f"the {side} template uses Anki's special field {{{{{use.key}}}}}, "
                             "which deckgen's preview cannot show yet", "put the text in a field of its own")
        else:
            read.report(pos, f"the {side} template names the field '{use.key}', which the note type does not have",
                        did_you_mean(use.key, fields) or "fields: " + ", ".join(fields))


def _check_front(template: CardTemplate, item: YamlMap, fields: list[str], is_cloze: bool, read: Reader) -> None:
    """Anki makes no card of a front that shows no field, and none of a cloze template without {{cloze:}}."""
    pos = item.value_pos["front"]
    try:
        uses = parse_template(template.question) if _nesting(template.question) <= MAX_NESTING else None
    except ValueError:
        uses = None
    if uses is None:
        return  # reported
    if is_cloze:
        if not any("cloze" in use.filters and use.key in fields for use in uses):
            read.report(pos, f"the front of cloze template '{template.name}' has no {{{{cloze:Field}}}}",
                        "Anki makes a cloze note's cards from {{cloze:Text}} on the front")
    elif not can_render(template.question, fields):
        read.report(pos, f"the front of card template '{template.name}' can never show a field, "
                         "so Anki would never make this card", "put a {{Field}} on the front, outside "
                                                                  "conditions that contradict each other")
