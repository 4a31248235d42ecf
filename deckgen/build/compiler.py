"""Card files to rendered notes (load, validate, render), one file at a time, cached and in parallel.

A file's result depends only on its bytes and on the project's config and templates, so files are
compiled independently: in worker processes for a big project, and not at all when the build
cache already holds the result for the same bytes.
"""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .cache import FileCache, context_key, digest
from ..project.card_types import Templates, load_templates
from ..project.config import CONFIG_FILE, ProjectConfig, load_config
from ..safety.confine import is_inside, read_inside, shown_name
from ..project.card_files import CARDS_DIR, find_card_files, load_card_file
from ..problems import Problem
from ..anki.name_rules import FIELD_CONTROL
from ..anki.builtin_note_types import NoteType
from .media import check_media
from .render import RenderedNote, Renderer
from ..safety.scratch import die_with_parent
from .validate import Identity, tag_problem, validate_card
from ..project.yaml_reader import Pos

Progress = Callable[[int], None]
_PARALLEL_MIN_FILES = 8  # below this, starting workers costs more than it saves


@dataclass
class FileResult:
    """What one card file gave: its rendered notes, the ids it declares, its problems."""

    path: str
    notes: list[RenderedNote]
    ids: list[tuple[str, int, int]]
    problems: list[Problem]
    tags: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # each tag: the first card that has it
    identities: dict[str, Identity] = field(default_factory=dict)  # of the cards that have former ids, a GUID or restore

    def to_json(self) -> tuple[dict[str, Any], list[list[Any]]]:
        """Plain lists for the cache: what checks need, and apart from it what only a package needs."""
        summary = {
            "notes": [[n.card_id, n.note_type, n.group, n.media, n.line, n.column, n.hash, n.ords] for n in self.notes],
            "ids": self.ids,
            "problems": [problem.to_row() for problem in self.problems],
            "tags": self.tags,
        }
        if self.identities:
            summary["identities"] = {card_id: _identity_row(identity) for card_id, identity in self.identities.items()}
        return summary, [[n.fields, n.tags, n.ords, n.guid] for n in self.notes]

    def to_rows(self) -> tuple[Any, ...]:
        """What `to_json` keeps without `details` (what checks need: notes without their fields), as plain
        tuples for another process of the same run to send; trusted, so `from_rows` checks nothing."""
        notes = [(n.card_id, n.note_type, n.group, n.media, n.line, n.column, n.hash, n.ords) for n in self.notes]
        identities = [(card_id, i.former_ids, i.guid, i.guid_pos and tuple(i.guid_pos), i.restore)
                      for card_id, i in self.identities.items()]
        return self.path, notes, self.ids, self.problems, self.tags, identities

    @classmethod
    def from_rows(cls, rows: tuple[Any, ...]) -> FileResult:
        """The result back from `to_rows`: what `from_json` gives without details (tests compare them)."""
        path, notes, ids, problems, tags, identities = rows
        rendered = [RenderedNote(card_id, kind, (), (), group, media, path, line, column, ords, content, "")
                    for card_id, kind, group, media, line, column, content, ords in notes]
        pinned = {card_id: Identity(former, guid, pos and Pos(*pos), restore)
                  for card_id, former, guid, pos, restore in identities}
        return cls(path, rendered, ids, problems, tags, pinned)

    @classmethod
    def from_json(cls, path: str, summary: dict[str, Any], details: list[list[Any]] | None) -> FileResult:
        """The result back from a cache entry whose checksums matched.

        Without `details` (checking only), notes come without fields, tags and GUID
        (the file's tags, each with its first card, come apart from them).
        """
        rows = summary["notes"]
        make = RenderedNote._make
        if details is None:
            notes = [make((card_id, kind, (), (), group, tuple(media), path, line, column, tuple(ords), content, ""))
                     for card_id, kind, group, media, line, column, content, ords in rows]  # the cards: checks compare them
        elif len(details) != len(rows):
            raise ValueError("the parts of the entry do not match")
        else:
            notes = [
                make((card_id, kind, tuple(fields), tuple(tags), group, tuple(media), path, line, column,
                      tuple(ords), content, guid))
                for (card_id, kind, group, media, line, column, content, _), (fields, tags, ords, guid)
                in zip(rows, details)
            ]
        ids = [(str(card_id), int(line), int(column)) for card_id, line, column in summary["ids"]]
        identities = {str(card_id): _identity(row) for card_id, row in summary.get("identities", {}).items()}
        tags = {str(tag): (str(card), int(line), int(column)) for tag, (card, line, column) in summary["tags"].items()}
        return cls(path, notes, ids, [Problem.from_row(row) for row in summary["problems"]], tags, identities)


