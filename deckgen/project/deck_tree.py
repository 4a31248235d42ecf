"""The deck's layout in deckgen.yaml: the root deck's '::' path and the tree of groups (its subdecks).

A group is a subdeck; a group may have subgroups, which become its own subdecks, and a description,
which Anki shows on its subdeck's overview. Cards name a
group by its path of keys joined with '/' (`treatment/acute`); '' is the root deck itself.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..anki.name_rules import invisible_problem, merge_key
from .yaml_values import Reader, describe
from .yaml_reader import Pos, YamlMap

GROUP_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_GROUP_KEYS = ("title", "description", "groups")


@dataclass(frozen=True)
class Group:
    """A group of cards: one subdeck, perhaps with subgroups of its own."""

    key: str
    title: str
    groups: tuple[Group, ...] = ()
    description: str = ""  # the subdeck's description in Anki (Markdown, or HTML with description_html)


def group_titles(groups: tuple[Group, ...], path: str = "", titles: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Every group's path and its titles below the root, parents before children, in config order."""
    out: dict[str, tuple[str, ...]] = {}
    for group in groups:
        group_path = f"{path}/{group.key}" if path else group.key
        out[group_path] = (*titles, group.title)
        out.update(group_titles(group.groups, group_path, out[group_path]))
    return out


def group_descriptions(groups: tuple[Group, ...], path: str = "") -> dict[str, str]:
    """Each group's path -> its own description, for the groups that have one."""
    out: dict[str, str] = {}
    for group in groups:
        group_path = f"{path}/{group.key}" if path else group.key
        if group.description:
            out[group_path] = group.description
        out.update(group_descriptions(group.groups, group_path))
    return out


def tag_word(text: str) -> str:
    """A deck or group name as one word of a hierarchical tag (Anki tags cannot hold spaces)."""
    return re.sub(r"\s+", "_", text.strip()).replace("::", "_")


def read_deck(doc: YamlMap, read: Reader) -> str | None:
    """The root deck's name: a title or a '::' path of titles; its parents are created by the import."""
    deck = read.text(doc, "deck", required=True)
    if deck is None:
        return None
    problem = deck_path_problem(deck)
    if problem:
        read.report(doc.value_pos["deck"], *problem)
        return None
    return "::".join(part.strip() for part in deck.split("::"))


def deck_path_problem(deck: str) -> tuple[str, str] | None:
    """Why a deck name cannot be the root deck's ('a::' has an empty part), with the fix; None when it can."""
    if all(part.strip() for part in deck.split("::")):
        return None
    return (f"the deck path '{deck.strip()}' has an empty part",
            "write it as 'Parent::Child::Deck', each part a name")


def read_groups(doc: YamlMap, read: Reader) -> tuple[Group, ...]:
    """The tree of groups; none at all (no 'groups:') is a flat deck, never a default set."""
    mapping = read.mapping(doc, "groups")
    return _groups(mapping, read, "") if mapping is not None else ()


def _groups(mapping: YamlMap, read: Reader, parent: str) -> tuple[Group, ...]:
    groups = []
    for key in mapping:
        group = _group(key, mapping, read, parent)
        if group is not None:
            groups.append(group)
    _unique_titles(groups, mapping, read)
    return tuple(groups)


def _group(raw_key: object, mapping: YamlMap, read: Reader, parent: str) -> Group | None:
    """One group: 'key: Title', or 'key: {title: Title, groups: {...}}' for a group with subgroups."""
    key = str(raw_key)
    path = f"{parent}/{key}" if parent else key
    if not isinstance(raw_key, str) or not GROUP_KEY.match(key):
        read.report(mapping.key_pos[raw_key], f"group key '{key}' must be letters, digits, '-', '_' or '.'",
                    "the key is what cards name in 'group:'; the title is what learners see")
        return None
    value = mapping[raw_key]
    if not isinstance(value, YamlMap):
        title = read.text_value(value, mapping.value_pos[key], key, label=f"the title of group '{path}'")
        return _checked(key, title, mapping.value_pos[key], read, path, ())
    read.unknown_keys(value, _GROUP_KEYS, f"key of group '{path}'",
                      "a group with subgroups or a description is written {title: Title, description: Text, "
                      "groups: {key: Title, ...}}")
    if "title" not in value:
        read.report(value.pos, f"group '{path}' has no 'title'", "the title is the subdeck's name learners see")
    title = read.text(value, "title")
    subgroups = value.get("groups")
    if subgroups is not None and not isinstance(subgroups, YamlMap):
        read.report(value.value_pos["groups"], f"the subgroups of group '{path}' must be a mapping, "
                    f"not {describe(subgroups)}", "write them as key: Title, one a line")
        subgroups = None
    children = _groups(subgroups, read, path) if subgroups is not None else ()
    group = _checked(key, title, value.value_pos["title"] if "title" in value else value.pos, read, path, children)
    description = read.text(value, "description")
    return dataclasses.replace(group, description=description) if group and description else group


def _checked(key: str, title: str | None, pos: Pos, read: Reader, path: str,
             children: tuple[Group, ...]) -> Group | None:
    if title is None:
        return None
    if "::" in title:
        read.report(pos, f"group title '{title.strip()}' cannot contain '::'",
                    "nest a group inside another with {title: ..., groups: {...}}")
        return None
    invisible = invisible_problem(title)
    if invisible:
        read.report(pos, f"group title '{title.strip()}' {invisible}", "remove it: Anki would keep a title that looks like another")
        return None
    return Group(key, title.strip(), children)


def _unique_titles(groups: list[Group], mapping: YamlMap, read: Reader) -> None:
    """Sibling titles must differ (Anki matches decks by name, ignoring case and Unicode form): each is its own subdeck."""
    seen: dict[str, str] = {}
    for group in groups:
        folded = merge_key(group.title)
        if folded in seen:
            value = mapping[group.key]
            pos = value.value_pos["title"] if isinstance(value, YamlMap) else mapping.value_pos[group.key]
            read.report(pos, f"groups '{seen[folded]}' and '{group.key}' share the title '{group.title}'",
                        "each group is its own subdeck")
        else:
            seen[folded] = group.key
