"""Nothing remote, decided the way a browser decides (issue 23): deckgen refuses exactly the card HTML
that makes Chromium fetch something outside the media folder, rendered as Anki's reviewer renders it.

Anki's reviewer is a web page served from 127.0.0.1 whose cards load media by relative names. Here
each case is such a page in the media folder of a local server, every request is recorded, and one
that leaves the folder is stopped (and counted); deckgen's rule must refuse a case exactly when
there was one. A few cases are refused without a fetch here (they would fetch at another screen
density, on a click or in another browser): they are listed apart.
"""

from __future__ import annotations

import functools
import random
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from conftest import CliRun
from test_preview_browser import browser_page  # noqa: F401  (the fixture)

from deckgen.anki.builtin_note_types import CardTemplate, NoteType
from deckgen.anki.name_rules import card_remote_problem, needs_cards, note_problem
from deckgen.anki.template_engine import NoteContext, render_cards
from deckgen.safety.remote import css_remote_problem, ends_in_text, remote_problem, without_refresh

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200e1f8e5ec0000000049454e44ae426082")
EVIL = "evil.example"
FETCHING = [  # each makes Chromium fetch from outside the media folder, and deckgen refuses it
    '<img src="https:evil.example/x.png">',
    '<img src="\\\\evil.example/x.png">',
    '<img src="/&#47;evil.example/x.png">',
    '<img src="ht&#116;ps://evil.example/x.png">',
    '<img src="HTTPS://EVIL.EXAMPLE/x.png">',
    '<img a"b src=https:evil.example/x.png>',
    '<img/src=" https://evil.example/x.png">',
    '<img src="../x.png">',
    '<img src="/x.png">',
    '<img src="%2e%2e/x.png">',
    '<img srcset="https://evil.example/b.png 1x">',
    '<svg><image href="https://evil.example/x.png" width="4" height="4"/></svg>',
    '<svg><image xlink:href="//evil.example/x.png" width="4" height="4"/></svg>',
    '<div style="width:4px;height:4px;background-image:image-set(\'https://evil.example/x.png\' 1x)"></div>',
    '<div style="width:4px;height:4px;background:\\75rl(https://evil.example/x.png)"></div>',
    '<div style="width:4px;height:4px;background:url(&quot;//evil.example/x.png&quot;)"></div>',
    '<div id=s></div><style>#s{width:4px;height:4px;background:url("https:\\2f\\2f evil.example/x.png")}</style>',
    '<style>@import "https://evil.example/x.css";</style>',
    '<style>@\\69mport url(//evil.example/x.css);</style>',
    '<link rel="stylesheet" href="//evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<meta http-equiv="Refr&#101;sh" content="0; \'https://evil.example/\'">',
    '<base href="https://evil.example/"><img src="a.png">',
    '<iframe srcdoc="&lt;img src=https://evil.example/x.png&gt;"></iframe>',
    '<video poster="https://evil.example/p.png"></video>',
    '<input type="image" src="https://evil.example/x.png">',
    '<table background="https://evil.example/x.png"><tr><td>x</td></tr></table>',
    '<form action="https://evil.example/f"><input name="a" value="b"></form>',
    '<form><button formaction="https://evil.example/f">go</button></form>',
    '<iframe src="https:evil.example/x.html"></iframe>',
    '<object data="https://evil.example/x.svg"></object>',
]
LOCAL = [  # each stays in the media folder (or loads nothing), and deckgen lets it be
    '<img src="a.png">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<img srcset="a.png 1x, a.png 2x">',
    '<a href="https://ankiweb.net/">a link is followed on a click, and Anki opens it outside</a>',
    '<div style="width:4px;height:4px;background:url(a.png)"></div>',
    '<style>#qa::after{content:"Note: see https://ankiweb.net"} #qa{background:url(\'a.png\')}</style>',
    '<svg><image href="a.png" width="4" height="4"/></svg>',
    '<span title="a:b (https://x)">text</span>',
    '<span class="cloze" data-cloze="background:url(https://evil.example/x.png)">[...]</span>',
    '<!-- <img src="https://evil.example/x.png"> -->',
    '<meta http-equiv="refresh" content="30">',
    'https://evil.example/x.png as text',
]
REFUSED_WITHOUT_A_FETCH_HERE = [  # still remote: another density, another browser, a click
    '<img srcset="a.png 1x, https://evil.example/b.png 2x" src="a.png">',
    '<link rel="preconnect" href="https://evil.example">',
    '<a href="a.png" ping="https://evil.example/ping">ping on a click</a>',
    '<object data="data:text/html,x"></object>',
    '<style>@import url(data:text/css,x);</style>',
]