def _identity_row(identity: Identity) -> list[Any]:
    at = (lambda pos: None if pos is None else [pos.line, pos.column])
    return [[[former, *pos] for former, pos in identity.former_ids], identity.guid, at(identity.guid_pos),
            at(identity.restore)]


def _identity(row: list[Any]) -> Identity:
    """An Identity back from the cache (raises on a malformed row)."""
    former, guid, guid_pos, restore = row
    at = (lambda pos: None if pos is None else Pos(int(pos[0]), int(pos[1])))
    return Identity(tuple((str(f), Pos(int(line), int(column))) for f, line, column in former),
                    None if guid is None else str(guid), at(guid_pos), at(restore))


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The collector, run again and again over a build's many small acyclic objects, cost a third of it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Compiler:
    """Turns card files of one project into rendered notes (and keeps them in the build cache)."""

    def __init__(self, config: ProjectConfig, templates: Templates, cache: FileCache | None = None) -> None:
        self.config = config
        self.templates = templates
        self.renderer = Renderer(config, templates)
        self.cache = cache

    def compile_and_keep(self, path: str, data: bytes) -> FileResult:
        """Compile one file and store the result in the cache, in whichever process did the work."""
        result = self.compile(path, data)
        if self.cache is not None:
            self.cache.store(path, digest(data), *result.to_json())
        return result

    def compile(self, path: str, data: bytes) -> FileResult:
        """One card file, checked and rendered; its problems are returned, never raised."""
        problems: list[Problem] = []
        with gc_paused():
            cards = load_card_file(data, path, problems)
            notes = []
            identities = {}
            for card in cards:
                valid = validate_card(card, self.templates.card_types, self.config, problems,
                                      self.templates.broken, self.templates.unrendered)
                if valid is not None and valid.card_type.name in self.templates.broken:
                    check_media(self.config, self.renderer.unrendered_note(valid), problems)
                    valid = None  # its card type failed (reported): the card's own data is checked, not rendered
                note = self.renderer.render(valid, problems) if valid else None
                if note is not None:
                    notes.append(note)
                    if valid.identity is not None:  # type: ignore[union-attr]
                        identities[note.card_id] = valid.identity  # type: ignore[union-attr]
        ids = [(card.id, card.pos.line, card.pos.column) for card in cards]
        return FileResult(path, notes, ids, problems, first_cards(notes), identities)


def first_cards(notes: list[RenderedNote]) -> dict[str, tuple[str, int, int]]:
    """Each tag of a file with the first card that has it: enough to find tags Anki would merge."""
    first: dict[str, tuple[str, int, int]] = {}
    for note in notes:
        for tag in note.tags:
            if tag not in first:
                first[tag] = (note.card_id, note.line, note.column)
    return first


