"""`deckgen import`: every source format read, the project written, the round trip proven with Anki.

The round trip (a, b, c of issue 13) needs the issue-11 project syntax (note_types/, pinned
`guid:`, '::' deck paths, nested and optional groups); each format is checked end to end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml
from click.testing import CliRunner

from importsamples import NOTES, Exports, export_all, export_crowdanki, make_collection, make_genanki_package, make_package
from ankitools import import_package, rendered_cards, strip_style
from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from anki.decks import DeckId

from deckgen.cli import main
from deckgen.importer import ImportOptions, import_deck, read_source
from deckgen.importer.html_to_markdown import FieldConverter
from deckgen.importer.make_project import _used_media
from deckgen.importer.writer import plan_card_types
from deckgen.problems import Problem, ProjectError
from deckgen.build.render import media_references, visible_text


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Exports, Path]:
    """The author's collection, its exports (a CrowdAnki folder among them), and a genanki package."""
    folder = tmp_path_factory.mktemp("samples")
    collection = make_collection(folder / "author")
    export_crowdanki(collection, folder / "crowdanki")
    return collection, export_all(collection, folder), make_genanki_package(folder / "genanki")


@dataclass(frozen=True)
class Format:
    """A source format: the file deckgen imports, and the package its learners imported."""

    source: Path
    learners_package: Path
    options: ImportOptions
    edited: tuple[str, str]  # (first field of the note, field name) the learner and the author edit


def formats(samples: tuple[Path, Exports, Path]) -> dict[str, Format]:
    _, exports, genanki_package = samples
    anki_edit = ("Colchicine", "Mechanism")
    crowdanki = exports.legacy.parent / "crowdanki"
    return {
        "genanki": Format(genanki_package, genanki_package, ImportOptions(), ("Colchicine mechanism", "Back")),
        "legacy": Format(exports.legacy, exports.legacy, ImportOptions(), anki_edit),
        "current": Format(exports.current, exports.current, ImportOptions(), anki_edit),
        "colpkg": Format(exports.colpkg, exports.current, ImportOptions(decks=("Pharm",)), anki_edit),
        "text": Format(exports.text, exports.legacy, ImportOptions(note_types_from=exports.legacy), anki_edit),
        "crowdanki": Format(crowdanki, exports.legacy, ImportOptions(note_types_from=exports.legacy), anki_edit),
    }


FORMATS = ["genanki", "legacy", "current", "colpkg", "text", "crowdanki"]


# --- reading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["legacy", "current", "colpkg", "text"])
def test_every_anki_format_reads_the_same_notes(samples, name: str) -> None:
    fmt = formats(samples)[name]
    deck = read_source(fmt.source, fmt.options)
    reference = read_source(formats(samples)["legacy"].source, ImportOptions())
    assert [(n.guid, n.fields, n.tags, n.deck) for n in deck.notes] == \
        [(n.guid, n.fields, n.tags, n.deck) for n in reference.notes]
    assert sorted((n.fields, n.tags, n.deck) for n in deck.notes) == \
        sorted((s.fields, tuple(sorted(s.tags)), s.deck) for s in NOTES)
    used = {deck.note_types[n.note_type].name for n in deck.notes}
    assert used == {"Basic", "Basic (and reversed card)", "Cloze", "Drug"}
    drug = next(nt for nt in deck.note_types.values() if nt.name == "Drug")
    reference_drug = next(nt for nt in reference.note_types.values() if nt.name == "Drug")
    assert drug == reference_drug and drug.fields == ("Drug", "Class", "Mechanism", "Side effects")
    assert drug.templates[1].front == "{{#Side effects}}{{Drug}}: side effects?{{/Side effects}}"
    assert ".drug { color: navy; }" in drug.css and not drug.is_cloze
    if name != "text":
        assert deck.notes[0].mtime == reference.notes[0].mtime > 1_600_000_000
        assert {"crystal.png", "beep.mp3"} <= deck.media.keys()


def test_genanki_package_reads_its_guids_and_ids(samples) -> None:
    deck = read_source(formats(samples)["genanki"].source, ImportOptions())
    assert [n.guid for n in deck.notes] == ["ga-basic-1", "ga-basic-2", "ga-drug-1", "ga-drug-2", "ga-cloze-1"]
    assert {nt.id for nt in deck.note_types.values()} >= {1607392319, 1607392320, 1607392321}
    assert {n.deck for n in deck.notes} == {"GA::Main", "GA::Sub deck"}


def test_markdown_only_where_it_renders_back_byte_for_byte() -> None:
    """A learner's {{text:}} and type-in answers see every byte: Markdown only where it gives them back."""
    plain, with_html = FieldConverter(False), FieldConverter(True)
    assert plain.convert("What is <strong>gout</strong>?").text == "What is **gout**?"
    assert plain.convert("5 &gt; 3 &amp; <em>x</em>").text == "5 > 3 & *x*"
    assert plain.convert("under_score *star*").text == r"under\_score \*star\*"
    assert plain.convert("{{c1::<strong>x</strong>}}").text == "{{c1::**x**}}"
    assert plain.convert('<span style="color: red;">red</span>').mode == "raw"  # the sanitizer drops style
    for value in ("What is <b>gout</b>?", "a<br>b", "H<sub>2</sub>O", '<img src="a.svg">', "x&nbsp;"):
        assert plain.convert(value)[:2] == (value, "raw") and with_html.convert(value)[:2] == (value, "html"), value
    for value in ("Bed & Breakfast", 'say "hi"', "タ ", '<img src="a.svg" />', r"\(x^2\)"):
        assert plain.convert(value)[:2] == (value, "raw") and with_html.convert(value)[:2] == (value, "raw"), value
    for value in ("[$]x_1[/$]", "[latex]\\alpha_1[/latex]", r"\[a_1\]"):  # TeX as written: no Markdown escapes
        assert plain.convert(value).text == value and with_html.convert(value).mode != "markdown", value


