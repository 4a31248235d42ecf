"""The pipeline: config -> templates -> load -> validate -> render -> package.

Everything is read, checked and rendered before anything is written: `check` is `build` without
the writing, and a build with any error writes nothing at all.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cache import record_build
from ..project.card_types import Templates, load_templates
from .compiler import Compilation, FileResult, Progress, gc_paused, read_sources
from ..project.config import CONFIG_FILE, ProjectConfig, load_config
from ..project.card_files import CARDS_DIR, load_card_file
from ..safety.confine import check_output
from .lock import (
    LOCK_FILE,
    Entry,
    Lock,
    build_time,
    changed_media,
    note_type_hash,
    prepare_lock,
    read_lock,
    update_deck_options,
    update_group_options,
    update_lock,
    update_media,
    update_note_types,
)
from .identity import Identities, resolve
from .released import released_problems
from .validate import check_without_config
from .media import collect_media, media_digests
from ..anki.name_rules import merge_key, merged_with
from ..safety.remote import REMOTE_HINT, remote_problem
from .build_options import BuildOptions
from ..problems import Problem, ProjectError, blocking
from .render import RenderedNote, Renderer
from .report import ReleaseReport, compare


@dataclass
class Project:
    """A project read, checked and rendered: everything a package is made of, nothing written.

    The next lock and the release report are worked out when first asked for: `check` never needs them.
    """

    config: ProjectConfig
    templates: Templates
    notes: list[RenderedNote]
    problems: list[Problem]
    old_lock: Lock
    note_types: dict[str, Entry]  # of the next lock
    now: int  # the build's time: what changed gets it in the next lock
    media: dict[str, Path] = field(default_factory=dict)
    identities: Identities = field(default_factory=Identities)  # renames, pinned GUIDs, restores
    first_times: dict[str, int] = field(default_factory=dict)  # card id -> the time a new card gets instead of
    # `now` (an imported deck's notes keep their own)

    @functools.cached_property
    def lock(self) -> Lock:
        """The lock after this build: new times only for what changed."""
        ids, digests = self.identities, media_digests(self.media)
        lock = update_lock(self.old_lock, self.notes, self.note_types, self.now,
                           renames=ids.renames, guids=ids.guids, restored=ids.restored, first_times=self.first_times,
                           media=changed_media(self.old_lock, digests))
        lock.media = update_media(self.old_lock, digests, self.now)
        options = self.config.options
        lock.deck_options = update_deck_options(self.old_lock, options.digest() if options else None, self.now)
        lock.deck_options.update(update_group_options(
            self.old_lock, {path: group.digest() for path, group in self.config.group_options.items()}, self.now))
        return lock

    @functools.cached_property
    def report(self) -> ReleaseReport:
        """What this build changes for learners who have the deck."""
        return compare(self.old_lock, self.lock, self.identities.renames, self.identities.restored)

    def cards_per_group(self) -> dict[str, int]:
        """How many notes each deck gets ('' the root deck, then each group's), in the config's group order."""
        counts = {path: 0 for path in ("", *self.config.group_paths())}
        for note in self.notes:
            counts[note.group] += 1
        return counts

    def subdecks(self) -> list[str]:
        """The groups whose subdecks the package makes: those with notes, and their parents (in config order)."""
        filled = [group for group, count in self.cards_per_group().items() if count]
        return [path for path in self.config.group_paths() if any(g == path or g.startswith(path + "/") for g in filled)]

    def layout_lines(self) -> list[str]:
        """Notes per subdeck, nested as in the learner's deck list (with groups, every card is in one)."""
        counts, config, shown = self.cards_per_group(), self.config, self.subdecks()
        if not shown:
            return [f"{len(self.notes)} notes, all in the deck {config.deck}"]
        rows = [("  " * path.count("/") + config.group_title(path).rsplit("::", 1)[-1], counts[path]) for path in shown]
        width = max(len(title) for title, _ in rows)
        return [f"{len(self.notes)} notes in {len(shown)} subdecks"] + [f"  {t:<{width}}  {n}" for t, n in rows]


def prepare(root: Path, options: BuildOptions | None = None, progress: Progress | None = None) -> Project:
    """Read, check and render the whole project; raise ProjectError if it cannot be built."""
    with gc_paused():
        return _prepare(root, options or BuildOptions(), progress)


def _prepare(root: Path, options: BuildOptions, progress: Progress | None) -> Project:
    problems: list[Problem] = []
    config = load_config(root, problems)
    if config is None:
        raise ProjectError(problems + _without_config(root) if (root / CONFIG_FILE).is_file() else problems)
    templates = load_templates(root, problems, config.css)
    lock_problems: list[Problem] = []
    with Compilation(config, templates, use_cache=options.use_cache, jobs=options.jobs,
                     fields=options.fields) as compiling:
        old_lock = read_lock(root, lock_problems)  # while the workers, if any, start on the card files
        results = compiling.results(progress)
        unread = {result.path for result in results if result.problems and not result.ids}
        unparsed = [data for path, data in compiling.sources if path in unread or templates.broken]  # files whose
        # cards were not all rendered: a media file their text names is not reported unused
    return assemble(config, templates, results, old_lock, options, problems, lock_problems, unparsed)


def _without_config(root: Path) -> list[Problem]:
    """What the card files and card types say while deckgen.yaml is unusable: all that does not depend on it."""
    problems: list[Problem] = []
    templates = load_templates(root, problems)
    sources, unreadable = read_sources(root)
    problems += [problem for result in unreadable for problem in result.problems]
    for path, data in sources:
        for card in load_card_file(data, path, problems):
            check_without_config(card, {**templates.unrendered, **templates.card_types}, problems)
    return problems


def assemble(config: ProjectConfig, templates: Templates, results: list[FileResult], old_lock: Lock,
             options: BuildOptions, problems: list[Problem], lock_problems: list[Problem] | None = None,
             unparsed: list[bytes] | None = None) -> Project:
    """The project from its compiled card files: the checks across cards, media, identities and the next lock.

    `problems` are those found before the card files (config, templates); `unparsed`, the text of
    card files that could not be read (a media file they name is not reported unused); raises
    ProjectError if the project cannot be built.
    """
    problems = list(problems)
    notes = [note for result in results for note in result.notes]
    problems += [problem for result in results for problem in result.problems]
    problems += _duplicate_ids(results)
    if not any(result.ids for result in results) and not problems:
        problems.append(Problem(CARDS_DIR, message="the project has no cards",
                                hint="add a YAML file under cards/ with a 'cards:' list"))
    problems += lock_problems or []
    problems += _remote_description(config, templates)
    problems += _template_groups(config, templates, {note.note_type for note in notes})
    problems += _merged_tags(results)
    media = collect_media(config, notes, problems, unparsed or ())
    now = build_time()
    note_types = _next_note_types(config, templates, old_lock, notes, now)
    identities, identity_problems = resolve(config, results, old_lock)
    problems += identity_problems
    problems += _guard_ids(notes, old_lock, note_types, options, identities, config.key)
    problems += released_problems(config.key, templates.note_types, old_lock, notes, identities.guids)
    project = Project(config, templates, notes, problems, old_lock, note_types, now, media, identities)
    if options.frozen and not blocking(problems, False):  # a card with errors is no change: it was not read
        problems += _frozen_problems(project)  # the project's own list: it sees them too
    if blocking(problems, options.strict):
        raise ProjectError(problems, options.strict)
    return project


def _frozen_problems(project: Project) -> list[Problem]:
    """Under --frozen the lock must already be what this build would write: no change, no conflict markers."""
    old, new = project.old_lock, project.lock
    if old != new and not old.media and replace(old, media=new.media) == new:  # a lock from before media hashes
        problems = [Problem(LOCK_FILE, message="the lock does not record the media files' hashes yet (no card "
                            "changed)", hint="run 'deckgen build' without --frozen and commit deckgen.lock")]
    else:
        problems = [] if old == new else [_frozen_problem(project.report)]
    if project.old_lock.merged:
        problems.append(Problem(LOCK_FILE, message="the lock holds git conflict markers",
                                hint="run 'deckgen build' without --frozen and commit deckgen.lock"))
    return problems


def _merged_tags(results: list[FileResult]) -> list[Problem]:
    """Tags of different cards that Anki would merge into one (it ignores case and Unicode form)."""
    spellings = dict.fromkeys(tag for result in results for tag in result.tags)  # each once, first seen first
    if len({merge_key(tag) for tag in spellings}) == len(spellings):
        return []  # the common case
    merged = merged_with(spellings)
    return [
        Problem(result.path, line, column, f"tag '{tag}' differs from the tag '{merged[tag]}' of another card "
                "only in case or Unicode form", card_id, "Anki would merge them into one tag: write them the same way")
        for result in results for tag, (card_id, line, column) in result.tags.items() if tag in merged
    ]


def _template_groups(config: ProjectConfig, templates: Templates, used: set[str]) -> list[Problem]:
    """A card template's `group:` names a group of deckgen.yaml ('' the root deck), for the note types cards use."""
    groups = {"", *config.group_paths()}
    return [Problem(note_type.path, *template.group_pos, f"card template '{template.name}' names group "
                    f"'{template.group}', which deckgen.yaml does not declare",
                    hint="use a group's path as groups: gives it, such as 'drugs/acute', or '' for the deck itself")
            for kind in sorted(used) for note_type in [templates.note_types[kind]]
            for template in note_type.templates if template.group is not None and template.group not in groups]


def _remote_description(config: ProjectConfig, templates: Templates) -> list[Problem]:
    """The deck's description (and its sources, and its groups' descriptions) may not load anything from the network
    either."""
    groups = "".join(config.group_description(path) for path in config.group_paths())
    if "//" not in config.description + groups + "".join(s.citation for s in config.sources.values()):
        return []
    renderer = Renderer(config, templates)
    described = [("the deck's description", renderer.deck_description())]
    described += [(f"the description of group '{path}'", text) for path, text in renderer.group_descriptions().items()]
    return [Problem(CONFIG_FILE, message=f"{what} {remote[1]}", hint=REMOTE_HINT)
            for what, text in described if (remote := remote_problem(text))]


def _duplicate_ids(results: list[FileResult]) -> list[Problem]:
    seen: dict[str, tuple[str, int, int]] = {}
    problems = []
    for result in results:
        for card_id, line, column in result.ids:
            if card_id in seen:
                first = ":".join(map(str, seen[card_id]))
                problems.append(Problem(result.path, line, column, f"card id is already used at {first}",
                                        card_id, "every card needs its own id, unique in the project"))
            else:
                seen[card_id] = (result.path, line, column)
    return problems


def _next_note_types(config: ProjectConfig, templates: Templates, old: Lock, notes: list[RenderedNote],
                     now: int) -> dict[str, Entry]:
    """The note types the deck uses, as the next lock records them."""
    used = {kind: templates.note_types[kind] for kind in sorted({note.note_type for note in notes})}
    hashes = {kind: note_type_hash(note_type, note_type.display_name(config.deck), note_type.style(templates.css))
              for kind, note_type in used.items()}
    return update_note_types(old, {kind: (note_type, hashes[kind]) for kind, note_type in used.items()}, now)


def _guard_ids(notes: list[RenderedNote], old: Lock, note_types: dict[str, Entry],
               options: BuildOptions, identities: Identities, key: str) -> list[Problem]:
    """Refuse what would silently break updates for learners who already have the deck."""
    problems = []
    cards, strict_kinds = old.cards, not options.allow_note_type_change
    renames, restored = identities.renames, identities.restored
    for note in notes:
        card_id = note.card_id
        if old.retired(card_id) and card_id not in restored:
            problems.append(Problem(note.path, note.line, note.column,
                                    "this id belonged to a card retired in an earlier release", card_id,
                                    "ids are never reused: learners still have the old card; give this one a new id, "
                                    "or add 'restore: true' to bring the old card back on purpose"))
        before = cards.get(card_id) or cards.get(renames.get(card_id, ""))
        if strict_kinds and before and before.kind != note.note_type:
            problems.append(Problem(
                note.path, note.line, note.column,
                f"the card changes from a {before.kind} note to a {note.note_type} note", card_id,
                "Anki will not update it for learners who have it; give it a new id, "
                "or pass --allow-note-type-change",
            ))
    if strict_kinds:
        problems += _forks(old, note_types) + _new_ids(old, note_types, key)
    return problems


def _new_ids(old: Lock, note_types: dict[str, Entry], key: str) -> list[Problem]:
    """A note type whose Anki id changes is a different note type for learners: their notes conflict."""
    changed = [kind for kind, entry in note_types.items()
               if kind in old.note_types and old.note_types[kind].pinned_id != entry.pinned_id]
    if not changed:
        return []
    from .package import stable_id  # genanki: only in this rare case

    def shown(kind: str, pinned: int | None) -> int:
        return stable_id(key, "note type", kind) if pinned is None else pinned

    return [
        Problem(LOCK_FILE, message=f"note type '{kind}' changes its Anki id ({before} -> {after})",
                hint="learners' notes of the note type they have would be 'conflicting' and never updated; "
                     "pass --allow-note-type-change if you mean it")
        for kind in changed
        if (before := shown(kind, old.note_types[kind].pinned_id)) != (after := shown(kind, note_types[kind].pinned_id))
    ]


def _forks(old: Lock, note_types: dict[str, Entry]) -> list[Problem]:
    return [
        Problem(LOCK_FILE, message=f"note type '{kind}' changes its field or template names "
                f"({', '.join(old.note_types[kind].schema[0])} -> {', '.join(entry.schema[0])})",
                hint="Anki would fork it in learners' collections and stop updating their notes; "
                     "pass --allow-note-type-change if you mean it")
        for kind, entry in note_types.items()
        if kind in old.note_types and old.note_types[kind].schema != entry.schema
    ]


def _frozen_problem(report: ReleaseReport) -> Problem:
    counts = [("added", report.added), ("changed", report.changed), ("removed", report.removed),
              ("renamed", report.renamed), ("restored", report.restored)]
    changes = ", ".join(f"{len(ids)} {what}" for what, ids in counts if ids or what in ("added", "changed", "removed"))
    which = "; ".join(f"{what}: {_listed(ids)}" for what, ids in (*counts, ("note types", report.note_types)) if ids)
    return Problem(LOCK_FILE, message=f"the lock is out of date ({changes}, "
                   f"{len(report.note_types)} note types changed)" + (f": {which}" if which else ""),
                   hint="run 'deckgen build' without --frozen and commit deckgen.lock")


def _listed(ids: list, shown: int = 10) -> str:  # type: ignore[type-arg]
    """'a, b, c and 4 more': which cards (a renamed one as 'old -> new'), as far as one line can say."""
    names = [" -> ".join(item) if isinstance(item, tuple) else item for item in ids]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


@dataclass
class BuildResult:
    """What a build wrote."""

    project: Project
    output: Path


def build(root: Path, options: BuildOptions | None = None, progress: Progress | None = None) -> BuildResult:
    """Check everything, then write the package, the lock and the report.

    Whether a build is needed at all is `deckgen.build.cache.current_package`'s to say, before this
    module (and the pipeline behind it) is even imported.
    """
    options = options or BuildOptions()
    with gc_paused():
        return _build(root, options, progress)


def _build(root: Path, options: BuildOptions, progress: Progress | None) -> BuildResult:
    project = _prepare(root, options, progress)
    output = options.output or project.config.output_path
    _check_outputs(root, project.config, output, options.report)
    _write_outputs(root, project, output, options)
    if options.use_cache:
        record_build(root, options.output, output, options.stamp_settings(), project.config.media)
    return BuildResult(project, output)


def build_package_to(root: Path, output: Path, options: BuildOptions | None = None) -> Project:
    """Write the package the next build would make to `output`, and nothing in the project.

    No lock, no cache, no report: a package to try out (`deckgen rehearse`), not a release.
    """
    options = replace(options or BuildOptions(), output=output, frozen=False, report=None, use_cache=False)
    with gc_paused():
        project = _prepare(root, options, None)
    _write_package(project, output)
    return project


def _write_package(project: Project, output: Path) -> None:
    from .package import (  # genanki: only when a package is written
        PackageInput,
        write_package,
    )

    renderer = Renderer(project.config, project.templates)
    write_package(PackageInput(project.config, project.notes, project.lock, project.templates.css,
                               renderer.deck_description(), project.media, project.templates.note_types,
                               renderer.group_descriptions()),
                  output)


def _write_outputs(root: Path, project: Project, output: Path, options: BuildOptions) -> None:
    """The package, then the lock (written aside first, so a full disk fails before the package), then the report."""
    write_lock_too = not options.frozen and (project.lock != project.old_lock or project.old_lock.old_format
                                             or bool(project.old_lock.merged))
    written: list[str] = []
    next_lock = None
    try:
        next_lock = prepare_lock(root, project.lock) if write_lock_too else None  # fails before the package
        _write_package(project, output)
        written.append(str(output))
        if next_lock is not None:
            os.replace(next_lock, root / LOCK_FILE)
            written.append(LOCK_FILE)
        if options.report:
            options.report.write_text(project.report.markdown(project.config), encoding="utf-8")
    except OSError as exc:
        raise _write_problem(exc, output, written) from None
    finally:
        if next_lock is not None:
            next_lock.unlink(missing_ok=True)


def _check_outputs(root: Path, config: ProjectConfig, output: Path, report: Path | None) -> None:
    """Refuse, before anything is written, a package or report path outside the project's rules or not writable."""
    check_output(root, output, config.media)
    if report:
        check_output(root, report, config.media, "the report")
    _check_writable(output)
    if report and not report.parent.is_dir():
        raise ProjectError([Problem(str(report), message="cannot write the report: no such folder")])


def _check_writable(output: Path) -> None:
    if output.is_dir():
        raise ProjectError([Problem(str(output), message="the output path is a folder",
                                    hint="name a file, e.g. -o dist/deck.apkg")])
    parent = output.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not _can_write(parent):
        raise ProjectError([Problem(str(output), message=f"cannot write here: {parent} is not a writable folder")])


def _write_problem(exc: OSError, output: Path, written: list[str]) -> ProjectError:
    """A file that could not be written, reported like any other problem instead of as a traceback."""
    error = ProjectError([Problem(str(exc.filename or output), message=f"cannot write here: {exc.strerror or exc}")])
    if written:  # the summary line must not claim that nothing was written
        error.message = error.message.replace(  # type: ignore[misc]
            "nothing was written", "written before this: " + ", ".join(written))
    return error


def _can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK)
