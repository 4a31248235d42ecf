"""CrowdAnki's JSON decks: a folder with `deck.json` and `media/`, the form most decks on GitHub take.

CrowdAnki writes a deck as one JSON tree: the deck's name, description, preset (`deck_config_uuid`) and
notes, its subdecks (`children`, each named by its last part only), the presets (`deck_configurations`,
schema 11 JSON), the note types (`note_models`, schema 11 JSON identified by a `crowdanki_uuid`, with
their field options and LaTeX header) and the names of the media files beside it in `media/` (CrowdAnki's
import copies every file there, listed or not, and deckgen reads them alike). It keeps neither note
type ids nor note times. A note type's id then comes from a package the author names
(`--note-types`, as for text exports: an .apkg exported from the collection learners got the deck
from); without one the project derives an id from its own key, which learners who imported the
JSON through CrowdAnki do not have (see the README). Notes get the oldest time deckgen writes,
so that an unchanged build updates nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Iterator

from ..problems import ERROR, WARNING, Problem, ProjectError
from ..safety.package_limits import MAX_LEGACY_JSON_BYTES, MAX_MEDIA_BYTES, MAX_MEDIA_FILES, MAX_MEDIA_TOTAL
from .note_type_settings import with_model_settings
from .presets import DEFAULT_PRESET, schema11_preset
from .source_deck import (UNKNOWN_TIME, ImportedDeck, ImportedNote, ImportedNoteType, ImportedPreset, ImportedTemplate,
                          ImportOptions, LazyMedia)

DECK_FILE = "deck.json"
MEDIA_DIR = "media"
MAX_JSON_BYTES = MAX_LEGACY_JSON_BYTES  # the deck's JSON, parsed whole: a big real deck's is a few MB


class _Malformed(Exception):
    """A part of the JSON that is not what CrowdAnki writes: where, and what."""


def deck_json(source: Path) -> Path | None:
    """The CrowdAnki JSON a source names: the file itself, or `deck.json` / `<folder>.json` in a folder."""
    if source.is_dir():
        for candidate in (source / DECK_FILE, source / f"{source.name}.json"):
            if candidate.is_file() and not candidate.is_symlink():  # a link in a stranger's folder may lead anywhere
                return candidate
        return None
    return source if source.suffix.lower() == ".json" else None


def read_crowdanki(path: Path, options: ImportOptions) -> ImportedDeck:
    """Notes, note types, decks, descriptions and media of a CrowdAnki deck; a malformed one is a located error."""
    data = _load(path)
    try:
        deck = _deck(path, data, options)
    except (_Malformed, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProjectError([Problem(str(path), message=f"not a CrowdAnki deck: {_reason(exc)}",
                                    hint="deckgen reads the deck.json that CrowdAnki exports")]) from None
    _read_media(path.parent / MEDIA_DIR, data.get("media_files") or [], deck)
    return deck


def _reason(exc: Exception) -> str:
    return f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)


def _load(path: Path) -> dict[str, Any]:
    where = str(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ProjectError([Problem(where, message=f"refused: the JSON is over {MAX_JSON_BYTES >> 20} MiB")])
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ProjectError([Problem(where, message=f"cannot read it ({exc.strerror})")]) from None
    except (ValueError, RecursionError) as exc:
        raise ProjectError([Problem(where, message=f"not valid JSON ({str(exc)[:120]})")]) from None
    if not isinstance(data, dict) or "note_models" not in data:
        raise ProjectError([Problem(where, message="not a CrowdAnki deck (no 'note_models')",
                                    hint="deckgen reads the deck.json that CrowdAnki exports")])
    return data


def _deck(path: Path, data: dict[str, Any], options: ImportOptions) -> ImportedDeck:
    deck = ImportedDeck(path)
    known = _package_note_types(options)
    for index, model in enumerate(data["note_models"]):
        with _part(f"note type {index + 1} ({str(model.get('name', '?'))[:60]!r})"):
            deck.note_types[str(model["crowdanki_uuid"])] = _note_type(model, known, deck.problems, path)
    presets = _presets(data.get("deck_configurations") or [])
    for name, node in _decks(data, ""):
        with _part(f"deck '{name[:80]}'"):
            deck.deck_descriptions[name] = str(node.get("desc") or "")
            if str(node.get("deck_config_uuid")) in presets:
                deck.deck_presets[name] = presets[str(node["deck_config_uuid"])]
            deck.notes.extend(_notes(node, name, deck, path))
    if any(problem.severity == ERROR for problem in deck.problems):
        raise ProjectError([p for p in deck.problems if p.severity == ERROR][:50])
    return deck


def _presets(configurations: list[Any]) -> dict[str, ImportedPreset]:
    """The deck-options presets by CrowdAnki uuid; the first named 'Default' is Anki's own Default (a deck using it
    gets the learner's), the others (another 'Default' too) numbered in the order the deck lists them."""
    found: dict[str, ImportedPreset] = {}
    for index, config in enumerate(configurations):
        with _part(f"deck configuration {index + 1} ({str(config.get('name', '?'))[:60]!r})"):
            first_default = config.get("name") == "Default" and all(p.id != DEFAULT_PRESET for p in found.values())
            preset_id = DEFAULT_PRESET if first_default else DEFAULT_PRESET + 1 + index
            found[str(config["crowdanki_uuid"])] = schema11_preset(config, preset_id)
    return found


