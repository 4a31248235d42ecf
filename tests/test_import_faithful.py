"""Importing real-world shapes faithfully: each is made into a package by the official backend, imported,
rebuilt, and compared with the original as Anki stores and shows it (fields and tags byte for byte, media,
presets, descriptions), and re-imported by a learner of the original with nothing new and nothing conflicting."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection, ExportAnkiPackageOptions
from anki.decks import DeckId
from anki.exporting import DeckIdLimit  # type: ignore[attr-defined]
from click.testing import CliRunner

from deckgen.cli import main
from tests.ankitools import import_package
from tests.importsamples import export_crowdanki

FORMATS = ("current", "legacy")


def make_deck(folder: Path, notes: list[tuple[str, tuple[str, str], tuple[str, ...]]], legacy: bool,
              media: dict[str, bytes] | None = None, setup: Any = None) -> Path:
    """A package the backend exports: 'Basic' notes (deck, (Front, Back), tags), the media files, and whatever
    `setup(col)` adds (presets, descriptions); presets go with it."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(Collection(str(folder / "collection.anki2"))) as col:
        for name, data in (media or {}).items():
            (Path(col.media.dir()) / name).write_bytes(data)
        basic = col.models.by_name("Basic")
        for deck, (front, back), tags in notes:
            note = col.new_note(basic)  # type: ignore[arg-type]
            note.fields[:] = [front, back]
            note.tags = list(tags)
            col.add_note(note, DeckId(col.decks.id(deck)))  # type: ignore[arg-type]
        if setup is not None:
            setup(col)
        root = notes[0][0].split("::")[0]
        path = folder / "deck.apkg"
        col.export_anki_package(out_path=str(path), limit=DeckIdLimit(DeckId(col.decks.id(root))),  # type: ignore[arg-type]
                                options=ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=True,
                                                                 with_media=True, legacy=legacy))
    return path


def round_trip(package: Path, tmp_path: Path, source: Path | None = None, *args: str
               ) -> tuple[Path, dict[str, Any], dict[str, Any], Any]:
    """Import (the package, or `source` with `args`), build; fresh collections of the original and the rebuilt
    package (presets imported too), and the log of a learner of the original importing the rebuilt package."""
    project, rebuilt = tmp_path / "project", tmp_path / "rebuilt.apkg"
    result = CliRunner().invoke(main, ["import", *args, str(source or package), str(project)])
    assert result.exit_code == 0, result.output
    built = CliRunner().invoke(main, ["build", str(project), "-o", str(rebuilt)])
    assert built.exit_code == 0, built.output
    states = []
    for name, source in (("original", package), ("rebuilt", rebuilt)):
        (tmp_path / name).mkdir()
        with contextlib.closing(Collection(str(tmp_path / name / "c.anki2"))) as col:
            import_package(col, source, with_deck_configs=True)
            states.append(_state(col))
    (tmp_path / "learner").mkdir()
    with contextlib.closing(Collection(str(tmp_path / "learner" / "c.anki2"))) as learner:
        import_package(learner, package)
        log = import_package(learner, rebuilt).log
    return project, states[0], states[1], log


def _state(col: Collection) -> dict[str, Any]:
    """What a learner's collection holds of the deck: notes as stored, media, presets and descriptions."""
    notes = {}
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        notes[note.guid] = (list(note.fields), note.string_tags())
    decks = {}
    for deck in col.decks.all_names_and_ids():
        if deck.name == "Default":
            continue
        config = col.decks.config_dict_for_deck_id(deck.id)
        decks[deck.name] = (config["name"], config["new"]["perDay"], config["rev"]["perDay"],
                            col.decks.get(deck.id)["desc"])  # type: ignore[index]
    media = sorted(path.name for path in Path(col.media.dir()).iterdir())
    return {"notes": notes, "decks": decks, "media": media}