def test_a_value_that_stays_html_is_shaped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value Markdown cannot give back is tried again with HTML, from the shape the first try found (finding
    it twice doubled the conversion's time on a big deck), and comes out the same."""
    from deckgen.importer import html_to_markdown
    from deckgen.importer.writer import _convert

    shaped: list[str] = []
    original = html_to_markdown.shape
    monkeypatch.setattr(html_to_markdown, "shape", lambda value: shaped.append(value) or original(value))
    values = [f"Blocks <b>enzyme {i}</b> in pathway {i % 3}" for i in range(4)] + ['x<br><img src="p1.png">']
    plain, with_html = FieldConverter(False), FieldConverter(True)
    converted = [_convert(value, plain, with_html) for value in values]
    assert shaped == values
    assert [found[:2] for found in converted] == [(value, "html") for value in values]
    assert converted == list(map(FieldConverter(True).convert, values))  # as if HTML had been tried alone


# --- bad input: a located message, nothing written ---------------------------------------------

def _refused(source: Path, target: Path, options: ImportOptions | None = None) -> str:
    before = sorted(target.rglob("*")) if target.exists() else None
    with pytest.raises(ProjectError) as caught:
        import_deck(source, target, options)
    assert (sorted(target.rglob("*")) if target.exists() else None) == before
    assert not list(target.parent.glob(".deckgen-import-*"))
    return str(caught.value)


def test_not_a_zip(tmp_path: Path) -> None:
    source = tmp_path / "deck.apkg"
    source.write_text("hello")
    assert "deck.apkg: not an Anki package: the file is not a zip archive" in _refused(source, tmp_path / "p")


def test_zip_without_collection(tmp_path: Path) -> None:
    source = tmp_path / "deck.apkg"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("media", "{}")
    assert "deck.apkg: the zip holds no Anki collection" in _refused(source, tmp_path / "p")


def test_package_format_too_new(tmp_path: Path) -> None:
    source = tmp_path / "deck.apkg"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("meta", b"\x08\x04")
        archive.writestr("collection.anki21b", b"")
    assert "package format (version 4) is newer than deckgen understands" in _refused(source, tmp_path / "p")


def test_damaged_zstd_collection(tmp_path: Path) -> None:
    source = tmp_path / "deck.apkg"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("meta", b"\x08\x03")
        archive.writestr("collection.anki21b", b"not zstd at all")
    assert "deck.apkg: the package is damaged" in _refused(source, tmp_path / "p")


@pytest.mark.parametrize("part", ["collection", "media"])
def test_a_part_that_unpacks_past_the_limit_is_refused(samples, tmp_path: Path, monkeypatch, part: str) -> None:
    from deckgen.importer import archive

    monkeypatch.setattr(archive, "MAX_COLLECTION_BYTES" if part == "collection" else "MAX_MEDIA_BYTES", 64)
    message = _refused(samples[1].current, tmp_path / "p")
    assert "current.apkg: refused:" in message and ("unpacks to more than" in message or "larger than" in message)


def _edited_legacy(samples, tmp_path: Path, name: str, edit: Callable[[sqlite3.Connection], object]) -> Path:  # type: ignore[no-untyped-def]
    """The legacy sample's collection, edited, alone in a new package: a source Anki's exporter would not write."""
    source = tmp_path / name
    database = tmp_path / "collection.anki21"
    with zipfile.ZipFile(formats(samples)["legacy"].source) as original:
        database.write_bytes(original.read("collection.anki21"))
    with contextlib.closing(sqlite3.connect(database)) as connection:
        edit(connection)
        connection.commit()
    with zipfile.ZipFile(source, "w") as archive:
        archive.write(database, "collection.anki21")
    return source


def test_collection_schema_too_new(samples, tmp_path: Path) -> None:
    source = _edited_legacy(samples, tmp_path, "new.apkg", lambda db: db.execute("update col set ver = 19"))
    assert "the collection has schema 19, newer than deckgen understands (up to 18)" in _refused(source, tmp_path / "p")


def test_fields_that_make_the_same_block_get_blocks_of_their_own(samples, tmp_path: Path) -> None:
    def rename_class(connection: sqlite3.Connection) -> None:
        models = connection.execute("select models from col").fetchone()[0]
        connection.execute("update col set models = ?", (models.replace('"name": "Class"', '"name": "Side-effects"')
                                                          .replace('"name":"Class"', '"name":"Side-effects"')
                                                          .replace("Class}}", "Side-effects}}"),))

    source = _edited_legacy(samples, tmp_path, "odd.apkg", rename_class)
    import_deck(source, tmp_path / "p")
    note_type = yaml.safe_load((tmp_path / "p" / "note_types" / "drug.yaml").read_text(encoding="utf-8"))
    assert note_type["blocks"] == {"Side effects": "Side_effects_2"}
    built = CliRunner().invoke(main, ["build", str(tmp_path / "p")])
    assert built.exit_code == 0, built.output


def test_media_used_but_missing_are_listed(samples) -> None:
    deck = read_source(formats(samples)["legacy"].source, ImportOptions())
    del deck.media["crystal.png"]
    used = {name for note in deck.notes for value in note.fields for name in media_references(value)}
    present, missing = _used_media(deck, plan_card_types(deck), used)
    assert missing == {"crystal.png"} and "beep.mp3" in present


def test_csv_columns_that_match_nothing(tmp_path: Path) -> None:
    source = tmp_path / "quiz.csv"
    source.write_text("Question,Answer,Notes\nWhat?,That,x\n")
    message = _refused(source, tmp_path / "p")
    assert "quiz.csv:1:1: column 'Question' matches no field of card type 'basic'" in message
    assert "quiz.csv:1: no column fills 'front'" in message
    bad_row = tmp_path / "rows.csv"
    bad_row.write_text("front,back\nWhat?,That\nonly one\n")
    assert "rows.csv:3: 1 columns, but the header row has 2" in _refused(bad_row, tmp_path / "q")


def test_text_export_without_its_note_types(samples, tmp_path: Path) -> None:
    message = _refused(formats(samples)["text"].source, tmp_path / "p", ImportOptions())
    assert "notes.txt:11: an Anki text export does not carry note type 'Drug'" in message  # Basic, Cloze: known
    assert "it is not one of Anki's stock note types (pass --note-types PACKAGE" in message


def test_never_overwrites_a_folder_with_files(samples, tmp_path: Path) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / "notes.md").write_text("mine")
    assert "the project folder is not empty" in _refused(formats(samples)["legacy"].source, target)
    assert (target / "notes.md").read_text() == "mine"


def test_colpkg_with_several_decks_asks_which(samples, tmp_path: Path) -> None:
    _, exports, _ = samples
    message = _refused(exports.colpkg, tmp_path / "p", ImportOptions(decks=("Nope",)))
    assert "--deck 'Nope': no notes in such a deck" in message and "Pharm" in message


# --- the round trip, with the real Anki backend --------------------------------------------------

def _cards(col: Collection) -> dict[tuple[str, int], tuple[str, str, list[str], list[str]]]:
    """Every card by (GUID, ord): its question and answer text as Anki renders them, and their media."""
    return {(card.guid, card.ord): (visible_text(strip_style(card.question)), visible_text(strip_style(card.answer)),
                                    sorted(media_references(card.question)), sorted(media_references(card.answer)))
            for card in rendered_cards(col)}


