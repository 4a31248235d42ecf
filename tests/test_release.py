"""`deckgen release`, tried as a new author would, with the official Anki backend as the learner:
only releases bind later builds, emptied cards and lost renames are named, the release notes'
searches find exactly the notes a release retires or empties."""

from __future__ import annotations

import json
import re
import shutil
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from ankitools import import_package, review_counts, review_everything
from conftest import REPO, write_project
from deckgen.build.lock import LOCK_FILE
from deckgen.build.pipeline import BuildOptions, build, prepare
from deckgen.cli import main
from deckgen.problems import ProjectError
from deckgen.release.make import ReleaseOptions, release

T0 = 1_700_000_000  # in the past: the learner edits after the releases
CONFIG = "deck: Test Deck\nkey: test-deck\ngroups:\n  cause: Causes\n"
CLOZE = "  - id: stages\n    type: cloze\n    text: Calcium {{c1::binds}}, then {{c2::crystals form}}, then {{c3::they grow}}\n"
CLOZE_LESS = "  - id: stages\n    type: cloze\n    text: Calcium {{c1::binds}}, then crystals form, then {{c3::they grow}}\n"
GONE = "  - id: gone\n    front: Which card goes?\n    back: This one\n"
OLD_NAME = "  - id: q-b\n    front: What is renamed?\n    back: This card\n"
NEW_NAME = "  - id: q-b2\n    front: What is renamed?\n    back: This card\n"
RENAMED = "  - id: q-b2\n    former_ids: [q-b]\n    front: What is renamed?\n    back: This card\n"
EDITED = "  - id: edited\n    front: What does the author edit?\n    back: {back}\n"
KEEP = "  - id: keep\n    front: What does the learner edit?\n    back: The author leaves it\n"


def _cards(*cards: str) -> str:
    return "group: cause\ncards:\n" + "".join(cards)


def _release(root: Path, version: str, day: int, monkeypatch: pytest.MonkeyPatch, **options: object):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * day))
    return release(root, version, ReleaseOptions(BuildOptions(use_cache=False), **options))  # type: ignore[arg-type]


def _searches(markdown: str) -> list[str]:
    return re.findall(r"^`(nid:[0-9,]+)`$", markdown, re.MULTILINE)


def _note_id(col, front: str) -> int:  # type: ignore[no-untyped-def]
    [note_id] = [nid for nid in col.find_notes("") if col.get_note(nid).fields[0].startswith(front)]
    return note_id


def test_the_release_a_new_author_makes_keeps_learners_whole(tmp_path: Path, learner,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG,
                         "cards/causes.yaml": _cards(CLOZE, GONE, OLD_NAME, EDITED.format(back="First"), KEEP)})
    v1 = _release(root, "1.0.0", 1, monkeypatch)
    assert v1.package == root / "dist" / "test-deck-1.0.0.apkg" and v1.notes_path.with_suffix(".apkg") == v1.package
    assert len(import_package(learner, v1.package).log.new) == 5
    assert "Version: 1.0.0" in learner.decks.by_name("Test Deck")["desc"]  # type: ignore[index]
    reviews = review_everything(learner)
    keep = learner.get_note(_note_id(learner, "What does the learner edit?"))
    keep["Back"] = "My own words"
    learner.update_note(keep)
    renamed_before = _note_id(learner, "What is renamed?")

    # the author removes a cloze deletion, retires a card, renames one without former_ids, edits another
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, NEW_NAME, EDITED.format(back="Second"), KEEP)})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * 2))
    checked = prepare(root, BuildOptions(use_cache=False))
    said = {(p.card, p.line): p for p in checked.problems}
    assert said[("stages", 3)].severity == "warning" and "removes c2" in said[("stages", 3)].message
    assert "keep the deletion's number" in said[("stages", 3)].hint
    assert said[("q-b2", 6)].path == "cards/causes.yaml" and "former_ids: [q-b]" in said[("q-b2", 6)].hint
    assert len(checked.problems) == 2

    with pytest.raises(ProjectError) as refused:
        _release(root, "1.1.0", 2, monkeypatch)
    assert [(p.card, p.severity) for p in refused.value.problems if p.card == "stages"] == [("stages", "error")]
    assert not (root / "dist" / "test-deck-1.1.0.apkg").exists()
    assert "1.1.0" not in json.loads((root / LOCK_FILE).read_text())["releases"]

    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, RENAMED, EDITED.format(back="Second"), KEEP)})
    v2 = _release(root, "1.1.0", 2, monkeypatch, allow_empty_cards=True)
    assert v2.notes.renamed == [("q-b", "q-b2")] and v2.notes.retired == ["gone"]
    log = import_package(learner, v2.package).log
    assert (len(log.new), len(log.conflicting)) == (0, 0)
    assert sorted(note.fields[0] for note in log.updated) == [
        "Calcium {{c1::binds}}, then crystals form, then {{c3::they grow}}", "What does the author edit?"]
    assert _note_id(learner, "What is renamed?") == renamed_before
    assert review_counts(learner) == reviews
    assert learner.get_note(keep.id)["Back"] == "My own words"

    retired_search, emptied_search = _searches(v2.notes_path.read_text(encoding="utf-8"))
    assert learner.find_notes(retired_search) == [_note_id(learner, "Which card goes?")]
    assert learner.find_notes(emptied_search) == [_note_id(learner, "Calcium")]
    assert "Tools › Empty Cards" in v2.notes_path.read_text(encoding="utf-8")


