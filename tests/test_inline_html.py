"""Text that means what the author wrote, checked with the official Anki backend: the inline HTML set
with `html: false`, every other tag warned about, stray cloze markers, unlisted references, the CSS."""

from __future__ import annotations

from pathlib import Path

import pytest

from ankitools import import_package, open_collection, rendered_cards, strip_style
from conftest import CAUSE_SPEC, MINIMAL_CONFIG, write_project
from deckgen.build.pipeline import BuildOptions, build, prepare
from deckgen.project.card_types import BUILTIN_DIR

CSS = ".card { color: rebeccapurple; }\n"


def _card(back: str, front: str = "Which marker?", extra: str = "") -> str:
    text = f"group: cause\ncards:\n  - id: marker\n    front: {front}\n    back: {back}\n"
    return text + (f"    extra: {extra}\n" if extra else "")


def _warnings(root: Path) -> list[str]:
    return [str(p) for p in prepare(root, BuildOptions(use_cache=False)).problems]


@pytest.fixture
def anki(tmp_path: Path):  # type: ignore[no-untyped-def]
    """anki(project) -> the cards Anki renders from the project's package."""
    collections = []

    def cards(root: Path):  # type: ignore[no-untyped-def]
        result = build(root, BuildOptions(output=root / "deck.apkg", use_cache=False))
        (root / "anki").mkdir()
        col = open_collection(root / "anki")
        collections.append(col)
        import_package(col, result.output)
        return rendered_cards(col)

    yield cards
    for col in collections:
        col.close()


def test_sub_and_superscripts_reach_anki_as_html(tmp_path: Path, anki) -> None:  # type: ignore[no-untyped-def]
    root = write_project(tmp_path, {"cards/causes.yaml": _card(
        '"HbA<sub>1c</sub> above 6.5 %; x<sup>2</sup>, *not* x<SUP>3</SUP><br>next line"',
        front='"What does HbA<sub>1c</sub><br/>measure?"')})
    assert _warnings(root) == []
    (card,) = anki(root)
    question, answer = strip_style(card.question), strip_style(card.answer)
    assert "What does HbA<sub>1c</sub><br>measure?" in question
    assert "HbA<sub>1c</sub> above 6.5 %; x<sup>2</sup>, <em>not</em> x<sup>3</sup><br>next line" in answer


def test_other_tags_are_shown_as_text_with_a_located_warning(tmp_path: Path, anki) -> None:  # type: ignore[no-untyped-def]
    back = ('"<div>a</div> <img src=x.png> <sub class=low>1</sub> <sup>open, '
            '</b> `<span>` is code"')
    root = write_project(tmp_path, {"cards/causes.yaml": _card(back)})
    assert _warnings(root) == [
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': <div> is shown as text, not as HTML "
        "(with html: false only <b>, <i>, <u>, <em>, <strong>, <sub>, <sup> and <br> are kept)",
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': </div> is shown as text, not as HTML "
        "(with html: false only <b>, <i>, <u>, <em>, <strong>, <sub>, <sup> and <br> are kept)",
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': <img src=x.png> is shown as text, not as "
        "HTML (with html: false only <b>, <i>, <u>, <em>, <strong>, <sub>, <sup> and <br> are kept)",
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': <sub class=low> is shown as text, not as "
        "HTML (attributes are not allowed with html: false)",
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': </sub> is shown as text, not as HTML "
        "(no matching <sub>)",
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': <sup> is shown as text, not as HTML "
        "(no matching </sup>)",
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back': </b> is shown as text, not as HTML "
        "(no matching <b>)",
    ]
    (card,) = anki(root)
    answer = strip_style(card.answer)
    assert ("&lt;div&gt;a&lt;/div&gt; &lt;img src=x.png&gt; &lt;sub class=low&gt;1&lt;/sub&gt; &lt;sup&gt;open, "
            "&lt;/b&gt; <code>&lt;span&gt;</code> is code") in answer


def test_plain_text_fields_warn_about_every_tag(tmp_path: Path) -> None:
    card = ("group: cause\ntype: cause\ncards:\n  - id: c\n    cause: Trauma\n"
            "    scope: local\n    example: x<sub>2</sub>\n")
    spec = CAUSE_SPEC.replace("cause: {required: true}", "cause: {required: true}\n  label: {markdown: false}")
    template = "{% block Front %}{{ cause }}{{ label }}{% endblock %}{% block Back %}{{ example }}{% endblock %}"
    root = write_project(tmp_path, {"cards/causes.yaml": card + "    label: H<sub>2</sub>O\n",
                                    "templates/cause.yaml": spec, "templates/cause.html.j2": template})
    assert _warnings(root) == [
        "cards/causes.yaml:8:12: warning: card 'c': field 'label': <sub> is shown as text, not as HTML "
        "(this field is plain text (markdown: false))",
        "cards/causes.yaml:8:12: warning: card 'c': field 'label': </sub> is shown as text, not as HTML "
        "(this field is plain text (markdown: false))",
    ]