def _import_and_build(fmt: Format, tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "project"
    runner = CliRunner()
    args = ["import", str(fmt.source), str(project)]
    for deck in fmt.options.decks:
        args += ["--deck", deck]
    if fmt.options.note_types_from:
        args += ["--note-types", str(fmt.options.note_types_from)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    built = runner.invoke(main, ["build", str(project), "-o", str(tmp_path / "rebuilt.apkg")])
    assert built.exit_code == 0, built.output
    return project, tmp_path / "rebuilt.apkg"


def _note_id(col: Collection, first_field: str) -> int:
    return next(nid for nid in col.find_notes("") if col.get_note(nid).fields[0] == first_field)


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip(samples, tmp_path: Path, name: str) -> None:
    fmt = formats(samples)[name]
    project, rebuilt = _import_and_build(fmt, tmp_path)

    # (a) every card shows the same text and media as the original
    for folder in ("original", "fresh", "learner"):
        (tmp_path / folder).mkdir()
    with contextlib.closing(Collection(str(tmp_path / "original" / "c.anki2"))) as original, \
            contextlib.closing(Collection(str(tmp_path / "fresh" / "c.anki2"))) as fresh:
        import_package(original, fmt.learners_package)
        import_package(fresh, rebuilt)
        assert _cards(fresh) == _cards(original)

    # (b) a learner who studied the original and edited one note imports the rebuilt package
    learner_dir = tmp_path / "learner"
    with contextlib.closing(Collection(str(learner_dir / "c.anki2"))) as learner:
        import_package(learner, fmt.learners_package)
        for card_id in learner.find_cards("")[:3]:
            card = learner.get_card(card_id)
            card.start_timer()
            learner.sched.answerCard(card, 3)
        reviews = learner.db.scalar("select count() from revlog")
        edited_id = _note_id(learner, fmt.edited[0])
        note = learner.get_note(edited_id)
        note[fmt.edited[1]] = "the learner's own words"
        learner.update_note(note)
        names = sorted(nt.name for nt in learner.models.all_names_and_ids())
        log = import_package(learner, rebuilt).log
        assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 0)
        assert sorted(nt.name for nt in learner.models.all_names_and_ids()) == names  # no "Name+" copy
        assert learner.get_note(edited_id)[fmt.edited[1]] == "the learner's own words"
        assert learner.db.scalar("select count() from revlog") == reviews > 0

        # (c) the author edits one field in the YAML and rebuilds: exactly that note is updated
        other = next(nid for nid in learner.find_notes("") if nid != edited_id)
        other_first = learner.get_note(other).fields[0]
        card_file = next(path for path in (project / "cards").rglob("*.yaml")
                         if f"{_yaml_first(other_first)}" in path.read_text(encoding="utf-8"))
        data = yaml.safe_load(card_file.read_text(encoding="utf-8"))
        card = next(c for c in data["cards"] if _matches(c, other_first))
        key = next(k for k in card if k not in ("id", "type", "guid", "tags", "group"))
        card[key] = "Changed by the author"
        card_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        built = CliRunner().invoke(main, ["build", str(project), "-o", str(tmp_path / "next.apkg")])
        assert built.exit_code == 0, built.output
        log = import_package(learner, tmp_path / "next.apkg").log
        assert (len(log.new), len(log.conflicting), [n.id.nid for n in log.updated]) == (0, 0, [other])
        assert "Changed by the author" in learner.get_note(other).fields
        assert learner.get_note(edited_id)[fmt.edited[1]] == "the learner's own words"


@pytest.mark.parametrize("name", FORMATS)
def test_seeded_lock_is_what_a_build_computes(samples, tmp_path: Path, name: str, monkeypatch) -> None:
    """The lock the import seeds without the pipeline is exactly current: the card files compiled
    from what the importer knows equal the pipeline's, build --frozen passes, a build changes nothing."""
    from deckgen.build import pipeline as build_module
    from deckgen.build.compiler import Compiler, FileResult
    from deckgen.importer import seed

    fmt = formats(samples)[name]
    compiled: list[FileResult] = []

    def assemble(config, templates, results, *args):  # type: ignore[no-untyped-def]
        compiled.extend(results)
        return build_module.assemble(config, templates, results, *args)

    monkeypatch.setattr(seed, "assemble", assemble)
    project = tmp_path / "project"
    import_deck(fmt.source, project, fmt.options)
    assert compiled, "the import fell back to building the project"
    built = build_module.prepare(project)
    assert built.lock == built.old_lock and not built.problems
    pipeline = Compiler(built.config, built.templates)
    assert compiled == [pipeline.compile(result.path, (project / result.path).read_bytes()) for result in compiled]
    # what a helper process sends of a result is what the cache keeps for checks
    assert [FileResult.from_rows(result.to_rows()) for result in compiled] == \
        [FileResult.from_json(result.path, result.to_json()[0], None) for result in compiled]
    runner = CliRunner()
    frozen = runner.invoke(main, ["build", str(project), "--frozen", "-o", str(tmp_path / "frozen.apkg")])
    assert frozen.exit_code == 0, frozen.output
    again = runner.invoke(main, ["build", str(project), "-o", str(tmp_path / "again.apkg")])
    assert again.exit_code == 0 and "no changes since the lock" in again.output, again.output


def _yaml_first(html_text: str) -> str:
    return visible_text(html_text).split()[0]


def _matches(card: dict[str, object], first_field: str) -> bool:
    return any(isinstance(v, str) and visible_text(first_field).split()[0] in v for v in card.values())


def test_import_writes_readable_project(samples, tmp_path: Path) -> None:
    """The files an author reads: pinned ids and GUIDs, Markdown where it is equivalent."""
    try:
        import_deck(formats(samples)["legacy"].source, tmp_path / "p")
    except ProjectError as exc:  # the pipeline that seeds the lock needs issue 11's syntax
        pytest.fail(f"the imported project does not build yet:\n{exc}")
    project = tmp_path / "p"
    config = yaml.safe_load((project / "deckgen.yaml").read_text())
    assert config["deck"] == "Pharm" and set(config["groups"]) == {"basics", "drugs", "gout"}
    drug = yaml.safe_load((project / "note_types" / "drug.yaml").read_text())
    assert drug["fields"] == ["Drug", "Class", "Mechanism", "Side effects"] and isinstance(drug["id"], int)
    cards = yaml.safe_load((project / "cards" / "gout.yaml").read_text())["cards"]
    gout = next(c for c in cards if c["id"] == "what-is-gout")
    guids = {n.fields[0]: n.guid for n in read_source(formats(samples)["legacy"].source, ImportOptions()).notes}
    assert gout["front"] == "What is <b>gout</b>?" and gout["guid"] == guids["What is <b>gout</b>?"]
    assert gout["tags"] == ["exam", "rheum::gout"]
    assert (project / "media" / "crystal.png").is_file() and (project / "deckgen.lock").is_file()


def test_root_deck_with_notes_and_subdecks(tmp_path: Path) -> None:
    from deckgen.importer.deck_plan import plan_layout
    from deckgen.importer.source_deck import ImportedDeck, ImportedNote

    def deck(*names: str) -> ImportedDeck:
        return ImportedDeck(tmp_path / "x.apkg", notes=[ImportedNote("g", "1", ("a",), (), name) for name in names])

    layout = plan_layout(deck("Med::Pharm", "Med::Pharm::Drugs"))
    assert (layout.root, layout.paths) == ("Med", {"Med": "", "Med::Pharm": "pharm", "Med::Pharm::Drugs": "pharm/drugs"})
    beside = plan_layout(deck("Pharm", "Pharm::Drugs"))  # a top-level deck's own notes stay in it: group ''
    assert (beside.root, beside.paths) == ("Pharm", {"Pharm": "", "Pharm::Drugs": "drugs"})
    with pytest.raises(ProjectError, match=r"several unrelated decks: Default, Pharm \(pick one with --deck NAME"):
        plan_layout(deck("Pharm::Drugs", "Default"))
    assert plan_layout(deck("Pharm")).groups == {}  # one deck: a flat project


def test_missing_media_is_a_warning_and_the_lock_is_still_seeded(samples, tmp_path: Path) -> None:
    source = tmp_path / "lacking.apkg"
    with zipfile.ZipFile(formats(samples)["legacy"].source) as original, zipfile.ZipFile(source, "w") as copy:
        media = {number: name for number, name in yaml.safe_load(original.read("media")).items()}
        lacking = next(number for number, name in media.items() if name == "crystal.png")
        for member in original.namelist():
            if member != lacking:
                copy.writestr(member, original.read(member))
    result = import_deck(source, tmp_path / "p")
    assert [str(w) for w in result.warnings if "media files are used" in str(w)] == [
        f"{source}: warning: 1 media files are used by notes but not in the source: crystal.png "
        "(deckgen.yaml lists them under missing_media, so the project builds as the deck is; put a file into "
        "media/ and drop its name there to ship it)"]
    lock = json.loads((tmp_path / "p" / "deckgen.lock").read_text())
    assert lock["cards"]["what-is-gout"][1] == read_source(source, ImportOptions()).notes[0].mtime
    assert yaml.safe_load((tmp_path / "p" / "deckgen.yaml").read_text())["missing_media"] == ["crystal.png"]
    built = CliRunner().invoke(main, ["build", str(tmp_path / "p"), "--frozen"])
    assert built.exit_code == 0, built.output
    assert "warning: card 'what-is-gout': media file 'crystal.png' is missing (listed under missing_media)" in built.output
    (tmp_path / "p" / "deckgen.yaml").write_text((tmp_path / "p" / "deckgen.yaml").read_text()
                                                 .replace("missing_media:\n- crystal.png\n", ""))
    refused = CliRunner().invoke(main, ["check", str(tmp_path / "p")])
    assert refused.exit_code == 1 and "media file 'crystal.png' not found in media/ (put it into media/, or list " \
        "it under missing_media in deckgen.yaml to build without it)" in refused.output
    assert not (tmp_path / "p" / "media" / "crystal.png").exists() and (tmp_path / "p" / "media" / "beep.mp3").exists()


def test_cli_import_reports_what_it_wrote(samples, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import", str(formats(samples)["current"].source), str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'p'}: deck 'Pharm', 6 notes, note types anki-basic, basic-and-reversed-card, " \
           "anki-cloze, drug, 2 media files" in result.output
    refused = CliRunner().invoke(main, ["import", str(formats(samples)["current"].source), str(tmp_path / "p")])
    assert refused.exit_code == 1 and "the project folder is not empty" in refused.output


def test_plain_csv_becomes_a_flat_deck_of_built_in_cards(tmp_path: Path) -> None:
    source = tmp_path / "gout_quiz.csv"
    source.write_text("Question;Answer;tags\nWhat is <b>gout</b>?;Urate arthritis;rheum::gout\n"
                      "First-line drug for a flare?;NSAIDs;\n")
    result = CliRunner().invoke(main, ["import", str(source), str(tmp_path / "p"), "--column", "Question=front",
                                       "--column", "Answer=back"])
    assert result.exit_code == 0, result.output
    cards = yaml.safe_load((tmp_path / "p" / "cards" / "gout-quiz.yaml").read_text())
    assert cards["type"] == "basic" and cards["cards"][0] == {
        "id": "what-is-gout", "tags": ["rheum::gout"], "front": "What is <b>gout</b>?", "back": "Urate arthritis"}
    assert yaml.safe_load((tmp_path / "p" / "deckgen.yaml").read_text())["deck"] == "Gout Quiz"
    built = CliRunner().invoke(main, ["build", str(tmp_path / "p"), "-o", str(tmp_path / "quiz.apkg")])
    assert built.exit_code == 0, built.output
    with contextlib.closing(Collection(str(tmp_path / "c.anki2"))) as col:
        assert len(import_package(col, tmp_path / "quiz.apkg").log.new) == 2


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
       | st.sampled_from(["yes", "No", "on", "null", "a: b", "x #y", "-a", "1.5", "a\n b", "a\n\nb", " a\nb", "a \nb",
                          "~", "@x", "'q'", "\"d\"", "a\tb\nc", "a\n", "a\nb\n\n", "\u2028", "\x85", "é\nü", "a\r\nb"]))
def test_card_file_yaml_reads_back_the_same_text(text: str) -> None:
    from deckgen.importer.writer import _card_yaml

    document = "cards:\n" + _card_yaml("x", None, text or None, (text,), {"front": text})[0]
    assert yaml.safe_load(document)["cards"][0] == {"id": "x", **({"guid": text} if text else {}), "tags": [text],
                                                    "front": text}


def test_note_type_the_project_syntax_refuses_is_named(samples, tmp_path: Path) -> None:
    """A rule of deckgen's note types (here: two templates with one front, which Anki refuses) said of the note type."""
    def same_front(connection: sqlite3.Connection) -> None:
        models = json.loads(connection.execute("select models from col").fetchone()[0])
        drug = next(model for model in models.values() if model["name"] == "Drug")
        drug["tmpls"][1]["qfmt"] = drug["tmpls"][0]["qfmt"]
        connection.execute("update col set models = ?", (json.dumps(models),))

    source = _edited_legacy(samples, tmp_path, "same-front.apkg", same_front)
    message = _refused(source, tmp_path / "p")
    assert f"{source}: note type 'Drug' cannot be expressed: " in message and "same front" in message


def test_protobuf_reader_agrees_with_ankis_generated_code() -> None:
    from anki import import_export_pb2, notetypes_pb2

    from deckgen.importer import protobuf

    entries = import_export_pb2.MediaEntries(entries=[
        import_export_pb2.MediaEntries.MediaEntry(name="ü.png", size=300, sha1=b"\x01" * 20),
        import_export_pb2.MediaEntries.MediaEntry(name="b.mp3", size=2, legacy_zip_filename=7)])
    parsed = [protobuf.parse(raw) for raw in protobuf.parse(entries.SerializeToString())[1]]
    assert [(protobuf.text(e, 1), protobuf.integer(e, 2), e.get(255)) for e in parsed] == \
        [("ü.png", 300, None), ("b.mp3", 2, [7])]
    config = notetypes_pb2.Notetype.Config(kind=1, sort_field_idx=2, css=".card {}", original_id=-5)
    fields = protobuf.parse(config.SerializeToString())
    assert (protobuf.integer(fields, 1), protobuf.integer(fields, 2), protobuf.text(fields, 3)) == (1, 2, ".card {}")
    with pytest.raises(protobuf.WireError):
        protobuf.parse(b"\x1a\x10short")


def test_media_names_cannot_leave_the_media_folder(samples, tmp_path: Path) -> None:
    source = tmp_path / "escape.apkg"
    database = tmp_path / "collection.anki21"
    with zipfile.ZipFile(formats(samples)["legacy"].source) as original:
        database.write_bytes(original.read("collection.anki21"))
        with contextlib.closing(sqlite3.connect(database)) as connection:
            connection.execute("""update notes set flds = flds || '<img src="../../escaped.txt">'""")
            connection.commit()
        with zipfile.ZipFile(source, "w") as copy:
            for member in original.namelist():
                if member not in ("collection.anki21", "media"):
                    copy.writestr(member, original.read(member))
            copy.write(database, "collection.anki21")
            copy.writestr("99", b"owned")
            copy.writestr("media", json.dumps({**json.loads(original.read("media")), "99": "../../escaped.txt"}))
    assert "../../escaped.txt" in read_source(source, ImportOptions()).media
    try:
        result = import_deck(source, tmp_path / "out" / "p")
        assert "were left out: '../../escaped.txt'" in " ".join(map(str, result.warnings))
    except ProjectError:
        pass  # without issue 11's syntax the build stage refuses; either way nothing may escape
    assert not [path for path in tmp_path.rglob("escaped.txt")]


def test_card_ids_read_like_the_sort_field_in_any_script() -> None:
    from deckgen.importer.deck_plan import card_slug
    from deckgen.importer.writer import _CLOZE_MARKER

    assert card_slug("What is <gout>?") == "what-is-gout"
    assert card_slug("Café au lait") == "café-au-lait" and card_slug("日本語の単語") == "日本語の単語"
    assert card_slug("word " * 20) == "-".join(["word"] * 9)  # cut at a word, at most 48 characters
    assert card_slug(_CLOZE_MARKER.sub(r"\1", "Urate is a {{c1::purine}} {{c2::metabolite::kind}}")) == \
        "urate-is-a-purine-metabolite"


@pytest.mark.parametrize("printed", ["{{ back|safe }}", "{{ back }}"])
def test_a_field_passed_through_with_safe_is_not_warned_about(tmp_path: Path, printed: str) -> None:
    """An imported field the sanitizer would change is printed with |safe; its HTML is not 'shown as text'."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "cards").mkdir()
    (tmp_path / "deckgen.yaml").write_text("deck: Raw\nkey: raw\n")
    (tmp_path / "templates" / "raw.yaml").write_text("note_type: basic\nfields:\n  front: {}\n  back: {markdown: false}\n")
    (tmp_path / "templates" / "raw.html.j2").write_text(
        "{% block Front %}{{ front }}{% endblock %}{% block Back %}" + printed + "{% endblock %}\n")
    (tmp_path / "cards" / "raw.yaml").write_text(
        "type: raw\ncards:\n  - id: red\n    front: Colour\n    back: '<span style=\"color: red;\">red</span>'\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert ("is shown as text" in result.output) == (printed == "{{ back }}")


_SHAPES = ["<b>{}</b> {}", "{}<br>{}", "<i>{}</i>: {}", "<p>{}</p><p>{}</p>", "<ul><li>{}</li><li>{}</li></ul>",
           "{} <b>{}</b>.", '<a href="x.html">{}</a> {}', "<h2>{}</h2>{}", "<b>{}</b>{}", "{}<b>{}</b>",
           '<span class="c">{}</span>{}', "<div>{}</div>{}", "{}<sub>{}</sub>", '{}<img src="a.png"> {}',
           '<div class="a b"><span style="color: rgb(0, 0, 255); font-weight: bold;">{}</span> {}</div>',
           "<a href='x y.html' title=\"t: 1\">{}</a>{}", '{} > {}', '<p>{}</p><p title="x">{} < 3</p>']


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_SHAPES), st.lists(st.text(alphabet="ab Z1.)(,'\"-:*_é9#<>/!", max_size=12), min_size=2, max_size=2),
       st.booleans())
def test_a_shape_stands_for_each_of_its_values(template: str, runs: list[str], allow_html: bool) -> None:
    """Converting and rendering a shape once gives, for every value of it, what converting and rendering that value gives."""
    from deckgen.importer.html_to_markdown import MARKDOWN, equivalent

    value = template.format(*runs)
    converter = FieldConverter(allow_html)
    converted = converter.convert(value)
    texts = converted.shape.texts if converted.shape else ()
    rendered = converter.rendered_value(converted.text, converted.form, texts)
    assert rendered == converter.rendered(converted.text)
    if converted.mode == MARKDOWN:
        assert equivalent(rendered, value)


_IMAGE_SHAPES = ['<img src="{}">', '{}<br><img src="{}">', '<div><img src="{}"></div>', '<img alt="" src="{}"> {}',
                 '<b>{}</b><img src="{}" width="80">', '<IMG SRC="{}">{}']
_NAMES = st.text(alphabet="aZ09._-_ é%()'\"", min_size=1, max_size=12)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(_IMAGE_SHAPES), st.lists(_NAMES, min_size=2, max_size=2), st.lists(_NAMES, min_size=2, max_size=2),
       st.booleans())
def test_a_shape_learnt_from_one_value_stands_for_another(template: str, first: list[str], second: list[str],
                                                        allow_html: bool) -> None:
    """A shape converted for one value (here with an image's file name as a run) gives another value of it
    what that value converted on its own renders to."""
    from deckgen.importer.html_to_markdown import RAW, equivalent

    converter = FieldConverter(allow_html)
    converter.convert(template.format(*first))  # learns the shape
    value = template.format(*second)
    converted = converter.convert(value)
    texts = converted.shape.texts if converted.shape else ()
    if converted.mode != RAW:  # (a raw value is written as the deck has it, not rendered)
        assert converter.rendered_value(converted.text, converted.form, texts) == converter.rendered(converted.text)
        assert equivalent(converter.rendered(converted.text), value)


def _project_files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _shared_small(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Share even a small import with helpers, in card files of two cards; each compiling process leaves its pid."""
    from deckgen.importer import conversion as cards, writer

    monkeypatch.setattr(writer, "MAX_CARDS_PER_FILE", 2)
    monkeypatch.setattr(cards, "SHARED_FROM_NOTES", 0)
    pids = tmp_path / "pids"
    pids.mkdir()
    compiled_file = cards.compiled_file

    def noted(*args):  # type: ignore[no-untyped-def]
        (pids / str(os.getpid())).touch()
        return compiled_file(*args)

    monkeypatch.setattr(cards, "compiled_file", noted)
    return pids


@pytest.mark.parametrize("name", ["legacy", "text"])
def test_an_import_shared_with_helper_processes_writes_the_same_project(samples, tmp_path: Path, name: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Three processes (two forked helpers) write byte for byte the project one process writes, lock included,
    and the build finds that lock current."""
    from deckgen.build import pipeline as build

    fmt = formats(samples)[name]
    pids = _shared_small(monkeypatch, tmp_path)
    monkeypatch.setattr(build, "build_time", lambda: 2_000_000_000)  # a time no note of the source has
    import_deck(fmt.source, tmp_path / "alone", dataclasses.replace(fmt.options, jobs=1))
    assert len(list(pids.iterdir())) == 1
    import_deck(fmt.source, tmp_path / "shared", dataclasses.replace(fmt.options, jobs=3))
    assert len(list(pids.iterdir())) == 3, "two helpers compiled card files"
    shared = _project_files(tmp_path / "shared")
    assert sum(name.startswith("cards/") for name in shared) >= 3
    assert shared == _project_files(tmp_path / "alone")
    times = {row[1] for row in json.loads(shared["deckgen.lock"])["cards"].values()}
    assert times <= {note.mtime for note in read_source(fmt.source, fmt.options).notes}, "every note's own time"
    frozen = CliRunner().invoke(main, ["build", str(tmp_path / "shared"), "--frozen", "-o", str(tmp_path / "x.apkg")])
    assert frozen.exit_code == 0, frozen.output


def test_clashing_card_ids_are_numbered_in_deck_order_across_processes(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Notes with the same sort field in files of different processes get the same ids as in one process:
    'aspirin', 'aspirin-2', ... in the deck's order, whichever process wrote them."""
    import genanki

    model = genanki.Model(1607392331, "Drug card", fields=[{"name": "Drug"}, {"name": "Use"}],
                          templates=[{"name": "Card 1", "qfmt": "{{Drug}}", "afmt": "{{Use}}"}])
    decks = [genanki.Deck(2059400140 + i, f"Pharm::Part {i}") for i in range(3)]
    for i in range(12):
        decks[i % 3].add_note(genanki.Note(model, ["Aspirin" if i % 2 else f"Drug {i}", f"use <b>{i}</b>"],
                                           guid=f"clash-{i}"))
    source = tmp_path / "clash.apkg"
    genanki.Package(decks).write_to_file(str(source), timestamp=1_700_000_000)
    _shared_small(monkeypatch, tmp_path)
    import_deck(source, tmp_path / "alone", ImportOptions(jobs=1))
    import_deck(source, tmp_path / "shared", ImportOptions(jobs=3))
    shared = _project_files(tmp_path / "shared")
    assert shared == _project_files(tmp_path / "alone")
    ids = [card["id"] for name, text in sorted(shared.items()) if name.startswith("cards/")
           for card in yaml.safe_load(text)["cards"]]
    assert sorted(card_id for card_id in ids if card_id.startswith("aspirin")) == \
        ["aspirin", "aspirin-2", "aspirin-3", "aspirin-4", "aspirin-5", "aspirin-6"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_note_and_card_file(samples, tmp_path: Path, jobs: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stage's bar reaches its end exactly, with the helpers' work counted in this process."""
    fmt = formats(samples)["legacy"]
    _shared_small(monkeypatch, tmp_path)
    stages: list[list] = []  # type: ignore[type-arg]

    def progress(label: str, total: int) -> Callable[[int], None]:
        stage = [label, total, 0]
        stages.append(stage)
        return lambda count: stage.__setitem__(2, stage[2] + count)

    import_deck(fmt.source, tmp_path / "p", dataclasses.replace(fmt.options, jobs=jobs), progress)
    notes = len(read_source(fmt.source, fmt.options).notes)
    files = len(list((tmp_path / "p" / "cards").rglob("*.yaml")))
    assert stages == [[f"Converting the fields of {notes} notes", notes, notes],
                      [f"Writing {files} card files", files, files]]


@pytest.mark.parametrize("failure", ["bug", "problem"])
def test_a_helper_process_that_fails_stops_the_import_and_nothing_is_written(samples, tmp_path: Path, failure: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper's located problem is reported as this process's; a helper's bug, with its traceback."""
    from deckgen.importer import conversion as cards
    from deckgen.importer.sharing import HelperFailed

    fmt = formats(samples)["legacy"]
    _shared_small(monkeypatch, tmp_path)
    parent, compiled_file = os.getpid(), cards.compiled_file

    def failing(*args):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            if failure == "bug":
                raise ZeroDivisionError("in a helper")
            raise ProjectError([Problem("cards/x.yaml", 3, 5, "found by a helper")])
        return compiled_file(*args)

    monkeypatch.setattr(cards, "compiled_file", failing)
    expected = HelperFailed if failure == "bug" else ProjectError
    with pytest.raises(expected) as raised:
        import_deck(fmt.source, tmp_path / "project", dataclasses.replace(fmt.options, jobs=2))
    assert ("ZeroDivisionError: in a helper" if failure == "bug" else "cards/x.yaml:3:5: found by a helper") \
        in str(raised.value)
    assert not (tmp_path / "project").exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".deckgen-import")] == []


_PIECES = ["<b>", "</b>", "<br>", "<div>", "</div>", '<span style="color: red;">', "</span>", '<a href="x" title="t">',
           '<a href="x" target="_blank">', "</a>", '<img src="a b.png" alt="x">', '<img src="p.jpg" width="80">',
           '<ol start="3"><li>', "</li></ol>", '<p id="x">', "</p>", '<font color="red">', "</font>", "word", " more ", "*"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8), st.booleans())
def test_markdown_is_not_tried_only_where_it_cannot_give_the_value_back(pieces: list[str], allow_html: bool) -> None:
    """A value with an attribute cmark never writes (style, width, id, ...) is not converted to Markdown:
    what markdownify makes of it never renders back to the same tokens."""
    from deckgen.importer.html_to_markdown import _CONVERTERS, _markdown_may_keep, canonical

    value = "".join(pieces)
    if _markdown_may_keep(canonical(value)):
        return
    converter = FieldConverter(allow_html)
    for markdown in _CONVERTERS:
        rendered = converter.rendered(markdown.convert(value).replace("  \n", "\n").strip())
        assert canonical(rendered) != canonical(value)


def test_a_card_the_validate_stage_refuses_goes_through_the_whole_pipeline(tmp_path: Path) -> None:
    """The lock is seeded without the pipeline only for cards it would take without a word: a tag
    Anki would split differently sends the import through the build, whose message says why."""
    import genanki

    model = genanki.Model(1607392330, "Tagged", fields=[{"name": "Front"}, {"name": "Back"}],
                          templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}])
    deck = genanki.Deck(2059400130, "Tagged")
    deck.add_note(genanki.Note(model, ["Gout", "Urate"], tags=["rheum:::gout"], guid="tagged-1"))
    source = tmp_path / "tagged.apkg"
    genanki.Package(deck).write_to_file(str(source))
    message = _refused(source, tmp_path / "p")
    assert ("tagged.apkg: the note in deck 'Tagged' with GUID tagged-1 and first field 'Gout': tag 'rheum:::gout' "
            "contains ':::'") in message and "cards/" not in message


