"""`deckgen rehearse`: the next release tried on a learner of the last one, in the official Anki backend.

Each test builds a first release of a small project, changes the project as an author would, and
rehearses; where it matters, a separate learner's collection then really imports the new package,
and the rehearsal must have predicted exactly what that import did.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from ankitools import import_package, open_collection, review_counts, review_everything

from deckgen.build.pipeline import BuildOptions, build, build_package_to
from deckgen.release.rehearse import OWN_EDIT, Rehearsal, RehearsalUnavailable, rehearse

CARDS = """\
group: cause
cards:
  - id: trauma
    front: Which injury?
    back: Trauma
  - id: necrosis
    front: What dies first?
    back: The tissue
  - id: deposits
    type: cloze
    text: "{{c1::Calcium}} and {{c2::phosphate}} deposit in dead tissue"
"""
TERM_NOTE_TYPE = """\
name: Term
fields: [Term, Meaning]
templates:
  - name: Meaning
    front: "{{Term}}"
    back: "{{FrontSide}}<hr id=answer>{{Meaning}}"
"""
TERM_SPEC = """\
note_type: term
fields:
  term: {required: true}
  meaning: {required: true}
"""
TERM_TEMPLATE = """\
{% block Term %}{{ term }}{% endblock %}
{% block Meaning %}{{ meaning }}{% endblock %}
"""
TERM_CARDS = """\
group: mechanism
type: term
cards:
  - id: dystrophic
    term: Dystrophic
    meaning: In dead or dying tissue
  - id: metastatic
    term: Metastatic
    meaning: In normal tissue, from high calcium
