"""The preview in a real browser: Debian's headless Chromium, driven by Playwright, from a file:// URL.

Playwright drives the system's Chromium (it downloads no browser). Under CI (the CI variable set)
a missing browser fails the test; on a developer's machine it skips it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deckgen.build.pipeline import prepare
from deckgen.preview.site import write_preview
from deckgen.preview.server import PreviewServer
from pngtools import distinct_colours

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CHROMIUM_NAMES = ("chromium", "chromium-browser")
RELOAD_MS = 20_000


def _missing(reason: str) -> None:
    """Fail under CI, where the browser must be there; skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    _missing("Chromium is not installed: apt-get install chromium")
    raise AssertionError("unreachable")


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh headless Chromium profile."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900}, offline=True,
        )
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("requestfailed", lambda request: errors.append(f"failed to load {request.url}"))
            page.errors = errors
            yield page
        finally:
            context.close()


def visible_entries(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        ".entry", "entries => entries.filter(e => e.offsetParent !== null).map(e => e.dataset.group)")


def card_body(page: Any, entry: str, side: int = 0) -> Any:
    return page.frame_locator(f"{entry} iframe").nth(side).locator("body")


def test_the_preview_in_headless_chromium(sample_project: Path, tmp_path: Path, browser_page: Any) -> None:
    from playwright.sync_api import expect

    page = browser_page
    index = write_preview(prepare(sample_project), tmp_path / "site").index
    page.goto(index.as_uri())

    # every card is there, drawn with the deck's CSS and its media
    assert page.locator(".entry").count() == 8
    assert "What is one?" in card_body(page, "#card-0").inner_text()
    assert "One is the first number" in card_body(page, "#card-0", side=1).inner_text()
    assert card_body(page, "#card-0").get_attribute("class") == "card card1"
    image = page.frame_locator('[data-card-id="basic-image"] iframe').first.locator("img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1  # media/dot.png, 1x1

    # filters: a subdeck, a tag, the search box
    page.select_option("#filter-group", "mechanism")
    assert visible_entries(page) == ["mechanism"] * 4
    page.select_option("#filter-group", "")
    page.select_option("#filter-tag", "sample")
    assert len(visible_entries(page)) == 2
    page.select_option("#filter-tag", "")
    page.fill("#filter-search", "necrosis")
    assert len(visible_entries(page)) == 2  # the reversed note, both directions
    page.fill("#filter-search", "")
    assert len(visible_entries(page)) == 8

    # night mode: Anki's classes on each card's body, and the deck's night colours
    body = card_body(page, "#card-0")
    day = body.evaluate("b => getComputedStyle(b).backgroundColor")
    page.click("#night-toggle")  # the card's document is sandboxed: the page tells it by a message
    expect(body).to_have_attribute("class", "card card1 nightMode night_mode")
    assert body.evaluate("b => getComputedStyle(b).backgroundColor") != day
    page.click("#night-toggle")
    expect(body).to_have_attribute("class", "card card1")

    screenshot = tmp_path / "preview.png"
    page.screenshot(path=str(screenshot))
    assert distinct_colours(screenshot) > 50, "the screenshot is blank"
    assert page.errors == []


def test_a_served_page_reloads_itself_and_shows_problems(sample_project: Path, tmp_path: Path,
                                                          browser_page: Any) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.context.set_offline(False)  # localhost only: the server below
    with PreviewServer(sample_project, tmp_path / "site", port=0) as server:
        page.goto(server.url)
        front = card_body(page, '[data-card-id="term-necrosis"][data-ord="1"]')
        expect(front).to_contain_text("Death of tissue")
        page.select_option("#filter-group", "mechanism")
        cards = sample_project / "cards" / "02-reversed.yaml"
        cards.write_text(cards.read_text(encoding="utf-8").replace("Death of tissue", "Death of cells"),
                         encoding="utf-8")
        expect(front).to_contain_text("Death of cells", timeout=RELOAD_MS)  # reloaded by itself
        assert page.input_value("#filter-group") == "mechanism"  # the view survives the reload
        cards.write_text("cards: [\n", encoding="utf-8")
        expect(page.locator("#problems")).to_contain_text("cards/02-reversed.yaml:", timeout=RELOAD_MS)
        assert page.locator(".entry").count() == 0


NESTED_CONFIG = """\
deck: Pharmacology
key: pharmacology
groups:
  antibiotics:
    title: Antibiotics
    groups:
      beta:
        title: Beta-lactams
        groups:
          carbapenems: Carbapenems
          penicillins: Penicillins
      glyco: Glycopeptides
  analgesics: Analgesics
"""


def _many_cards(project: Path, count: int, group: str = "cause") -> list[str]:
    """`count` more basic cards in the project, each with a word of its own to look for; those words."""
    words = [f"zq{number}marker" for number in range(count)]
    lines = [f"group: {group}", "cards:"]
    for number, word in enumerate(words):
        lines += [f"  - id: many-{number}", f"    front: Which drug is number {number} ({word})?",
                  f"    back: Drug {number}"]
    (project / "cards" / "99-many.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return words


def _pdf_text(pdf: bytes) -> str:
    try:
        from pdfminer.high_level import extract_text
    except ImportError:
        _missing("the pdfminer.six package is not installed: pip install -e '.[test]'")
    import io

    return extract_text(io.BytesIO(pdf))


def test_a_printed_preview_has_every_card(sample_project: Path, tmp_path: Path, browser_page: Any) -> None:
    """Cards far below the screen are drawn too: on paper and in a full-page screenshot none is an empty box."""
    from playwright.sync_api import expect

    page = browser_page
    words = _many_cards(sample_project, 60)
    index = write_preview(prepare(sample_project), tmp_path / "site").index
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    assert page.locator(".side iframe").count() == 2 * page.locator(".entry").count() == 2 * 68
    text = _pdf_text(page.pdf())
    assert [word for word in words if word not in text] == []
    assert "What is one?" in text and "print it again" not in text
    last = page.frame_locator('[data-card-id="many-59"] iframe').first.locator("body")
    assert "zq59marker" in last.inner_text()
    box = page.locator('[data-card-id="many-59"]').bounding_box()
    assert box is not None and box["y"] > 5000  # far below the screen, never scrolled to
    skipped = page.eval_on_selector_all(  # what a full-page screenshot would show as an empty box
        ".side iframe", "frames => frames.filter(f => !f.checkVisibility({contentVisibilityAuto: true})).length")
    assert skipped == 0
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1200, "height": height})  # a window as tall as the page: every card shows
    frame = page.locator('[data-card-id="many-59"] iframe').first
    expect(frame).to_have_attribute("style", re.compile("min-height"))
    screenshot = tmp_path / "last-card.png"
    page.screenshot(path=str(screenshot), clip=frame.bounding_box())
    assert distinct_colours(screenshot) > 10, "the last card's front is an empty box"
    assert page.errors == []


