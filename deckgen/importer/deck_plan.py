"""Where the imported notes go in a project: the root deck, nested groups, keys and card ids."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from ..problems import Problem, ProjectError
from .source_deck import ImportedDeck, ImportedNote

RESERVED_NOTE_TYPES = {"basic", "reversed", "cloze"}
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")  # the words card_slug finds in ASCII text


def slug(text: str, limit: int = 48) -> str:
    """Lowercase ASCII words joined by '-', cut at a word boundary: a readable key."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = _NOT_WORD.sub("-", ascii_text.lower()).strip("-")
    if len(words) > limit:
        words = words[:limit].rsplit("-", 1)[0] if "-" in words[:limit] else words[:limit]
    return words


def card_slug(text: str, limit: int = 48) -> str:
    """A readable card id from any script: lowercase letters, digits and marks in words joined by '-'."""
    words = _ASCII_WORD.findall(text.lower()) if text.isascii() else _words(text)
    joined = "-".join(words)
    if len(joined) <= limit:
        return joined  # most card texts: short enough whole
    kept = ""
    for word in words:
        candidate = f"{kept}-{word}" if kept else word
        if len(candidate) > limit:
            return kept or word[:limit]
        kept = candidate
    return kept


def _words(text: str) -> list[str]:
    words, word = [], ""
    for char in unicodedata.normalize("NFC", text).lower():
        if char.isalnum() or (word and unicodedata.category(char)[0] == "M"):
            word += char
        elif word:
            words.append(word)
            word = ""
    return words + [word] if word else words


def unique(base: str, taken: set[str], joiner: str = "-") -> str:
    """base, or base-2, base-3, ... whichever is free; the result is taken."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{joiner}{number}"
    taken.add(candidate)
    return candidate


@dataclass
class Group:
    """A subdeck below the root: its key path and title, and its subgroups."""

    path: str
    title: str
    children: dict[str, Group] = field(default_factory=dict)  # by title


@dataclass
class Layout:
    """The root deck and the group of every deck below it."""

    root: str
    groups: dict[str, Group]  # top-level groups, by title
    paths: dict[str, str]  # full deck name -> group path ('' for the root)

    def tree(self, descriptions: dict[str, str] | None = None) -> dict[str, object]:
        """The groups as deckgen.yaml writes them, with their subdecks' descriptions (by group path)."""
        return _tree(self.groups, descriptions or {})


def _tree(groups: dict[str, Group], descriptions: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for group in groups.values():
        key = group.path.rsplit("/", 1)[-1]
        entry: dict[str, object] = {"title": group.title}
        if group.path in descriptions:
            entry["description"] = descriptions[group.path]
        if group.children:
            entry["groups"] = _tree(group.children, descriptions)
        out[key] = entry if len(entry) > 1 else group.title
    return out


def select_decks(deck: ImportedDeck, wanted: tuple[str, ...]) -> None:
    """Keep only the notes of the decks asked for (and their subdecks); raise if one matches nothing."""
    if not wanted:
        return
    problems = []
    kept: list[ImportedNote] = []
    for name in wanted:
        found = [n for n in deck.notes if n.deck == name or n.deck.startswith(name + "::")]
        if not found:
            names = sorted({n.deck for n in deck.notes})
            problems.append(Problem(str(deck.source), message=f"--deck '{name}': no notes in such a deck",
                                    hint="decks with notes: " + ", ".join(names[:12])))
        kept += [n for n in found if n not in kept]
    if problems:
        raise ProjectError(problems)
    deck.notes = kept


def template_decks(deck: ImportedDeck, wanted: tuple[str, ...] = ()) -> tuple[dict[str, dict[int, str]],
                                                                             list[ImportedNote]]:
    """Where a note's cards are in several decks: the card templates whose cards all sit in one deck (note type
    key -> template ord -> deck), which a template's `group:` says; and the notes with a card elsewhere that
    this does not place (a cloze note type's, a template's cards spread over several decks, or in a deck outside
    the decks `--deck` keeps)."""
    split = [note for note in deck.notes if note.card_decks]
    elsewhere = {(note.note_type, ord_) for note in split for ord_, name in note.card_decks if name != note.deck}
    moved: dict[str, dict[int, str]] = {}
    for kind, by_ord in deck.card_decks.items():
        note_type = deck.note_types.get(kind)
        if note_type is not None and not note_type.is_cloze:
            moved[kind] = {ord_: next(iter(names)) for ord_, names in by_ord.items()
                           if len(names) == 1 and (kind, ord_) in elsewhere and ord_ < len(note_type.templates)
                           and _kept(next(iter(names)), wanted)}
    unplaced = [note for note in split if any(
        name != note.deck and moved.get(note.note_type, {}).get(ord_) != name for ord_, name in note.card_decks)]
    return {kind: found for kind, found in moved.items() if found}, unplaced


def _kept(name: str, wanted: tuple[str, ...]) -> bool:
    """Whether a deck is one `--deck` keeps (every deck, without --deck)."""
    return not wanted or any(name == want or name.startswith(want + "::") for want in wanted)


def plan_layout(deck: ImportedDeck, more: Iterable[str] = ()) -> Layout:
    """The root is the deepest deck that holds every note (and the `more` decks cards are in); each deck below it
    becomes a group."""
    names = sorted({note.deck for note in deck.notes}.union(more))
    parts = [name.split("::") for name in names]
    common = parts[0]
    for other in parts[1:]:
        length = 0
        while length < min(len(common), len(other)) and common[length] == other[length]:
            length += 1
        common = common[:length]
    if not common:
        tops = sorted({p[0] for p in parts})
        raise ProjectError([Problem(str(deck.source), message="the notes are in several unrelated decks: "
                                    + ", ".join(tops), hint="pick one with --deck NAME (a project is one deck)")])
    if len(names) > 1 and "::".join(common) in names and len(common) > 1:  # the root holds notes beside its subdecks
        common = common[:-1]  # one level up: the root deck becomes a group that holds cards itself
    # a top-level deck that holds notes beside its subdecks keeps them in the deck itself (group '')
    root = "::".join(common)
    layout = Layout(root, {}, {root: ""})
    for name in names:
        _add_deck(layout, name.split("::")[len(common):], name)
    return layout


def _add_deck(layout: Layout, titles: list[str], name: str) -> None:
    level, path = layout.groups, ""
    for title in titles:
        if title not in level:
            taken = {g.path.rsplit("/", 1)[-1] for g in level.values()}
            key = unique(slug(title, 32) or "group", taken)
            level[title] = Group(f"{path}/{key}" if path else key, title)
        group = level[title]
        path, level = group.path, group.children
    layout.paths[name] = path
