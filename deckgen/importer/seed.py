"""The imported project's card files compiled from what the importer knows, for seeding deckgen.lock.

The importer wrote every card and knows what its card type renders each field to (it checked
that the Markdown renders back to equivalent HTML), so the pipeline's load, validate and render
stages need not run again on 20,000 cards to learn each note's content hash. This module makes
the same `FileResult`s those stages would (tests/test_import.py compares them, and builds the
imported project with --frozen), and hands them to the build's own `assemble` for everything
across cards: media, identities, note types and the next lock. Where a card holds something the
validate stage would report (a tag Anki would change, a control character, a GUID with a space,
HTML shown as text), or its card type is not one the importer wrote field by field (deckgen's
built-in ones, for a CSV), it returns None and the importer builds the project the ordinary way,
whose messages say exactly what is wrong.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from ..build.pipeline import Project, assemble
from ..project.card_types import CardType, Templates
from ..build.compiler import FileResult, first_cards
from ..project.config import ProjectConfig
from ..safety.limits import MAX_FIELD_CHARS, MAX_TAGS
from ..project.card_files import card_key
from ..build.lock_file import Lock
from ..anki.name_rules import merge_key
from ..anki.builtin_note_types import NoteType
from ..build.build_options import BuildOptions
from ..problems import Problem
from ..build.render import Renderer
from ..project.yaml_values import CONTROL
from ..build.validate import GUID_SPACE, Identity, ValidCard, tag_problem
from ..project.yaml_reader import Pos
from .writer import CardFile, CardTypePlan, WrittenNote

CARD_COLUMN = 3  # a card starts after "- "
GUID_COLUMN = 9  # "  guid: " comes before its value


class Compiling(NamedTuple):
    """What compiling the imported card files needs: the project as loaded, and its card types."""

    config: ProjectConfig
    plans: dict[str, CardTypePlan]
    card_types: dict[str, CardType]
    renderer: Renderer


def compiling(config: ProjectConfig, templates: Templates, plans: dict[str, CardTypePlan]) -> Compiling | None:
    """The set-up for compiling card files, or None if a card type is not one the importer wrote."""
    card_types = {plan.key: templates.card_types[plan.key] for plan in plans.values()
                  if plan.key in templates.card_types}
    if not all(_fits(card_types.get(plan.key), plan, templates) for plan in plans.values()):
        return None
    return Compiling(config, plans, card_types, Renderer(config, templates))


def compiled_project(config: ProjectConfig, templates: Templates, results: list[FileResult],
                     problems: list[Problem]) -> Project:
    """The imported project as `deckgen.build.pipeline.prepare` would find it, from its compiled card files."""
    return assemble(config, templates, results, Lock(), BuildOptions(use_cache=False), problems)


def _fits(card_type: CardType | None, plan: CardTypePlan, templates: Templates) -> bool:
    """The card type is the one the importer wrote: its data keys, one block for each field, nothing else."""
    return (card_type is not None and card_type.name not in templates.broken and not plan.note_type.builtin
            and set(card_type.fields) == set(plan.data_keys) and card_type.note_type.sources_field is None
            and card_type.note_type.fields == plan.note_type.fields
            and card_type.note_type.is_cloze == plan.note_type.is_cloze
            and _questions(card_type.note_type) == _questions(plan.anki_note_type))  # so its written ords hold


def _questions(note_type: NoteType) -> tuple[str, ...]:
    """What Anki's card generation reads of a note type's templates (with its fields and kind)."""
    return tuple(template.question for template in note_type.templates)


def compiled_file(card_file: CardFile, setup: Compiling) -> FileResult | None:
    """One written card file's result, or None if one of its cards needs the validate stage's word."""
    problems: list[Problem] = []
    notes, ids, identities = [], [], {}
    config, plans, card_types, renderer = setup
    group = _group(card_file.group, config)
    if group is None:
        return None
    for written, line, guid_line in card_file.cards:
        plan = plans[written.note.note_type]
        card = _valid_card(written, card_types[plan.key], (card_file.path, group, line, guid_line), config.html)
        if card is None:
            return None
        ids.append((card.id, line, CARD_COLUMN))
        note = renderer.note(card, dict(zip(plan.note_type.fields, written.rendered)), problems, written.ords)
        if note is not None:
            notes.append(note)
            if card.identity is not None:
                identities[note.card_id] = card.identity
    return FileResult(card_file.path, notes, ids, problems, first_cards(notes), identities)


def _group(group: str, config: ProjectConfig) -> str | None:
    """The group the validate stage gives a file's cards ('group:' at its top, or the deck's only one)."""
    paths = config.group_paths()
    if group:
        return group if group in paths else None
    return (paths[0] if paths else "") if len(paths) <= 1 else None


def _valid_card(written: WrittenNote, card_type: CardType, where: tuple[str, str, int, int],
                html: bool) -> ValidCard | None:
    """The card as the validate stage would pass it, or None if that stage would report anything."""
    path, group, line, guid_line = where
    tags = _clean_tags(written.note.tags)
    guid = written.note.guid
    if (tags is None or card_key(written.card_id) != written.card_id
            or not _clean_values(tuple(written.values.values()), html, card_type.note_type.is_cloze)
            or (guid is not None and (not guid or GUID_SPACE.search(guid) or CONTROL.search(guid)))):
        return None
    identity = None if guid is None else Identity((), guid, Pos(guid_line, GUID_COLUMN))
    return ValidCard(written.card_id, card_type, group, tags, (), {}, path, Pos(line, CARD_COLUMN), identity,
                     written.keep_empty)


@functools.lru_cache(maxsize=4096)
def _clean_tags(tags: tuple[str, ...]) -> tuple[str, ...] | None:
    """The card's tags as the validate stage keeps them, if Anki keeps each as written and merges none."""
    kept = tuple(dict.fromkeys(tags))
    clean = (len(tags) <= MAX_TAGS and not any(tag_problem(tag) or CONTROL.search(tag) for tag in kept)
             and len({merge_key(tag) for tag in kept}) == len(kept))
    return kept if clean else None


def _clean_values(values: tuple[str, ...], html: bool, cloze: bool) -> bool:
    """Values the validate stage takes without a word: text, short enough, nothing it would warn about."""
    joined = "\n".join(values)  # one search for the whole card (the pattern has no line breaks)
    return ((len(joined) <= MAX_FIELD_CHARS or all(len(value) <= MAX_FIELD_CHARS for value in values))
            and not CONTROL.search(joined)
            and ("{{" not in joined or cloze) and (html or "<" not in joined))