# The rule itself
# ----------------------------------------


@pytest.mark.parametrize("html", FETCHING + REFUSED_WITHOUT_A_FETCH_HERE)
def test_remote_card_html_is_refused(html: str) -> None:
    assert remote_problem(html) is not None


@pytest.mark.parametrize("html", LOCAL)
def test_local_card_html_is_not(html: str) -> None:
    assert remote_problem(html) is None


@pytest.mark.parametrize("css,remote", [
    ("a{b:url(https://x.example/y.png)}", True),
    ('.a{background:-webkit-image-set("//x.example/y.png" 1x)}', True),
    ("@import 'https:x.example/y.css';", True),
    ('@import "x.css"; .a{content:"http://x.example"} .b{background:url(y.png)}', False),
    ("/* url(https://x.example/y.png) */ .a{}", False),
])
def test_style_sheets_are_read_as_css(css: str, remote: bool) -> None:
    assert (css_remote_problem(css) is not None) == remote


def test_a_refresh_is_taken_out_of_a_preview_card() -> None:
    html = 'a<meta http-equiv=refresh content="0;url=x.html">b<META HTTP-EQUIV="Refr&#101;sh" content=1>c<meta charset=x>'
    assert without_refresh(html) == "abc<meta charset=x>"


def test_markdown_with_a_scheme_and_no_slashes_is_refused(make_project: Callable[..., Path],
                                                          deckgen: Callable[..., CliRun]) -> None:
    card = "group: cause\ncards:\n  - id: trauma\n    front: Which injury?\n    back: '![x](https:evil.example/x.png)'\n"
    run = deckgen("check", make_project({"cards/causes.yaml": card}))
    assert run.exit_code == 1 and not run.crashed
    assert run.problems[0].startswith(
        "cards/causes.yaml:3:5: card 'trauma': loads the remote resource 'https:evil.example/x.png'")


def test_a_note_type_template_with_svg_image_is_refused(make_project: Callable[..., Path],
                                                        deckgen: Callable[..., CliRun]) -> None:
    note_type = ('fields: [Front, Back]\ntemplates:\n  - name: Card 1\n'
                 '    front: "{{Front}}<svg><image href=\'ht&#116;ps://evil.example/x.png\'/></svg>"\n'
                 '    back: "{{Back}}"\n')
    run = deckgen("check", make_project({"note_types/own.yaml": note_type}))
    assert run.exit_code == 1 and not run.crashed
    assert any("the front template loads the remote resource 'https://evil.example/x.png'" in line
               for line in run.problems)


# What a learner's card holds: fields as the note type's templates place them
# ----------------------------------------

# (front template, fields): a field in an address, a field rewritten into markup, fields that only make a tag
# together; each card makes Chromium fetch from outside the media folder, and deckgen refuses the note
TEMPLATED_FETCHING = [
    ('<img src="{{F}}">', {"F": "https://evil.example/x.png"}),
    ("<img src={{F}}>", {"F": "https:evil.example/x.png"}),
    ('<img src="{{F}}">', {"F": 'a.png" srcset="https://evil.example/y.png 1x'}),
    ('<img src="{{F}}">', {"F": "../x.png"}),
    ('<img srcset="{{F}} 1x">', {"F": "//evil.example/x.png"}),
    ('<div style="width:4px;height:4px;background:url({{F}})"></div>', {"F": "https://evil.example/x.png"}),
    ("<div style='width:4px;height:4px;background:url(\"{{F}}\")'></div>", {"F": "ht&#116;ps://evil.example/x.png"}),
    ('<audio src="{{F}}" preload="auto"></audio>', {"F": "https://evil.example/x.mp3"}),
    ('<video poster="{{F}}"></video>', {"F": "https://evil.example/p.png"}),
    ("<svg><image href='{{F}}' width='4' height='4'/></svg>", {"F": "https://evil.example/x.png"}),
    ('<div id=s></div><style>#s{width:4px;height:4px;background:url({{F}})}</style>', {"F": "//evil.example/x.png"}),
    ("{{text:F}}", {"F": "&lt;img src=https://evil.example/x.png&gt;"}),
    ("{{B}}<hr>{{F}}", {"F": "' src=https://evil.example/x.png>", "B": "<img alt='"}),
    ("{{B}} {{F}}", {"F": "https://evil.example/x.png>", "B": "<img src="}),
]
TEMPLATED_LOCAL = [
    ('<img src="{{F}}">', {"F": "a.png"}),
    ('<img srcset="{{F}} 1x">', {"F": "a.png"}),
    ('<div style="width:4px;height:4px;background:url({{F}})"></div>', {"F": "a.png"}),
    ("{{text:F}}", {"F": "fish &amp; chips: https://evil.example/x.png as text"}),
    ("{{B}}<hr>{{F}}", {"F": "<b>bold</b> https://evil.example/x.png", "B": "<img src='a.png'>"}),
    ('<a href="{{F}}">a link</a>', {"F": "https://ankiweb.net/"}),
]