def test_the_searches_find_the_same_notes_for_a_learner_who_started_later(tmp_path: Path, learner,  # type: ignore[no-untyped-def]
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Released notes keep their note ids in every later package, and no new card takes a released one."""
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(GONE, KEEP)})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    build(root, BuildOptions(use_cache=False))  # 'first' is added in the same second as the others
    write_project(root, {"cards/causes.yaml": _cards(OLD_NAME, GONE, KEEP)})
    _release(root, "1.0.0", 0, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(OLD_NAME, KEEP)})
    v2 = _release(root, "2.0.0", 1, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(NEW_NAME.replace("q-b2", "fresh"), OLD_NAME, KEEP)})
    v3 = _release(root, "3.0.0", 2, monkeypatch)
    import_package(learner, v3.package)  # a learner who starts with 3.0.0 has no retired note
    assert learner.find_notes(_searches(v2.notes_path.read_text(encoding="utf-8"))[0]) == []


def test_only_a_release_binds_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A draft build reserves nothing: a removed id comes back, a misspelt former id is dropped again."""
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(GONE, KEEP)})
    build(root, BuildOptions(use_cache=False))
    write_project(root, {"cards/causes.yaml": _cards(KEEP, RENAMED.replace("[q-b]", "[gonne]"))})
    draft = build(root, BuildOptions(use_cache=False))
    assert [p.message for p in draft.project.problems] == []  # nothing released: nothing to warn about
    write_project(root, {"cards/causes.yaml": _cards(KEEP, GONE, NEW_NAME)})
    assert build(root, BuildOptions(use_cache=False)).project.problems == []
    _release(root, "1.0.0", 1, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(KEEP, NEW_NAME)})
    build(root, BuildOptions(use_cache=False))  # a released card dropped in a draft comes back before the next release
    write_project(root, {"cards/causes.yaml": _cards(KEEP, NEW_NAME, GONE)})
    assert "gone" not in json.loads(build(root, BuildOptions(use_cache=False)).project.lock.to_json())["removed"]
    write_project(root, {"cards/causes.yaml": _cards(KEEP, NEW_NAME)})
    _release(root, "1.1.0", 2, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(KEEP, NEW_NAME, GONE)})
    with pytest.raises(ProjectError) as reused:
        prepare(root, BuildOptions(use_cache=False))
    assert "retired in an earlier release" in str(reused.value)
    write_project(root, {"cards/causes.yaml": _cards(KEEP.replace("    front", "    former_ids: [gonne]\n    front"),
                                                     NEW_NAME)})
    with pytest.raises(ProjectError) as changed:  # a released card cannot take a GUID from a former id
        prepare(root, BuildOptions(use_cache=False))
    assert "its GUID would change" in str(changed.value)