# --- Anki's stock note types: a text export without a package -------------------------------------

STOCK_NOTES = (("Basic", ("What is <b>gout</b>?", "Arthritis")), ("Basic (and reversed card)", ("Necrosis", "Death")),
               ("Cloze", ("Urate is a {{c1::purine}}", "From food")),
               ("Basic (optional reversed card)", ("Tophus", "Urate deposit", "y")),
               ("Basic (type in the answer)", ("Capital of France", "Paris")))


def _stock_collection(folder: Path) -> Collection:
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    for name, fields in STOCK_NOTES:
        note = col.new_note(col.models.by_name(name))  # type: ignore[arg-type]
        for index, value in enumerate(fields):
            note.fields[index] = value
        col.add_note(note, col.decks.id("Pharm"))  # type: ignore[arg-type]
    return col


def test_deckgen_knows_anki_s_stock_note_types(tmp_path: Path) -> None:
    from deckgen.importer.stock_note_types import STOCK_NOTE_TYPES

    with contextlib.closing(Collection(str(tmp_path / "fresh.anki2"))) as col:
        anki = {m["name"]: (m["type"] == 1, tuple(f["name"] for f in m["flds"]), m["css"],
                            tuple((t["name"], t["qfmt"], t["afmt"]) for t in m["tmpls"])) for m in col.models.all()}
    ours = {name: (nt.is_cloze, nt.fields, nt.css, tuple((t.name, t.front, t.back) for t in nt.templates))
            for name, nt in STOCK_NOTE_TYPES.items()}
    assert ours == {name: anki[name] for name in ours} and set(anki) - set(ours) == {"Image Occlusion"}


