"""The whole project from the neutral model: checks, files, media, and the lock seeded with original times."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..build.lock import Entry, write_lock
from ..build.lock_file import count_as_released
from ..build.render import LATEX_IMAGE
from ..safety.remote import REMOTE_HINT, css_remote_problem, remote_problem
from ..problems import WARNING, Problem, ProjectError, warnings
from ..safety.package_limits import MAX_MEDIA_NAME_BYTES
from . import ImportResult
from .conversion import Compiled, Writers, write_cards
from .deck_plan import Layout, plan_layout, slug, template_decks
from .presets import DEFAULT_PRESET, preset_options
from .html_to_markdown import plain_text
from .source_deck import ImportedDeck, ImportedNote, ImportedNoteType, ImportedPreset, ImportOptions, Progress
from .writer import (
    CardFile,
    CardTypePlan,
    dump,
    plan_card_files,
    plan_card_types,
    write_note_type,
    written_notes,
)

if TYPE_CHECKING:
    from ..build.pipeline import Project

NOTE_TYPES_DIR = "note_types"
_SURROGATE = re.compile("[\ud800-\udfff]")  # no file name holds one
MAX_NAMED = 20  # notes named in one message


def write_project(deck: ImportedDeck, root: Path, options: ImportOptions,
                  progress: Progress | None = None) -> ImportResult:
    """Write every file of the project into root (an empty scratch folder) and its lock."""
    if options.drop_remote:
        deck.note_types = {key: _without_remote(note_type, deck) for key, note_type in deck.note_types.items()}
    deck.notes = _one_note_per_guid(deck)
    plans = plan_card_types(deck)
    refused = _refused_note_types(deck, plans)  # reported with the cards' problems, once those are known
    moved, unplaced = template_decks(deck, options.decks)
    layout = plan_layout(deck, {name for found in moved.values() for name in found.values()})
    _place_templates(plans, moved, layout)
    deck.problems += _unplaced_problems(deck, unplaced)
    key = options.key or slug(layout.root.split("::")[-1]) or "deck"
    files = plan_card_files(layout, plans, written_notes(deck))
    (root / "media").mkdir()

    def write_settings(allow_html: bool, used: set[str]) -> None:
        _write_config(root, deck, layout, key, (allow_html, sorted(_used_media(deck, plans, used)[1])))
        for plan in plans.values():
            write_note_type(root, plan)

    def write_media(used: set[str], part: int, parts: int) -> None:
        media, _, _ = _media_files(deck, plans, used)
        for name in media[part::parts]:
            (root / "media" / name).write_bytes(deck.media[name])

    try:
        compiled = write_cards(root, (files, plans), Writers(write_settings, write_media), options.jobs, progress)
        media, missing, problems = _media_files(deck, plans, compiled.media)
        problems += seed_lock(root, (compiled, files, plans), str(deck.source), options.jobs)
    except ProjectError as exc:
        raise ProjectError(refused + exc.problems) from None
    if refused:
        raise ProjectError(refused + problems)
    return ImportResult(root, len(deck.notes), [p.key for p in plans.values()], len(media), layout.root,
                        compiled.converter.allow_html, warnings(problems))


def _media_files(deck: ImportedDeck, plans: dict[str, CardTypePlan], used: set[str]
                 ) -> tuple[list[str], set[str], list[Problem]]:
    """The media files to copy (of those the notes use, and those the templates name), the missing ones, and
    warnings about both (after the reader's warnings)."""
    media, missing = _used_media(deck, plans, used)
    problems = list(deck.problems)
    unsafe = sorted(name for name in media if not _plain_file_name(name))
    if unsafe:  # a package from elsewhere: its names must not reach outside media/
        media = [name for name in media if name not in unsafe]
        problems.append(Problem(str(deck.source), message="media files with names that are not plain file names "
                                f"(or longer than {MAX_MEDIA_NAME_BYTES} bytes) were left out: "
                                + ", ".join(repr(name[:80]) for name in unsafe[:20]), severity=WARNING))
    if missing:
        problems.append(Problem(str(deck.source), message=f"{len(missing)} media files are used by notes but not "
                                "in the source: " + ", ".join(sorted(missing)[:20]), severity=WARNING,
                                hint="deckgen.yaml lists them under missing_media, so the project builds as the deck "
                                     "is; put a file into media/ and drop its name there to ship it"))
    return media, missing, problems


def _one_note_per_guid(deck: ImportedDeck) -> list[ImportedNote]:
    """The notes, a later one with the GUID of an earlier one left out and reported: a project gives a GUID to
    one card only (Anki's import of the original adds both notes, and matches later updates by GUID)."""
    seen: set[str] = set()
    kept = []
    for note in deck.notes:
        if note.guid and note.guid in seen:
            first = plain_text(note.fields[0])[:60] if note.fields else ""
            deck.problems.append(Problem(str(deck.source), message=f"the note in deck '{note.deck}' with GUID "
                                         f"{note.guid} and first field '{first}' was left out: an earlier note has "
                                         "its GUID, which a project gives one card only", severity=WARNING,
                                         hint="learners of the original keep both as they are; new learners get the "
                                              "first (add the other as a card of its own to give it to them)"))
            continue
        seen.add(note.guid)
        kept.append(note)
    return kept


def _place_templates(plans: dict[str, CardTypePlan], moved: dict[str, dict[int, str]], layout: Layout) -> None:
    """Each card template whose cards all sit in one other deck names that deck's group (`group:` in its file)."""
    for kind, found in moved.items():
        note_type = plans[kind].note_type
        templates = tuple(dataclasses.replace(t, group=layout.paths[found[ord_]]) if ord_ in found else t
                          for ord_, t in enumerate(note_type.templates))
        plans[kind].note_type = dataclasses.replace(note_type, templates=templates)


def _unplaced_problems(deck: ImportedDeck, unplaced: list[ImportedNote]) -> list[Problem]:
    """The notes with a card in another deck than their first card's that no template's group places, named."""
    if not unplaced:
        return []
    named = []
    for note in unplaced[:MAX_NAMED]:
        templates = deck.note_types[note.note_type].templates
        cards = ", ".join(f"'{templates[min(ord_, len(templates) - 1)].name}' ({ord_ + 1}) in '{name}'"
                          for ord_, name in note.card_decks if name != note.deck)
        named.append(f"{source_note(note)}: {cards}")
    more = f"; and {len(unplaced) - MAX_NAMED} more" if len(unplaced) > MAX_NAMED else ""
    counted = "1 note has" if len(unplaced) == 1 else f"{len(unplaced)} notes have"
    return [Problem(str(deck.source), severity=WARNING, message=f"{counted} cards in other decks "
                    "than their first card's, which the project cannot say: new learners get all of a note's cards in "
                    "its first card's deck (learners of the original keep theirs where they are): "
                    + "; ".join(named) + more,
                    hint="to keep them apart for new learners, put every card of a card template in one deck in "
                         "Anki and import again: a template whose cards all sit in one deck is given that deck's "
                         "group (group: in its note type file)")]


def _without_remote(note_type: ImportedNoteType, deck: ImportedDeck) -> ImportedNoteType:
    """The note type with every tag or CSS statement that would load from the network left out, each reported
    (--drop-remote)."""
    def emptied(text: str, where: str, css: bool = False) -> str:
        for _ in range(len(text)):  # each pass removes at least one character
            found = css_remote_problem(text) if css else remote_problem(text)
            if found is None:
                break
            start = max(text.rfind(stop, 0, found[0]) for stop in ";{}") + 1 if css else found[0]
            end = _statement_end(text, found[0], css)
            deck.problems.append(Problem(str(deck.source), message=f"note type '{note_type.name}': its {where} "
                                         f"{found[1]}; '{text[start:end][:80]}' left out (--drop-remote)",
                                         severity=WARNING, hint="learners of the original keep theirs; new learners "
                                         "get the cards without it (copy the file into media/ and refer to it by name)"))
            text = text[:start] + text[end:]
        return text
    templates = tuple(dataclasses.replace(t, front=emptied(t.front, f"template '{t.name}'"),
                                          back=emptied(t.back, f"template '{t.name}'")) for t in note_type.templates)
    return dataclasses.replace(note_type, css=emptied(note_type.css, "CSS", css=True), templates=templates)


def _statement_end(text: str, start: int, css: bool) -> int:
    """Where the tag (HTML) or the statement or declaration (CSS) that starts at `start` ends."""
    stops = [text.find(stop, start) for stop in ((";", "}", "\n") if css else (">",))]
    found = [stop for stop in stops if stop >= start]
    return min(found) + (1 if css and text[min(found)] == ";" or not css else 0) if found else len(text)


def _refused_note_types(deck: ImportedDeck, plans: dict[str, CardTypePlan]) -> list[Problem]:
    """Each note type a project cannot declare, named with why and the notes that use it; its notes and it are left
    out of the project written (to find the other notes' problems in the same run), or nothing is left to write."""
    problems, refused = [], set()
    for kind, plan in plans.items():
        reasons = [] if plan.note_type.builtin else _inexpressible(plan.note_type)
        if reasons:
            refused.add(kind)
            users = [note for note in deck.notes if note.note_type == kind]
            counted = "its note is" if len(users) == 1 else f"its {len(users)} notes are"
            named = f"; {counted} not imported, the first {source_note(users[0])}" if users else ""
            problems += [Problem(str(deck.source), message=f"note type '{plan.note_type.name}' cannot be expressed: "
                                 f"{why}{named}", hint="fix the note type in Anki, export again, and import that")
                         for why in reasons]
    if refused:
        deck.notes = [note for note in deck.notes if note.note_type not in refused]
        for kind in refused:
            del plans[kind]
        if not deck.notes:
            raise ProjectError(problems)
    return problems


def source_note(note: ImportedNote) -> str:
    """A source note as a person finds it in Anki: its deck, GUID and first field (the project is never written)."""
    first = plain_text(note.fields[0]) if note.fields else ""
    shown = first if len(first) <= 60 else first[:57] + "..."
    return f"the note in deck '{note.deck}' with GUID {note.guid} and first field '{shown}'"


def _inexpressible(note_type: ImportedNoteType) -> list[str]:
    reasons = []
    if not note_type.fields:
        reasons.append("it has no fields")
    if not note_type.templates:
        reasons.append("it has no card templates")
    if note_type.is_cloze and len(note_type.templates) != 1:
        reasons.append(f"it is a cloze note type with {len(note_type.templates)} templates (Anki allows one)")
    names = [t.name for t in note_type.templates]
    if len(set(names)) != len(names):
        reasons.append("two of its card templates share a name")
    return reasons


def _used_media(deck: ImportedDeck, plans: dict[str, CardTypePlan], used: set[str]) -> tuple[list[str], set[str]]:
    """The media files the notes (`used`: those they refer to) and templates use (present ones), and the
    missing ones notes use."""
    used = set(used)
    template_text = "\n".join(t.front + t.back for p in plans.values() for t in p.note_type.templates)
    template_text += "\n".join(p.note_type.css for p in plans.values())
    used.update(name for name in deck.media if name in template_text)
    missing = {name for name in used - deck.media.keys() if not LATEX_IMAGE.fullmatch(name)}  # Anki renders those
    return sorted(used & deck.media.keys()), missing


def _write_config(root: Path, deck: ImportedDeck, layout: Layout, key: str, settings: tuple[bool, list[str]]) -> None:
    allow_html, missing = settings
    config: dict[str, object] = {"deck": layout.root, "key": key}
    described = {path: text for name, path in _group_decks(layout).items()
                 if (text := deck.deck_descriptions.get(name))}
    if layout.groups:
        config["groups"] = layout.tree(described)
    description = deck.deck_descriptions.get(layout.root, "")
    if description:  # as Anki shows it: the HTML as it is
        config["description"] = description
    if description or described:
        config["description_html"] = True
    config.update(_presets(deck, layout))
    config["html"] = allow_html
    config["media"] = "media"
    config["group_tags"] = False  # the notes keep the source's tags, and gain none
    if missing:  # the deck's notes name them, its package lacks them: learners of it lack them too
        config["missing_media"] = missing
    header = (f"# Imported by 'deckgen import' from {deck.source.name}. Never change 'key', the note types'\n"
              "# ids, field or template names, or the cards' guid: learners' notes are tied to them.\n")
    (root / "deckgen.yaml").write_text(header + dump(config), encoding="utf-8")


def _presets(deck: ImportedDeck, layout: Layout) -> dict[str, object]:
    """`options:` for the root deck's preset (none: it uses Anki's Default, so the learner's own stays), and
    `group_options:` for each subdeck whose preset differs from its parent's."""
    found: dict[str, object] = {}
    root = deck.deck_presets.get(layout.root)
    if root is not None and root.id != DEFAULT_PRESET:
        found["options"] = preset_options(root)
    groups = {}
    for name, path in sorted(_group_decks(layout).items(), key=lambda item: item[0].count("::")):
        preset, parent = deck.deck_presets.get(name), _parent_preset(deck, name, layout.root)
        if path and preset is not None and preset.id != (parent.id if parent else DEFAULT_PRESET):
            groups[path] = preset_options(preset)
    if groups:
        found["group_options"] = groups
    return found


def _group_decks(layout: Layout) -> dict[str, str]:
    """Every group's full deck name -> its path, those that hold no notes of their own too."""
    found = {}
    pending = [(layout.root, group) for group in layout.groups.values()]
    while pending:
        parent, group = pending.pop()
        found[f"{parent}::{group.title}"] = group.path
        pending += [(f"{parent}::{group.title}", child) for child in group.children.values()]
    return found


def _parent_preset(deck: ImportedDeck, name: str, root: str) -> ImportedPreset | None:
    """The preset of a deck's parent (None above the root deck)."""
    parent = name.rsplit("::", 1)[0]
    return deck.deck_presets.get(parent) if name != root and "::" in name else None


Written = tuple[Compiled, list[CardFile], dict[str, CardTypePlan]]  # the card files compiled, the files, and
# how each note type is written


def seed_lock(root: Path, written: Written, source: str, jobs: int | None = None) -> list[Problem]:
    """Work out the project's next lock as a build would, and write it with the notes' and note types'
    original times."""
    compiled, files, plans = written
    try:
        project = _built(root, compiled, jobs)
    except ProjectError as exc:
        names = {f"{NOTE_TYPES_DIR}/{plan.key}.yaml": plan.note_type.name for plan in plans.values()}
        notes = {written.card_id: written.note for card_file in files for written in card_file.notes}
        raise ProjectError([_imported_problem(p, (names, notes), source) for p in exc.problems]) from None
    first_times = {written.card_id: written.note.mtime for card_file in files for written in card_file.notes
                   if written.note.guid}
    lock = dataclasses.replace(project, first_times=first_times).lock
    _set_times(lock.note_types, {plan.key: plan.note_type.mtime for plan in plans.values()
                                 if not plan.note_type.builtin})
    count_as_released(lock, set(first_times))  # learners of the original have these notes: their ids bind
    write_lock(root, lock)
    return list(project.problems)


def _set_times(entries: dict[str, Entry], times: dict[str, int]) -> None:
    """The entries' modification and creation times set to the source's."""
    for key, time in times.items():
        entry = entries.get(key)
        if entry is not None:
            entries[key] = Entry(entry.hash, time, time, *entry[3:])


def _built(root: Path, compiled: Compiled, jobs: int | None) -> Project:
    """The project as `deckgen build` finds it: from the card files compiled while they were written, or
    else by the pipeline, whose messages say what is wrong."""
    from ..build.pipeline import prepare
    from ..build.build_options import BuildOptions
    from .seed import compiled_project

    if compiled.complete:
        return compiled_project(compiled.config, compiled.templates, compiled.results, compiled.problems)  # type: ignore[arg-type]
    return prepare(root, BuildOptions(use_cache=False, jobs=jobs))


def _imported_problem(problem: Problem, known: tuple[dict[str, str], dict[str, ImportedNote]], source: str
                      ) -> Problem:
    """A problem of the written project, said of the source: a note type's by its name, a card's by the source
    note it came from (its deck, GUID and first field), since the project it points into was never written."""
    note_types, notes = known
    if problem.path in note_types:
        hint = (f"{problem.hint}; or import with --drop-remote to leave it out, reported"
                if problem.hint == REMOTE_HINT else problem.hint)
        return Problem(source, message=f"note type '{note_types[problem.path]}' cannot be expressed: "
                       + problem.message, hint=hint, severity=problem.severity)
    note = notes.get(problem.card or "")
    if note is not None:
        return Problem(source, message=f"{source_note(note)}: {problem.message}", hint=problem.hint,
                       severity=problem.severity)
    said = problem.message if problem.severity == WARNING else "the imported project does not build: " + problem.message
    return Problem(problem.path, problem.line, problem.column, said, problem.card, problem.hint, problem.severity)


def _plain_file_name(name: str) -> bool:
    """A name that stays a file inside media/: no folders, no '..', nothing Anki's flat media names lack, and
    short enough for a file system."""
    return (bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and "\x00" not in name
            and len(name.encode("utf-8", "replace")) <= MAX_MEDIA_NAME_BYTES and not _SURROGATE.search(name))