def test_the_starter_project_is_not_a_release(tmp_path: Path) -> None:
    """Replacing the examples of `deckgen new`, under the same ids or others, just works."""
    runner = CliRunner()
    root = tmp_path / "gout"
    assert runner.invoke(main, ["new", str(root), "--no-git"]).exit_code == 0
    assert runner.invoke(main, ["build", str(root)]).exit_code == 0
    treatment = root / "cards" / "treatment.yaml"
    text = treatment.read_text(encoding="utf-8")
    treatment.write_text(text.replace("id: allopurinol", "id: febuxostat"), encoding="utf-8")
    assert runner.invoke(main, ["build", str(root)]).exit_code == 0
    treatment.write_text(text.replace("Allopurinol", "Allopurinol (a xanthine oxidase inhibitor)"), encoding="utf-8")
    result = runner.invoke(main, ["build", str(root)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_the_release_command_writes_package_notes_and_lock(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "gout"
    assert runner.invoke(main, ["new", str(root), "--no-git"]).exit_code == 0
    result = runner.invoke(main, ["release", "1.0.0", str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "dist" / "gout-1.0.0.apkg").is_file() and (root / "dist" / "gout-1.0.0.md").is_file()
    assert "not rehearsed: no previous release's package" in result.output
    again = runner.invoke(main, ["release", "1.0.0", str(root)])
    assert again.exit_code == 1 and "1.0.0 was already released" in again.output
    bad = runner.invoke(main, ["release", "../x", str(root)])
    assert bad.exit_code == 1 and "is not a version" in bad.output


def test_a_release_rehearses_on_the_previous_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the previous package at hand, `rehearse` runs on it and its figures reach the notes."""
    calls = []

    class Rehearsal:
        def lines(self) -> list[str]:
            return ["0 new, 1 updated, 0 conflicting"]

        def to_json(self) -> dict[str, object]:
            return {"new": [], "updated": [{"guid": "x"}], "conflicting": [], "reviews_lost": 0, "own_edit_kept": True}

    fake = types.ModuleType("deckgen.release.rehearse")
    fake.RehearsalUnavailable = type("RehearsalUnavailable", (Exception,), {})  # type: ignore[attr-defined]
    fake.rehearse = lambda old, new: calls.append((old, new)) or Rehearsal()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deckgen.release.rehearse", fake)
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(KEEP, EDITED.format(back="First"))})
    v1 = _release(root, "1.0.0", 1, monkeypatch)
    assert calls == []
    write_project(root, {"cards/causes.yaml": _cards(KEEP, EDITED.format(back="Second"))})
    v2 = _release(root, "1.1.0", 2, monkeypatch)
    assert calls == [(v1.package, v2.package)]
    assert "- new notes: 0\n- notes updated: 1\n- notes Anki would not update (conflicting): 0\n- reviews lost: 0\n" \
           "- the learner's own edit kept: yes\n" in v2.notes_path.read_text(encoding="utf-8")


def test_check_names_the_emptied_card_again_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` reads unchanged files from the cache without their fields: it still knows each note's cards."""
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(CLOZE, OLD_NAME)})
    _release(root, "1.0.0", 1, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, RENAMED)})
    runs = [CliRunner().invoke(main, ["check", str(root)]) for _ in range(2)]
    assert runs[0].output == runs[1].output
    assert "card 'stages': this edit removes c2" in runs[1].output and "0 errors, 1 warning" in runs[1].output