def test_a_text_export_of_stock_note_types_imports_without_a_package(tmp_path: Path) -> None:
    with contextlib.closing(_stock_collection(tmp_path / "author")) as col:
        source = tmp_path / "notes.txt"
        col.export_note_csv(out_path=str(source), limit=None, with_html=True, with_tags=True, with_deck=True,
                            with_notetype=True, with_guid=True)
        authors = _cards(col)
    project, package = _import_and_build(Format(source, source, ImportOptions(), ("", "")), tmp_path)
    with contextlib.closing(Collection(str(tmp_path / "learner.anki2"))) as learner:
        import_package(learner, package)
        assert _cards(learner) == authors  # every card, as the author's Anki rendered it
    assert "--note-type is for a CSV" in _refused(source, tmp_path / "p", ImportOptions(note_type="basic"))


def test_note_type_names_the_stock_note_type_of_an_export_that_names_none(tmp_path: Path) -> None:
    with contextlib.closing(_stock_collection(tmp_path / "author")) as col:
        source = tmp_path / "cloze.txt"
        col.export_note_csv(out_path=str(source), limit=None, with_html=True, with_tags=True, with_deck=True,
                            with_notetype=False, with_guid=True)
    source.write_text("".join(line for line in source.read_text().splitlines(keepends=True)
                              if line.startswith("#") or "{{c1::" in line))  # one note type's notes
    assert "the export names no note type" in _refused(source, tmp_path / "p")
    deck = read_source(source, ImportOptions(note_type="cloze"))
    assert [(n.note_type, n.fields) for n in deck.notes] == [("Cloze", ("Urate is a {{c1::purine}}", "From food"))]


