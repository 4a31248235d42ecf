"""The preview site: its cards against the official Anki backend, its layout, and `--serve`."""

from __future__ import annotations

import contextlib
import html
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

import pytest
import yaml
from click.testing import CliRunner

from ankitools import import_package, normalize_html, open_collection, rendered_cards
from conftest import REPO
from deckgen.build.pipeline import BuildOptions, build, prepare
from deckgen.cli import main
from deckgen.preview.site import read_preview_data, write_preview
from deckgen.problems import ProjectError
from deckgen.preview.server import EVENTS_PATH, PreviewServer, ServeError

WAIT_SECONDS = 20.0
DECK_SOURCES = ("deckgen.yaml", "deckgen.lock", "cards", "templates", "media")


class _Entries(HTMLParser):
    """The card entries of a preview page: the attributes of each <article class="entry">."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "article" and "entry" in values.get("class", "").split():
            self.entries.append(values)


def page_entries(index: Path) -> list[dict[str, str]]:
    parser = _Entries()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser.entries


def anki_rendering(apkg: Path, folder: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(note GUID, ord) -> (question, answer) as the official backend renders them after import."""
    folder.mkdir()
    with contextlib.closing(open_collection(folder)) as col:
        import_package(col, apkg)
        return {(c.guid, c.ord): (normalize_html(c.question), normalize_html(c.answer)) for c in rendered_cards(col)}