def _note_type(front: str) -> NoteType:
    return NoteType("own", ("F", "B"), (CardTemplate("Card 1", front, "{{FrontSide}}"),), path="note_types/own.yaml")


def _refused(front: str, fields: dict[str, str]) -> bool:
    """What the build decides for a note of this note type (deckgen.build.render's Renderer.note)."""
    note_type, values = _note_type(front), {"B": "", **fields}
    ordered = tuple(values[name] for name in note_type.fields)
    return (note_problem(ordered) or (needs_cards(note_type, ordered) and
            card_remote_problem(note_type, values, NoteContext(("t",), "Deck (own)", "Deck")))) not in (None, False)


def _card_html(front: str, fields: dict[str, str]) -> str:
    """The card's question as Anki's reviewer shows it."""
    return render_cards(_note_type(front), {"B": "", **fields})[0].question


@pytest.mark.parametrize("front,fields", TEMPLATED_FETCHING)
def test_a_field_a_template_places_in_an_address_is_judged_as_the_card_holds_it(front: str, fields: dict[str, str]
                                                                               ) -> None:
    assert _refused(front, fields)


@pytest.mark.parametrize("front,fields", TEMPLATED_LOCAL)
def test_a_field_that_stays_in_the_media_folder_is_not(front: str, fields: dict[str, str]) -> None:
    assert not _refused(front, fields)


@pytest.mark.parametrize("html,in_text", [
    ("plain", True), ("<p>a <em>b</em></p>", True), ("<img src=a.png>", True), ("<!-- open", True),
    ("<style>a{}</style>b", True), ('<a title="x>y">z</a>', True), ("a < b", True),
    ("<img src=", False), ("<img alt='x>y", False), ("<b title=\"a\">c<img", False), ("<style>a{", False),
    ("<img a\"b src=x", False), ('<img alt="x" title=\'', False), ("<STYLE >", False),
])
def test_a_field_that_ends_inside_a_tag_is_told(html: str, in_text: bool) -> None:
    assert ends_in_text(html) == in_text


def _ends_in_text_as_the_rule_reads(html: str) -> bool:
    """The slow reading ends_in_text must agree with: the remote rule's own tokenizer, tag by tag."""
    from deckgen.safety import remote

    position = 0
    while (start := remote._TAG_START.search(html, position)) is not None:
        if start[1] or start[2]:  # a comment, an end tag or a bogus comment: open at the end hides what follows
            end = html.find("-->" if start[1] else ">", start.end())
            if end == -1:
                return True
            position = end + (3 if start[1] else 1)
            continue
        name = remote._TAG_NAME.match(html, start.end() - 1)
        _, position = remote._attributes(html, name.end())  # type: ignore[union-attr]
        if position > len(html):
            return False
        if name[0].lower() == "style":  # type: ignore[index]
            end = remote._STYLE_END.search(html, position)
            if end is None:
                return False
            position = end.start()
    return True


def test_ends_in_text_never_says_text_where_the_rule_reads_a_tag_or_a_style_sheet() -> None:
    pieces = ["<", "<img", "<b", ">", '"', "'", "=", " a=", " ", "/", "x", "<style>", "<STYLE ", "</style>", "<!--",
              "-->", "<!", "</", "\n"]
    chance = random.Random(23)
    texts = ["".join(chance.choice(pieces) for _ in range(chance.randint(1, 9))) for _ in range(40_000)]
    assert [text for text in texts if ends_in_text(text) and not _ends_in_text_as_the_rule_reads(text)] == []


def test_only_note_types_that_place_fields_in_markup_render_cards() -> None:
    plain = NoteType("own", ("F", "B"), (CardTemplate("Card 1", '<div class="q">{{F}}</div>{{#B}}<p>{{B}}</p>{{/B}}',
                                                      "{{FrontSide}}<hr id=answer>{{hint:B}}"),), path="x.yaml")
    assert not needs_cards(plain, ("<p>a <b>b</b></p>", "x"))
    assert needs_cards(plain, ("<img alt='", "x"))  # a field that leaves a tag open
    for front in ('<img src="{{F}}">', "<p title={{F}}>", "{{text:F}}", "{{Tags}}", "<style>{{F}}</style>"):
        assert needs_cards(_note_type(front), ("a", "b")), front