def test_this_repositorys_deck_releases_cleanly_for_its_learners(tmp_path: Path, learner,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Its lock (format 2 until 3.0.0, then with its releases) counts as released: a release of a copy updates a
    learner of the last build cleanly."""
    copy = tmp_path / "deck"
    copy.mkdir()
    for name in ("deckgen.yaml", "deckgen.lock", "cards", "templates"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, copy / name)  # type: ignore[operator]
    before = set(json.loads((copy / LOCK_FILE).read_text(encoding="utf-8")).get("releases", {"before-releases": 0}))
    shared = build(copy, BuildOptions(output=tmp_path / "shared.apkg", use_cache=False)).output  # what learners have
    import_package(learner, shared)
    reviews = review_everything(learner)
    note_types = len(learner.models.all_names_and_ids())
    made = release(copy, "99.0.0", ReleaseOptions(BuildOptions(use_cache=False), allow_empty_cards=True,
                                                  previous=shared))
    log = import_package(learner, made.package).log
    assert (len(log.new), len(log.conflicting)) == (0, 0)
    assert len(learner.models.all_names_and_ids()) == note_types and review_counts(learner) == reviews
    lock = json.loads((copy / LOCK_FILE).read_text(encoding="utf-8"))
    assert set(lock["releases"]) == before | {"99.0.0"} and "3.0.0" in lock["releases"]
    assert all(row[4] for row in lock["released"].values() if not row[7])  # every live note's id is recorded


def test_check_names_a_released_card_whose_template_condition_no_longer_holds(tmp_path: Path, learner,  # type: ignore[no-untyped-def]
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A note type card made only for notes with an Indication: emptying the field empties the card learners have."""
    from test_note_types import DRUG_NOTE_TYPE, DRUG_SPEC, DRUG_TEMPLATE

    drug = ("group: cause\ncards:\n  - id: colchicine\n    type: drug\n    drug: Colchicine\n"
            "    mechanism: Blocks microtubules\n{indication}")
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "note_types/drug.yaml": DRUG_NOTE_TYPE, "templates/drug.yaml": DRUG_SPEC,
                         "templates/drug.html.j2": DRUG_TEMPLATE, "cards/causes.yaml": None,
                         "cards/drugs.yaml": drug.format(indication="    indication: Acute flares\n")})
    v1 = _release(root, "1.0.0", 1, monkeypatch)
    import_package(learner, v1.package)
    write_project(root, {"cards/drugs.yaml": drug.format(indication="")}, base=False)
    [problem] = prepare(root, BuildOptions(use_cache=False)).problems
    assert (problem.path, problem.line, problem.card, problem.severity) == ("cards/drugs.yaml", 3, "colchicine", "warning")
    assert "no longer fills what card 'Indication' needs" in problem.message
    v2 = _release(root, "1.1.0", 2, monkeypatch, allow_empty_cards=True)
    import_package(learner, v2.package)
    [search] = _searches(v2.notes_path.read_text(encoding="utf-8"))
    assert learner.find_notes(search) == list(learner.find_notes(""))
    empty = learner.get_empty_cards()
    assert [len(note.card_ids) for note in empty.notes] == [1]  # Anki's own Empty Cards finds the card


def test_an_imported_decks_notes_count_as_released(tmp_path: Path, sample_project: Path) -> None:
    """Learners of a deck made elsewhere have its notes: the imported project's lock binds their ids and GUIDs."""
    shared = build(sample_project, BuildOptions(output=tmp_path / "elsewhere.apkg", use_cache=False)).output
    imported = tmp_path / "imported"
    run = CliRunner().invoke(main, ["import", str(shared), str(imported)])
    assert run.exit_code == 0, run.output
    lock = json.loads((imported / LOCK_FILE).read_text(encoding="utf-8"))
    assert list(lock["releases"]) == ["before-releases"]
    assert sorted(lock["released"]) == sorted(lock["cards"]) and len(lock["cards"]) > 3


