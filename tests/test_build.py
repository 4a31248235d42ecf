"""Build the sample project end to end and check what the official Anki backend makes of it."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from ankitools import import_package, normalize_html, open_collection, rendered_cards, strip_style
from deckgen.build.pipeline import BuildOptions, build
from deckgen.cli import main
from deckgen.build.render import visible_text

SOURCES_BOOK = '<div class="sources"><ul class="source-list"> <li><em>The Sample Book</em>, 2024</li> </ul></div>'


@pytest.fixture
def sample_apkg(sample_project: Path) -> Path:
    return build(sample_project, BuildOptions(output=sample_project / "out.apkg")).output


@pytest.fixture
def collection(tmp_path: Path):  # type: ignore[no-untyped-def]
    col = open_collection(tmp_path)
    yield col
    col.close()


def _cards_by_note(col) -> dict[tuple[str, int], tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(first field, ord) -> (question, answer) as Anki renders them, whitespace normalised."""
    out = {}
    for card in rendered_cards(col):
        first_field = next(iter(card.fields.values()))
        out[(first_field, card.ord)] = (normalize_html(card.question), normalize_html(card.answer))
    return out


def test_cli_build_writes_default_path_and_summary(sample_project: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(sample_project)])
    assert result.exit_code == 0, result.output
    assert (sample_project / "dist" / "sample-deck.apkg").is_file()
    assert "6 notes in 3 subdecks" in result.output
    assert "Causes     3" in result.output
    assert (sample_project / "deckgen.lock").is_file()
    assert (sample_project / "dist" / "sample-deck.apkg").stat().st_mode & 0o777 == 0o644


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output.startswith("deckgen, version ")
    for command in ([], ["build"], ["check"]):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_anki_imports_decks_note_types_and_counts(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    log = import_package(collection, sample_apkg).log
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (6, 0, 0)
    decks = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"Sample Deck", "Sample Deck::Causes", "Sample Deck::Mechanism", "Sample Deck::Treatment"} <= decks
    note_types = {m["name"]: m for m in collection.models.all() if m["name"].startswith("Sample Deck")}
    assert {name: [f["name"] for f in m["flds"]] for name, m in note_types.items()} == {
        "Sample Deck (basic)": ["Front", "Back", "Extra", "Sources"],
        "Sample Deck (reversed)": ["Front", "Back", "Extra", "Sources"],
        "Sample Deck (cloze)": ["Text", "Extra", "Sources"],
    }
    assert note_types["Sample Deck (cloze)"]["type"] == 1
    cards = rendered_cards(collection)
    assert len(cards) == 8  # 2 basic + 1 cause + 2 reversed + 2 + 1 cloze
    per_deck = {}
    for card in cards:
        per_deck[card.deck] = per_deck.get(card.deck, 0) + 1
    assert per_deck == {"Sample Deck::Causes": 3, "Sample Deck::Mechanism": 4, "Sample Deck::Treatment": 1}


