"""The deck options preset (`options:` in deckgen.yaml), checked with the official Anki backend.

Anki takes a package's presets only when the learner ticks "Import any deck presets"
(`with_deck_configs=True`); without it the decks keep the learner's Default preset.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Callable

import pytest

from ankitools import import_package, open_collection
from conftest import CliRun
from deckgen.build.pipeline import BuildOptions, build
from deckgen.build.package import stable_id

CONFIG = """\
deck: Medicine::Gout
key: gout
groups:
  cause: Causes
  treatment:
    title: Treatment
    groups:
      acute: Acute flare
options:
  name: Gout, gently
  new_per_day: 7
  reviews_per_day: 150
  learning_steps: [30s, 10m, 1h, 1d]
  relearning_steps: [15m]
  maximum_interval: 3650
  desired_retention: 0.85
  new_card_order: random
"""
CARDS = """\
cards:
  - id: urate
    group: cause
    front: Which crystal deposits in gout?
    back: Monosodium urate
  - id: colchicine
    group: treatment/acute
    front: Which drug ends an acute flare?
    back: Colchicine
"""
OWN_DECKS = ["Medicine::Gout", "Medicine::Gout::Causes", "Medicine::Gout::Treatment",
             "Medicine::Gout::Treatment::Acute flare"]


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({"deckgen.yaml": CONFIG, "cards/gout.yaml": CARDS}, base=False)


def _presets(col) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    """Deck name -> the preset Anki gives that deck."""
    return {d.name: col.decks.config_dict_for_deck_id(d.id) for d in col.decks.all_names_and_ids()}


def test_the_preset_arrives_with_import_any_deck_presets(project: Path, tmp_path: Path) -> None:
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg, with_deck_configs=True)
        presets = _presets(col)
    for deck in OWN_DECKS:
        preset = presets[deck]
        assert preset["name"] == "Gout, gently"
        assert (preset["new"]["perDay"], preset["rev"]["perDay"]) == (7, 150)
        assert preset["new"]["delays"] == [0.5, 10, 60, 1440]  # minutes
        assert preset["lapse"]["delays"] == [15]
        assert preset["rev"]["maxIvl"] == 3650
        assert preset["desiredRetention"] == pytest.approx(0.85)
        assert preset["new"]["order"] == 0  # random
    assert presets["Medicine"]["id"] == 1  # a parent deck keeps the learner's Default preset


def test_without_the_tick_the_decks_keep_the_default_preset(project: Path, tmp_path: Path) -> None:
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        assert len(import_package(col, apkg).log.new) == 2  # the import dialog's defaults
        presets = _presets(col)
        assert [c["name"] for c in col.decks.all_config()] == ["Default"]
    assert {presets[deck]["id"] for deck in OWN_DECKS} == {1}
    assert presets["Medicine::Gout"]["new"]["perDay"] == 20


def test_a_release_changes_the_preset_only_when_the_options_change(project: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    v1 = build(project, BuildOptions(output=tmp_path / "v1.apkg"))
    first = v1.project.lock.deck_options["preset"].mtime
    assert v1.project.report.first_release
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, v1.output, with_deck_configs=True)
        own = col.decks.config_dict_for_deck_id(col.decks.id_for_name("Medicine::Gout"))
        assert own["id"] == stable_id("gout", "deck options", str(first))
        own["new"]["perDay"] = 3  # the learner's own tweak
        col.decks.update_config(own)

        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(first + 100))
        same = build(project, BuildOptions(output=tmp_path / "v2.apkg"))
        assert same.project.report.empty
        import_package(col, same.output, with_deck_configs=True)
        assert col.decks.config_dict_for_deck_id(col.decks.id_for_name("Medicine::Gout"))["new"]["perDay"] == 3

        (project / "deckgen.yaml").write_text(CONFIG.replace("new_per_day: 7", "new_per_day: 12"))
        changed = build(project, BuildOptions(output=tmp_path / "v3.apkg"))
        assert changed.project.report.deck_options
        assert any(line.startswith("deck options changed") for line in changed.project.report.lines(changed.project.config))
        assert changed.project.lock.deck_options["preset"].mtime == first + 100
        import_package(col, changed.output, with_deck_configs=True)
        presets = _presets(col)
    assert {presets[deck]["new"]["perDay"] for deck in OWN_DECKS} == {12}
    assert {presets[deck]["id"] for deck in OWN_DECKS} == {stable_id("gout", "deck options", str(first + 100))}


def test_the_lock_keeps_the_options_table_only_when_there_are_options(project: Path, tmp_path: Path,
                                                                     deckgen: Callable[..., CliRun]) -> None:
    assert deckgen("build", project, "-o", tmp_path / "a.apkg").exit_code == 0
    assert set(json.loads((project / "deckgen.lock").read_text())["deck_options"]) == {"preset"}
    (project / "deckgen.yaml").write_text(CONFIG.replace("new_per_day: 7", "new_per_day: 8"))
    frozen = deckgen("build", project, "-o", tmp_path / "b.apkg", "--frozen")
    assert frozen.exit_code == 1  # the lock is out of date: the preset changed
    (project / "deckgen.yaml").write_text(CONFIG.split("options:")[0])
    assert deckgen("build", project, "-o", tmp_path / "c.apkg").exit_code == 0
    assert "deck_options" not in json.loads((project / "deckgen.lock").read_text())


@pytest.mark.parametrize(("options", "expected"), [
    ("  new_per_dya: 7\n", ["deckgen.yaml:11:3: unknown deck option 'new_per_dya' (did you mean 'new_per_day'?)"]),
    ("  new_per_day: -1\n  reviews_per_day: 10000\n  maximum_interval: 0\n",
     ["deckgen.yaml:11:16: deck option 'new_per_day' is -1; Anki takes 0 to 9999",
      "deckgen.yaml:12:20: deck option 'reviews_per_day' is 10000; Anki takes 0 to 9999",
      "deckgen.yaml:13:21: deck option 'maximum_interval' is 0; Anki takes 1 to 36500"]),
    ("  new_per_day: many\n  reviews_per_day: 2.5\n",
     ["deckgen.yaml:11:16: deck option 'new_per_day' must be a whole number, not text",
      "deckgen.yaml:12:20: deck option 'reviews_per_day' must be a whole number, not the number 2.5"]),
    ("  desired_retention: 1.2\n",
     ["deckgen.yaml:11:22: deck option 'desired_retention' is 1.2; Anki takes 0.70 to 0.99 "
      "(0.9 means 90% of reviews are meant to be remembered)"]),
    ("  learning_steps: [1m, 10 minutes, 0m]\n  relearning_steps: 1x\n",
     ["deckgen.yaml:11:24: step 2 of 'learning_steps' is '10 minutes', not a step (a step is a number and a "
      "unit: 30s, 1m, 10m, 1h, 1d)",
      "deckgen.yaml:11:36: step 3 of 'learning_steps' is '0m', not a step (a step is a number and a unit: "
      "30s, 1m, 10m, 1h, 1d)",
      "deckgen.yaml:12:21: step 1 of 'relearning_steps' is '1x', not a step (a step is a number and a unit: "
      "30s, 1m, 10m, 1h, 1d)"]),
    ("  new_card_order: shuffled\n",
     ["deckgen.yaml:11:19: unknown new card order 'shuffled' (due (deck by deck, each in source order), source (source order across the subdecks) or random)"]),
])
def test_option_mistakes_are_located(make_project: Callable[..., Path], deckgen: Callable[..., CliRun],
                                     options: str, expected: list[str]) -> None:
    config = CONFIG.split("options:")[0] + "options:\n  name: Gout\n" + options
    run = deckgen("check", make_project({"deckgen.yaml": config, "cards/gout.yaml": CARDS}, base=False))
    assert run.exit_code == 1
    assert run.problems == expected


def test_steps_may_be_empty(make_project: Callable[..., Path], tmp_path: Path) -> None:
    config = CONFIG.replace("learning_steps: [30s, 10m, 1h, 1d]", "learning_steps: []")
    project = make_project({"deckgen.yaml": config, "cards/gout.yaml": CARDS}, base=False)
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg, with_deck_configs=True)
        assert _presets(col)["Medicine::Gout"]["new"]["delays"] == []


@pytest.mark.parametrize(("order", "first"), [("due", "Which crystal deposits in gout?"),
                                              ("source", "Which drug ends an acute flare?")])
def test_new_card_order_is_the_order_anki_shows_new_cards(make_project: Callable[..., Path], tmp_path: Path,
                                                          order: str, first: str) -> None:
    """due: subdeck by subdeck (Anki's deck order: Causes before Treatment), each in source order; source: the
    order of `groups:` (Treatment first here), whatever the order of the files and cards."""
    config = CONFIG.replace("new_card_order: random", f"new_card_order: {order}")
    config = config.replace("  cause: Causes\n", "").replace("      acute: Acute flare\n", "      acute: Acute flare\n"
                                                                "  cause: Causes\n")
    project = make_project({"deckgen.yaml": config, "cards/gout.yaml": CARDS}, base=False)
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg, with_deck_configs=True)
        col.decks.select(col.decks.id_for_name("Medicine::Gout"))
        assert col.sched.getCard().note().fields[0] == first


def test_reordering_groups_leaves_learners_positions_alone(make_project: Callable[..., Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """New-card positions follow `groups:`; a learner who has the cards keeps the positions they came with."""
    config = CONFIG.replace("new_card_order: random", "new_card_order: source")
    project = make_project({"deckgen.yaml": config, "cards/gout.yaml": CARDS}, base=False)
    v1 = build(project, BuildOptions(output=tmp_path / "v1.apkg"))
    reordered = config.replace("  cause: Causes\n", "").replace("      acute: Acute flare\n",
                                                                  "      acute: Acute flare\n  cause: Causes\n")
    (project / "deckgen.yaml").write_text(reordered, encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(v1.project.lock.deck_options["preset"].mtime + 100))
    v2 = build(project, BuildOptions(output=tmp_path / "v2.apkg"))
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, v1.output, with_deck_configs=True)
        before = dict(col.db.all("select nid, due from cards"))
        import_package(col, v2.output, with_deck_configs=True)
        assert dict(col.db.all("select nid, due from cards")) == before and len(before) == 2
    (tmp_path / "new").mkdir()
    with contextlib.closing(open_collection(tmp_path / "new")) as col:  # a new learner: the new order
        import_package(col, v2.output, with_deck_configs=True)
        col.decks.select(col.decks.id_for_name("Medicine::Gout"))
        assert col.sched.getCard().note().fields[0] == "Which drug ends an acute flare?"


def test_random_order_shows_random_notes(project: Path, tmp_path: Path) -> None:
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg, with_deck_configs=True)
        config_id = col.decks.config_dict_for_deck_id(col.decks.id_for_name("Medicine::Gout"))["id"]
        assert col.decks.get_config(config_id)["newGatherPriority"] == 3  # random notes


def test_removing_the_options_leaves_learners_on_the_preset_they_have(project: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    v1 = build(project, BuildOptions(output=tmp_path / "v1.apkg"))
    (project / "deckgen.yaml").write_text(CONFIG.split("options:")[0])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(v1.project.lock.deck_options["preset"].mtime + 100))
    v2 = build(project, BuildOptions(output=tmp_path / "v2.apkg"))
    assert v2.project.report.deck_options and not v2.project.lock.deck_options
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, v1.output, with_deck_configs=True)
        import_package(col, v2.output, with_deck_configs=True)
        assert {_presets(col)[deck]["name"] for deck in OWN_DECKS} == {"Gout, gently"}


SET_BY_OPTIONS = {"id", "mod", "name", "usn", "desiredRetention", "newGatherPriority", "new.perDay", "new.delays",
                  "new.order", "rev.perDay", "rev.maxIvl", "lapse.delays"}  # what `options:` may set


def _flat(preset: dict, prefix: str = "") -> dict[str, object]:  # type: ignore[type-arg]
    """A preset as 'section.key' -> value."""
    flat: dict[str, object] = {}
    for key, value in preset.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


@pytest.mark.parametrize("options", ["options:\n  new_per_day: 7\n", "options: {}\n",
                                     "options:\n" + CONFIG.split("options:\n")[1]], ids=["one", "none", "all"])
def test_a_preset_keeps_ankis_defaults_for_every_option_it_leaves_out(make_project: Callable[..., Path],
                                                                       tmp_path: Path, options: str) -> None:
    """Option by option against a fresh collection's Default preset, as the backend has both."""
    config = CONFIG.split("options:\n")[0] + options
    project = make_project({"deckgen.yaml": config, "cards/gout.yaml": CARDS}, base=False)
    apkg = build(project, BuildOptions(output=tmp_path / "gout.apkg")).output
    with contextlib.closing(open_collection(tmp_path)) as col:
        default = _flat(col.decks.get_config(1))  # type: ignore[arg-type]
        import_package(col, apkg, with_deck_configs=True)
        imported = _flat(_presets(col)["Medicine::Gout"])
    differing = {key: (imported.get(key), value) for key, value in default.items()
                 if key not in SET_BY_OPTIONS and imported.get(key) != value}
    assert differing == {}
    assert imported.keys() >= default.keys()