# --- CrowdAnki folders ---------------------------------------------------------------------------

def test_crowdanki_folder_reads_the_notes_decks_and_descriptions(samples) -> None:
    fmt = formats(samples)["crowdanki"]
    deck = read_source(fmt.source, fmt.options)
    assert sorted((n.guid, n.fields, n.tags, n.deck) for n in deck.notes) == \
        sorted((n.guid, n.fields, n.tags, n.deck) for n in read_source(fmt.learners_package, ImportOptions()).notes)
    assert deck.deck_descriptions["Pharm::Basics::Terms"] == "About Terms"
    assert {"crystal.png", "beep.mp3"} <= deck.media.keys()
    package_ids = {nt.name: nt.id for nt in read_source(fmt.learners_package, ImportOptions()).note_types.values()}
    assert {nt.name: nt.id for nt in deck.note_types.values()} == \
        {name: package_ids[name] for name in ("Basic", "Basic (and reversed card)", "Cloze", "Drug")}
    assert read_source(fmt.source / "deck.json", fmt.options).notes == deck.notes


def test_crowdanki_without_a_package_derives_note_type_ids(samples, tmp_path: Path) -> None:
    """No ids in deck.json: the project derives its own, so learners of the package get conflicting notes."""
    fmt = formats(samples)["crowdanki"]
    assert {nt.id for nt in read_source(fmt.source, ImportOptions()).note_types.values()} == {None}
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(fmt.source), str(tmp_path / "p")]).exit_code == 0
    assert runner.invoke(main, ["build", str(tmp_path / "p"), "-o", str(tmp_path / "p.apkg")]).exit_code == 0
    (tmp_path / "learner").mkdir()
    with contextlib.closing(Collection(str(tmp_path / "learner" / "c.anki2"))) as learner:
        import_package(learner, fmt.learners_package)
        log = import_package(learner, tmp_path / "p.apkg").log
        assert (len(log.new), len(log.conflicting)) == (0, len(NOTES))