"""


@pytest.fixture
def released(make_project: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    """A project and its first release (v1.apkg), built and locked."""
    project = make_project({"cards/causes.yaml": CARDS})
    return project, build(project, BuildOptions(output=tmp_path / "v1.apkg")).output


def _edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _rehearse_cli(deckgen, old: Path, project: Path, *options: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def,type-arg]
    run = deckgen("rehearse", old, project, "--format", "json", *options)
    assert not run.crashed, run.exception
    return run.exit_code, json.loads(run.stdout)


def _first_fields(notes: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [note["first_field"] for note in notes]


def test_a_clean_update_loses_nothing_and_writes_nothing(released: tuple[Path, Path], deckgen) -> None:  # type: ignore[no-untyped-def]
    project, v1 = released
    _edit(project, "cards/causes.yaml", "back: Trauma", "back: Blunt trauma")
    before = _files(project)
    exit_code, report = _rehearse_cli(deckgen, v1, project)
    assert exit_code == 0
    assert _files(project) == before  # no lock, no dist/, no build cache: nothing in the project
    assert _first_fields(report["updated"]) == ["Which injury?"]
    assert (len(report["new"]), len(report["unchanged"]), report["conflicting"]) == (0, 2, [])
    assert (report["cards_emptied"], report["note_types_copied"], report["retired"]) == ([], [], [])
    assert (report["reviews_lost"], report["scheduling_lost"]) == (0, [])
    assert report["own_edit_kept"] is True and report["loses_anything"] is False
    edited = report["own_edit"]
    assert edited["guid"] == min(note["guid"] for note in report["unchanged"])  # the first unchanged note by GUID
    assert report["cards_studied"] == 4


def test_the_text_report_names_the_own_edit_and_says_nothing_is_lost(released: tuple[Path, Path], deckgen) -> None:  # type: ignore[no-untyped-def]
    project, v1 = released
    _edit(project, "cards/causes.yaml", "back: Trauma", "back: Blunt trauma")
    run = deckgen("rehearse", v1, project)
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"A learner of {v1} who studied all 4 cards")
    assert "  updated: 1" in lines and "  unchanged: 2" in lines and "  reviews lost: 0" in lines
    assert any(line.startswith("  own edit: kept (field ") for line in lines)
    assert lines[-1] == "The learner loses nothing."


def test_a_removed_cloze_deletion_is_a_card_left_empty(released: tuple[Path, Path], deckgen) -> None:  # type: ignore[no-untyped-def]
    project, v1 = released
    _edit(project, "cards/causes.yaml", "{{c2::phosphate}}", "phosphate")
    exit_code, report = _rehearse_cli(deckgen, v1, project)
    assert exit_code == 1 and report["loses_anything"] is True
    [emptied] = report["cards_emptied"]
    assert (emptied["card_id"], emptied["card"]) == ("deposits", "cloze 2")
    assert emptied["first_field"] == "{{c1::Calcium}} and phosphate deposit in dead tissue"
    assert _first_fields(report["updated"]) == [emptied["first_field"]]
    run = deckgen("rehearse", v1, project)
    assert "  cards left empty (Anki shows them with an error; Tools > Empty Cards deletes them): 1" in run.stdout
    assert "The learner would lose: 1 cards left empty." in run.stdout


def _real_import(tmp_path: Path, v1: Path, v2: Path) -> dict[str, object]:
    """What a real learner of v1, who studied every card, gets from importing v2."""
    folder = tmp_path / "real-learner"
    folder.mkdir()
    with contextlib.closing(open_collection(folder)) as col:
        import_package(col, v1)
        guids = {col.get_note(note_id).fields[0]: col.get_note(note_id).guid for note_id in col.find_notes("")}
        reviews = review_everything(col)
        log = import_package(col, v2).log
        logged = {kind: sorted(col.get_note(note.id.nid).guid for note in getattr(log, kind))
                  for kind in ("new", "updated", "duplicate")}
        empty = sorted((col.get_card(card_id).note().guid, col.get_card(card_id).ord + 1)
                       for note in col.get_empty_cards().notes for card_id in note.card_ids)
        note_types = sorted(entry.name for entry in col.models.all_names_and_ids())
        lost = sum(reviews.values()) - sum(review_counts(col).values())
        return {**logged, "conflicting": sorted(note.fields[0] for note in log.conflicting), "empty": empty,
                "note_types": note_types, "reviews_lost": lost, "guids": guids}


def _predicted(rehearsal: Rehearsal) -> dict[str, object]:
    guids = {kind: sorted(note.guid for note in notes) for kind, notes in
             (("new", rehearsal.new), ("updated", rehearsal.updated), ("duplicate", rehearsal.unchanged))}
    empty = sorted((card.note.guid, int(card.card.removeprefix("cloze "))) for card in rehearsal.cards_emptied)
    return {**guids, "conflicting": sorted(note.first_field for note in rehearsal.conflicting), "empty": empty,
            "reviews_lost": rehearsal.reviews_lost}


def test_the_rehearsal_predicts_what_the_real_import_does(released: tuple[Path, Path], tmp_path: Path) -> None:
    project, v1 = released
    _edit(project, "cards/causes.yaml", "{{c2::phosphate}}", "phosphate")  # a card left empty
    _edit(project, "cards/causes.yaml", "back: Trauma", "back: Blunt trauma")  # an update
    _edit(project, "cards/causes.yaml", "id: necrosis", "id: necrosis-first")  # a rename without former_ids
    v2 = tmp_path / "v2.apkg"
    build_package_to(project, v2)
    rehearsal = rehearse(v1, v2)
    assert {note.card_id for note in rehearsal.updated} == {""}  # a package alone does not know the card ids
    real = _real_import(tmp_path, v1, v2)
    assert {key: real[key] for key in _predicted(rehearsal)} == _predicted(rehearsal)
    assert (len(rehearsal.new), len(rehearsal.updated), len(rehearsal.unchanged), len(rehearsal.cards_emptied)) \
        == (1, 2, 0, 1)


def test_a_card_renamed_without_former_ids_is_a_new_note_and_a_retired_one(released: tuple[Path, Path], deckgen) -> None:  # type: ignore[no-untyped-def]
    project, v1 = released
    _edit(project, "cards/causes.yaml", "id: trauma", "id: injury")
    _, report = _rehearse_cli(deckgen, v1, project)
    assert _first_fields(report["new"]) == ["Which injury?"]
    assert _first_fields(report["retired"]) == ["Which injury?"]
    assert (report["new"][0]["card_id"], report["retired"][0]["card_id"]) == ("injury", "trauma")  # from the lock
    assert report["new"][0]["guid"] != report["retired"][0]["guid"]
    assert (len(report["updated"]), len(report["unchanged"])) == (0, 2)


def test_a_removed_card_is_retired(released: tuple[Path, Path], deckgen) -> None:  # type: ignore[no-untyped-def]
    project, v1 = released
    _edit(project, "cards/causes.yaml", "  - id: necrosis\n    front: What dies first?\n    back: The tissue\n", "")
    exit_code, report = _rehearse_cli(deckgen, v1, project)
    assert _first_fields(report["retired"]) == ["What dies first?"]
    assert (report["new"], len(report["unchanged"])) == ([], 2)
    assert exit_code == 0  # the note stays with the learner, reviews and all: nothing is lost
    run = deckgen("rehearse", v1, project)
    assert '    necrosis: "What dies first?"\n' in run.stdout


def test_a_renamed_field_copies_the_note_type_and_its_notes_conflict(
        make_project: Callable[..., Path], tmp_path: Path, deckgen) -> None:  # type: ignore[no-untyped-def]
    project = make_project({"cards/causes.yaml": CARDS, "note_types/term.yaml": TERM_NOTE_TYPE,
                            "templates/term.yaml": TERM_SPEC, "templates/term.html.j2": TERM_TEMPLATE,
                            "cards/terms.yaml": TERM_CARDS})
    v1 = build(project, BuildOptions(output=tmp_path / "v1.apkg")).output
    _edit(project, "note_types/term.yaml", "Meaning]", "Sense]")
    _edit(project, "note_types/term.yaml", "{{Meaning}}", "{{Sense}}")
    _edit(project, "templates/term.html.j2", "block Meaning", "block Sense")
    refused = deckgen("rehearse", v1, project)
    assert refused.exit_code == 1 and "changes its field or template names" in refused.stderr
    exit_code, report = _rehearse_cli(deckgen, v1, project, "--allow-note-type-change")
    assert exit_code == 1
    assert report["note_types_copied"] == [{"name": "Term", "copy": "Term+"}]
    assert sorted(_first_fields(report["conflicting"])) == ["Dystrophic", "Metastatic"]
    v2 = tmp_path / "v2.apkg"
    build_package_to(project, v2, BuildOptions(allow_note_type_change=True))
    real = _real_import(tmp_path, v1, v2)
    assert real["conflicting"] == ["Dystrophic", "Metastatic"] and "Term+" in real["note_types"]  # type: ignore[operator]
    assert {note["first_field"]: note["guid"] for note in report["conflicting"]} \
        == {name: real["guids"][name] for name in ("Dystrophic", "Metastatic")}  # type: ignore[index]


def _restamped(package: Path, target: Path) -> Path:
    """The same package with every note stamped far in the future, as genanki's build-time stamps do."""
    with zipfile.ZipFile(package) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    database = target.with_suffix(".anki2")
    database.write_bytes(members["collection.anki2"])
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("UPDATE notes SET mod = 4102444800")
        connection.commit()
    members["collection.anki2"] = database.read_bytes()
    with zipfile.ZipFile(target, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return target


def test_a_package_that_restamps_every_note_overwrites_the_learners_own_edit(
        released: tuple[Path, Path], tmp_path: Path) -> None:
    _, v1 = released
    rehearsal = rehearse(v1, _restamped(v1, tmp_path / "restamped.apkg"))
    assert rehearsal.own_edit is not None and not rehearsal.own_edit_kept
    assert (len(rehearsal.updated), len(rehearsal.unchanged)) == (3, 0)
    assert rehearsal.loses_anything
    assert any(line.startswith("  own edit: LOST (field ") for line in rehearsal.lines())
    assert rehearsal.lines()[-1] == "The learner would lose: 1 own edit overwritten."


def test_the_same_package_again_changes_nothing(released: tuple[Path, Path]) -> None:
    _, v1 = released
    rehearsal = rehearse(v1, v1)
    assert (len(rehearsal.new), len(rehearsal.updated), len(rehearsal.unchanged)) == (0, 0, 3)
    assert rehearsal.own_edit is not None and rehearsal.own_edit_kept and not rehearsal.loses_anything
    assert OWN_EDIT.startswith("<br>")


def test_without_the_anki_package_it_says_how_to_install_it(released: tuple[Path, Path], deckgen,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    project, v1 = released
    before = _files(project)
    for name in [name for name in sys.modules if name == "anki" or name.startswith("anki.")]:
        monkeypatch.setitem(sys.modules, name, None)  # `import anki...` now fails, as where it is not installed
    with pytest.raises(RehearsalUnavailable, match=r"pip install 'deckgen\[rehearse\]'"):
        rehearse(v1, v1)
    run = deckgen("rehearse", v1, project)
    assert run.exit_code == 1 and not run.crashed
    assert run.stderr.strip().splitlines() == ["Error: rehearsing needs the official Anki backend, the `anki` "
                                               "package: pip install 'deckgen[rehearse]'"]
    assert _files(project) == before


def test_a_file_anki_cannot_import_is_a_located_problem(released: tuple[Path, Path], tmp_path: Path, deckgen) -> None:  # type: ignore[no-untyped-def]
    project, _ = released
    broken = tmp_path / "broken.apkg"
    broken.write_bytes(b"not a zip")
    run = deckgen("rehearse", broken, project)
    assert run.exit_code == 1 and not run.crashed
    assert run.stderr.startswith(f"{broken}: Anki cannot import this package: ")


def test_cards_put_back_to_new_or_deleted_are_scheduling_lost(released: tuple[Path, Path], learner) -> None:  # type: ignore[no-untyped-def]
    from deckgen.release.rehearse import _scheduling_lost, _State

    _, v1 = released
    import_package(learner, v1)
    review_everything(learner)
    before = _State.of(learner)
    reset, deleted = sorted(learner.find_cards(""))[:2]
    learner.sched.schedule_cards_as_new([reset], reset_counts=True)
    learner.remove_notes_by_card([deleted])
    lost = _scheduling_lost(learner, before, _State.of(learner))
    assert [card.card for card in lost] == ["Card 1", f"card {deleted}"]
    assert lost[0].note.first_field == learner.get_card(reset).note().fields[0]
    assert _scheduling_lost(learner, before, before) == []


def test_with_every_note_changed_no_own_edit_is_tried(released: tuple[Path, Path], tmp_path: Path) -> None:
    project, v1 = released
    _edit(project, "cards/causes.yaml", "back: Trauma", "back: Blunt trauma")
    _edit(project, "cards/causes.yaml", "back: The tissue", "back: The cells")
    _edit(project, "cards/causes.yaml", "dead tissue", "necrotic tissue")
    build_package_to(project, tmp_path / "v2.apkg")
    rehearsal = rehearse(v1, tmp_path / "v2.apkg")
    assert (len(rehearsal.updated), rehearsal.own_edit, rehearsal.own_edit_kept) == (3, None, True)
    assert "edited" not in rehearsal.lines()[0]
    assert "  own edit: not tried (the new package changes every note the learner has)" in rehearsal.lines()