def preview_rendering(project_dir: Path, index: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """The same, read back from the page the preview wrote (each note's GUID as the build gives it: a renamed card keeps its first id's)."""
    guids = {note.card_id: note.guid for note in prepare(project_dir).notes}
    return {
        (guids[card["note"]], card["ord"]): (normalize_html(card["question"]), normalize_html(card["answer"]))
        for card in read_preview_data(index)
    }


def repo_deck(tmp_path: Path) -> Path:
    """A copy of this repository's own deck, so that nothing is written into the work tree."""
    target = tmp_path / "deck"
    target.mkdir()
    for name in DECK_SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.is_file():
            shutil.copy(source, target / name)
    return target


# The cards, as Anki renders them
# ----------------------------------------


def test_every_card_equals_what_the_anki_backend_renders(sample_project: Path, tmp_path: Path) -> None:
    site = write_preview(prepare(sample_project), tmp_path / "site")
    apkg = build(sample_project, BuildOptions(output=tmp_path / "deck.apkg")).output
    anki = anki_rendering(apkg, tmp_path / "anki")
    assert len(anki) == 8  # 2 basic + 1 custom + 2 reversed + 2 + 1 cloze
    assert preview_rendering(sample_project, site.index) == anki


def test_the_repository_deck_previews_every_note_as_anki_renders_it(tmp_path: Path) -> None:
    deck = repo_deck(tmp_path)
    result = CliRunner().invoke(main, ["preview", str(deck), "-o", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    index = tmp_path / "site" / "index.html"
    card_ids = {card["id"] for path in (deck / "cards").rglob("*.yaml")
                for card in yaml.safe_load(path.read_text(encoding="utf-8"))["cards"]}
    assert {entry["data-card-id"] for entry in page_entries(index)} == card_ids
    apkg = build(deck, BuildOptions(output=tmp_path / "deck.apkg")).output
    assert preview_rendering(deck, index) == anki_rendering(apkg, tmp_path / "anki")
    assert f"wrote {index}" in result.output


# The page
# ----------------------------------------


def test_entries_per_card_grouped_by_subdeck_in_learner_order(sample_project: Path, tmp_path: Path) -> None:
    index = write_preview(prepare(sample_project), tmp_path / "site").index
    entries = [(e["data-group"], e["data-card-id"], e["data-ord"]) for e in page_entries(index)]
    assert entries == [
        ("cause", "basic-one", "0"), ("cause", "basic-image", "0"), ("cause", "cause-trauma", "0"),
        ("mechanism", "term-necrosis", "0"), ("mechanism", "term-necrosis", "1"),  # both directions
        ("mechanism", "membrane-phosphate", "0"), ("mechanism", "membrane-phosphate", "1"),  # per cloze
        ("treatment", "escaped", "0"),
    ]
    page = index.read_text(encoding="utf-8")
    for text in ("Sample Deck::Causes", "Sample Deck::Mechanism", "Sample Deck::Treatment",
                 "reversed · Reverse", "cloze · Cloze 2", "cards/03-cloze.yaml:3:5", "6 notes · 8 cards"):
        assert text in page
    data = read_preview_data(index)
    assert [card["body"] for card in data if card["note"] == "term-necrosis"] == ["card card1", "card card2"]


def test_the_site_carries_the_deck_css_and_media(sample_project: Path, tmp_path: Path) -> None:
    project = prepare(sample_project)
    site = tmp_path / "site"
    write_preview(project, site)
    assert (site / "assets" / "deck.css").read_text(encoding="utf-8") == project.templates.css
    assert (site / "media" / "dot.png").read_bytes() == (sample_project / "media" / "dot.png").read_bytes()
    for name in ("preview.js", "preview.css", "anki-reviewer.css"):
        assert (site / "assets" / name).is_file()
    page = (site / "index.html").read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)="(?:[a-z]+:)?//', page)  # nothing from a CDN: it works offline


def test_no_raw_card_html_reaches_the_page_outside_its_data(sample_project: Path, tmp_path: Path) -> None:
    index = write_preview(prepare(sample_project), tmp_path / "site").index
    page = index.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page  # the card's text, already escaped once, is JSON-escaped in the page
    escaped = next(card for card in read_preview_data(index) if card["note"] == "escaped")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in escaped["question"]


def test_a_rewrite_removes_media_no_card_uses_any_more(sample_project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_preview(prepare(sample_project), site)
    cards = sample_project / "cards" / "01-basic.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace(" ![a dot](dot.png)", ""), encoding="utf-8")
    (site / "notes.txt").write_text("mine", encoding="utf-8")
    write_preview(prepare(sample_project), site)
    assert not (site / "media" / "dot.png").exists()
    assert (site / "notes.txt").read_text(encoding="utf-8") == "mine"  # only what the preview wrote goes


def test_a_project_with_errors_writes_nothing(sample_project: Path, tmp_path: Path) -> None:
    (sample_project / "cards" / "05-bad.yaml").write_text("cards:\n  - id: bad\n    frnt: typo\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["preview", str(sample_project), "-o", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert "cards/05-bad.yaml:3:5" in result.output
    assert not (tmp_path / "site").exists()


def test_the_preview_never_writes_into_the_sources(sample_project: Path) -> None:
    for target in (sample_project, sample_project / "cards", sample_project / "media" / "site", sample_project.parent):
        result = CliRunner().invoke(main, ["preview", str(sample_project), "-o", str(target)])
        assert result.exit_code == 1 and "cannot be written into the project" in result.output


def test_default_output_is_dist_preview(sample_project: Path) -> None:
    result = CliRunner().invoke(main, ["preview", str(sample_project)])
    assert result.exit_code == 0, result.output
    assert (sample_project / "dist" / "preview" / "index.html").is_file()
    help_text = CliRunner().invoke(main, ["preview", "--help"]).output
    assert all(option in help_text for option in ("--output", "--serve", "--port"))


# --serve
# ----------------------------------------


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {what}")
        time.sleep(0.1)


def first_event(url: str) -> str:
    """The first event of the reload stream, blocking (10 s at most) until there is one."""
    with urllib.request.urlopen(url, timeout=10) as response:
        lines = []
        while not lines or lines[-1] != "":
            line = response.readline().decode("utf-8").rstrip("\n")
            if line.startswith(":"):
                continue
            lines.append(line)
        return "\n".join(lines)


def test_serve_rebuilds_on_change_and_shows_problems_instead_of_cards(sample_project: Path) -> None:
    with PreviewServer(sample_project, sample_project / "dist" / "preview", port=0) as server:
        page = fetch(server.url)
        assert 'data-card-id="basic-one"' in page and f'content="{server.build}"' in page
        first = server.build
        time.sleep(1.0)
        assert server.build == first, "writing the site inside the project must not trigger a rebuild"

        cards = sample_project / "cards" / "02-reversed.yaml"
        cards.write_text(cards.read_text(encoding="utf-8").replace("Death of tissue", "Death of cells"),
                         encoding="utf-8")
        wait_until(lambda: "Death of cells" in fetch(server.url), "the changed card on the page")
        assert server.build != first

        cards.write_text("cards:\n  - id: term-necrosis\n    type: reversed\n    frnt: Necrosis\n", encoding="utf-8")
        with pytest.raises(ProjectError) as expected:
            prepare(sample_project)
        wait_until(lambda: "Problems" in fetch(server.url), "the problems page")
        page = fetch(server.url)
        assert 'class="entry"' not in page and "Death of cells" not in page
        assert "<title>Sample Deck · problems</title>" in page  # the deck's name, not the folder's
        for problem in expected.value.problems:
            assert str(problem) in html.unescape(page)


def test_the_event_stream_tells_an_open_page_to_reload(sample_project: Path, tmp_path: Path) -> None:
    with PreviewServer(sample_project, tmp_path / "site", port=0) as server:
        events = server.url.rstrip("/") + EVENTS_PATH
        assert first_event(f"{events}?build=an-old-build").startswith("event: reload")
        current = server.build
        config = sample_project / "deckgen.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace("Sample Deck", "Renamed Deck"), encoding="utf-8")
        event = first_event(f"{events}?build={current}")  # blocks until the rebuild is on disk
        assert event.startswith("event: reload") and server.build in event
        assert "Renamed Deck" in fetch(server.url)
    with pytest.raises(urllib.error.URLError):
        fetch(server.url)  # stopped: the port is closed


def test_serve_says_when_the_port_is_taken(sample_project: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ServeError, match="--port 0"):
            PreviewServer(sample_project, tmp_path / "site", port=taken.getsockname()[1])


def test_wheel_ships_the_preview_assets(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(REPO / "deckgen", source / "deckgen", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(source)],
        check=True, capture_output=True,
    )
    names = set(zipfile.ZipFile(next(tmp_path.glob("deckgen-*.whl"))).namelist())
    for name in ("index.html.j2", "problems.html.j2", "preview.js", "preview.css", "anki-reviewer.css"):
        assert f"deckgen/preview/assets/{name}" in names


def test_the_problems_page_names_the_deck_even_when_deckgen_yaml_is_broken(sample_project: Path) -> None:
    from deckgen.preview.site import project_title

    assert project_title(sample_project) == "Sample Deck"
    (sample_project / "deckgen.yaml").write_text("deck: [Sample\n", encoding="utf-8")
    assert project_title(sample_project) == "the deckgen project sample"