def _unchanged(log: Any) -> None:
    assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_fields_and_tags_come_back_byte_for_byte(fmt: str, tmp_path: Path) -> None:
    notes = [("Words", ("What is <b>gout</b>?", "a<br>b"), ("UG::Oceania",)),
             ("Words", ("Bed & Breakfast", 'say "hi"&nbsp;'), ()),
             ("Words", ("タ ", "H<sub>2</sub>O "), ("exam",)),
             ("Words", ("<strong>bold</strong> word", "plain text"), ())]
    project, original, rebuilt, log = round_trip(make_deck(tmp_path / "src", notes, fmt == "legacy"), tmp_path)
    _unchanged(log)
    assert rebuilt["notes"] == original["notes"]
    assert yaml.safe_load((project / "deckgen.yaml").read_text("utf-8"))["group_tags"] is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_media_in_every_form_anki_reads(fmt: str, tmp_path: Path) -> None:
    media = {"amsel.jpg": b"jpg", "Oriole,  Pirol.mp3": b"mp3", "flag.svg": b"<svg/>", "bg.png": b"png",
             "quoted.png": b"q"}
    notes = [("Birds", ("<img src=amsel.jpg>", "[sound:Oriole,  Pirol.mp3]"), ()),
             ("Birds", ('<img src="flag.svg" />', "<img src='quoted.png'>"), ()),
             ("Birds", ('<div style="background: url(bg.png)">x</div>', "y"), ())]
    project, original, rebuilt, log = round_trip(make_deck(tmp_path / "src", notes, fmt == "legacy", media), tmp_path)
    _unchanged(log)
    assert rebuilt["notes"] == original["notes"]
    shipped = sorted(set(media) - {"bg.png"})  # Anki's export leaves out what only a CSS url() names
    assert rebuilt["media"] == original["media"] == shipped
    assert sorted(path.name for path in (project / "media").iterdir()) == shipped
    assert yaml.safe_load((project / "deckgen.yaml").read_text("utf-8"))["missing_media"] == ["bg.png"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_latex_images_anki_rendered_are_kept_and_shipped(fmt: str, tmp_path: Path) -> None:
    fronts = [r"[latex]\alpha<br>\beta[/latex]", "[$]x_1[/$]", "{{c1::[$$]e^{i\\pi}[/$$]}}"]
    with contextlib.closing(Collection(str(tmp_path / "names.anki2"))) as col:  # Anki's own names for them
        names = [extracted.filename for front in fronts
                 for extracted in col._backend.extract_latex(text=front, svg=False, expand_clozes=True).latex]
    notes = [("Physics", (front, "answer"), ()) for front in fronts]
    package = make_deck(tmp_path / "src", notes, fmt == "legacy", {name: b"png" for name in names})
    project, original, rebuilt, log = round_trip(package, tmp_path)
    _unchanged(log)
    assert rebuilt["media"] == original["media"] == sorted(names) and len(names) == 3
    assert "missing_media" not in yaml.safe_load((project / "deckgen.yaml").read_text("utf-8"))
    cards = (project / "cards" / "physics.yaml").read_text("utf-8")
    assert "'[latex]\\alpha<br>\\beta[/latex]'" in cards  # TeX as written: one backslash each


@pytest.mark.parametrize("fmt", FORMATS)
def test_presets_and_descriptions_per_deck(fmt: str, tmp_path: Path) -> None:
    def setup(col: Collection) -> None:
        for deck, name, per_day in (("Kanji", "Kanji", 10), ("Kanji::Kana", "Kana", 5)):
            config = col.decks.add_config(name)
            config["new"]["perDay"] = per_day
            col.decks.update_config(config)
            deck_dict = col.decks.get(DeckId(col.decks.id(deck)))
            deck_dict["conf"] = config["id"]  # type: ignore[index]
            deck_dict["desc"] = f"<b>{name}</b> &amp; more " if deck == "Kanji" else ""  # type: ignore[index]
            col.decks.save(deck_dict)
        for deck, description in (("Kanji::Kana", "Kana <i>only</i>\n"), ("Kanji::Kana::Extra", "Rare ones")):
            deck_dict = col.decks.get(DeckId(col.decks.id(deck)))
            deck_dict["desc"] = description  # type: ignore[index]
            col.decks.save(deck_dict)

    notes = [("Kanji", ("日", "day"), ()), ("Kanji::Kana::Extra", ("ゐ", "wi"), ())]  # Kana holds no note itself
    project, original, rebuilt, log = round_trip(make_deck(tmp_path / "src", notes, fmt == "legacy", setup=setup),
                                                 tmp_path)
    _unchanged(log)
    assert rebuilt["decks"] == original["decks"]
    assert original["decks"]["Kanji::Kana"][:2] == ("Kana", 5) and original["decks"]["Kanji"][3]
    assert original["decks"]["Kanji::Kana::Extra"][:2] == ("Default", 20)  # a new deck's preset, below Kana's
    assert original["decks"]["Kanji::Kana"][3] == "Kana <i>only</i>\n"
    assert original["decks"]["Kanji::Kana::Extra"][3] == "Rare ones"
    config = yaml.safe_load((project / "deckgen.yaml").read_text("utf-8"))
    assert config["options"]["name"] == "Kanji" and list(config["group_options"]) == ["kana", "kana/extra"]
    assert config["groups"]["kana"]["description"] == "Kana <i>only</i>\n"
    assert config["groups"]["kana"]["groups"]["extra"] == {"title": "Extra", "description": "Rare ones"}


@pytest.mark.parametrize("preset", ["Kana", "Default"])  # a second 'Default' is a preset of its own
def test_a_crowdanki_folder_keeps_presets_field_options_and_subdeck_descriptions(preset: str, tmp_path: Path) -> None:
    def setup(col: Collection) -> None:
        config = col.decks.add_config(preset)
        config["new"]["perDay"], config["rev"]["perDay"] = 5, 50
        col.decks.update_config(config)
        kana = col.decks.get(DeckId(col.decks.id("Kanji::Kana")))
        kana["conf"], kana["desc"] = config["id"], "Kana <b>first</b>"  # type: ignore[index]
        col.decks.save(kana)
        model = col.models.by_name("Basic")
        assert model is not None
        model["flds"][0].update(font="Noto Serif", size=28, rtl=True)
        model["latexPre"] = "\\documentclass{article}\\begin{document}\n"
        col.models.update_dict(model)

    notes = [("Kanji", ("日", "day"), ()), ("Kanji::Kana", ("ゐ", "wi"), ())]
    package = make_deck(tmp_path / "src", notes, True, setup=setup)
    folder = export_crowdanki(tmp_path / "src" / "collection.anki2", tmp_path / "crowd", "Kanji").parent
    project, original, rebuilt, log = round_trip(package, tmp_path, folder, "--note-types", str(package))
    _unchanged(log)
    about = {name: (*values[:3], f"About {name.split('::')[-1]}") for name, values in original["decks"].items()}
    assert rebuilt["decks"] == about  # the presets, and the descriptions the sample CrowdAnki export writes
    assert rebuilt["decks"]["Kanji::Kana"][:3] == (preset, 5, 50)
    with contextlib.closing(Collection(str(tmp_path / "rebuilt" / "c.anki2"))) as col:
        model = col.models.by_name("Basic+")  # the deck's, beside the fresh collection's own Basic
        assert model is not None and model["latexPre"].startswith("\\documentclass{article}")
        assert [(f["font"], f["size"], f["rtl"]) for f in model["flds"]] == [("Noto Serif", 28, True), ("Arial", 20, False)]


def test_card_ids_from_the_first_field_that_reads_as_words(tmp_path: Path) -> None:
    notes = [("Shapes", ('<img src="kosovo.svg">', "Kosovo"), ()),
             ("Shapes", ("[sound:Common Chiffchaff, Zilpzalp.mp3]", "Chiffchaff"), ()),
             ("Shapes", ("[latex]Nennen Sie Quellen[/latex]", "x"), ()),
             ("Shapes", ("12", "Twelve apostles"), ()),
             ("Shapes", ('<img src="only-a-picture.png">', ""), ())]
    media = {"kosovo.svg": b"<svg/>", "Common Chiffchaff, Zilpzalp.mp3": b"mp3", "only-a-picture.png": b"png"}
    project, original, rebuilt, log = round_trip(make_deck(tmp_path / "src", notes, True, media), tmp_path)
    _unchanged(log)
    cards = yaml.safe_load((project / "cards" / "shapes.yaml").read_text("utf-8"))["cards"]
    assert [card["id"] for card in cards] == ["kosovo", "chiffchaff", "nennen-sie-quellen", "twelve-apostles",
                                              "only-a-picture"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_latex_header_and_field_options_are_kept(fmt: str, tmp_path: Path) -> None:
    def setup(col: Collection) -> None:
        model = col.models.by_name("Basic")
        assert model is not None
        model["latexPre"], model["latexPost"] = "\\documentclass{article}\\begin{document}\n", "\\end{document} "
        model["flds"][0].update(font="Noto Serif", size=28, rtl=True, sticky=True)
        model["flds"][1].update(plainText=True)
        col.models.update_dict(model)

    def note_type(collection: Path) -> tuple[object, ...]:
        with contextlib.closing(Collection(str(collection))) as col:
            model = col.models.by_name("Basic+") or col.models.by_name("Basic")
            assert model is not None
            return (model["latexPre"], model["latexPost"],
                    [(f["font"], f["size"], f["rtl"], f["sticky"], f["plainText"]) for f in model["flds"]])

    notes = [("Physics", ("[latex]E=mc^2[/latex]", "energy"), ())]
    project, original, rebuilt, log = round_trip(make_deck(tmp_path / "src", notes, fmt == "legacy", setup=setup),
                                                 tmp_path)
    _unchanged(log)
    kept = note_type(tmp_path / "rebuilt" / "c.anki2")
    assert kept == note_type(tmp_path / "original" / "c.anki2")
    assert kept[2] == [("Noto Serif", 28, True, True, False), ("Arial", 20, False, False, True)]
    written = yaml.safe_load(next((project / "note_types").glob("*.yaml")).read_text("utf-8"))
    assert written["latex_post"] == "\\end{document} " and written["field_options"]["Back"] == {"plainText": True}


def test_the_preview_draws_latex_images_and_says_what_it_cannot_run(tmp_path: Path) -> None:
    front = r"[latex]\alpha[/latex]"
    with contextlib.closing(Collection(str(tmp_path / "names.anki2"))) as col:
        name = col._backend.extract_latex(text=front, svg=False, expand_clozes=False).latex[0].filename

    def setup(col: Collection) -> None:
        model = col.models.by_name("Basic")
        assert model is not None
        model["tmpls"][0]["qfmt"] = "{{Front}}<script>document.body.append('drawn')</script>"
        col.models.update_dict(model)

    package = make_deck(tmp_path / "src", [("Physics", (front, "alpha"), ())], True, {name: b"png"}, setup)
    project, _, _, log = round_trip(package, tmp_path)
    _unchanged(log)
    site = CliRunner().invoke(main, ["preview", str(project), "-o", str(tmp_path / "site")])
    assert site.exit_code == 0, site.output
    question = next((tmp_path / "site" / "cards").glob("*-question.html")).read_text("utf-8")
    assert f'<img class=latex alt="\\alpha" src="{name}">' in question and "[latex]" not in question
    assert "runs a script, which the preview does not run" in question
    assert (tmp_path / "site" / "media" / name).read_bytes() == b"png"


def test_remote_resources_refused_with_a_way_on_and_a_guid_shared_by_two_notes(tmp_path: Path) -> None:
    def setup(col: Collection) -> None:
        model = col.models.by_name("Basic")
        assert model is not None
        model["css"] = "@import url('https://fonts.example.org/css2?family=Mono');\n.card { font-family: Mono; }"
        col.models.update_dict(model)
        first, second = sorted(col.find_notes(""))[:2]
        col.db.execute("update notes set guid = (select guid from notes where id = ?) where id = ?", first, second)

    notes = [("Words", ("first", "1"), ()), ("Words", ("second", "2"), ()), ("Words", ("third", "3"), ())]
    package = make_deck(tmp_path / "src", notes, True, setup=setup)
    refused = CliRunner().invoke(main, ["import", str(package), str(tmp_path / "refused")])
    assert refused.exit_code != 0 and "import with --drop-remote to leave it out" in refused.output
    assert not (tmp_path / "refused").exists()
    project = tmp_path / "project"
    result = CliRunner().invoke(main, ["import", "--drop-remote", str(package), str(project)])
    assert result.exit_code == 0, result.output
    assert "its CSS loads the remote resource 'https://fonts.example.org" in result.output and "left out (--drop-remote)" in result.output
    assert "first field 'second' was left out: an earlier note has its GUID" in result.output
    css = yaml.safe_load(next((project / "note_types").glob("*.yaml")).read_text("utf-8"))["css"]
    assert "example.org" not in css and ".card { font-family: Mono; }" in css
    rebuilt = tmp_path / "rebuilt.apkg"
    assert CliRunner().invoke(main, ["build", str(project), "-o", str(rebuilt)]).exit_code == 0
    (tmp_path / "learner").mkdir()
    with contextlib.closing(Collection(str(tmp_path / "learner" / "c.anki2"))) as learner:
        import_package(learner, package)
        _unchanged(import_package(learner, rebuilt).log)


def test_the_projects_warnings_are_not_said_to_stop_the_build() -> None:
    from deckgen.importer.make_project import _imported_problem
    from deckgen.problems import WARNING, Problem

    unused = Problem("media/x.png", message="media file is not used by any card", severity=WARNING)
    broken = Problem("templates/t.yaml", 3, 1, "unknown note type 'x'")
    assert str(_imported_problem(unused, ({}, {}), "deck.apkg")) == "media/x.png: warning: media file is not used by any card"
    assert "the imported project does not build: unknown note type" in str(_imported_problem(broken, ({}, {}), "d.apkg"))


def test_a_note_type_it_cannot_express_and_the_cards_problems_are_reported_in_one_run(tmp_path: Path) -> None:
    def setup(col: Collection) -> None:
        cloze = col.models.by_name("Cloze")
        assert cloze is not None
        second = col.models.new_template("Second")
        second["qfmt"], second["afmt"] = "{{cloze:Text}}?", "{{cloze:Text}}!"
        col.models.add_template(cloze, second)  # Anki keeps it, and makes cards from the first template only
        col.models.update_dict(cloze)
        note = col.new_note(cloze)
        note.fields[0] = "{{c1::Necrosis}} is death of tissue"
        col.add_note(note, DeckId(col.decks.id("Words")))
        col.db.execute("update notes set tags = ' rheum:::gout ' where flds like 'Gout%'")  # Anki splits it otherwise

    notes = [("Words", ("Gout", "urate"), ()), ("Words", ("Tophus", "deposit"), ())]
    package = make_deck(tmp_path / "src", notes, True, setup=setup)
    result = CliRunner().invoke(main, ["import", str(package), str(tmp_path / "project")])
    assert result.exit_code != 0 and not (tmp_path / "project").exists()
    lines = [line for line in result.output.splitlines() if "deck.apkg" in line]
    assert len(lines) == 2, result.output
    assert ("note type 'Cloze' cannot be expressed: it is a cloze note type with 2 templates (Anki allows one); its note "
            "is not imported, the first the note in deck 'Words' with GUID ") in lines[0]
    assert "and first field '{{c1::Necrosis}} is death of tissue'" in lines[0]
    assert "the note in deck 'Words' with GUID " in lines[1] and "first field 'Gout': tag 'rheum:::gout'" in lines[1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_cards_of_one_note_in_different_decks(fmt: str, tmp_path: Path) -> None:
    def setup(col: Collection) -> None:
        for model_name, words in (("Basic (and reversed card)", ("gato", "perro")),
                                  ("Basic (optional reversed card)", ("casa", "mesa"))):
            model = col.models.by_name(model_name)
            assert model is not None
            for word in words:
                note = col.new_note(model)
                note.fields[0], note.fields[1] = word, f"{word} in English"
                if len(note.fields) > 2:
                    note.fields[2] = "y"
                col.add_note(note, DeckId(col.decks.id("Spanish::Recognition")))
        reverse = col.find_cards('"note:Basic (and reversed card)" card:2')  # every reverse card: one deck
        col.set_deck(reverse, col.decks.id("Spanish::Production"))  # type: ignore[arg-type]
        mesa = col.find_cards('"note:Basic (optional reversed card)" card:2 Front:mesa')  # one note's: a deck of its own
        col.set_deck(mesa, col.decks.id("Spanish::Extra"))  # type: ignore[arg-type]

    def card_decks(collection: Path) -> dict[tuple[str, int], str]:
        with contextlib.closing(Collection(str(collection))) as col:
            return {(col.get_card(cid).note().fields[0], col.get_card(cid).ord): col.decks.name(col.get_card(cid).did)
                    for cid in col.find_cards("")}

    notes = [("Spanish::Recognition", ("uno", "one"), ())]
    package = make_deck(tmp_path / "src", notes, fmt == "legacy", setup=setup)
    project, original, rebuilt, log = round_trip(package, tmp_path)
    _unchanged(log)
    assert rebuilt["notes"] == original["notes"]
    was, now = card_decks(tmp_path / "original" / "c.anki2"), card_decks(tmp_path / "rebuilt" / "c.anki2")
    assert was[("gato", 1)] == now[("gato", 1)] == "Spanish::Production" and was[("gato", 0)] == now[("gato", 0)]
    assert {key: deck for key, deck in now.items() if key != ("mesa", 1)} == {
        key: deck for key, deck in was.items() if key != ("mesa", 1)}
    assert (was[("mesa", 1)], now[("mesa", 1)]) == ("Spanish::Extra", "Spanish::Recognition")  # reported, below
    types = [yaml.safe_load(path.read_text("utf-8")) for path in (project / "note_types").glob("*.yaml")]
    reversed_ = next(t for t in types if t["name"] == "Basic (and reversed card)")
    assert [t.get("group") for t in reversed_["templates"]] == [None, "production"]
    output = CliRunner().invoke(main, ["import", str(package), str(tmp_path / "again")]).output
    assert ("1 note has cards in other decks than their first card's" in output
            and "first field 'mesa': 'Card 2' (2) in 'Spanish::Extra'" in output)
    picked = CliRunner().invoke(main, ["import", "--deck", "Spanish::Recognition", str(package), str(tmp_path / "one")])
    assert picked.exit_code == 0, picked.output  # a deck --deck leaves out is no group: its cards are reported
    assert "3 notes have cards in other decks" in picked.output and "(2) in 'Spanish::Production'" in picked.output
    assert yaml.safe_load((tmp_path / "one" / "deckgen.yaml").read_text("utf-8"))["deck"] == "Spanish::Recognition"
    note_type_file = next(path for path in (project / "note_types").glob("*.yaml") if "production" in path.read_text())
    note_type_file.write_text(note_type_file.read_text("utf-8").replace("group: production", "group: nowhere"), "utf-8")
    refused = CliRunner().invoke(main, ["build", str(project), "-o", str(tmp_path / "x.apkg")])
    line = next(number for number, text in enumerate(note_type_file.read_text("utf-8").splitlines(), 1)
                if "group: nowhere" in text)
    assert refused.exit_code != 0
    assert (f"note_types/{note_type_file.name}:{line}:10: card template 'Card 2' names group 'nowhere', which "
            "deckgen.yaml does not declare") in refused.output
