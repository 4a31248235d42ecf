"""Stage 4: check each card against its card type, the groups and the sources."""

from __future__ import annotations

import re
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Union

from ..project.card_types import CARD_KEYS, CardType, FieldSpec
from ..project.config import ProjectConfig, Source
from .inline_html import every_tag, tags_shown_as_text
from ..safety.limits import MAX_FIELD_CHARS, MAX_LIST_ITEMS, MAX_TAGS
from ..project.card_files import CardSource, card_key
from ..anki.name_rules import invisible_problem, merged_with
from ..problems import WARNING, Problem, did_you_mean
from ..project.yaml_values import Reader, describe
from ..project.yaml_reader import Pos, Value, YamlList, YamlMap

FieldValue = Union[str, tuple[str, ...]]
_CLOZE_MARKER = re.compile(r"\{\{c\d+::")
_ONE_BRACE_CLOZE = re.compile(r"(?<!\{)\{(c\d+)::")  # '{c2::...}': a cloze marker missing a brace
_SPACED_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(([^()<>\s]+(?: [^()<>\s\"']+)+)\)")  # '![ring](my ring.png)'
_ONE_COLON_CLOZE = re.compile(r"\{\{(c\d+):(?!:)")  # '{{c1:...}}': a cloze marker missing a colon
GUID_SPACE = re.compile(r"\s")
_STAND_IN_CONFIG = ProjectConfig(Path("."), "", "")  # for the checks that do not read deckgen.yaml


@dataclass(frozen=True)
class SourceRef:
    """A card's reference to one of the project's sources, with the source's references it cites."""

    id: str
    citation: str
    ref: str | None = None
    references: tuple[tuple[str, str | None], ...] = ()  # (number, title; None: the source lists none)
    untitled: str = ""  # the source's note for a number without a title


class Identity(NamedTuple):
    """What ties a card to learners' notes besides its id: former ids, a pinned GUID, a deliberate restore."""

    former_ids: tuple[tuple[str, Pos], ...] = ()  # oldest first
    guid: str | None = None
    guid_pos: Pos | None = None
    restore: Pos | None = None  # where 'restore: true' is written


class ValidCard(NamedTuple):
    """A card whose data fits its card type, ready to render (a tuple: a big deck has many)."""

    id: str
    card_type: CardType
    group: str
    tags: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    values: dict[str, FieldValue]
    path: str
    pos: Pos
    identity: Identity | None = None  # None: the note's GUID comes from the id alone
    keep_empty: bool = False  # a note Anki gives no card of its own: keep the empty card 1 it makes (a deck's as it is)


def validate_card(
    card: CardSource, card_types: dict[str, CardType], config: ProjectConfig, problems: list[Problem],
    broken: frozenset[str] = frozenset(), unrendered: Mapping[str, CardType] | None = None,
) -> ValidCard | None:
    """The card checked and typed, or None with every problem it has recorded.

    Cards of a `broken` card type (one that failed to load, already reported) are checked against
    its fields where `unrendered` has them (the card must not be rendered then), else skipped.
    """
    read = Reader(card.path, problems, card.id)
    before = len(problems)
    type_name = card.data.get("type", card.defaults.type)
    if isinstance(type_name, str) and type_name in broken:
        card_type = (unrendered or {}).get(type_name)
        if card_type is None:
            return None
    else:
        card_type = _card_type(card, card_types, read)
    group = _group(card, config, read)
    tags = _tags(card, read)
    sources = _sources(card, config, read)
    values = _values(card, card_type, read, config) if card_type else {}
    data = card.data
    identity = _identity(card, read) if "former_ids" in data or "guid" in data or "restore" in data else None
    if card_type is None or group is None or (len(problems) > before and _has_error(problems, before)):
        return None
    keep_empty = read.flag(data, "keep_empty", False) if "keep_empty" in data else False
    return ValidCard(card.id, card_type, group, tags, sources, values, card.path, card.pos, identity, keep_empty)


def check_without_config(card: CardSource, card_types: dict[str, CardType], problems: list[Problem]) -> None:
    """What can be checked of a card while deckgen.yaml is unusable: its card type and fields (not groups, sources)."""
    found: list[Problem] = []
    read = Reader(card.path, found, card.id)
    card_type = _card_type(card, card_types, read)
    if card_type is not None:
        _values(card, card_type, read, _STAND_IN_CONFIG)
    problems += [problem for problem in found if problem.severity != WARNING]  # warnings may depend on 'html:'


def _has_error(problems: list[Problem], since: int) -> bool:
    """Whether any problem recorded since `since` is an error (warnings leave the card valid)."""
    return any(problem.severity != WARNING for problem in problems[since:])


def _identity(card: CardSource, read: Reader) -> Identity | None:
    """The card's former ids, pinned GUID and restore flag, each checked."""
    data = card.data
    former = []
    for text, pos in read.text_list(data, "former_ids"):
        former_id = card_key(text)
        if former_id is None:
            read.report(pos, f"former id '{text}' is not a card id", "copy the id exactly as it was")
        elif former_id == card.id:
            read.report(pos, f"former id '{former_id}' is the card's own id", "list only the ids it had before")
        else:
            former.append((former_id, pos))
    guid = read.text(data, "guid", required="guid" in data)
    if guid is not None and GUID_SPACE.search(guid):
        read.report(data.value_pos["guid"], "a GUID cannot contain spaces", "copy the note's GUID exactly")
        guid = None
    restore = data.value_pos["restore"] if read.flag(data, "restore", False) else None
    if not former and guid is None and restore is None:
        return None
    return Identity(tuple(former), guid, data.value_pos.get("guid"), restore)


def _card_type(card: CardSource, card_types: dict[str, CardType], read: Reader) -> CardType | None:
    data = card.data
    if "type" in data:
        name, pos, report = read.text(data, "type", required=True), data.value_pos.mark("type"), read.report
    elif "type" in card.defaults.unreadable:
        return None
    else:
        name, pos, report = card.defaults.type, card.defaults.positions.get("type"), _file_reporter(read)
    if name is None:
        return None
    if name not in card_types:
        hint = did_you_mean(name, card_types) or "card types: " + ", ".join(sorted(card_types))
        report(pos or card.pos, f"unknown card type '{name}'", hint)
        return None
    return card_types[name]


def _group(card: CardSource, config: ProjectConfig, read: Reader) -> str | None:
    data = card.data
    if "group" in data:
        group = read.text(data, "group", required=data["group"] != "")  # '': the deck itself
        pos, report = data.value_pos.mark("group"), read.report
        if group is None:
            return None
    elif "group" in card.defaults.unreadable:
        return None
    else:
        group, pos, report = card.defaults.group, card.defaults.positions.get("group"), _file_reporter(read)
    if group is not None and config.has_group(group):  # the common case, without the list of every group
        return group
    paths = config.group_paths()
    if group is None:
        if len(paths) <= 1:  # a flat deck's root deck, or the one group there is
            return paths[0] if paths else ""
        read.report(card.pos, "card has no group",
                    "add 'group:' to the card or at the top of the file: " + ", ".join(paths))
        return None
    if group != "":  # '': the deck itself, beside its groups
        report(pos or card.pos, f"unknown group '{group}'", _group_hint(group, paths))
        return None
    return group


def _group_hint(group: str, paths: list[str]) -> str:
    """A suggestion for an unknown group: a close path, the path of a nested group with that key, or the list."""
    nested = [path for path in paths if path.rsplit("/", 1)[-1] == group]
    if nested:
        return f"a nested group is named by its path: did you mean '{nested[0]}'?"
    if not paths:
        return "this deck has no groups: add 'groups:' to deckgen.yaml, or leave 'group:' out"
    return did_you_mean(group, paths) or "groups: " + ", ".join(paths)


def _file_reporter(read: Reader) -> Callable[[Pos, str, str | None], None]:
    """Reports a problem of a file-level setting once for the file, not once for each of its cards."""
    file_read = read.for_card(None)

    def report(pos: Pos, message: str, hint: str | None = None) -> None:
        problem = Problem(read.path, pos.line, pos.column, message, None, hint)
        if problem not in read.problems:
            file_read.report(pos, message, hint)

    return report


@functools.lru_cache(maxsize=4096)
def tag_problem(tag: str) -> tuple[str, str] | None:
    """Why Anki would not keep a tag as written, and the fix; None for a good tag."""
    invisible = invisible_problem(tag)
    if invisible:
        return invisible, "remove it: Anki would keep a tag that looks like another"
    if re.search(r"\s", tag):
        fixed = re.sub(r"\s+", "_", tag.strip())
        return "contains a space, so Anki would split it into separate tags", f"write '{fixed}'"
    if ":::" in tag:
        return "contains ':::', which Anki can split into levels in another way", "use '::' between levels"
    levels = tag.split("::")
    if "" in levels:
        fixed = "::".join(level for level in levels if level)
        return "has an empty level, which Anki would name 'blank'", f"write '{fixed}'" if fixed else "remove it"
    return None


def _tags(card: CardSource, read: Reader) -> tuple[str, ...]:
    tags: dict[str, None] = {}  # a dict: de-duplicating stays linear however many tags there are
    own = read.text_list(card.data, "tags")
    if len(card.defaults.tags) + len(own) > MAX_TAGS:
        read.report(card.data.value_pos.get("tags", card.pos), f"the card has {len(card.defaults.tags) + len(own):,} "
                    f"tags, above deckgen's limit of {MAX_TAGS}")
        return ()
    for from_file, given in ((True, card.defaults.tags), (False, own)):
        for tag, pos in given:
            problem = tag_problem(tag)
            if problem:
                report = _file_reporter(read) if from_file else read.report
                report(pos, f"tag '{tag}' {problem[0]}", problem[1])
            else:
                tags[tag] = None
    merged = merged_with(tags) if len(tags) > 1 else None
    if not merged:
        return tuple(tags)
    for tag, earlier in merged.items():
        read.report(card.pos, f"tags '{earlier}' and '{tag}' differ only in case or Unicode form",
                    "Anki would merge them into one tag: write them the same way")
    return tuple(tag for tag in tags if tag not in merged)


def _sources(card: CardSource, config: ProjectConfig, read: Reader) -> tuple[SourceRef, ...]:
    value = card.data.get("sources")
    if value is None:
        return ()
    if not isinstance(value, YamlList):
        value_list = YamlList(card.data.value_pos["sources"])
        value_list.append(value)
        value_list.item_pos.append(card.data.value_pos["sources"])
        value = value_list
    refs: list[SourceRef] = []
    for number, (item, pos) in enumerate(zip(value, value.item_pos), 1):  # a loop: no generator frames per card
        ref = _source(item, pos, number, config, read)
        if ref is not None:
            refs.append(ref)
    return tuple(refs)


def _source(item: Value, pos: Pos, number: int, config: ProjectConfig, read: Reader) -> SourceRef | None:
    ref = None
    if isinstance(item, YamlMap):
        read.unknown_keys(item, ("id", "ref"), "source key")
        source_id, ref = read.text(item, "id", required=True), read.text(item, "ref")
        pos = item.value_pos.get("id", pos)
    else:
        source_id = read.text_value(item, pos, "sources", label=f"item {number} of 'sources'", item=True)
    if source_id is None:
        return None
    if source_id not in config.sources:
        hint = did_you_mean(source_id, config.sources) or "declare it under 'sources:' in deckgen.yaml"
        read.report(pos, f"unknown source '{source_id}'", hint)
        return None
    source_ref = _source_ref(config.sources[source_id], source_id, ref)
    if not source_ref.references:  # the common case: the card cites no numbered reference
        return source_ref
    unlisted = [number for number, title in source_ref.references if title is None]
    if unlisted and not all(config.sources[source_id].lists(number) for number in unlisted):
        _unlisted_refs(item, source_id, config.sources[source_id], unlisted, read)
    return source_ref


def _unlisted_refs(item: Value, source_id: str, source: Source, numbers: list[str], read: Reader) -> None:
    """A cited reference number the source does not list: most often a typo."""
    pos = item.value_pos["ref"]  # type: ignore[union-attr]
    for number in numbers:
        if not source.lists(number):
            read.report(pos, f"source '{source_id}' lists no reference {number}",
                        f"it lists {', '.join(n for n, t in source.references if t)}; a number its text cites "
                        f"without listing it can be declared in deckgen.yaml as '{number}: null'",
                        severity=WARNING)


@functools.lru_cache(maxsize=1024)
def _source_ref(source: Source, source_id: str, ref: str | None) -> SourceRef:
    """One SourceRef for each distinct citation: cards cite the same few over and over."""
    return SourceRef(source_id, source.citation, ref, _cited(source, ref), source.untitled)


def _cited(source: Source, ref: str | None) -> tuple[tuple[str, str | None], ...]:
    """The numbered references a card's 'ref' names, where its source lists numbered references."""
    if not ref or not (source.references or source.untitled):
        return ()
    numbers = [part for part in re.split(r"[\s,;]+", ref) if part]
    if not all(number.isdigit() for number in numbers):
        return ()  # a page, a section: shown as written
    return tuple((number, source.reference(number)) for number in numbers)


def _values(card: CardSource, card_type: CardType, read: Reader, config: ProjectConfig) -> dict[str, FieldValue]:
    data = card.data
    for key in data:
        if key not in card_type.fields and key not in CARD_KEYS:  # most keys are fields: found at once
            hint = did_you_mean(key, [*card_type.fields, *CARD_KEYS]) or (
                f"card type '{card_type.name}' takes: " + ", ".join(card_type.fields))
            read.report(data.key_pos[key], f"unknown field '{key}'", hint)
    values: dict[str, FieldValue] = {}
    cloze = card_type.note_type.is_cloze
    for spec in card_type.fields.values():
        if spec.name not in data:
            if spec.required:
                read.report(card.pos, f"missing field '{spec.name}'",
                            f"card type '{card_type.name}' requires it")
            continue
        value = _value(spec, data, read)
        if value is not None:
            values[spec.name] = value
            if not isinstance(value, str) or "<" in value or ("{{" in value and not cloze) or "{c" in value or (
                    "](" in value):  # rare
                _check_text(spec, value, data, card_type, config, read)
    return values


def _check_text(spec: FieldSpec, value: FieldValue, data: YamlMap, card_type: CardType, config: ProjectConfig,
                read: Reader) -> None:
    """Warn about text that will not show as the author meant: raw HTML shown as text, a stray cloze marker."""
    passed_through = not spec.markdown and spec.name in card_type.passed_through  # printed with |safe
    html = (not config.html or not spec.markdown) and not passed_through
    cloze = not card_type.note_type.is_cloze
    for number, text in enumerate(value if isinstance(value, tuple) else (value,)):
        shows_html = html and "<" in text
        stray_cloze = cloze and "{{c" in text and _CLOZE_MARKER.search(text)
        one_brace = _ONE_BRACE_CLOZE.search(text) if "{c" in text else None
        one_colon = _ONE_COLON_CLOZE.search(text) if "{{c" in text else None
        spaced = _SPACED_IMAGE.search(text) if spec.markdown and "](" in text else None
        if not (shows_html or stray_cloze or one_brace or one_colon or spaced):
            continue
        raw = data[spec.name]
        pos = raw.item_pos[number] if isinstance(raw, YamlList) else data.value_pos[spec.name]
        if shows_html:
            _html_shown(spec, text, pos, read)
        if stray_cloze:
            read.report(pos, f"field '{spec.name}' has a cloze marker, but card type '{card_type.name}' "
                        "is not a cloze card", "Anki shows the braces as they are; use a cloze card type "
                        "(type: cloze) or remove the marker", severity=WARNING)
        if one_brace:
            read.report(pos, f"field '{spec.name}' has '{one_brace.group()}' with one brace, which is not a cloze "
                        "marker: Anki shows the braces as they are",
                        f"a cloze marker has two braces on each side: {{{{{one_brace.group(1)}::...}}}}",
                        severity=WARNING)
        if one_colon:
            read.report(pos, f"field '{spec.name}' has '{one_colon.group()}' with one colon, which is not a cloze "
                        "marker: Anki makes no card for it and shows the braces as they are",
                        f"a cloze marker has two colons: {{{{{one_colon.group(1)}::...}}}}", severity=WARNING)
        if spaced:
            read.report(pos, f"field '{spec.name}': '{spaced.group()}' is not an image, since its file name has a "
                        "space: learners see the text as written",
                        f"put the name in <...>: ![{spaced.group(1)}](<{spaced.group(2)}>)", severity=WARNING)


def _html_shown(spec: FieldSpec, text: str, pos: Pos, read: Reader) -> None:
    """One warning for each tag a learner would see as text."""
    if spec.markdown:
        shown = [(tag.tag, tag.reason) for tag in tags_shown_as_text(text)]
    else:
        shown = [(tag, "this field is plain text (markdown: false)") for tag in every_tag(text)]
    for tag, reason in shown:
        read.report(pos, f"field '{spec.name}': {tag} is shown as text, not as HTML", reason, severity=WARNING)


def _value(spec: FieldSpec, data: YamlMap, read: Reader) -> FieldValue | None:
    raw, pos = data[spec.name], data.value_pos.mark(spec.name)  # type: ignore[attr-defined]
    if spec.is_list:
        if not isinstance(raw, YamlList):
            read.report(pos, f"field '{spec.name}' must be a list, not {describe(raw)}", "write one '- item' a line")
            return None
        if len(raw) > MAX_LIST_ITEMS:
            read.report(pos, f"field '{spec.name}' has {len(raw):,} items, above deckgen's limit of {MAX_LIST_ITEMS:,}")
            return None
        items = [read.text_value(item, item_pos, spec.name, label=f"item {n} of '{spec.name}'", item=True)
                 for n, (item, item_pos) in enumerate(zip(raw, raw.item_pos), start=1)]
        if any(item is not None and len(item) > MAX_FIELD_CHARS for item in items):
            return tuple(item for n, (item, item_pos) in enumerate(zip(items, raw.item_pos), start=1)
                         if item is not None and not read.too_long(item, item_pos, f"item {n} of '{spec.name}'"))
        return tuple(item for item in items if item is not None)
    text = read.text_value(raw, pos, spec.name, required=spec.required)
    if text is not None and len(text) > MAX_FIELD_CHARS:
        read.too_long(text, pos, f"field '{spec.name}'")
        return None
    if text is not None and spec.choices and text not in spec.choices:
        hint = did_you_mean(text, spec.choices) or "one of: " + ", ".join(spec.choices)
        read.report(pos, f"field '{spec.name}' is '{text}', not one of the allowed values", hint)
        return None
    return text
