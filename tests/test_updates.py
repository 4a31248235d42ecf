"""A learner's update path, checked with the official Anki backend.

v1 is imported and every card reviewed; the author edits one card and the CSS and builds v2; the
learner has meanwhile edited another note. Importing v2 with Anki's default options must update
exactly the edited note and the note type, and keep everything else the learner has.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ankitools import import_package, review_counts, review_everything
from deckgen.build.pipeline import BuildOptions, build
from deckgen.cli import main
from deckgen.build.lock import LOCK_FILE
from deckgen.build.lock_file import LOCK_FORMAT
from deckgen.problems import ProjectError
from deckgen.release.make import release

NEW_CSS = ".card { color: rebeccapurple; }\n"


def _note_by_guid(col, guid: str):  # type: ignore[no-untyped-def]
    return next(col.get_note(n) for n in col.find_notes("") if col.get_note(n).guid == guid)


def _guid(col, first_field: str) -> str:  # type: ignore[no-untyped-def]
    return next(col.get_note(n).guid for n in col.find_notes("") if col.get_note(n).fields[0] == first_field)



def test_release_updates_only_what_the_author_changed(sample_project: Path, tmp_path: Path, learner) -> None:  # type: ignore[no-untyped-def]
    v1 = build(sample_project, BuildOptions(output=tmp_path / "v1.apkg")).output
    assert len(import_package(learner, v1, with_scheduling=True).log.new) == 6
    reviews = review_everything(learner)
    scheduled = {cid: (learner.get_card(cid).ivl, learner.get_card(cid).due) for cid in learner.find_cards("")}
    note_types_before = len(learner.models.all_names_and_ids())

    # the learner edits a note the author will not touch
    mine = _note_by_guid(learner, _guid(learner, "Necrosis"))
    mine["Extra"] = "my own mnemonic"
    learner.update_note(mine)

    # the author edits one card and the CSS
    cards = sample_project / "cards/01-basic.yaml"
    cards.write_text(cards.read_text().replace("is the first number", "is the first counting number"))
    (sample_project / "templates/style.css").write_text(NEW_CSS)
    v2 = build(sample_project, BuildOptions(output=tmp_path / "v2.apkg"))
    assert v2.project.report.changed == ["basic-one"]
    assert v2.project.report.note_types == ["basic", "cloze", "reversed"]

    log = import_package(learner, v2.output).log  # Anki's default import options
    assert [n.fields[0] for n in log.updated] == ["What is one?"]  # the log shows fields without HTML
    assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (0, 5, 0)
    assert len(learner.find_notes("")) == 6
    assert len(learner.models.all_names_and_ids()) == note_types_before  # no "Sample Deck (basic)+" fork
    updated = _note_by_guid(learner, _guid(learner, "What is <em>one</em>?"))
    assert "the first counting number" in updated["Back"]
    assert _note_by_guid(learner, mine.guid)["Extra"] == "my own mnemonic"
    assert review_counts(learner) == reviews
    assert {cid: (learner.get_card(cid).ivl, learner.get_card(cid).due) for cid in learner.find_cards("")} == scheduled
    learner.models._clear_cache()
    for model in learner.models.all():
        if model["name"].startswith("Sample Deck"):
            assert model["css"].endswith(NEW_CSS)  # after the built-in CSS (css: add)


def test_unchanged_release_updates_nothing(sample_project: Path, tmp_path: Path, learner) -> None:  # type: ignore[no-untyped-def]
    import_package(learner, build(sample_project, BuildOptions(output=tmp_path / "v1.apkg")).output)
    time.sleep(1.1)
    again = build(sample_project, BuildOptions(output=tmp_path / "v2.apkg"))
    assert again.project.report.empty
    log = import_package(learner, again.output).log
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 6)


def test_two_builds_a_second_apart_are_byte_identical(sample_project: Path, tmp_path: Path) -> None:
    first = build(sample_project, BuildOptions(output=tmp_path / "a.apkg")).output.read_bytes()
    time.sleep(1.1)
    second = build(sample_project, BuildOptions(output=tmp_path / "b.apkg")).output.read_bytes()
    assert first == second


def test_same_sources_and_lock_give_same_bytes_anywhere(sample_project: Path, tmp_path: Path) -> None:
    import shutil

    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    elsewhere = tmp_path / "elsewhere" / "project"
    shutil.copytree(sample_project, elsewhere)
    time.sleep(1.1)
    build(elsewhere, BuildOptions(output=tmp_path / "b.apkg"))
    assert (tmp_path / "a.apkg").read_bytes() == (tmp_path / "b.apkg").read_bytes()


def test_lock_records_change_times_only_for_changed_cards(sample_project: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    cards = sample_project / "cards/02-reversed.yaml"
    cards.write_text(cards.read_text().replace("Death of tissue", "Death of cells in a tissue"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    lock = json.loads((sample_project / LOCK_FILE).read_text())
    mtime, added = lock["card_columns"].index("mtime"), lock["card_columns"].index("added")
    times = {card: row[mtime] for card, row in lock["cards"].items()}
    assert times.pop("term-necrosis") == 1700086400
    assert set(times.values()) == {1700000000}
    assert all(row[added] == 1700000000 for row in lock["cards"].values())


def test_change_time_is_strictly_newer_even_within_one_second(sample_project: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    cards = sample_project / "cards/02-reversed.yaml"
    cards.write_text(cards.read_text().replace("Death of tissue", "Tissue death"))
    build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    lock = json.loads((sample_project / LOCK_FILE).read_text())
    assert lock["cards"]["term-necrosis"][lock["card_columns"].index("mtime")] == 1700000001


def test_a_lock_of_the_first_format_is_read_and_rewritten(sample_project: Path, tmp_path: Path) -> None:
    first = build(sample_project, BuildOptions(output=tmp_path / "a.apkg")).output.read_bytes()
    lock_path = sample_project / LOCK_FILE
    lock = json.loads(lock_path.read_text())
    columns = lock.pop("card_columns")
    lock["cards"] = {card: dict(zip(["hash", "mtime", "added", "group", "type"], row)) for card, row in lock["cards"].items()}
    assert columns == ["hash", "mtime", "added", "group", "type"]
    lock["format"] = 1
    lock_path.write_text(json.dumps(lock))
    again = build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    assert again.project.report.empty and again.output.read_bytes() == first
    assert json.loads(lock_path.read_text())["format"] == LOCK_FORMAT


def test_a_lock_a_newer_deckgen_wrote_is_refused_at_its_format_not_misread(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    lock_path = sample_project / LOCK_FILE
    newer = lock_path.read_text().replace(f'"format": {LOCK_FORMAT},', f'"format": {LOCK_FORMAT + 1},')
    lock_path.write_text(newer)
    with pytest.raises(ProjectError) as refused:
        build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    [problem] = [p for p in refused.value.problems if p.path == LOCK_FILE]
    assert (problem.path, problem.line) == (LOCK_FILE, 2) and "newer than this deckgen reads" in problem.message
    assert "upgrade deckgen" in problem.hint and lock_path.read_text() == newer and not (tmp_path / "b.apkg").exists()


def test_frozen_fails_when_the_lock_is_out_of_date(sample_project: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(sample_project)]).exit_code == 0
    lock_before = (sample_project / LOCK_FILE).read_text()
    assert runner.invoke(main, ["build", "--frozen", str(sample_project)]).exit_code == 0
    cards = sample_project / "cards/02-reversed.yaml"
    cards.write_text(cards.read_text().replace("Death of tissue", "Tissue death"))
    package = (sample_project / "dist/sample-deck.apkg").read_bytes()
    result = runner.invoke(main, ["build", "--frozen", str(sample_project)])
    assert result.exit_code == 1
    assert ("deckgen.lock: the lock is out of date (0 added, 1 changed, 0 removed, 0 note types changed): "
            "changed: term-necrosis (run 'deckgen build' without --frozen") in result.output  # which card, too
    assert (sample_project / LOCK_FILE).read_text() == lock_before
    assert (sample_project / "dist/sample-deck.apkg").read_bytes() == package


def test_report_lists_added_changed_removed_and_moved(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    cards = sample_project / "cards/01-basic.yaml"
    text = cards.read_text()
    text = text.replace("  - id: basic-image", "  - id: basic-two\n    front: Two?\n    back: Two\n  - id: basic-image")
    cards.write_text(text)
    custom = sample_project / "cards/04-custom.yaml"
    custom.write_text(custom.read_text().replace("group: cause", "group: treatment"))
    (sample_project / "cards/02-reversed.yaml").unlink()
    report_file = tmp_path / "release.md"
    result = CliRunner().invoke(main, ["build", str(sample_project), "--report", str(report_file)])
    assert result.exit_code == 0, result.output
    assert "added: basic-two" in result.output
    assert "changed: cause-trauma" in result.output
    assert "removed: term-necrosis (an import never deletes notes" in result.output
    assert "moved: cause-trauma from Causes to Treatment (Anki never moves existing cards" in result.output
    markdown = report_file.read_text()
    assert markdown.startswith("# Sample Deck 1.0\n")
    assert "## Added\n\n- `basic-two`\n" in markdown
    assert "## Removed\n\n- `term-necrosis`: stays in the collections of learners" in markdown
    assert "## Moved\n\n- `cause-trauma`: Causes → Treatment; learners who already have it keep it" in markdown


def test_reusing_a_retired_card_id_is_refused(sample_project: Path, tmp_path: Path) -> None:
    release(sample_project, "1.0.0")
    reversed_cards = sample_project / "cards/02-reversed.yaml"
    text = reversed_cards.read_text()
    reversed_cards.unlink()
    release(sample_project, "1.1.0")
    reversed_cards.write_text(text)
    with pytest.raises(ProjectError) as error:
        build(sample_project, BuildOptions(output=tmp_path / "c.apkg"))
    assert [str(p) for p in error.value.problems if p.severity == "error"] == [
        "cards/02-reversed.yaml:4:5: card 'term-necrosis': this id belonged to a card retired in an earlier "
        "release (ids are never reused: learners still have the old card; give this one a new id, "
        "or add 'restore: true' to bring the old card back on purpose)"
    ]
    assert not (tmp_path / "c.apkg").exists()


def test_changing_a_cards_note_type_is_refused_without_the_flag(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    cards = sample_project / "cards/02-reversed.yaml"
    cards.write_text(cards.read_text().replace("type: reversed", "type: basic"))
    with pytest.raises(ProjectError) as error:
        build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    assert "card 'term-necrosis': the card changes from a reversed note to a basic note" in str(error.value)
    build(sample_project, BuildOptions(output=tmp_path / "b.apkg", allow_note_type_change=True))


def test_a_note_type_fork_is_refused_without_the_flag(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "a.apkg"))
    lock_path = sample_project / LOCK_FILE
    lock = json.loads(lock_path.read_text())
    lock["note_types"]["basic"]["fields"] = ["Question", "Answer", "Extra", "Sources"]  # as an older release had
    lock_path.write_text(json.dumps(lock))
    with pytest.raises(ProjectError) as error:
        build(sample_project, BuildOptions(output=tmp_path / "b.apkg"))
    assert "note type 'basic' changes its field or template names " \
           "(Question, Answer, Extra, Sources -> Front, Back, Extra, Sources)" in str(error.value)
    build(sample_project, BuildOptions(output=tmp_path / "b.apkg", allow_note_type_change=True))


def test_deck_description_shows_sources_and_release_metadata(sample_project: Path, tmp_path: Path, learner) -> None:  # type: ignore[no-untyped-def]
    import_package(learner, build(sample_project, BuildOptions(output=tmp_path / "a.apkg")).output)
    description = learner.decks.by_name("Sample Deck")["desc"]
    assert "A small deck that uses <strong>every</strong> card type" in description
    assert "<li><em>The Sample Book</em>, 2024</li>" in description
    assert "Version: 1.0 · License: CC0 · Authors: Tester" in description


def test_a_replaced_image_reaches_learners_who_have_the_deck(sample_project: Path, tmp_path: Path, learner) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    v1 = build(sample_project, BuildOptions(output=tmp_path / "v1.apkg")).output
    import_package(learner, v1)
    picture = sample_project / "media/dot.png"
    new_bytes = picture.read_bytes() + b"\x00"  # other bytes under the same name (PNG readers skip trailing bytes)
    picture.write_bytes(new_bytes)
    v2 = build(sample_project, BuildOptions(output=tmp_path / "v2.apkg"))
    report = v2.project.report
    assert (report.changed, report.media, report.media_only) == (["basic-image"], ["dot.png"], {"basic-image"})
    assert "changed: basic-image (a media file it shows changed)" in report.lines(v2.project.config)
    assert v2.project.lock.cards["basic-image"].hash == v2.project.old_lock.cards["basic-image"].hash

    log = import_package(learner, v2.output).log  # Anki's default import options
    assert (len(log.updated), len(log.duplicate)) == (1, 5)
    note = learner.get_note(log.updated[0].id.nid)
    shown = note["Front"].split('src="')[1].split('"')[0]
    assert shown != "dot.png"  # Anki kept the learner's old file and took the new one under a new name
    assert (Path(learner.media.dir()) / shown).read_bytes() == new_bytes
    assert hashlib.md5(new_bytes).digest() != hashlib.md5((Path(learner.media.dir()) / "dot.png").read_bytes()).digest()


def test_a_lock_without_media_hashes_records_them_and_changes_nothing(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, BuildOptions(output=tmp_path / "v1.apkg"))
    lock_path = sample_project / LOCK_FILE
    data = json.loads(lock_path.read_text())
    assert list(data["media"]) == ["dot.png"]
    del data["media"]  # as deckgen wrote it before it recorded media
    lock_path.write_text(json.dumps(data))
    (sample_project / "media/dot.png").write_bytes((sample_project / "media/dot.png").read_bytes() + b"\x00")
    with pytest.raises(ProjectError, match="the lock does not record the media files' hashes yet"):
        build(sample_project, BuildOptions(output=tmp_path / "v2.apkg", frozen=True))
    again = build(sample_project, BuildOptions(output=tmp_path / "v2.apkg"))
    assert again.project.report.changed == [] and again.project.report.media == []
    assert again.project.lock.cards == again.project.old_lock.cards
    assert "dot.png" in json.loads(lock_path.read_text())["media"]


def test_learners_see_one_line_values_as_written_and_images_named_with_spaces(make_project, tmp_path: Path, learner) -> None:  # type: ignore[no-untyped-def]
    picture = b"\x89PNG\r\n\x1a\n a picture"
    project = make_project({"cards/causes.yaml": (
        "group: cause\ncards:\n  - id: gt\n    front: Bound?\n    back: '> 99 %'\n"
        "  - id: minus\n    front: Change?\n    back: '- 0.5 mmol/L'\n  - id: doses\n    front: Doses?\n"
        "    back: '# of doses: 7'\n  - id: ring\n    front: Ring?\n    back: '![ring](<my ring.png>)'\n"),
        "media/my ring.png": picture})
    import_package(learner, build(project, BuildOptions(output=tmp_path / "t.apkg")).output)
    backs = {note["Front"]: note["Back"] for note in map(learner.get_note, learner.find_notes(""))}
    assert (backs["Bound?"], backs["Change?"], backs["Doses?"]) == ("&gt; 99 %", "- 0.5 mmol/L", "# of doses: 7")
    assert "<img" in backs["Ring?"]
    check = learner.media.check()  # Anki's own "Check Media": the note's image is the file, found
    assert (list(check.missing), list(check.unused)) == ([], [])
    assert (Path(learner.media.dir()) / "my ring.png").read_bytes() == picture


def test_rehearse_delivers_a_replaced_image_and_edits_no_note_that_shows_it(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from deckgen.release.rehearse import rehearse_project

    project = make_project({"cards/causes.yaml": "group: cause\ncards:\n  - id: ring\n    front: Ring?\n"
                                                 "    back: '![ring](ring.png)'\n", "media/ring.png": b"\x89PNG one"})
    v1 = build(project, BuildOptions(output=tmp_path / "v1.apkg")).output
    (project / "media/ring.png").write_bytes(b"\x89PNG two")
    rehearsal = rehearse_project(v1, project)
    assert [note.card_id for note in rehearsal.updated] == ["ring"]
    assert rehearsal.own_edit is None  # its one note changes: the learner's edit is tried on no note
    assert not rehearsal.loses_anything


def test_an_edit_taken_back_gets_the_released_time_unless_a_file_it_shows_changed_since() -> None:
    """Back to the released text: the release's time again (learners keep their edits); but a picture it shows that
    changed after that release must still reach them, so then the build's time."""
    from types import SimpleNamespace

    from deckgen.build.lock import update_lock
    from deckgen.build.lock_file import Entry, Lock, Release, Released

    def lock(picture_changed: int) -> Lock:
        return Lock(cards={"a": Entry("edited", 300, 100, "", "basic")}, media={"x.png": Entry("m", picture_changed, 50)},
                    releases={"1.0.0": Release(150, {})},
                    released={"a": Released("released", "", "basic", (0,), 1, "", "1.0.0", time=100)})

    note = SimpleNamespace(card_id="a", hash="released", group="", note_type="basic", media=("x.png",))
    assert update_lock(lock(50), [note], {}, 400).cards["a"].mtime == 100  # type: ignore[list-item]
    assert update_lock(lock(200), [note], {}, 400).cards["a"].mtime == 400  # type: ignore[list-item]
