"""Markdown rendering details that the pipeline relies on."""

from __future__ import annotations

import functools
import hashlib
import json
import string
from dataclasses import replace
from pathlib import Path

import genanki
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from deckgen.project.card_types import CardType, load_templates
from deckgen.project.config import ProjectConfig
from deckgen.build.render import Renderer, _base91, content_hash, is_plain, note_guid

PLAINISH = st.text(alphabet=string.ascii_letters + string.digits + " .,;:'\"-+=(){}/?%$@^é–\u00a0\u00e9*_<&#",
                   min_size=1, max_size=40)


SAMPLE = Path(__file__).parent / "projects" / "sample"


@functools.cache
def _renderer(html: bool = False) -> Renderer:
    config = ProjectConfig(root=SAMPLE, deck="Deck", key="deck", html=html)
    return Renderer(config, load_templates(SAMPLE, []))


@settings(max_examples=1000, deadline=None)
@given(text=PLAINISH)
def test_plain_text_shortcut_matches_cmark(text: str) -> None:
    renderer = _renderer()
    full = renderer.markdown_document(text)
    if full.startswith("<p>") and full.endswith("</p>") and full.count("<p>") == 1:
        full = full[3:-4]
    if is_plain(text):
        assert renderer.markdown_html(text) == full


def test_markdown_in_card_text() -> None:
    renderer = _renderer()
    assert renderer.markdown_html("**Trauma**, e.g. an open wound") == "<strong>Trauma</strong>, e.g. an open wound"
    assert renderer.markdown_html("line one\nline two") == "line one<br />\nline two"
    assert renderer.markdown_html("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    assert renderer.markdown_html("bind {{c1::*calcium*}} ions") == "bind {{c1::<em>calcium</em>}} ions"
    assert renderer.markdown_html("| a |\n|---|\n| 1 |").startswith("<table>")


def test_a_one_line_value_is_never_made_a_block() -> None:
    renderer = _renderer()
    shown = {text: renderer.markdown_html(text) for text in
             ("> 99 %", ">99", "- 0.5 mmol/L", "* 3 tablets", "+ 2", "# of doses: 7", "###### six", "---", "* * *")}
    assert shown == {"> 99 %": "&gt; 99 %", ">99": "&gt;99", "- 0.5 mmol/L": "- 0.5 mmol/L", "* 3 tablets": "* 3 tablets",
                     "+ 2": "+ 2", "# of doses: 7": "# of doses: 7", "###### six": "###### six", "---": "---",
                     "* * *": "* * *"}
    assert renderer.markdown_html("*Nephro*toxicity") == "<em>Nephro</em>toxicity"  # inline Markdown stays
    assert renderer.markdown_html("#1 choice") == "#1 choice"
    assert renderer.markdown_html("> quoted\n> on two lines").startswith("<blockquote>")  # a block keeps them
    assert renderer.markdown_html("- only item\n").startswith("<ul>")


def test_raw_html_is_escaped_everywhere() -> None:
    renderer = _renderer()
    assert renderer.markdown_html("a <script>x</script> b") == "a &lt;script&gt;x&lt;/script&gt; b"
    assert renderer.markdown_html("<div>block</div>") == "&lt;div&gt;block&lt;/div&gt;"
    assert renderer.markdown_html("`<b>` code") == "<code>&lt;b&gt;</code> code"


def test_opted_in_html_is_sanitized() -> None:
    renderer = _renderer(html=True)
    assert renderer.markdown_html('<b>bold</b> <img src="x.png" onerror="alert(1)">') == \
        '<b>bold</b> <img src="x.png">'
    assert "script" not in renderer.markdown_html("a <script>alert(1)</script> b")


@settings(max_examples=500, deadline=None)
@given(key=st.text(max_size=30), card_id=st.text(max_size=30))
def test_note_guid_is_genankis(key: str, card_id: str) -> None:
    assert note_guid(key, card_id) == genanki.guid_for(key, card_id)


@pytest.mark.parametrize("number", [0, 1, 90, 91, 92, 91 * 91 - 1, 91 * 91, 91 * 91 + 1, 91 ** 3 - 1, 91 ** 3,
                                    91 ** 4, 91 ** 9, 91 ** 10 - 1, 2 ** 64 - 1, 12345678901234567890])
def test_base91_two_digits_at_a_time_is_one_at_a_time(number: int) -> None:
    digits, rest = [], number  # genanki's loop: the lowest digit first, reversed at the end
    while rest:
        digits.append(genanki.util.BASE91_TABLE[rest % 91])
        rest //= 91
    assert _base91(number) == "".join(reversed(digits))


@settings(max_examples=500, deadline=None)
@given(kind=st.sampled_from(["basic", "cloze"]), fields=st.lists(st.text(), max_size=5),
       tags=st.lists(st.text(max_size=10), max_size=3))
def test_content_hash_is_of_the_notes_json(kind: str, fields: list[str], tags: list[str]) -> None:
    payload = json.dumps([kind, fields, tags], ensure_ascii=False)
    try:
        expected = hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate: no YAML file can hold one
        return
    assert content_hash(kind, tuple(fields), tuple(tags)) == expected


_PLAIN_SHAPES = {  # each card type's blocks, and those that are plain
    "shapes": ("""\
{% block Front %}Q: {{ a }} &amp; <b>{{ b }}</b>{% endblock %}
{% block Back %}{% if b %}{{ b }}!{% endif %}{% endblock %}
{% block Extra %}{% if a %}{{ a }}{% else %}none{% endif %}{% endblock %}
""", {"Front", "Back"}),  # the {% else %} block is Jinja's
    "globals": ("""\
{% block Front %}{{ a }}{% endblock %}
{% block Back %}{% if range %}{{ b }}{% endif %}{% endblock %}
""", {"Front"}),  # a card without its field 'range' gets Jinja's global of that name
}
_FIELD_VALUES = st.one_of(st.none(), st.text(alphabet="ab<>&\"' ", max_size=6),
                          st.text(alphabet="ab<>&\"' ", max_size=6).map(Markup), st.just(["a", "b"]))


@functools.cache
def _plain_card_types(root: Path) -> dict[str, CardType]:
    (root / "templates").mkdir(exist_ok=True)
    for name, (template, _) in _PLAIN_SHAPES.items():
        (root / "templates" / f"{name}.yaml").write_text("note_type: basic\nfields:\n  a: {}\n  b: {}\n  range: {}\n")
        (root / "templates" / f"{name}.html.j2").write_text(template)
    problems: list[object] = []
    card_types = load_templates(root, problems).card_types  # type: ignore[arg-type]
    assert problems == []
    return card_types


def _outcome(card_type: CardType, data: dict[str, object]) -> object:
    try:
        return card_type.render_fields(data)
    except Exception as exc:  # a field that is a list or missing: the same error either way
        return type(exc), str(exc)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(_PLAIN_SHAPES)), a=_FIELD_VALUES, b=_FIELD_VALUES, other=_FIELD_VALUES)
def test_plain_blocks_render_as_jinja_does(tmp_path_factory: pytest.TempPathFactory, name: str, a: object,
                                           b: object, other: object) -> None:
    card_type = _plain_card_types(tmp_path_factory.getbasetemp())[name]
    assert set(card_type.plain) == _PLAIN_SHAPES[name][1]
    data = {key: value for key, value in (("a", a), ("b", b), ("range", other)) if value is not None}
    assert _outcome(card_type, data) == _outcome(replace(card_type, plain={}), data)