class Compilation:
    """The project's card files, being compiled: started when made, collected by `results`.

    Files the build cache holds are read back; the others are compiled, by worker processes as
    well as this one when there are many. Workers start at once, so that this process can do
    other work of the build (reading the lock) before it joins them:

        with Compilation(config, templates) as compiling:
            ...  # the workers have started
            results = compiling.results(progress)

    With `fields` false (checking only), notes that come from the cache carry no field text.
    """

    def __init__(self, config: ProjectConfig, templates: Templates, *, use_cache: bool = True,
                 jobs: int | None = None, fields: bool = True) -> None:
        root = config.root
        self.sources, self.unreadable = read_sources(root)
        cache = (FileCache(root, context_key((root / CONFIG_FILE).read_bytes(), templates.files))
                 if use_cache and not templates.broken else None)  # a broken card type's cards: media checked now
        self.compiler = Compiler(config, templates, cache)
        self.done: list[FileResult | None] = [_cached(cache, path, data, fields, templates.note_types)
                                               for path, data in self.sources]
        self.todo = [i for i, result in enumerate(self.done) if result is None]
        helpers = min(jobs or os.cpu_count() or 1, len(self.todo)) - 1
        self.team = (_Team(self.compiler, [self.sources[i] for i in self.todo], helpers)
                     if helpers >= 1 and len(self.todo) >= _PARALLEL_MIN_FILES else None)

    def __enter__(self) -> Compilation:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (they finish the file they are on)."""
        if self.team is not None:
            self.team.close()

    def results(self, progress: Progress | None = None) -> list[FileResult]:
        """Every card file's result, in the order learners will see the cards."""
        cached = len(self.sources) - len(self.todo)
        if progress and cached:
            progress(cached)
        if self.team is not None:
            compiled = self.team.results(progress)
        else:
            compiled = list(_compile_here(self.compiler, [self.sources[i] for i in self.todo], progress))
        for i, result in zip(self.todo, compiled):
            self.done[i] = result
        return self.unreadable + [result for result in self.done if result is not None]


def read_sources(root: Path) -> tuple[list[tuple[str, bytes]], list[FileResult]]:
    """Every card file's bytes; a file that cannot be read becomes a located problem."""
    sources, unreadable = [], []
    cards = find_card_files(root)
    parents_inside = bool(cards) and is_inside(root / CARDS_DIR, root)  # folders found without following links
    for path in cards:
        shown = path.relative_to(root).as_posix()
        problems: list[Problem] = []
        data = read_inside(path, shown, problems, root, parent_inside=parents_inside)
        if data is None:
            unreadable.append(FileResult(shown_name(shown), [], [], problems))
        else:
            sources.append((shown, data))
    return sources, unreadable


def _cached(cache: FileCache | None, path: str, data: bytes, fields: bool,
            note_types: dict[str, NoteType]) -> FileResult | None:
    if cache is None:
        return None
    entry = cache.load(path, digest(data), fields)
    if entry is None:
        return None
    try:
        result = FileResult.from_json(path, *entry)
    except (KeyError, TypeError, ValueError):
        return None  # damaged: compiled again and overwritten
    return result if not fields or _plausible(result, note_types) else None


def _plausible(result: FileResult, note_types: dict[str, NoteType]) -> bool:
    """What goes into a package from the cache is checked again like fresh output (note types, text
    types, control characters, tags), in a few passes over the whole file. (The cache's HMAC already
    proves that this machine wrote the entry; checking adds a second wall where it matters.)"""
    notes = result.notes
    try:
        kinds = {note.note_type for note in notes}
        tags = {tag for note in notes for tag in note.tags}
        texts = "\n".join([text for note in notes for text in (note.card_id, note.group, note.guid, *note.fields,
                                                                *note.media)])
    except TypeError:  # a list where text belongs, say
        return False
    if not kinds <= note_types.keys() or any(tag_problem(tag) for tag in tags) or FIELD_CONTROL.search(texts):
        return False
    return all(len(note.fields) == len(note_types[note.note_type].fields) for note in notes)


def _compile_here(compiler: Compiler, sources: list[tuple[str, bytes]], progress: Progress | None
                  ) -> Iterator[FileResult]:
    for path, data in sources:
        yield compiler.compile_and_keep(path, data)
        if progress:
            progress(1)


