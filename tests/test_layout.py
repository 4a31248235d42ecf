"""The deck layout, checked with the official Anki backend: a '::' deck path with its parent decks,
nested groups as nested subdecks with nested tags, a flat deck, the report's moves, and located
mistakes in the layout."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from ankitools import import_package, open_collection
from conftest import CliRun
from deckgen.build.pipeline import BuildOptions, build
from deckgen.build.package import stable_id

GOUT_CONFIG = """\
deck: Medicine::Pathology::Gout
key: gout
groups:
  cause: Causes
  treatment:
    title: Treatment
    groups:
      acute: Acute flare
      chronic: Long-term care
"""
GOUT_CARDS = """\
group: treatment/acute
cards:
  - id: urate
    group: cause
    front: Which crystal deposits in gout?
    back: Monosodium urate
  - id: treat-goal
    group: treatment
    front: What are the two aims of treating gout?
    back: End the flare, then prevent the next one
  - id: colchicine
    front: Which drug ends an acute flare?
    back: Colchicine
  - id: nsaid
    front: Which other class of drug ends an acute flare?
    back: NSAIDs
  - id: allopurinol
    group: treatment/chronic
    front: Which drug lowers urate in the long term?
    back: Allopurinol
"""
ROOT = "Medicine::Pathology::Gout"
WHERE = {  # card id -> the deck its card lands in, and its group tag
    "urate": ("Causes", "Causes"),
    "treat-goal": ("Treatment", "Treatment"),
    "colchicine": ("Treatment::Acute flare", "Treatment::Acute_flare"),
    "nsaid": ("Treatment::Acute flare", "Treatment::Acute_flare"),
    "allopurinol": ("Treatment::Long-term care", "Treatment::Long-term_care"),
}


@pytest.fixture
def gout(make_project: Callable[..., Path]) -> Path:
    return make_project({"deckgen.yaml": GOUT_CONFIG, "cards/gout.yaml": GOUT_CARDS}, base=False)


def _notes_by_front(col) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """First field -> (the deck of its card, its tags)."""
    out = {}
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        note = card.note()
        out[note.fields[0]] = (col.decks.name(card.did), " ".join(note.tags))
    return out


def _package_decks(apkg: Path, tmp_path: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """The decks a package holds, by name, as written in its collection."""
    with zipfile.ZipFile(apkg) as archive:
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    with contextlib.closing(sqlite3.connect(tmp_path / "c.anki2")) as db:
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
    return {deck["name"]: deck for deck in decks.values()}


def test_parent_and_nested_subdecks_with_nested_tags(gout: Path, tmp_path: Path) -> None:
    apkg = build(gout, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        assert len(import_package(col, apkg).log.new) == 5
        names = {d.name for d in col.decks.all_names_and_ids()}
        assert names == {"Default", "Medicine", "Medicine::Pathology", ROOT, f"{ROOT}::Causes",
                         f"{ROOT}::Treatment", f"{ROOT}::Treatment::Acute flare", f"{ROOT}::Treatment::Long-term care"}
        fronts = {front: card_id for card_id, front in _fronts().items()}
        landed = _notes_by_front(col)
        for front, (deck, tags) in landed.items():
            subdeck, tag = WHERE[fronts[front]]
            assert deck == f"{ROOT}::{subdeck}"
            assert tags == f"Medicine::Pathology::Gout::{tag}"


def _fronts() -> dict[str, str]:
    return {"urate": "Which crystal deposits in gout?", "treat-goal": "What are the two aims of treating gout?",
            "colchicine": "Which drug ends an acute flare?", "nsaid": "Which other class of drug ends an acute flare?",
            "allopurinol": "Which drug lowers urate in the long term?"}


def test_deck_ids_follow_the_design(gout: Path, tmp_path: Path) -> None:
    """Root deck and groups: ids from the key and the group path; parents from their full names."""
    decks = _package_decks(build(gout, BuildOptions(output=tmp_path / "gout.apkg")).output, tmp_path)
    assert decks[ROOT]["id"] == stable_id("gout", "deck")
    assert decks[f"{ROOT}::Treatment::Acute flare"]["id"] == stable_id("gout", "deck", "treatment/acute")
    assert decks[f"{ROOT}::Causes"]["id"] == stable_id("gout", "deck", "cause")
    assert decks["Medicine"]["id"] == stable_id("gout", "parent deck", "Medicine")
    assert decks["Medicine::Pathology"]["id"] == stable_id("gout", "parent deck", "Medicine::Pathology")
    assert decks["Medicine"]["desc"] == ""  # a learner's own parent deck keeps its description


def test_a_learners_own_parent_deck_is_reused(gout: Path, tmp_path: Path) -> None:
    apkg = build(gout, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        medicine = col.decks.id("Medicine")
        deck = col.decks.get(medicine)
        deck["desc"] = "my medicine decks"
        col.decks.save(deck)
        import_package(col, apkg)
        assert [d.id for d in col.decks.all_names_and_ids() if d.name == "Medicine"] == [medicine]
        assert col.decks.get(medicine)["desc"] == "my medicine decks"
        assert col.decks.by_name(ROOT)["desc"] == ""  # the project has no description


def test_groups_without_cards_of_their_own_are_still_parents(make_project: Callable[..., Path], tmp_path: Path) -> None:
    cards = GOUT_CARDS.replace("    group: treatment\n", "    group: cause\n")
    project = make_project({"deckgen.yaml": GOUT_CONFIG, "cards/gout.yaml": cards}, base=False)
    decks = _package_decks(build(project, BuildOptions(output=tmp_path / "gout.apkg")).output, tmp_path)
    assert f"{ROOT}::Treatment" in decks and decks[f"{ROOT}::Treatment"]["id"] == stable_id("gout", "deck", "treatment")


def test_a_deck_without_groups_is_flat(make_project: Callable[..., Path], tmp_path: Path,
                                       deckgen: Callable[..., CliRun]) -> None:
    cards = GOUT_CARDS.replace("group: treatment/acute\n", "").replace("    group: cause\n", "")
    cards = cards.replace("    group: treatment\n", "").replace("    group: treatment/chronic\n", "")
    project = make_project({"deckgen.yaml": "deck: Rheumatology::Gout\nkey: gout\n", "cards/gout.yaml": cards},
                           base=False)
    run = deckgen("build", project, "-o", tmp_path / "flat.apkg")
    assert run.exit_code == 0, run.stderr
    assert "5 notes, all in the deck Rheumatology::Gout" in run.stdout
    with contextlib.closing(open_collection(tmp_path)) as col:
        assert len(import_package(col, tmp_path / "flat.apkg").log.new) == 5
        assert {d.name for d in col.decks.all_names_and_ids()} == {"Default", "Rheumatology", "Rheumatology::Gout"}
        assert set(_notes_by_front(col).values()) == {("Rheumatology::Gout", "Rheumatology::Gout")}
    lock = json.loads((project / "deckgen.lock").read_text())
    assert {row[3] for row in lock["cards"].values()} == {""}


def test_no_groups_are_invented(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    """Without 'groups:', a card naming the old default groups is an error, not a silent subdeck."""
    project = make_project({"deckgen.yaml": "deck: Gout\nkey: gout\n"})  # the minimal cards say group: cause
    run = deckgen("check", project)
    assert run.exit_code == 1
    assert run.problems == ["cards/causes.yaml:1:8: unknown group 'cause' (this deck has no groups: add "
                            "'groups:' to deckgen.yaml, or leave 'group:' out)"]


def test_build_prints_the_nested_layout(gout: Path, tmp_path: Path, deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("build", gout, "-o", tmp_path / "gout.apkg")
    assert run.stdout.splitlines()[:6] == [
        f"wrote {tmp_path / 'gout.apkg'}: 5 notes in 4 subdecks",
        "  Causes            1",
        "  Treatment         1",
        "    Acute flare     2",
        "    Long-term care  1",
        "  first release: 5 cards added",
    ]


def test_the_report_names_moves_across_nested_groups(gout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    v1 = build(gout, BuildOptions(output=tmp_path / "v1.apkg")).output
    cards = gout / "cards/gout.yaml"
    text = cards.read_text().replace("  - id: urate\n    group: cause\n", "  - id: urate\n    group: treatment/chronic\n")
    cards.write_text(text.replace("  - id: allopurinol\n    group: treatment/chronic\n", "  - id: allopurinol\n"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(json.loads((gout / "deckgen.lock").read_text())
                                                 ["note_types"]["basic"]["mtime"] + 100))
    v2 = build(gout, BuildOptions(output=tmp_path / "v2.apkg", report=tmp_path / "report.md"))
    lines = v2.project.report.lines(v2.project.config)
    assert "moved: urate from Causes to Treatment::Long-term care (Anki never moves existing cards: learners " \
           "who have it keep it in the old subdeck)" in lines
    assert any(line.startswith("moved: allopurinol from Treatment::Long-term care to Treatment::Acute flare")
               for line in lines)
    assert "- `urate`: Causes → Treatment::Long-term care; " in (tmp_path / "report.md").read_text()
    with contextlib.closing(open_collection(tmp_path)) as col:  # what the report warns about, with Anki
        import_package(col, v1)
        log = import_package(col, v2.output).log
        assert (len(log.new), len(log.conflicting)) == (0, 0)
        assert _notes_by_front(col)[_fronts()["urate"]][0] == f"{ROOT}::Causes"
        assert _notes_by_front(col)[_fronts()["urate"]][1] == f"{ROOT.replace(' ', '_')}::Treatment::Long-term_care"


@pytest.mark.parametrize(("config", "cards", "expected"), [
    ("deck: Medicine::::Gout\nkey: g\n", None,
     ["deckgen.yaml:1:7: the deck path 'Medicine::::Gout' has an empty part (write it as 'Parent::Child::Deck', "
      "each part a name)"]),
    ("deck: G\nkey: g\ngroups:\n  cause: Causes::Local\n", None,
     ["deckgen.yaml:4:10: group title 'Causes::Local' cannot contain '::' (nest a group inside another with "
      "{title: ..., groups: {...}})"]),
    ("deck: G\nkey: g\ngroups:\n  cause: Causes\n  other:\n    title: causes\n", None,
     ["deckgen.yaml:6:12: groups 'cause' and 'other' share the title 'causes' (each group is its own subdeck)"]),
    ("deck: G\nkey: g\ngroups:\n  cause:\n    titel: Causes\n    groups: {local: Local}\n", None,
     ["deckgen.yaml:5:5: group 'cause' has no 'title' (the title is the subdeck's name learners see)",
      "deckgen.yaml:5:5: unknown key of group 'cause' 'titel' (did you mean 'title'?)"]),
    ("deck: G\nkey: g\ngroups:\n  cause:\n    title: Causes\n    groups: [local, general]\n", None,
     ["deckgen.yaml:6:13: the subgroups of group 'cause' must be a mapping, not a list (write them as key: "
      "Title, one a line)"]),
    ("deck: G\nkey: g\ngroups:\n  cause:\n    title: Causes\n    groups:\n      local x: Local\n", None,
     ["deckgen.yaml:7:7: group key 'local x' must be letters, digits, '-', '_' or '.' (the key is what cards "
      "name in 'group:'; the title is what learners see)"]),
    (GOUT_CONFIG, "group: acute\ncards:\n  - id: a\n    front: A\n    back: B\n",
     ["cards/causes.yaml:1:8: unknown group 'acute' (a nested group is named by its path: did you mean "
      "'treatment/acute'?)"]),
    (GOUT_CONFIG, "cards:\n  - id: a\n    group: treatment/acut\n    front: A\n    back: B\n",
     ["cards/causes.yaml:3:12: card 'a': unknown group 'treatment/acut' (did you mean 'treatment/acute'?)"]),
])
def test_layout_mistakes_are_located(make_project: Callable[..., Path], deckgen: Callable[..., CliRun],
                                     config: str, cards: str | None, expected: list[str]) -> None:
    files = {"deckgen.yaml": config, **({"cards/causes.yaml": cards} if cards else {})}
    run = deckgen("check", make_project(files))
    assert run.exit_code == 1
    assert run.problems == expected


def test_a_card_may_stay_in_the_deck_itself_beside_its_groups(make_project: Callable[..., Path], tmp_path: Path) -> None:
    cards = GOUT_CARDS + "  - id: overview\n    group: ''\n    front: What is gout?\n    back: Arthritis from urate\n"
    project = make_project({"deckgen.yaml": GOUT_CONFIG, "cards/gout.yaml": cards}, base=False)
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg)
        assert _notes_by_front(col)["What is gout?"] == (ROOT, "Medicine::Pathology::Gout")