def test_with_html_true_nothing_is_warned(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"deckgen.yaml": MINIMAL_CONFIG + "html: true\n",
                                    "cards/causes.yaml": _card('"<span class=x>a</span> H<sub>2</sub>O"')})
    assert _warnings(root) == []


def test_a_cloze_marker_in_a_basic_card_is_warned(tmp_path: Path, anki) -> None:  # type: ignore[no-untyped-def]
    root = write_project(tmp_path, {"cards/causes.yaml": _card("Within {{c1::24 hours}}")})
    assert _warnings(root) == [
        "cards/causes.yaml:5:11: warning: card 'marker': field 'back' has a cloze marker, but card type 'basic' is "
        "not a cloze card (Anki shows the braces as they are; use a cloze card type (type: cloze) or remove the marker)"
    ]
    (card,) = anki(root)
    assert "Within {{c1::24 hours}}" in card.answer
    cloze = "group: cause\ncards:\n  - id: c\n    type: cloze\n    text: Within {{c1::24 hours}}\n"
    assert _warnings(write_project(tmp_path / "cloze", {"cards/causes.yaml": cloze})) == []


def test_a_reference_the_source_does_not_list_is_warned(tmp_path: Path, anki) -> None:  # type: ignore[no-untyped-def]
    config = MINIMAL_CONFIG.replace("  article: An article\n", (
        "  article: An article\n  guideline:\n    citation: A guideline\n    references:\n"
        "      1: The first\n      5: null  # cited in its text, missing from its list\n"))
    sources = '    sources: [{id: guideline, ref: "1, 5, 7"}]\n'
    root = write_project(tmp_path, {"deckgen.yaml": config, "cards/causes.yaml": _card("Trauma") + sources})
    assert _warnings(root) == [
        "cards/causes.yaml:6:36: warning: card 'marker': source 'guideline' lists no reference 7 (it lists 1; a "
        "number its text cites without listing it can be declared in deckgen.yaml as '7: null')"
    ]
    (card,) = anki(root)
    answer = strip_style(card.answer)
    assert "<li>[5] <i>not listed in the source</i></li>" in answer
    assert "<li>[7] <i>not listed in the source</i></li>" in answer


@pytest.mark.parametrize("mode", ["add", "replace", None])
def test_the_projects_css_is_added_to_the_built_in_css_or_replaces_it(tmp_path: Path, anki, mode) -> None:  # type: ignore[no-untyped-def]
    config = MINIMAL_CONFIG + (f"css: {mode}\n" if mode else "")
    root = write_project(tmp_path, {"deckgen.yaml": config, "cards/causes.yaml": _card("Trauma"),
                                    "templates/style.css": CSS})
    (card,) = anki(root)
    built_in = (BUILTIN_DIR / "style.css").read_text(encoding="utf-8")
    style = card.question[: card.question.index("</style>")]
    if mode == "replace":
        assert built_in.splitlines()[0] not in style and CSS.strip() in style
    else:
        assert style.index(built_in.splitlines()[0]) < style.index(CSS.strip())


def test_css_must_be_add_or_replace(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"deckgen.yaml": MINIMAL_CONFIG + "css: merge\n"})
    with pytest.raises(Exception) as error:
        prepare(root, BuildOptions(use_cache=False))
    assert [str(p) for p in error.value.problems] == [  # type: ignore[attr-defined]
        "deckgen.yaml:8:6: 'css' is 'merge', not add or replace (add: templates/style.css comes after the "
        "built-in CSS; replace: it is the whole CSS)"
    ]


@pytest.mark.parametrize("text, html, shown", [
    ("<b><i>x</b></i>", "&lt;b&gt;<i>x&lt;/b&gt;</i>", ["<b>", "</b>"]),  # misnested: only what nests is kept
    ("<sub>a\n\nb</sub>", "<p>&lt;sub&gt;a</p>\n<p>b&lt;/sub&gt;</p>", ["<sub>", "</sub>"]),  # across paragraphs
    ("<i><i>x</i>", "&lt;i&gt;<i>x</i>", ["<i>"]),
    ("**HbA<sub>1c</sub>**", "<strong>HbA<sub>1c</sub></strong>", []),
    ("`<sup>` x<sup>2</sup>", "<code>&lt;sup&gt;</code> x<sup>2</sup>", []),
    ("\ue010<sub>a</sub>", "<sub>a</sub>", []),  # the placeholders cannot be forged
])
def test_what_is_kept_is_well_formed(text: str, html: str, shown: list[str]) -> None:
    from deckgen.project.config import ProjectConfig
    from deckgen.build.inline_html import tags_shown_as_text
    from deckgen.build.render import Renderer

    renderer = Renderer(ProjectConfig(root=Path("."), deck="D", key="k"), None)  # type: ignore[arg-type]
    assert renderer.markdown_html(text) == html
    assert [tag.tag for tag in tags_shown_as_text(text)] == shown
