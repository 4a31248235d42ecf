"""A project's own Anki note types (`note_types/<key>.yaml`), checked with the official Anki backend."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from anki.collection import Collection
from anki.decks import DeckId
from anki.models import NotetypeDict
from ankitools import add_deckgen_note_type, import_package, open_collection, strip_style
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen.anki.template_engine import NoteContext, RenderedCard, render_cards, typed_answer_sides, typed_comparison
from deckgen.build.pipeline import BuildOptions, build
from deckgen.anki.builtin_note_types import CardTemplate, NoteType
from deckgen.build.package import stable_id
from deckgen.preview.site import read_preview_data, write_preview
from deckgen.problems import ProjectError
from test_preview_browser import browser_page  # noqa: F401  (a fixture: headless Chromium, or a skip)

DRUG_NOTE_TYPE = """\
name: Gout drug
fields: [Drug, Class, Mechanism, Indication, Side effects, Notes]
sort_field: Class
sources_field: Notes
css: |
  .card { font-family: serif; }
templates:
  - name: Mechanism
    front: "{{Drug}}: how does it work?{{#Class}}<div class=class>{{hint:Class}}</div>{{/Class}}"
    back: "{{FrontSide}}<hr id=answer>{{Mechanism}}{{#Notes}}<div class=notes>{{Notes}}</div>{{/Notes}}"
  - name: Indication
    front: "{{#Indication}}When is {{text:Drug}} given?{{/Indication}}"
    back: |
      {{FrontSide}}
      <hr id=answer>
      {{Indication}}
      {{^Side effects}}<p>No notable side effects.</p>{{/Side effects}}
  - name: Side effects
    front: "{{#Side effects}}{{Drug}}: its main side effect?{{type:Side effects}}{{/Side effects}}"
    back: "{{FrontSide}}<hr id=answer>{{Side effects}}<footer>{{Card}} of {{Type}} in {{Deck}} ({{Subdeck}}), {{Tags}}, {{CardFlag}}</footer>"
"""
DRUG_SPEC = """\
note_type: drug
fields:
  drug: {required: true, markdown: false}
  class: {}
  mechanism: {required: true}
  indication: {}
  side_effect: {}
"""
DRUG_TEMPLATE = """\
{% block Drug %}{{ drug }}{% endblock %}
{% block Class %}{% if class %}{{ class }}{% endif %}{% endblock %}
{% block Mechanism %}{{ mechanism }}{% endblock %}
{% block Indication %}{% if indication %}{{ indication }}{% endif %}{% endblock %}
{% block Side_effects %}{% if side_effect %}{{ side_effect }}{% endif %}{% endblock %}
"""
DRUG_CARDS = """\
group: cause
type: drug
cards:
  - id: allopurinol
    drug: Allopurinol
    class: Xanthine oxidase inhibitor
    mechanism: Blocks *uric acid* production
    indication: Long-term urate lowering
    side_effect: Rash
    sources: [article]
  - id: colchicine
    drug: Colchicine
    mechanism: Stops neutrophils from moving in
  - id: febuxostat
    drug: Febuxostat
    class: Xanthine oxidase inhibitor
    mechanism: Blocks uric acid production
    indication: When allopurinol is not tolerated
  - id: probenecid
    drug: Probenecid
    mechanism: More uric acid leaves in the urine
    side_effect: Kidney stones & gravel
"""
PASSAGE_NOTE_TYPE = """\
kind: cloze
fields: [Passage, Source note]
templates:
  - name: Cloze
    front: "{{cloze:Passage}}"
    back: "{{cloze:Passage}}<hr id=answer>{{cloze-only:Passage}}{{#Source note}}<p>{{Source note}}</p>{{/Source note}}"
"""
PASSAGE_SPEC = """\
note_type: passage
fields:
  passage: {required: true}
  note: {}