def test_a_project_note_type_that_puts_a_field_in_an_address_is_refused(
        make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    note_type = ("fields: [Word, Image]\ntemplates:\n  - name: Picture\n"
                 "    front: '{{Word}}<img src=\"{{Image}}\">'\n    back: '{{FrontSide}}'\n")
    spec = "note_type: pic\nfields:\n  word: {required: true}\n  image: {markdown: false}\n"
    template = "{% block Word %}{{ word }}{% endblock %}\n{% block Image %}{{ image }}{% endblock %}\n"
    cards = ("group: cause\ntype: pic\ncards:\n  - id: fine\n    word: Fine\n    image: a.png\n"
             "  - id: beacon\n    word: Beacon\n    image: https://evil.example/x.png\n")
    project = make_project({"note_types/pic.yaml": note_type, "templates/pic.yaml": spec,
                            "templates/pic.html.j2": template, "cards/pics.yaml": cards})
    for command in ("check", "build"):
        run = deckgen(command, project)
        assert run.exit_code == 1 and not run.crashed
        assert run.problems == [
            "cards/pics.yaml:7:5: card 'beacon': the front of its card 'Picture' loads the remote resource "
            "'https://evil.example/x.png', from field 'Image', as note type 'pic' places it (remote content is "
            "refused: it tells a server whenever the card is shown, and fails offline; copy the file into the media "
            "folder and refer to it by name)"]


# The rule in Chromium
# ----------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        """No log lines in the test output."""


@pytest.fixture
def media_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A local server for a media folder, as Anki's reviewer has one: (the folder, its URL)."""
    site = tmp_path / "server"
    (site / "media").mkdir(parents=True)
    (site / "media" / "a.png").write_bytes(PNG)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site / "media", f"http://127.0.0.1:{server.server_address[1]}/media/"
    finally:
        server.shutdown()
        server.server_close()


_SUBMIT = """() => {
  document.querySelectorAll('form').forEach(form => {
    const button = form.querySelector('button');
    button ? button.click() : form.submit();
  });
}"""


def _outside_requests(page: Any, folder: Path, base: str, html: str, number: int) -> list[str]:
    """What the card's page asked for outside the media folder (each request stopped)."""
    name = f"card-{number}.html"
    (folder / name).write_text(f'<!doctype html><html><head><meta charset="utf-8"></head>'
                               f'<body class="card card1"><div id="qa">{html}</div></body></html>', encoding="utf-8")
    outside: list[str] = []

    def route(request: Any) -> None:
        if request.request.url.startswith(base):
            request.continue_()
        else:
            outside.append(request.request.url)
            request.abort()

    from playwright.sync_api import Error

    page.route("**/*", route)
    try:
        page.goto(base + name, wait_until="load")
        try:
            page.evaluate(_SUBMIT)
        except Error:  # the card's page went away already (a refresh): what it asked for is recorded
            pass
        page.wait_for_timeout(400)  # time for refreshes, images in frames and submissions to ask
    finally:
        page.unroute("**/*")
    return outside


def test_deckgen_refuses_exactly_what_chromium_fetches_from_outside(
        media_server: tuple[Path, str], browser_page: Any) -> None:  # noqa: F811
    folder, base = media_server
    page = browser_page
    page.context.set_offline(False)  # the local server only: every other request is stopped by the route
    seen = {html: _outside_requests(page, folder, base, html, number)
            for number, html in enumerate(FETCHING + LOCAL + REFUSED_WITHOUT_A_FETCH_HERE)}
    assert [html for html in FETCHING if not seen[html]] == []  # the browser does fetch each of these
    assert {html: seen[html] for html in LOCAL if seen[html]} == {}
    fetched = {html for html, urls in seen.items() if urls}
    refused = {html for html in seen if remote_problem(html) is not None}
    assert refused - fetched == set(REFUSED_WITHOUT_A_FETCH_HERE)
    assert fetched - refused == set()


def test_deckgen_refuses_exactly_the_templated_cards_chromium_fetches_from_outside_for(
        media_server: tuple[Path, str], browser_page: Any) -> None:  # noqa: F811
    folder, base = media_server
    page = browser_page
    page.context.set_offline(False)
    cases = TEMPLATED_FETCHING + TEMPLATED_LOCAL
    fetched = [bool(_outside_requests(page, folder, base, _card_html(front, fields), number))
               for number, (front, fields) in enumerate(cases)]
    refused = [_refused(front, fields) for front, fields in cases]
    assert fetched == [True] * len(TEMPLATED_FETCHING) + [False] * len(TEMPLATED_LOCAL)
    assert refused == fetched
