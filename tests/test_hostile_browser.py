"""A hostile project's preview in headless Chromium: its script and SVG never reach the page (issue 12).

Uses the browser fixture of test_preview_browser.py: skipped without Chromium, failed under CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from test_preview_browser import browser_page  # noqa: F401  (the fixture)

from deckgen.build.pipeline import prepare
from deckgen.preview.site import write_preview

ATTACK = "parent.document.title='pwned';top.document.title='pwned';document.body.dataset.ran='yes'"
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" onload="top.document.title=\'svg\'">'
       '<script>top.document.title="svg-script"</script><rect width="4" height="4"/></svg>')
TEMPLATE = (
    "{% block Front %}{{ front }}<script>" + ATTACK + "</script>"
    '<img src="data:," onerror="' + ATTACK + '"><img src="_evil.svg">'
    '<object data="_evil.svg"></object><iframe src="_evil.svg"></iframe>{% endblock %}'
    "{% block Back %}{{ back }}{% endblock %}"
)


def test_card_script_and_svg_never_run_on_the_page(make_project: Callable[..., Path], tmp_path: Path,
                                                   browser_page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    project = make_project({"templates/basic.html.j2": TEMPLATE, "media/_evil.svg": SVG})
    index = write_preview(prepare(project), tmp_path / "site").index
    page = browser_page
    page.goto(index.as_uri())
    title = page.title()
    body = page.frame_locator("#card-0 iframe").first.locator("body")
    body.locator("#qa").wait_for()
    expect(body).to_contain_text("Which injury?")
    # deckgen's own script runs (allowed by its hash): it reports the card's height to the page
    page.wait_for_function("() => document.querySelector('#card-0 iframe').style.minHeight !== ''")
    page.wait_for_timeout(500)  # time for any load, error or SVG script to have run, were it allowed
    assert page.title() == title
    assert body.get_attribute("data-ran") is None
    assert page.evaluate("() => document.title") == title
    assert not [error for error in page.errors if "pwned" in error or "svg" in error]


def test_served_card_script_never_runs_and_deckgen_s_does(make_project: Callable[..., Path], tmp_path: Path,
                                                           browser_page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from deckgen.preview.server import PreviewServer

    project = make_project({"templates/basic.html.j2": TEMPLATE, "media/_evil.svg": SVG})
    page = browser_page
    page.context.set_offline(False)  # localhost only: the server below
    with PreviewServer(project, tmp_path / "site", port=0) as server:
        page.goto(server.url)
        title = page.title()
        body = page.frame_locator("#card-0 iframe").first.locator("body")
        expect(body).to_contain_text("Which injury?")
        page.wait_for_function("() => document.querySelector('#card-0 iframe').style.minHeight !== ''")
        page.click("#night-toggle")
        expect(body).to_have_attribute("class", "card card1 nightMode night_mode")
        assert page.title() == title and body.get_attribute("data-ran") is None


def test_the_attack_is_live_outside_the_sandbox(browser_page: Any) -> None:  # noqa: F811
    """The control for the test above: the same card HTML in a plain page does change its title."""
    page = browser_page
    page.set_content("<title>plain</title><body>" + TEMPLATE.split("{{ front }}")[1].split("{% endblock %}")[0])
    page.wait_for_function("() => document.title === 'pwned'")


REFRESH = ('{% block Front %}{{ front }}<meta http-equiv="refresh" content="0;url=_moved.html">{% endblock %}'
           "{% block Back %}{{ back }}{% endblock %}")


def test_a_card_never_moves_its_frame(make_project: Callable[..., Path], tmp_path: Path,
                                      browser_page: Any) -> None:  # noqa: F811
    """A <meta http-equiv=refresh> (CSP cannot stop one) is taken out: the frame stays on its card (issue 23)."""
    project = make_project({"templates/basic.html.j2": REFRESH, "media/_moved.html": "<p id=moved>moved</p>"})
    index = write_preview(prepare(project), tmp_path / "site").index
    page = browser_page
    page.goto(index.as_uri())
    page.frame_locator("#card-0 iframe").first.locator("#qa").wait_for()
    page.wait_for_timeout(1500)  # a refresh of 0 seconds has happened by now, were it there
    urls = [frame.url for frame in page.frames]
    assert not [url for url in urls if "_moved" in url], urls
    assert any(url.endswith("/cards/0-question.html") for url in urls), urls