"""
PASSAGE_TEMPLATE = """\
{% block Passage %}{{ passage }}{% endblock %}
{% block Source_note %}{% if note %}{{ note }}{% endif %}{% endblock %}
"""
PASSAGE_CARDS = """\
group: mechanism
type: passage
cards:
  - id: urate-crystals
    passage: "Urate crystals form below {{c1::37 °C::temperature}} in {{c2::joints}}."
    note: Cooler joints first.
  - id: tophi
    passage: "Tophi are deposits of {{c1::urate}}."
"""
DRUG_FILES = {
    "note_types/drug.yaml": DRUG_NOTE_TYPE,
    "templates/drug.yaml": DRUG_SPEC,
    "templates/drug.html.j2": DRUG_TEMPLATE,
    "cards/drugs.yaml": DRUG_CARDS,
    "note_types/passage.yaml": PASSAGE_NOTE_TYPE,
    "templates/passage.yaml": PASSAGE_SPEC,
    "templates/passage.html.j2": PASSAGE_TEMPLATE,
    "cards/passages.yaml": PASSAGE_CARDS,
}
EXPECTED_ORDS = {  # which templates have something to ask, note by note
    "allopurinol": [0, 1, 2], "colchicine": [0], "febuxostat": [0, 1], "probenecid": [0, 2],
    "urate-crystals": [0, 1], "tophi": [0],
}


@pytest.fixture
def drug_project(make_project: Callable[..., Path]) -> Path:
    return make_project(DRUG_FILES)



def _notes_by_guid(col: Collection) -> dict[str, list]:  # type: ignore[type-arg]
    """Each note's cards, ordered by ord, by the note's GUID."""
    notes = {}
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        notes[note.guid] = sorted(note.cards(), key=lambda card: card.ord)
    return notes


def test_cards_are_those_anki_generates_and_render_as_anki_renders_them(
        drug_project: Path, tmp_path: Path, learner: Collection) -> None:
    result = build(drug_project, BuildOptions(output=tmp_path / "drugs.apkg"))
    notes = {note.card_id: note for note in result.project.notes}
    del notes["trauma"]  # the base project's basic card
    assert {card_id: list(note.ords) for card_id, note in notes.items()} == EXPECTED_ORDS

    log = import_package(learner, result.output).log
    assert (len(log.new), len(log.conflicting)) == (7, 0)
    imported = _notes_by_guid(learner)
    note_types = result.project.templates.note_types
    for card_id, note in notes.items():
        cards = imported[note.guid]
        assert [card.ord for card in cards] == list(note.ords), card_id
        # Anki's own card generation, for the same fields in a note added as its Add window does
        fresh = learner.new_note(cards[0].note().note_type())
        for name, value in cards[0].note().items():
            fresh[name] = value
        learner.add_note(fresh, DeckId(1))
        assert sorted(card.ord for card in fresh.cards()) == list(note.ords), card_id
        # Anki's own rendering, and deckgen's
        note_type = note_types[note.note_type]
        context = NoteContext(note.tags, note_type.display_name("Test Deck"), result.project.config.group_deck(note.group))
        ours = render_cards(note_type, dict(zip(note_type.fields, note.fields)), context)
        assert ours == [RenderedCard(c.ord, strip_style(c.question()), strip_style(c.answer())) for c in cards]

    drug = learner.models.by_name("Gout drug")
    assert drug is not None and drug["id"] == stable_id("test-deck", "note type", "drug")
    assert [f["name"] for f in drug["flds"]] == ["Drug", "Class", "Mechanism", "Indication", "Side effects", "Notes"]
    assert [t["name"] for t in drug["tmpls"]] == ["Mechanism", "Indication", "Side effects"]
    assert drug["sortf"] == 1 and drug["css"] == ".card { font-family: serif; }\n"
    passage = learner.models.by_name("Test Deck (passage)")
    assert passage is not None and passage["type"] == 1  # cloze; the project's CSS
    assert passage["css"] == result.project.templates.css
    allopurinol = learner.get_note(learner.find_notes("Drug:Allopurinol")[0])
    assert "An article" in allopurinol["Notes"]  # the sources field


def test_the_preview_shows_what_anki_shows(drug_project: Path, tmp_path: Path, learner: Collection) -> None:
    result = build(drug_project, BuildOptions(output=tmp_path / "drugs.apkg"))
    import_package(learner, result.output)
    preview = write_preview(result.project, tmp_path / "preview")
    shown = {(entry["note"], entry["ord"]): entry for entry in read_preview_data(preview.index)}
    guids = {note.guid: note for note in result.project.notes}
    for guid, cards in _notes_by_guid(learner).items():
        fields = dict(cards[0].note().items())
        for card in cards:
            entry = shown[(guids[guid].card_id, card.ord)]
            question, answer = typed_answer_sides(strip_style(card.question()), strip_style(card.answer()), fields)
            assert (entry["question"], entry["answer"]) == (question, answer)
    side_effect = shown[("probenecid", 2)]
    assert '<input type=text id=typeans' in side_effect["question"]
    assert learner.compare_answer("Kidney stones &amp; gravel", "") in side_effect["answer"]
    allopurinol = list(shown).index(("allopurinol", 0))
    document = (preview.output / f"cards/{allopurinol}-question.html").read_text()
    assert '<link rel="stylesheet" href="../assets/note-type-drug.css">' in document
    assert (preview.output / "assets/note-type-drug.css").read_text() == ".card { font-family: serif; }\n"


def test_hints_open_and_note_type_css_applies_in_chromium(drug_project: Path, tmp_path: Path, browser_page: Any) -> None:
    from playwright.sync_api import expect

    result = build(drug_project, BuildOptions(output=tmp_path / "drugs.apkg"))
    browser_page.goto(write_preview(result.project, tmp_path / "preview").index.as_uri())
    front = browser_page.frame_locator('[data-card-id="allopurinol"][data-ord="0"] iframe').first
    hint = front.locator("div.hint")
    expect(hint).to_be_hidden()
    front.locator("a.hint").click()
    expect(hint).to_be_visible()
    expect(hint).to_have_text("Xanthine oxidase inhibitor")
    assert front.locator("body").evaluate("b => getComputedStyle(b.querySelector('.card') || b).fontFamily") == "serif"
    assert browser_page.errors == []


def test_a_template_change_reaches_learners_as_a_note_type_update(
        drug_project: Path, tmp_path: Path, learner: Collection) -> None:
    v1 = build(drug_project, BuildOptions(output=tmp_path / "v1.apkg")).output
    import_package(learner, v1)
    names_before = sorted(name.name for name in learner.models.all_names_and_ids())

    note_type = drug_project / "note_types/drug.yaml"
    note_type.write_text(note_type.read_text().replace("{{Mechanism}}", "<b>{{Mechanism}}</b>")
                         .replace("font-family: serif", "font-family: sans-serif"))
    v2 = build(drug_project, BuildOptions(output=tmp_path / "v2.apkg"))
    assert v2.project.report.note_types == ["drug"]
    assert "note type changed: drug" in v2.project.report.lines(v2.project.config)

    log = import_package(learner, v2.output).log  # Anki's default options
    assert (len(log.new), len(log.conflicting)) == (0, 0)
    assert sorted(name.name for name in learner.models.all_names_and_ids()) == names_before  # no "Gout drug+"
    learner.models._clear_cache()
    drug = learner.models.by_name("Gout drug")
    assert drug is not None and "<b>{{Mechanism}}</b>" in drug["tmpls"][0]["afmt"]
    assert "sans-serif" in drug["css"]
    card = learner.get_card(learner.find_cards("Drug:Colchicine")[0])
    assert "<b>Stops neutrophils from moving in</b>" in card.answer()


def test_a_field_rename_is_refused_without_the_flag(drug_project: Path, tmp_path: Path) -> None:
    build(drug_project, BuildOptions(output=tmp_path / "v1.apkg"))
    note_type = drug_project / "note_types/drug.yaml"
    note_type.write_text(note_type.read_text().replace("Notes", "Remarks"))
    with pytest.raises(ProjectError) as refused:
        build(drug_project, BuildOptions(output=tmp_path / "v2.apkg"))
    assert "note type 'drug' changes its field or template names" in str(refused.value.problems[0])
    assert not (tmp_path / "v2.apkg").exists()
    build(drug_project, BuildOptions(output=tmp_path / "v2.apkg", allow_note_type_change=True))
    assert (tmp_path / "v2.apkg").exists()


def test_a_pinned_id_is_kept(drug_project: Path, tmp_path: Path, learner: Collection) -> None:
    note_type = drug_project / "note_types/drug.yaml"
    note_type.write_text("id: 1607392319\n" + note_type.read_text())
    import_package(learner, build(drug_project, BuildOptions(output=tmp_path / "drugs.apkg")).output)
    drug = learner.models.by_name("Gout drug")
    assert drug is not None and drug["id"] == 1607392319
    assert '"id": 1607392319' in (drug_project / "deckgen.lock").read_text()


def test_an_id_change_is_refused_without_the_flag(drug_project: Path, tmp_path: Path, learner: Collection) -> None:
    derived = stable_id("test-deck", "note type", "drug")
    build(drug_project, BuildOptions(output=tmp_path / "v1.apkg"))
    note_type = drug_project / "note_types/drug.yaml"
    note_type.write_text(f"id: {derived}\n" + note_type.read_text())  # the same id, now pinned: nothing changes
    build(drug_project, BuildOptions(output=tmp_path / "v2.apkg"))
    note_type.write_text(note_type.read_text().replace(f"id: {derived}", "id: 1607392319"))
    with pytest.raises(ProjectError) as refused:
        build(drug_project, BuildOptions(output=tmp_path / "v3.apkg"))
    assert [str(p) for p in refused.value.problems] == [
        f"deckgen.lock: note type 'drug' changes its Anki id ({derived} -> 1607392319) (learners' notes of the "
        "note type they have would be 'conflicting' and never updated; pass --allow-note-type-change if you mean it)"]
    build(drug_project, BuildOptions(output=tmp_path / "v3.apkg", allow_note_type_change=True))


# Anki's filters, rendered as the backend renders them
# ----------------------------------------

FILTERS = NoteType(
    "filters", ("Word", "Reading", "Notes"),
    (
        CardTemplate("Hint", "{{Word}} {{hint:Notes}}", "{{FrontSide}}<hr id=answer>{{hint:Reading}}"),
        CardTemplate("Text", "{{text:Word}}|{{text:Notes}}", "{{FrontSide}}{{text:Reading}}"),
        CardTemplate("Type", "{{Word}}{{type:Reading}}", "{{FrontSide}}<hr id=answer>{{type:Reading}}"),
        CardTemplate("Ruby", "{{furigana:Reading}}", "{{kana:Reading}} {{kanji:Reading}}"),
    ),
    path="note_types/filters.yaml",
)
CLOZE_ONLY = NoteType(
    "cloze-only", ("Text", "Extra"),
    (CardTemplate("Cloze", "{{cloze:Text}}<br>{{cloze-only:Text}}{{type:cloze:Text}}",
                  "{{cloze:Text}}<hr>{{cloze-only:Text}}{{type:cloze:Text}}"),),
    is_cloze=True, path="note_types/cloze-only.yaml",
)
SPEECH = NoteType(
    "speech", ("Word", "Other"),
    (CardTemplate("Say", "{{tts en_US:Word}} {{Word}}",
                  "{{FrontSide}}<hr>{{tts ja_JP voices=Apple_Otoya,Kyoko speed=1.2:Word}}{{Other}}{{type:Other}}"),),
    path="note_types/speech.yaml",
)
FILTER_CASES = [
    (SPEECH, {"Word": "<b>Hallo</b> [sound:a.mp3]", "Other": "[anki:tts lang=de_DE]Hallo[/anki:tts] [sound:b.mp3]"}),
    (SPEECH, {"Word": "x", "Other": '[anki:foo  a="b c"]x[/anki:foo] [anki:bar x="1"]y[/anki:baz] [anki:q]z[/anki:q]'}),
    (SPEECH, {"Word": "[anki:tts lang=en][sound:x.mp3][/anki:tts]", "Other": "[sound:][anki:tts lang=en speed=x]s"}),
    (SPEECH, {"Word": "w", "Other": "a'b\"c&amp;d<e>f"}),
    (FILTERS, {"Word": "<b>Gout</b> &amp; co", "Reading": "痛風[つうふう] x", "Notes": "<i>joint</i> &lt;pain&gt;&nbsp;"}),
    (FILTERS, {"Word": "a", "Reading": " ", "Notes": ""}),
    (FILTERS, {"Word": "<!-- c --><style>b{}</style>x", "Reading": "日本[にほん]語[ご] [sound:a.mp3]", "Notes": "é"}),
    (CLOZE_ONLY, {"Text": "{{c1::urate::salt}} and {{c2::crystals}} {{c1::again}}", "Extra": ""}),
    (CLOZE_ONLY, {"Text": "{{c1::outer {{c2::inner::h}} end}}", "Extra": "x"}),
]


@pytest.mark.parametrize("number", range(len(FILTER_CASES)))
def test_filters_render_as_anki_renders_them(number: int, tmp_path: Path) -> None:
    note_type, fields = FILTER_CASES[number]
    col = open_collection(tmp_path)
    try:
        notetype: NotetypeDict = add_deckgen_note_type(col, note_type)
        note = col.new_note(notetype)
        for name, value in fields.items():
            note[name] = value
        col.add_note(note, DeckId(1))
        cards = sorted(note.cards(), key=lambda card: card.ord)
        expected = [RenderedCard(c.ord, strip_style(c.question()), strip_style(c.answer())) for c in cards]
        assert render_cards(note_type, fields) == expected
        typed = "Other" if note_type is SPEECH else "Reading"
        assert typed_comparison(fields.get(typed, "")) == col.compare_answer(fields.get(typed, ""), "")
        typing = [card for card in cards if "[[type:" in card.answer()]
        assert len(typing) == (1 if note_type is FILTERS else len(cards))
        for card in typing:  # what the reviewer compares an empty reply with: the field, or the card's clozes
            expected_text = col.extract_cloze_for_typing(fields["Text"], card.ord + 1) if note_type.is_cloze \
                else fields[typed]
            _, answer = typed_answer_sides("", strip_style(card.answer()), fields, card.ord)
            assert col.compare_answer(expected_text, "") in answer
    finally:
        col.close()


ENTITY_TEXTS = [  # Anki decodes entities all or nothing (Rust's htmlescape): one bad '&' keeps them all
    "a &amp; b", "&lt; & b", "&lt; x&y; b", "&lt;&apos;", "&AMP;", "&lt", "&lt;&#65", "&lt;&#X41;", "&#x4a;&#x4A;",
    "&lt;&#x110000;", "&lt;&#55296;", "&lt;&#00065;", "&#0;", "&lt;&#128;", "&sup2;&frac12;&hellip;", "a&nbsp;&#160;b",
]
TEXT_FILTER = NoteType("text", ("A",), (CardTemplate("C", "{{text:A}}", "{{hint:A}}"),), path="note_types/text.yaml")


def test_text_filter_decodes_entities_as_anki_does(tmp_path: Path) -> None:
    col = open_collection(tmp_path)
    try:
        notetype = add_deckgen_note_type(col, TEXT_FILTER)
        for text in ENTITY_TEXTS:
            note = col.new_note(notetype)
            note["A"] = text
            col.add_note(note, DeckId(1))
            card = note.cards()[0]
            expected = RenderedCard(0, strip_style(card.question()), strip_style(card.answer()))
            assert render_cards(TEXT_FILTER, {"A": text}) == [expected], text
    finally:
        col.close()


CONDITIONAL = NoteType(
    "conditional", ("A", "B", "C"),
    (
        CardTemplate("One", "{{#A}}{{text:A}}{{^B}}no B{{/B}}{{/A}}", "{{FrontSide}}<hr id=answer>{{hint:B}}{{C}}"),
        CardTemplate("Two", "{{^A}}{{B}}{{/A}}{{#C}}{{#B}}{{kanji:C}}{{/B}}{{/C}}", "{{furigana:C}}{{type:A}}"),
        CardTemplate("Three", "{{^C}}{{^B}}{{A}}{{/B}}{{/C}}", "{{FrontSide}}{{kana:B}}"),
    ),
    path="note_types/conditional.yaml",
)
FRAGMENTS = ["x", "é", " ", "\n", "<br>", "<div>", "</div>", "<b>", "&amp;", "&nbsp;", "&", "&lt", "<!--", "-->",
             "漢[かん]", "[sound:a.mp3]", "{{A}}", "::", "\u00a0"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join), min_size=3, max_size=3))
def test_conditionals_and_filters_render_as_anki_on_generated_fields(values: list[str], tmp_path: Path) -> None:
    fields = dict(zip(CONDITIONAL.fields, values))
    with contextlib.closing(open_collection(tmp_path)) as col:
        note = col.new_note(add_deckgen_note_type(col, CONDITIONAL, name=f"conditional {uuid.uuid4()}"))
        for name, value in fields.items():
            note[name] = value
        col.add_note(note, DeckId(1))
        cards = sorted(note.cards(), key=lambda card: card.ord)
        expected = [RenderedCard(c.ord, strip_style(c.question()), strip_style(c.answer())) for c in cards]
    assert render_cards(CONDITIONAL, fields) == expected


# Mistakes, found and located
# ----------------------------------------

BAD_NOTE_TYPES: list[tuple[str, str, str]] = [  # (file text, where, what the message says)
    ("kind: flashcard\nfields: [A]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:7",
     "unknown note type kind 'flashcard'"),
    ("kind: cloze\nfields: [A]\ntemplates:\n  - {name: C, front: '{{cloze:A}}', back: x}\n"
     "  - {name: D, front: '{{cloze:A}}', back: x}\n", ":4:3", "exactly one card template, not 2"),
    ("kind: cloze\nfields: [A]\ntemplates:\n  - {name: C, front: '{{A}}', back: x}\n", ":4:22",
     "has no {{cloze:Field}}"),
    ("fields: [A, B, A]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:16", "'A' is used twice"),
    ("fields: [A, 'B: b']\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:13", "characters Anki strips"),
    ("fields: [A, '#B']\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:13", "characters Anki strips"),
    ("fields: [A, Side effects, Side_effects]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:27",
     "would both be filled by {% block Side_effects %}"),
    ("fields: [Drug]\ntemplates:\n  - name: C\n    front: '{{Drug}}'\n    back: '{{FrontSide}} {{Drgu}}'\n",
     ":5:26", "names the field 'Drgu', which the note type does not have (did you mean 'Drug'?)"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{A}}'\n    back: |\n      line one\n      {{#A}}{{B}}{{/A}}\n",
     ":7:13", "names the field 'B'"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{A}} {{ }}'\n    back: x\n", ":4:19",
     "the front template has {{ }}, which names no field"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{#A}}{{A}}'\n    back: x\n", ":4:12",
     "sections do not balance"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{A}}'\n    back: '{{#A}}x{{/B}}'\n", ":5:11",
     "sections do not balance"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{shout:A}}'\n    back: x\n", ":4:13",
     "'shout' is not one of Anki's template filters"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{cloze:A}}'\n    back: x\n", ":4:13",
     "uses {{cloze:A}} in a standard note type"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{CardID}} {{A}}'\n    back: x\n", ":4:13",
     "special field {{CardID}}"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '{{Tags}}'\n    back: x\n", ":4:12",
     "can never show a field"),
    ("fields: [A, B]\ntemplates:\n  - name: C\n    front: 'Question: {{^A}}{{A}}{{/A}}'\n    back: '{{B}}'\n",
     ":4:12", "can never show a field, so Anki would never make this card"),
    ("fields: [A, B]\ntemplates:\n  - name: C\n    front: 'Always the same'\n    back: '{{B}}'\n",
     ":4:12", "can never show a field"),
    ("fields: [A]\nsort_field: B\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":2:13",
     "sort_field 'B' is not one of the note type's fields"),
    ("fields: [A]\nsources_field: Sources\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":2:16",
     "sources_field 'Sources' is not one of the note type's fields"),
    ("id: 0\nfields: [A]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:5",
     "note type id must be a whole number from 1 to"),
    ("id: 9223372036854775808\nfields: [A]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:5",
     "note type id must be a whole number"),
    ("id: 'abc'\nfields: [A]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:5",
     "note type id must be a whole number"),
    ("fields: [A]\ntemplates:\n  - {name: C, front: '{{A}}', back: x}\n  - {name: C, front: '{{A}}', back: y}\n",
     ":4:12", "card template name 'C' is used twice"),
    ("fields: [A]\ntemplate: []\n", ":2:1", "unknown note type setting 'template'"),
    ("fields: [A]\ncss: '@import url(https://example.com/x.css);'\ntemplates: [{name: C, front: '{{A}}', back: x}]\n",
     ":2:6", "css loads the remote resource 'https://example.com/x.css'"),
    ("fields: [A]\ntemplates: [{name: C, front: '{{A}}', back: '<img src=\"//example.com/a.png\">'}]\n",
     ":2:45", "the back template loads the remote resource '//example.com/a.png'"),
    ("fields: [A]\ntemplates:\n  - name: C\n    front: '" + "{{#A}}" * 5000 + "{{A}}" + "{{/A}}" * 5000 + "'\n    back: x\n",
     ":4:12", "nests sections more than 50 deep"),
    ("fields: [A]\ntemplates:\n  - {name: C, front: '{{A}}', back: x}\n  - {name: c, front: '{{A}}?', back: y}\n",
     ":4:12", "card template name 'c' is used twice (Anki ignores case)"),
    ("fields: [A, B]\ntemplates:\n  - {name: C, front: '{{A}}', back: x}\n  - {name: D, front: '{{A}}', back: '{{B}}'}\n",
     ":4:22", "card template 'D' has the same front as 'C'"),
    ("fields: [A, 2nd]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:13",
     "field name '2nd' makes the Jinja block name '2nd', which Jinja cannot read (name its block yourself: "
     "blocks: {2nd: f_2nd})"),
    ("fields: [A, B]\nblocks: {C: c}\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":2:10",
     "blocks: 'C' is not one of the note type's fields"),
    ("fields: [A, a_b, a b]\nblocks: {a b: a_b}\ntemplates: [{name: C, front: '{{A}}', back: x}]\n", ":1:18",
     "fields 'a_b' and 'a b' would both be filled by {% block a_b %} (name its block yourself: blocks: {a b: a_b_2})"),
]


@pytest.mark.parametrize("number", range(len(BAD_NOTE_TYPES)))
def test_note_type_mistakes_are_located(number: int, make_project: Callable[..., Path],
                                        deckgen: Callable[..., object]) -> None:
    text, where, message = BAD_NOTE_TYPES[number]
    project = make_project({"note_types/mine.yaml": text})
    run = deckgen("check", project)
    assert run.exit_code == 1 and not run.crashed  # type: ignore[attr-defined]
    assert any(line.startswith(f"note_types/mine.yaml{where}: ") and message in line
               for line in run.problems), run.problems  # type: ignore[attr-defined]


def test_a_note_type_declared_twice_is_refused(make_project: Callable[..., Path],
                                               deckgen: Callable[..., object]) -> None:
    project = make_project({**DRUG_FILES, "note_types/drug.yml": DRUG_NOTE_TYPE})
    run = deckgen("check", project)
    assert run.problems == ["note_types/drug.yml:1:1: note type 'drug' is declared twice "  # type: ignore[attr-defined]
                            "(keep one of drug.yaml and drug.yml)"]


def test_two_note_types_cannot_pin_one_id(make_project: Callable[..., Path], deckgen: Callable[..., object]) -> None:
    project = make_project({**DRUG_FILES, "note_types/drug.yaml": "id: 1607392319\n" + DRUG_NOTE_TYPE,
                            "note_types/passage.yaml": "id: 1607392319\n" + PASSAGE_NOTE_TYPE})
    run = deckgen("check", project)
    assert run.problems == ["note_types/passage.yaml:1:1: note type 'passage' pins the id of note type 'drug' "  # type: ignore[attr-defined]
                            "(Anki tells note types apart by id: give each its own)"]


def test_built_in_note_types_cannot_be_redefined(make_project: Callable[..., Path],
                                                 deckgen: Callable[..., object]) -> None:
    project = make_project({"note_types/cloze.yaml": "fields: [A]\ntemplates: [{name: C, front: '{{A}}', back: x}]\n"})
    run = deckgen("check", project)
    assert run.exit_code == 1  # type: ignore[attr-defined]
    assert run.problems == ["note_types/cloze.yaml:1:1: 'cloze' is one of deckgen's built-in note types and "  # type: ignore[attr-defined]
                            "cannot be redefined (name the file after a key of your own, e.g. note_types/my-cloze.yaml)"]


def test_card_type_blocks_are_checked_against_the_fields(make_project: Callable[..., Path],
                                                         deckgen: Callable[..., object]) -> None:
    project = make_project({**DRUG_FILES, "templates/drug.html.j2": DRUG_TEMPLATE.replace(
        "{% block Side_effects %}", "{% block Side_effect %}")})
    run = deckgen("check", project)
    assert any("templates/drug.html.j2:5: block 'Side_effect' is not a field of the drug note type "
               "(did you mean 'Side_effects'?)" in line for line in run.problems), run.problems  # type: ignore[attr-defined]


def test_a_note_with_no_card_is_refused(make_project: Callable[..., Path], deckgen: Callable[..., object]) -> None:
    note_type = DRUG_NOTE_TYPE.replace('"{{Drug}}: how does it work?', '"{{#Class}}{{Drug}}{{/Class}}: how does it work?')
    project = make_project({**DRUG_FILES, "note_types/drug.yaml": note_type})
    run = deckgen("check", project)
    assert run.problems == [  # type: ignore[attr-defined]
        "cards/drugs.yaml:11:5: card 'colchicine': Anki would make no card of this note: the front of every card "
        "template of note type 'drug' would be empty (card type 'drug' left the fields they show empty (Anki keeps "
            "such a note with one empty card: keep_empty: true keeps it so))"]


def test_sources_without_a_sources_field_are_a_warning(make_project: Callable[..., Path],
                                                       deckgen: Callable[..., object]) -> None:
    project = make_project({**DRUG_FILES, "note_types/drug.yaml": DRUG_NOTE_TYPE.replace("sources_field: Notes\n", "")})
    run = deckgen("check", project)
    assert run.exit_code == 0 and run.problems == [  # type: ignore[attr-defined]
        "cards/drugs.yaml:4:5: warning: card 'allopurinol': the card's sources are not shown: note type 'drug' "
        "has no sources_field (name the field for them with sources_field: in note_types/drug.yaml)"]


def test_a_card_type_naming_a_broken_note_type_is_not_reported_twice(
        make_project: Callable[..., Path], deckgen: Callable[..., object]) -> None:
    project = make_project({**DRUG_FILES, "note_types/drug.yaml": DRUG_NOTE_TYPE.replace("{{Mechanism}}", "{{Mechansim}}")})
    run = deckgen("check", project)
    assert [line.split(": ")[0] for line in run.problems] == ["note_types/drug.yaml:10:39"]  # type: ignore[attr-defined]


def test_cards_of_a_project_note_type_come_from_the_cache(drug_project: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache judges an entry by the build's note types, the project's among them, not only deckgen's own."""
    from deckgen.build import compiler

    first = build(drug_project, BuildOptions(output=tmp_path / "a.apkg"))
    compiled: list[str] = []
    compile_and_keep = compiler.Compiler.compile_and_keep
    monkeypatch.setattr(compiler.Compiler, "compile_and_keep",
                        lambda self, path, data: compiled.append(path) or compile_and_keep(self, path, data))
    again = build(drug_project, BuildOptions(output=tmp_path / "b.apkg"))
    assert compiled == []
    assert again.project.notes == first.project.notes
    assert (tmp_path / "a.apkg").read_bytes() == (tmp_path / "b.apkg").read_bytes()