def test_crowdanki_default_project_folder_is_beside_the_source(samples, tmp_path: Path, monkeypatch) -> None:
    fmt = formats(samples)["crowdanki"]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", str(fmt.source), "--note-types", str(fmt.learners_package)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "crowdanki-deckgen" / "deckgen.yaml").is_file()


@pytest.mark.parametrize("content, message", [
    ("{not json", "deck.json: not valid JSON"),
    ('{"name": "x"}', "deck.json: not a CrowdAnki deck (no 'note_models')"),
    ('{"name": "x", "note_models": [{"name": "m"}], "notes": []}', "deck.json: not a CrowdAnki deck: note type 1 ('m'): missing key 'flds'"),
    ('{"name": "x", "note_models": [{"crowdanki_uuid": "u", "name": "M", "flds": [{"name": "F", "ord": 0}], '
     '"tmpls": [{"name": "C", "ord": 0, "qfmt": "{{F}}", "afmt": "{{F}}"}]}], '
     '"notes": [{"guid": "g1", "note_model_uuid": "u", "fields": ["a", "b"], "tags": []}]}',
     "deck.json: deck.json: deck 'x', note 1 (GUID g1) has 2 fields where its note type 'M' has 1"),
    ('[' * 100_000, "deck.json: not valid JSON"),
    ('{"name": "x", "note_models": [], "children": [{"notes": []}]}',
     "deck.json: not a CrowdAnki deck: missing key 'name'"),
])
def test_malformed_crowdanki_json_is_a_located_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "deck").mkdir()
    (tmp_path / "deck" / "deck.json").write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "deck"), str(tmp_path / "p")])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


def test_a_folder_without_deck_json_says_what_deckgen_imports(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["import", str(tmp_path / "empty"), str(tmp_path / "p")])
    assert result.exit_code == 1 and "a folder without a CrowdAnki deck.json" in result.output


def _learner_round_trip(package: Path, tmp_path: Path) -> tuple[Path, Any]:
    """Import the package, build the project; a learner of the package imports the build: its log."""
    project, rebuilt = tmp_path / "project", tmp_path / "rebuilt.apkg"
    result = CliRunner().invoke(main, ["import", str(package), str(project)])
    assert result.exit_code == 0, result.output
    built = CliRunner().invoke(main, ["build", str(project), "-o", str(rebuilt)])
    assert built.exit_code == 0, built.output
    for folder in ("original", "learner"):
        (tmp_path / folder).mkdir()
    with contextlib.closing(Collection(str(tmp_path / "original" / "c.anki2"))) as original, \
            contextlib.closing(Collection(str(tmp_path / "learner" / "c.anki2"))) as learner:
        import_package(original, package)
        import_package(learner, rebuilt)
        assert _cards(learner) == _cards(original)
        return project, import_package(original, rebuilt).log