def test_tags_carry_file_tags_and_the_group(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    import_package(collection, sample_apkg)
    tags = {collection.get_note(nid)["Front"] if "Front" in collection.get_note(nid) else "cloze":
            collection.get_note(nid).tags for nid in collection.find_notes("tag:Sample_Deck::Causes")}
    assert tags["What is <em>one</em>?"] == ["sample", "Sample_Deck::Causes"]
    assert len(collection.find_notes("tag:Sample_Deck::Mechanism")) == 2
    assert len(collection.find_notes("tag:Sample_Deck::Treatment")) == 1


def test_anki_renders_every_card_type(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    import_package(collection, sample_apkg)
    cards = _cards_by_note(collection)
    # basic, with Markdown in every field and a source
    question, answer = cards[("What is <em>one</em>?", 0)]
    assert question == '<div class="front">What is <em>one</em>?</div>'
    assert answer == (
        '<div class="front">What is <em>one</em>?</div> <hr id=answer> '
        '<div class="back"><strong>One</strong> is the first number</div> '
        '<div class="extra"><p>A list:</p> <ul> <li>first</li> <li>second</li> </ul></div> ' + SOURCES_BOOK
    )
    # a source with the reference it gives
    _, answer = cards[('Which picture is this? <img src="dot.png" alt="a dot" />', 0)]
    assert ('<li>A sample paper <span class="source-ref">(ref. 3, 7)</span><ul class="source-references"> '
            '<li>[3] The third reference of the paper</li> <li>[7] <i>not listed in the source</i></li> </ul> </li>'
            ) in answer
    # reversed: one card each way
    assert cards[("Necrosis", 0)][0] == '<div class="front">Necrosis</div>'
    assert cards[("Necrosis", 1)][0] == '<div class="front">Death of tissue</div>'
    assert '<div class="back">Necrosis</div>' in cards[("Necrosis", 1)][1]
    # cloze: one card per number, the hint shown, the other number visible
    text = ("Damaged cell membranes release {{c1::phosphate}}-containing molecules that bind "
            "{{c2::calcium::an ion}}.")
    question, answer = cards[(text, 1)]
    assert question == (
        '<div class="cloze-text">Damaged cell membranes release <span class="cloze-inactive" data-ordinal="1">'
        'phosphate</span>-containing molecules that bind <span class="cloze" data-cloze="calcium" '
        'data-ordinal="2">[an ion]</span>.</div>'
    )
    assert '<span class="cloze" data-ordinal="2">calcium</span>' in answer
    assert '<div class="extra">The crystals are calcium phosphate.</div>' in answer
    # the project's own card type
    question, answer = cards[("Name a local cause (for example an open wound).", 0)]
    assert question == '<div class="front">Name a local cause (for example an open wound).</div>'
    assert '<div class="back">Trauma</div>' in answer


def test_script_in_card_text_shows_as_text(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    import_package(collection, sample_apkg)
    question = next(c.question for c in rendered_cards(collection) if "Written" in c.question)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in question and "<script>" not in question


def test_every_card_has_a_front_and_a_back_that_adds_to_it(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    import_package(collection, sample_apkg)
    for card in rendered_cards(collection):
        question, answer = visible_text(strip_style(card.question)), visible_text(strip_style(card.answer))
        assert question and answer and answer != question


def test_new_cards_come_in_group_then_file_order(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    """The order of `groups:` (cause, mechanism, treatment), in each group the files' order and the cards'."""
    import_package(collection, sample_apkg)
    dues = {}
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        dues[card.note().guid] = card.due
    order = [collection.get_note(nid) for nid in sorted(collection.find_notes(""),
                                                         key=lambda n: dues[collection.get_note(n).guid])]
    first_fields = [note.fields[0] for note in order]
    assert first_fields[0] == "What is <em>one</em>?"  # cards/01-basic.yaml, group cause
    assert first_fields[2] == "Name a local cause (for example an open wound)."  # cards/04-custom.yaml, cause
    assert first_fields[3] == "Necrosis"  # cards/02-reversed.yaml, group mechanism
    assert len(set(dues.values())) == 6


def test_media_reaches_the_collection(sample_apkg: Path, collection) -> None:  # type: ignore[no-untyped-def]
    import_package(collection, sample_apkg)
    assert (Path(collection.media.dir()) / "dot.png").read_bytes() == \
        (Path(__file__).parent / "projects/sample/media/dot.png").read_bytes()


def test_ids_and_guids_depend_on_key_and_card_id_only(sample_project: Path, tmp_path: Path) -> None:
    first = build(sample_project, BuildOptions(output=tmp_path / "a.apkg")).output
    # reorder the cards and change a text: GUIDs must not move
    cloze = sample_project / "cards/03-cloze.yaml"
    cloze.write_text(cloze.read_text().replace("phosphate}}", "PHOSPHATE}}"))
    (sample_project / "cards/01-basic.yaml").rename(sample_project / "cards/05-basic.yaml")
    second = build(sample_project, BuildOptions(output=tmp_path / "b.apkg")).output
    guids = []
    for apkg in (first, second):
        with _fresh(tmp_path / apkg.stem) as col:
            import_package(col, apkg)
            guids.append({col.get_note(n).guid for n in col.find_notes("")})
    assert guids[0] == guids[1]


@contextlib.contextmanager
def _fresh(folder: Path):  # type: ignore[no-untyped-def]
    folder.mkdir()
    col = open_collection(folder)
    try:
        yield col
    finally:
        col.close()


def test_wheel_ships_builtin_templates(tmp_path: Path) -> None:
    repo = Path(__file__).parent.parent
    source = tmp_path / "src"
    shutil.copytree(repo / "deckgen", source / "deckgen", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("deckgen-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("basic.yaml", "basic.html.j2", "cloze.yaml", "cloze.html.j2", "reversed.yaml",
                 "_sources.html.j2", "style.css"):
        assert f"deckgen/project/builtin_card_types/{name}" in names
    modules = {path.relative_to(repo).as_posix() for path in (repo / "deckgen").rglob("*.py")}
    assert modules - names == set(), "modules the wheel leaves out: an installed deckgen would fail to import them"
