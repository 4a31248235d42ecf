"""Card files to rendered notes (load, validate, render), one file at a time, cached and in parallel.

A file's result depends only on its bytes and on the project's config and templates, so files are
compiled independently: in worker processes for a big project, and not at all when the build
cache already holds the result for the same bytes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .cache import FileCache, context_key, digest
from .cardtypes import Templates, load_templates
from .config import CONFIG_FILE, ProjectConfig, load_config
from .load import find_card_files, load_card_file
from .problems import Problem
from .render import RenderedNote, Renderer
from .validate import validate_card

Progress = Callable[[int], None]
_PARALLEL_MIN_FILES = 8  # below this, starting workers costs more than it saves


@dataclass
class FileResult:
    """What one card file gave: its rendered notes, the ids it declares, its problems."""

    path: str
    notes: list[RenderedNote]
    ids: list[tuple[str, int, int]]
    problems: list[Problem]

    def to_json(self) -> dict[str, Any]:
        """Plain lists, for the cache."""
        return {
            "notes": [list(_note_row(note)) for note in self.notes],
            "ids": [list(entry) for entry in self.ids],
            "problems": [list(problem.to_row()) for problem in self.problems],
        }

    @classmethod
    def from_json(cls, path: str, data: dict[str, Any]) -> FileResult:
        """The result back from the cache (raises on anything malformed)."""
        return cls(
            path,
            [_note_from_row(row) for row in data["notes"]],
            [(str(card_id), int(line), int(column)) for card_id, line, column in data["ids"]],
            [Problem.from_row(row) for row in data["problems"]],
        )


def _note_row(note: RenderedNote) -> tuple[Any, ...]:
    return tuple(note)


def _note_from_row(row: list[Any]) -> RenderedNote:
    """A note back from a cache entry whose checksum matched (so its types are the ones written)."""
    card_id, kind, fields, tags, group, media, path, line, column, ords, content, guid = row
    return RenderedNote(card_id, kind, tuple(fields), tuple(tags), group, tuple(media), path, line, column,
                        tuple(ords), content, guid)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing builds many small objects that are never cyclic: the collector only slows it down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Compiler:
    """Turns card files of one project into rendered notes."""

    def __init__(self, config: ProjectConfig, templates: Templates) -> None:
        self.config = config
        self.templates = templates
        self.renderer = Renderer(config, templates)

    def compile(self, path: str, data: bytes) -> FileResult:
        """One card file, checked and rendered; its problems are returned, never raised."""
        problems: list[Problem] = []
        with _gc_paused():
            cards = load_card_file(data, path, problems)
            notes = []
            for card in cards:
                valid = validate_card(card, self.templates.card_types, self.config, problems,
                                      self.templates.broken)
                note = self.renderer.render(valid, problems) if valid else None
                if note is not None:
                    notes.append(note)
        ids = [(card.id, card.pos.line, card.pos.column) for card in cards]
        return FileResult(path, notes, ids, problems)


def compile_files(
    config: ProjectConfig, templates: Templates, *, use_cache: bool = True, jobs: int | None = None,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Every card file of the project compiled, in the order learners will see the cards."""
    root = config.root
    sources = [(path.relative_to(root).as_posix(), path.read_bytes()) for path in find_card_files(root)]
    cache = FileCache(root, context_key((root / CONFIG_FILE).read_bytes(), templates.files)) if use_cache else None
    results: list[FileResult | None] = [_cached(cache, path, data) for path, data in sources]
    if progress and any(results):
        progress(sum(1 for result in results if result))
    todo = [i for i, result in enumerate(results) if result is None]
    compiled = _compile_many(config, templates, [sources[i] for i in todo], jobs, progress)
    for i, result in zip(todo, compiled):
        results[i] = result
        if cache:
            cache.store(result.path, digest(sources[i][1]), result.to_json())
    return [result for result in results if result is not None]


def _cached(cache: FileCache | None, path: str, data: bytes) -> FileResult | None:
    if cache is None:
        return None
    entry = cache.load(path, digest(data))
    if entry is None:
        return None
    try:
        return FileResult.from_json(path, entry)
    except (KeyError, TypeError, ValueError):
        return None  # damaged: compiled again and overwritten


def _compile_many(
    config: ProjectConfig, templates: Templates, sources: list[tuple[str, bytes]], jobs: int | None,
    progress: Progress | None,
) -> Iterator[FileResult]:
    workers = min(jobs or os.cpu_count() or 1, len(sources))
    if workers < 2 or len(sources) < _PARALLEL_MIN_FILES:
        compiler = Compiler(config, templates)
        for path, data in sources:
            yield compiler.compile(path, data)
            if progress:
                progress(1)
        return
    yield from _compile_in_workers(config.root, sources, workers, progress)


def _compile_in_workers(
    root: Path, sources: list[tuple[str, bytes]], workers: int, progress: Progress | None
) -> Iterator[FileResult]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    chunk = max(1, len(sources) // (workers * 8))
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                                initargs=(root,)) as pool:
        for result in pool.map(_worker_compile, sources, chunksize=chunk):
            if progress:
                progress(1)
            yield result


_worker: Compiler | None = None  # one per worker process, set by _start_worker


def _start_worker(root: Path) -> None:
    """Load the project's config and templates once per worker (their problems are the parent's to report)."""
    global _worker
    problems: list[Problem] = []
    config = load_config(root, problems)
    assert config is not None, "the parent process loaded this config"
    _worker = Compiler(config, load_templates(root, problems))


def _worker_compile(source: tuple[str, bytes]) -> FileResult:
    assert _worker is not None
    return _worker.compile(*source)