def test_the_release_rehearses_with_the_real_backend(tmp_path: Path, learner,  # type: ignore[no-untyped-def]
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With `deckgen rehearse` at hand, the notes' figures are what the learner's real import then gives."""
    pytest.importorskip("deckgen.release.rehearse")
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG,
                         "cards/causes.yaml": _cards(CLOZE, GONE, OLD_NAME, EDITED.format(back="First"), KEEP)})
    v1 = _release(root, "1.0.0", 1, monkeypatch)
    import_package(learner, v1.package)
    review_everything(learner)
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, RENAMED, EDITED.format(back="Second"), KEEP)})
    v2 = _release(root, "1.1.0", 2, monkeypatch, allow_empty_cards=True)
    assert v2.previous_package == v1.package and v2.rehearsal is not None
    log = import_package(learner, v2.package).log
    figures = dict(v2.notes.checked)
    assert (figures["new notes"], figures["notes updated"], figures["notes Anki would not update (conflicting)"]) == (
        str(len(log.new)), str(len(log.updated)), str(len(log.conflicting)))
    assert (figures["cards left empty"], figures["notes retired"], figures["reviews lost"]) == ("1", "1", "0")
    assert "## Checked in Anki" in v2.notes_path.read_text(encoding="utf-8")


def test_strict_release_counts_allowed_empty_cards_as_said_yes_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(CLOZE, KEEP)})
    _release(root, "1.0.0", 1, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, KEEP)})
    runner = CliRunner()
    refused = runner.invoke(main, ["release", "1.1.0", str(root), "--strict"])
    assert refused.exit_code == 1 and "removes c2" in refused.output
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, KEEP, "  - id: x\n    front: X\n    back: '<blink>'\n")})
    warned = runner.invoke(main, ["release", "1.1.0", str(root), "--strict", "--allow-empty-cards"])
    assert warned.exit_code == 1 and "--strict" in warned.output and "removes c2" not in warned.output
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, KEEP)})
    allowed = runner.invoke(main, ["release", "1.1.0", str(root), "--strict", "--allow-empty-cards"])
    assert allowed.exit_code == 0, allowed.output


def test_the_notes_name_layout_options_moves_and_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = CONFIG + "  mechanism: Mechanism\n"
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": config, "cards/causes.yaml": _cards(GONE, KEEP, EDITED.format(back="x"))})
    _release(root, "1.0.0", 1, monkeypatch)
    write_project(root, {"cards/causes.yaml": _cards(KEEP, EDITED.format(back="x"))})
    _release(root, "1.1.0", 2, monkeypatch)
    moved = EDITED.format(back="x").replace("    front", "    group: mechanism\n    front")
    write_project(root, {"deckgen.yaml": config + "options:\n  new_per_day: 5\n", "templates/style.css": ".card { color: red; }\n",
                         "cards/causes.yaml": _cards(KEEP, moved, GONE.replace("    front", "    restore: true\n    front"))})
    notes = _release(root, "1.2.0", 3, monkeypatch).notes_path.read_text(encoding="utf-8")
    assert "## Back again\n\n1 note retired earlier and brought back" in notes and "- Which card goes?" in notes
    assert "- What does the author edit? (stays in Test Deck::Causes: Anki never moves cards you have)" in notes
    assert "## Card layout\n\n1 note type whose templates or style changed" in notes and "- Test Deck (basic)" in notes
    assert '## Deck options\n\n- The deck options preset changed: Anki applies it only if you tick "Import any deck presets"' in notes


def _as_format_2(lock_path: Path) -> None:
    """The lock as deckgen wrote it before releases were recorded."""
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    for table in ("releases", "released_columns", "released"):
        del data[table]
    lock_path.write_text(json.dumps({**data, "format": 2}), encoding="utf-8")


def test_an_older_locks_first_release_learns_what_learners_have_from_the_shared_package(
        tmp_path: Path, learner, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A format 2 lock holds the last build, maybe a rework built long after the package learners have: with
    that package at hand, the first release still names every note it retires and every card it empties."""
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(CLOZE, GONE, KEEP)})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    shared = build(root, BuildOptions(output=tmp_path / "shared.apkg", use_cache=False)).output  # "2.0.0"
    import_package(learner, shared)
    reviews = review_everything(learner)
    _as_format_2(root / LOCK_FILE)
    write_project(root, {"cards/causes.yaml": _cards(CLOZE_LESS, KEEP)})  # the rework, built on a branch
    build(root, BuildOptions(use_cache=False))
    _as_format_2(root / LOCK_FILE)
    assert prepare(root, BuildOptions(use_cache=False)).problems == []  # the lock alone cannot tell
    with pytest.raises(ProjectError) as refused:
        _release(root, "3.0.0", 2, monkeypatch, previous=shared)
    assert "removes c2" in str(refused.value)
    made = _release(root, "3.0.0", 2, monkeypatch, previous=shared, allow_empty_cards=True)
    assert made.notes.retired == ["gone"] and [e.note.card_id for e, _ in made.notes.emptied] == ["stages"]
    log = import_package(learner, made.package).log
    assert (len(log.new), len(log.conflicting)) == (0, 0) and review_counts(learner) == reviews
    retired_search, emptied_search = _searches(made.notes_path.read_text(encoding="utf-8"))
    assert learner.find_notes(retired_search) == [_note_id(learner, "Which card goes?")]
    assert learner.find_notes(emptied_search) == [_note_id(learner, "Calcium")]


REVERTED = "  - id: reverted\n    front: What does the author take back?\n    back: {back}\n"


