"""The preview in a real browser: Debian's headless Chromium, driven by Playwright, from a file:// URL.

Playwright drives the system's Chromium (it downloads no browser). Under CI (the CI variable set)
a missing browser fails the test; on a developer's machine it skips it.
"""

from __future__ import annotations

import os
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