@contextlib.contextmanager
def _part(where: str) -> Iterator[None]:
    """Name the part of the JSON a malformed value sits in."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _Malformed(f"{where}: {_reason(exc)}") from None


def _decks(node: dict[str, Any], parent: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each deck of the tree with its full '::' name (CrowdAnki names a subdeck by its last part)."""
    name = str(node["name"]) if not parent else f"{parent}::{node['name']}"
    yield name, node
    for child in node.get("children") or []:
        yield from _decks(child, name)


def _note_type(model: dict[str, Any], known: dict[str, ImportedNoteType], problems: list[Problem],
               path: Path) -> ImportedNoteType:
    fields = tuple(str(f["name"]) for f in sorted(model["flds"], key=lambda f: int(f["ord"])))
    templates = tuple(ImportedTemplate(str(t["name"]), str(t["qfmt"]), str(t["afmt"]))
                      for t in sorted(model["tmpls"], key=lambda t: int(t["ord"])))
    name = str(model["name"])
    same = known.get(name)
    if same is not None and (same.fields != fields or len(same.templates) != len(templates)):
        problems.append(Problem(str(path), message=f"note type '{name}' has other fields or templates in the package "
                                "given with --note-types", hint="name a package exported from the same collection"))
        same = None
    return with_model_settings(ImportedNoteType(
        name, same.id if same else None, int(model.get("type", 0)) == 1, fields, templates, str(model.get("css", "")),
        int(model.get("sortf", 0)), same.mtime if same else UNKNOWN_TIME), model)


def _package_note_types(options: ImportOptions) -> dict[str, ImportedNoteType]:
    """The note types of the package named with --note-types, by name (where the ids come from)."""
    if options.note_types_from is None:
        return {}
    from .packages import read_package

    return {note_type.name: note_type for note_type in read_package(options.note_types_from).note_types.values()}


def _notes(node: dict[str, Any], deck_name: str, deck: ImportedDeck, path: Path) -> Iterator[ImportedNote]:
    for index, note in enumerate(node.get("notes") or []):
        kind = str(note["note_model_uuid"])
        note_type = deck.note_types.get(kind)
        origin = f"{path.name}: deck '{deck_name}', note {index + 1} (GUID {note.get('guid')})"
        if note_type is None:
            deck.problems.append(Problem(str(path), message=f"{origin} uses a note type the deck does not have ({kind})"))
            continue
        values = tuple(str(value) for value in note["fields"])
        if len(values) != len(note_type.fields):
            deck.problems.append(Problem(str(path), message=f"{origin} has {len(values)} fields where its note type "
                                         f"'{note_type.name}' has {len(note_type.fields)}"))
            continue
        yield ImportedNote(str(note["guid"]), kind, values, tuple(str(tag) for tag in note.get("tags") or ()),
                           deck_name, UNKNOWN_TIME, origin)


def _read_media(folder: Path, names: list[Any], deck: ImportedDeck) -> None:
    """The media files the deck lists or its folder holds, as plain files (CrowdAnki's import copies every file of
    media/, listed or not; names with a path in them, links and files over the ceiling are left out, the last
    reported); their content is read only when written."""
    files = {}
    for name in dict.fromkeys([*map(str, names), *_folder_names(folder)]):
        file = folder / name
        if "/" in name or "\\" in name or name in ("", ".", "..") or file.is_symlink() or not file.is_file():
            continue
        if file.stat().st_size > MAX_MEDIA_BYTES:
            deck.problems.append(Problem(str(file), message=f"left out: over {MAX_MEDIA_BYTES >> 20} MiB",
                                         severity=WARNING))
            continue
        files[name] = file
    deck.media = FolderMedia(files)


def _folder_names(folder: Path) -> list[str]:
    """The names in the media folder (none if it is missing or a link), within the package budget."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    names = []
    with os.scandir(folder) as entries:
        for entry in entries:
            names.append(entry.name)
            if len(names) > MAX_MEDIA_FILES:
                raise ProjectError([Problem(str(folder), message=f"refused: more than {MAX_MEDIA_FILES:,} files")])
    return sorted(names)


class FolderMedia(LazyMedia):
    """Media file name -> content, read from the deck's media folder when asked for, within the package budgets."""

    def __init__(self, files: dict[str, Path]) -> None:
        super().__init__(files)  # name -> its file
        self.total = 0  # bytes this process has read

    def read(self, name: str) -> bytes:
        content = _read_file(self.where[name])
        self.total += len(content)
        if self.total > MAX_MEDIA_TOTAL:
            raise ProjectError([Problem(str(self.where[name]), message="refused: the media files notes use come to "
                                        f"more than {MAX_MEDIA_TOTAL >> 20} MiB")])
        return content


def _read_file(path: Path) -> bytes:
    """A media file's bytes, read only if it is still a plain file within the ceiling (it may change meanwhile)."""
    try:
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK)) as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise OSError(f"{path.name} is not a plain file")
            content = file.read(MAX_MEDIA_BYTES + 1)
    except OSError as exc:
        raise ProjectError([Problem(str(path), message=f"cannot read it ({exc})")]) from None
    if len(content) > MAX_MEDIA_BYTES:
        raise ProjectError([Problem(str(path), message=f"refused: over {MAX_MEDIA_BYTES >> 20} MiB")])
    return content