def test_fields_named_in_any_script_or_with_a_leading_digit(tmp_path: Path) -> None:
    fields = ("汉字", "拼音", "1SG", "Side effects")
    package = make_package(tmp_path / "src", fields, "{{汉字}} {{1SG}}", "{{FrontSide}}<hr id=answer>{{拼音}} {{Side effects}}",
                           [("学", "xué", "я учу", "none"), ("生", "shēng", "он", "")])
    project, log = _learner_round_trip(package, tmp_path)
    assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 0)
    note_type = yaml.safe_load((project / "note_types" / "vocab.yaml").read_text(encoding="utf-8"))
    assert note_type["blocks"] == {"汉字": "汉字", "拼音": "拼音", "1SG": "f_1SG"}
    assert "{% block Side_effects %}" in (project / "templates" / "vocab.html.j2").read_text(encoding="utf-8")


def test_a_top_level_deck_with_notes_beside_its_subdecks(tmp_path: Path) -> None:
    package = make_package(tmp_path / "src", ("Front", "Back"), "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}",
                           [("Root note", "r"), ("Sub note", "s"), ("Deeper note", "d")], deck="Top",
                           decks=["Top", "Top::Sub", "Top::Sub::Deeper"])
    project, log = _learner_round_trip(package, tmp_path)
    assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 0)
    root_file = next(path for path in (project / "cards").glob("*.yaml") if "Root note" in path.read_text("utf-8"))
    assert root_file.read_text("utf-8").startswith('group: ""\n')
    (tmp_path / "fresh").mkdir()
    with contextlib.closing(Collection(str(tmp_path / "fresh" / "c.anki2"))) as fresh:
        import_package(fresh, tmp_path / "rebuilt.apkg")
        decks = {card.fields["Front"]: card.deck for card in rendered_cards(fresh)}
    assert decks == {"Root note": "Top", "Sub note": "Top::Sub", "Deeper note": "Top::Sub::Deeper"}


def test_notes_anki_keeps_with_an_empty_card_come_through(tmp_path: Path) -> None:
    """A cloze note without a marker and a note whose every front is empty: Anki keeps each with one empty card."""
    package = make_package(tmp_path / "src", ("Image", "Label"), "{{Image}}", "{{FrontSide}}<hr id=answer>{{Label}}",
                           [("", "an occlusion whose image is on the back only"), ("front", "back")])
    with contextlib.closing(Collection(str(tmp_path / "src" / "collection.anki2"))) as col:
        note = col.new_note(col.models.by_name("Cloze"))  # type: ignore[arg-type]
        note["Text"] = "A cloze note without a marker"
        col.add_note(note, DeckId(col.decks.id("Words")))  # type: ignore[arg-type]
        col.export_anki_package(out_path=str(package), limit=DeckIdLimit(DeckId(col.decks.id("Words"))),  # type: ignore[arg-type]
                                options=ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False,
                                                                 with_media=True, legacy=True))
    project, log = _learner_round_trip(package, tmp_path)
    assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 0)
    written = "".join(path.read_text("utf-8") for path in (project / "cards").rglob("*.yaml"))
    assert written.count("keep_empty: true") == 2
    (tmp_path / "fresh").mkdir()
    with contextlib.closing(Collection(str(tmp_path / "fresh" / "c.anki2"))) as fresh:
        import_package(fresh, tmp_path / "rebuilt.apkg")
        assert fresh.card_count() == 3


def test_keep_empty_on_a_card_that_has_cards_is_a_warning(make_project, deckgen) -> None:  # type: ignore[no-untyped-def]
    project = make_project({"cards/c.yaml": "group: cause\ncards:\n  - id: a\n    type: basic\n    front: F\n    back: B\n"
                            "    keep_empty: true\n"})
    run = deckgen("check", project)
    assert run.exit_code == 0 and "warning: card 'a': 'keep_empty: true' on a card that is not empty" in run.stderr


def test_crowdanki_media_are_read_only_when_written_and_within_the_ceiling(tmp_path: Path) -> None:
    folder = tmp_path / "deck"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "ok.png").write_bytes(b"png")
    os.mkfifo(folder / "media" / "pipe.png")  # never opened: it would hang a reader
    with open(folder / "media" / "big.png", "wb") as big:  # sparse: nothing of it is read
        big.truncate((256 << 20) + 1)
    note_type = {"crowdanki_uuid": "u", "name": "M", "flds": [{"name": "F", "ord": 0}],
                 "tmpls": [{"name": "C", "ord": 0, "qfmt": "{{F}}", "afmt": "{{F}}"}]}
    notes = [{"guid": f"g{n}", "note_model_uuid": "u", "fields": [f'<img src="{name}">'], "tags": []}
             for n, name in enumerate(["ok.png", "pipe.png", "big.png"])]
    (folder / "deck.json").write_text(json.dumps({"name": "D", "note_models": [note_type], "notes": notes,
                                                  "media_files": ["ok.png", "pipe.png", "big.png"]}))
    deck = read_source(folder, ImportOptions())
    assert sorted(deck.media) == ["ok.png"] and deck.media["ok.png"] == b"png"
    assert [p.message for p in deck.problems] == ["left out: over 256 MiB"]
    result = import_deck(folder, tmp_path / "p")
    assert (tmp_path / "p" / "media" / "ok.png").read_bytes() == b"png"
    assert yaml.safe_load((tmp_path / "p" / "deckgen.yaml").read_text())["missing_media"] == ["big.png", "pipe.png"]
    assert result.notes == 3


def test_crowdanki_media_the_deck_does_not_list_are_read_as_crowdanki_copies_them(tmp_path: Path) -> None:
    folder = tmp_path / "deck"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "unlisted.png").write_bytes(b"png")
    note_type = {"crowdanki_uuid": "u", "name": "M", "flds": [{"name": "F", "ord": 0}],
                 "tmpls": [{"name": "C", "ord": 0, "qfmt": "{{F}}", "afmt": "{{F}}"}]}
    notes = [{"guid": "g", "note_model_uuid": "u", "fields": ['<img src="unlisted.png">'], "tags": []}]
    (folder / "deck.json").write_text(json.dumps({"name": "D", "note_models": [note_type], "notes": notes,
                                                  "media_files": []}))
    import_deck(folder, tmp_path / "p")
    assert (tmp_path / "p" / "media" / "unlisted.png").read_bytes() == b"png"
    assert "missing_media" not in yaml.safe_load((tmp_path / "p" / "deckgen.yaml").read_text())


def test_a_crowdanki_folder_whose_deck_json_is_a_link_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.json").write_text('{"name": "x", "note_models": []}')
    (tmp_path / "deck").mkdir()
    (tmp_path / "deck" / "deck.json").symlink_to(tmp_path / "elsewhere.json")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "deck"), str(tmp_path / "p")])
    assert result.exit_code == 1 and "a folder without a CrowdAnki deck.json" in result.output