class _Team:
    """This process and `helpers` worker processes, taking the files one at a time until none is left.

    A shared counter hands out the next file, so all processes finish within one file of each
    other, however the machine's load shifts (and whatever else this process does first).
    Working here too saves a process on a machine with few cores, and this share's notes never
    have to be pickled across.
    """

    def __init__(self, compiler: Compiler, sources: list[tuple[str, bytes]], helpers: int) -> None:
        import concurrent.futures  # here: a build with nothing to compile never starts a worker
        import multiprocessing

        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self.compiler, self.sources = compiler, sources
        self.counter = context.Value("l", 0)
        cache = compiler.cache.context if compiler.cache else None
        inherited = compiler if context.get_start_method() == "fork" else None  # a forked worker has it already
        self.pool = concurrent.futures.ProcessPoolExecutor(
            helpers, mp_context=context, initializer=_start_worker,
            initargs=(inherited, compiler.config.root, cache, sources, self.counter, os.getpid()),
        )
        self.futures = [self.pool.submit(_worker_share) for _ in range(helpers)]

    def close(self) -> None:
        with self.counter.get_lock():
            self.counter.value = len(self.sources)  # nothing more to take
        self.pool.shutdown(wait=True, cancel_futures=True)

    def results(self, progress: Progress | None) -> list[FileResult]:
        """Join in until every file is taken, then collect the workers' results."""
        sources, counter = self.sources, self.counter
        mine: dict[int, FileResult] = {}
        shown = 0
        while (index := _take(counter)) < len(sources):
            mine[index] = self.compiler.compile_and_keep(*sources[index])
            if progress:  # every file handed out so far, this process's and the workers'
                taken = min(counter.value, len(sources))
                progress(taken - shown)
                shown = taken
        theirs: dict[int, FileResult | None] = {}
        for future in self.futures:
            theirs.update(future.result())
        self.close()
        results = []
        for index, (path, data) in enumerate(sources):
            result = mine.get(index) or theirs[index]
            if result is None:  # the worker left it in the cache
                result = (_cached(self.compiler.cache, path, data, True, self.compiler.templates.note_types)
                          or self.compiler.compile_and_keep(path, data))
            results.append(result)
        if progress:
            progress(len(sources) - shown)
        return results


def _take(counter: Any) -> int:
    """The index of the next file no process has taken yet (past the end when none is left)."""
    with counter.get_lock():
        index = counter.value
        counter.value = index + 1
    return index


_worker: Compiler | None = None  # one per worker process, set by _start_worker
_shared: tuple[list[tuple[str, bytes]], Any] = ([], None)  # the files and the counter, likewise


def _start_worker(inherited: Compiler | None, root: Path, cache_context: str | None, sources: list[tuple[str, bytes]],
                  counter: Any, parent: int) -> None:
    """The parent's compiler in a forked worker (it starts on the files at once); in a spawned one, the
    project's config and templates loaded again (their problems are the parent's to report)."""
    global _worker, _shared
    die_with_parent(parent)  # a killed build leaves no worker behind
    gc.disable()  # a worker lives for one build: see gc_paused
    _worker = inherited or _load_compiler(root, cache_context)
    _shared = (sources, counter)


def _load_compiler(root: Path, cache_context: str | None) -> Compiler:
    problems: list[Problem] = []
    config = load_config(root, problems)
    assert config is not None, "the parent process loaded this config"
    cache = FileCache(root, cache_context) if cache_context else None
    return Compiler(config, load_templates(root, problems, config.css), cache)


def _worker_share() -> dict[int, FileResult | None]:
    """Files compiled in this worker, by index: None for each one left in the cache, where the
    main process reads it faster than it could receive it."""
    assert _worker is not None
    sources, counter = _shared
    done: dict[int, FileResult | None] = {}
    while (index := _take(counter)) < len(sources):
        result = _worker.compile_and_keep(*sources[index])
        done[index] = None if _worker.cache is not None else result
    return done