def _learner_edits(col, front: str, text: str, when: int) -> None:  # type: ignore[no-untyped-def]
    """The learner rewrites a note's back at `when` (between the releases, as it would be in real life)."""
    note = col.get_note(_note_id(col, front))
    note["Back"] = text
    col.update_note(note)
    col.db.execute("update notes set mod = ? where id = ?", when, note.id)


def test_an_edit_taken_back_keeps_the_learners_own_edit_of_that_note(tmp_path: Path, learner,  # type: ignore[no-untyped-def]
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Edited after a release, then put back to the released text: the next release gives the note the time the
    last one gave it, so Anki does not update it and the learner's own edit of it stays; a real edit still arrives."""
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG,
                         "cards/causes.yaml": _cards(REVERTED.format(back="As released"), EDITED.format(back="First"))})
    v1 = _release(root, "1.0.0", 1, monkeypatch)
    assert len(import_package(learner, v1.package).log.new) == 2
    _learner_edits(learner, "What does the author take back?", "My own words", T0 + 86_400 + 3_600)
    write_project(root, {"cards/causes.yaml": _cards(REVERTED.format(back="Reworded"), EDITED.format(back="First"))})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * 2))
    build(root, BuildOptions(use_cache=False))
    write_project(root, {"cards/causes.yaml": _cards(REVERTED.format(back="As released"), EDITED.format(back="Second"))})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * 3))
    built = build(root, BuildOptions(use_cache=False))
    lock = json.loads((root / LOCK_FILE).read_text(encoding="utf-8"))
    assert lock["cards"]["reverted"][1] == lock["released"]["reverted"][-1] == T0 + 86_400  # 1.0.0's time again
    assert [p for p in built.project.problems if p.card == "reverted"] == []
    v2 = _release(root, "1.1.0", 4, monkeypatch)
    log = import_package(learner, v2.package).log
    assert [note.fields[1] for note in log.updated] == ["Second"] and len(log.duplicate) == 1
    assert learner.get_note(_note_id(learner, "What does the author take back?"))["Back"] == "My own words"


def _as_format_3(lock_path: Path) -> None:
    """The lock as deckgen wrote it before it recorded the note time each release gave."""
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    data["released_columns"] = data["released_columns"][:-1]
    data["released"] = {card_id: row[:-1] for card_id, row in data["released"].items()}
    lock_path.write_text(json.dumps({**data, "format": 3}), encoding="utf-8")


def test_a_format_3_lock_builds_warns_of_an_edit_taken_back_and_learns_the_times_from_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock that does not know the released times still builds; check names a card back to its released text
    with a later time, at its line, and the next release reads the times from the previous package."""
    root = tmp_path / "deck"
    write_project(root, {"deckgen.yaml": CONFIG, "cards/causes.yaml": _cards(REVERTED.format(back="As released"), GONE)})
    v1 = _release(root, "1.0.0", 1, monkeypatch)
    _as_format_3(root / LOCK_FILE)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * 2))
    assert build(root, BuildOptions(use_cache=False)).project.report.empty  # no changes since the lock
    assert json.loads((root / LOCK_FILE).read_text(encoding="utf-8"))["released"]["gone"][-1] == 0  # not known
    write_project(root, {"cards/causes.yaml": _cards(REVERTED.format(back="Reworded"), GONE)})
    build(root, BuildOptions(use_cache=False))
    write_project(root, {"cards/causes.yaml": _cards(REVERTED.format(back="As released"))})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * 3))
    [warned] = [p for p in prepare(root, BuildOptions(use_cache=False)).problems if p.card == "reverted"]
    assert (warned.path, warned.line, warned.severity) == ("cards/causes.yaml", 3, "warning")
    assert "learners of 1.0.0 would get the note as updated" in warned.message and "own edits" in warned.message
    assert "deckgen.lock" in warned.hint and "1.0.0 package" in warned.hint
    _release(root, "1.1.0", 4, monkeypatch, previous=v1.package)
    released = json.loads((root / LOCK_FILE).read_text(encoding="utf-8"))["released"]
    assert released["gone"][-2:] == ["1.1.0", T0 + 86_400]  # retired, with the time 1.0.0's package gave it