def test_a_big_deck_is_drawn_whole_for_printing(sample_project: Path, tmp_path: Path, browser_page: Any) -> None:
    """Above the page's limit for drawing at once, printing draws every card, and a printout taken while
    some were still loading says so."""
    page = browser_page
    words = _many_cards(sample_project, 60)
    index = write_preview(prepare(sample_project), tmp_path / "site").index
    index.write_text(index.read_text(encoding="utf-8").replace('data-eager="500"', 'data-eager="10"'),
                     encoding="utf-8")
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    assert page.locator(".side iframe").count() < 2 * 68  # drawn as they come near the screen
    first = _pdf_text(page.pdf())  # printing draws the rest: too late for this printout, which says so
    assert page.locator(".side iframe").count() == 2 * 68
    assert "print it again to have every card" in first
    page.frame_locator('[data-card-id="many-59"] iframe').first.locator("body").wait_for()
    page.wait_for_load_state("load")
    page.wait_for_function("() => [...document.querySelectorAll('.side iframe')].every(f => f.style.minHeight)")
    second = _pdf_text(page.pdf())
    assert [word for word in words if word not in second] == [] and "print it again" not in second


def test_counts_and_filters_follow_the_deck_as_build_describes_it(tmp_path: Path, browser_page: Any) -> None:
    """Parents of subdecks count as build counts them, and a group's filter shows its subgroups' cards."""
    from conftest import write_project

    project = write_project(tmp_path / "pharm", {"deckgen.yaml": NESTED_CONFIG, "cards/causes.yaml": None,
        "cards/drugs.yaml": "cards:\n" + "".join(
            f"  - id: {group.replace('/', '-')}\n    group: {group}\n    front: Which {group}?\n    back: This one\n"
            for group in ("antibiotics/beta/carbapenems", "antibiotics/beta/penicillins", "antibiotics/glyco",
                          "analgesics"))})
    prepared = prepare(project)
    assert prepared.layout_lines()[0] == "4 notes in 6 subdecks"
    page = browser_page
    page.goto(write_preview(prepared, tmp_path / "site").index.as_uri())
    assert page.locator(".counts").inner_text() == "4 notes · 4 cards · 6 subdecks"
    options = page.eval_on_selector_all("#filter-group option", "os => os.map(o => o.textContent)")
    assert options == ["All subdecks", "Antibiotics (3)", "Antibiotics::Beta-lactams (2)",
                       "Antibiotics::Beta-lactams::Carbapenems (1)", "Antibiotics::Beta-lactams::Penicillins (1)",
                       "Antibiotics::Glycopeptides (1)", "Analgesics (1)"]
    page.select_option("#filter-group", "antibiotics")
    assert visible_entries(page) == ["antibiotics/beta/carbapenems", "antibiotics/beta/penicillins",
                                     "antibiotics/glyco"]
    page.select_option("#filter-group", "antibiotics/beta")
    assert len(visible_entries(page)) == 2


def test_night_mode_links_are_readable(sample_project: Path, tmp_path: Path, browser_page: Any) -> None:
    """A link on a card ({{hint:}}'s, say) in night mode is light on the dark page, not dark blue on it."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(write_preview(prepare(sample_project), tmp_path / "site").index.as_uri())
    body = card_body(page, "#card-0")
    body.wait_for()
    page.click("#night-toggle")
    expect(body).to_have_attribute("class", "card card1 nightMode night_mode")
    colour = body.evaluate("b => { const a = document.createElement('a'); a.href = '#'; a.textContent = 'Show';"
                           " b.appendChild(a); return getComputedStyle(a).color; }")
    red, green, blue = (int(part) for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    assert 0.2126 * red + 0.7152 * green + 0.0722 * blue > 128, colour  # light on #2c2c2c
