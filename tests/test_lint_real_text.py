"""`deckgen lint` on real card text: this repository's deck as released in 2.0.0, and each defect's fixed twin.

`projects/lint-2.0.0/` is the 2.0.0 project (commit 43b415c) with its `lint_ignore` entries taken
out. An expert's review of those cards (issue 22, `CONTENT_RUBRIC.md`) named the defects below;
lint must find each one, and none on the same deck once every one is fixed as `FIXES` fixes it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from deckgen.lint import giveaways, lint_project
from deckgen.lint.findings import Finding, Rule
from deckgen.lint.learner_cards import LintDeck, lint_deck
from deckgen.lint.split import HelperFailed, run_rules

PROJECTS = Path(__file__).parent / "projects"

# (card, rule) for every finding on the 2.0.0 cards: all of them are defects the rubric names.
DEFECTS = {
    ("cause-tissue-damage-origins", "giveaway"),  # prints "infection", the answer of cause-local-infection
    ("cause-tissue-damage-origins", "open_list"),  # "..., {{c2::chemical damage}} or infection, among others"
    ("cause-local-inflammation", "source_question"),  # "a state it also names among the local causes"
    ("cause-autoimmune-diseases", "source_question"),  # "do the two documents name"
    ("cause-autoimmune-diseases", "list_dump"),  # three diseases and who named each
    ("cause-systemic-disorders", "list_dump"),  # three disorders recalled at once
    ("cause-local-tumor", "definition_clue"),  # "It may be benign or malignant": its note glosses "tumors (both benign and malignant)"
    ("cause-associated-skeletal-muscle", "offered_choice"),  # "The kind of muscle, other than heart muscle": a guess
    ("cause-associated-masseter-muscle", "giveaway"),  # "especially after trauma": the answer of cause-local-trauma
    ("cause-associated-fibrocystic-breast", "restated_answer"),  # "(fibrocystic disease of the breast)"
    ("cause-associated-chronic-kidney-disease", "restated_answer"),  # "A chronic disease ..." → "Chronic kidney disease"
    ("cause-associated-neurologic-rheumatic", "cloze_list"),  # two terms joined by "and" in one deletion
    ("calcium-outside-bones-and-teeth", "cloze_list"),  # three places in one deletion
    ("calcium-outside-bones-and-teeth", "open_list"),  # "in places such as [...]"
    ("term-calcification", "answered_by_title"),  # the reverse is answered by the deck's name
    ("term-dystrophic-calcification", "answered_by_title"),
    ("dystrophic-site-soft-tissue-vs-anywhere", "source_question"),  # "How do the two documents differ"
    ("dystrophic-blood-calcium", "two_questions"),  # "what level ..., and why?"
    ("metastatic-sites", "cloze_list"),  # three organs in one deletion
    ("dystrophic-local-vs-generalized", "two_questions"),  # "what does local mean, and when ...?"
    ("imaging-atherosclerotic-vessel-damage", "giveaway"),  # "radiography", the answer of imaging-xray-detection
    ("imaging-atherosclerotic-vessel-damage", "restated_answer"),  # "blood vessels" → "Damage inside the blood vessel"
    ("treatment-medication-goals", "cloze_list"),  # "{{c1::inflammation and further calcification}}"
    ("treatment-surgery-indications", "source_question"),  # "according to each of the two documents"
}

# Each defect's fixed twin: (card file, text as released, text fixed).
FIXES = [
    ("cause/01-overview.yaml",
     "      The soft-tissue article says the tissue damage behind dystrophic calcification may come\n"
     "      from mechanical injury, {{c2::chemical damage}} or infection, among others.",
     "      Besides mechanical injury, the tissue damage behind dystrophic calcification may come\n"
     "      from {{c2::chemical damage}}, the soft-tissue article says."),
    ("cause/02-local.yaml", "necrotic, or in one further state, a state it also names among the\n      local causes.",
     "necrotic, or in one further state."),
    ("cause/03-generalized.yaml",
     "    type: basic\n    front: Which autoimmune diseases do the two documents name as causes of dystrophic calcification?\n"
     "    back: >-\n      Dermatomyositis (both documents), systemic sclerosis (the soft-tissue article) and\n"
     "      scleroderma (the Dr.Oracle guideline)\n",
     "    type: basic\n    front: Which autoimmune disease, named beside systemic sclerosis, can make dystrophic calcification generalized?\n"
     "    back: Dermatomyositis\n"),
    ("cause/03-generalized.yaml",
     "    type: basic\n    front: Which three systemic disorders does the Dr.Oracle guideline give as examples of those that can "
     "increase the risk of dystrophic calcification?\n"
     "    back: Ehlers-Danlos syndrome, pseudoxanthoma elasticum and arteriosclerosis obliterans\n",
     "    type: cloze\n    text: >-\n      The Dr.Oracle guideline gives three systemic disorders as examples of those that can increase\n"
     "      the risk of dystrophic calcification: {{c1::Ehlers-Danlos syndrome}}, {{c2::pseudoxanthoma elasticum}}\n"
     "      and {{c3::arteriosclerosis obliterans}}.\n"),
    ("cause/02-local.yaml", "    clue: It may be benign or malignant.",
     "    clue: The cause that the guideline's research summary calls neoplasia."),
    ("cause/05-associated.yaml", "    clue: The kind of muscle, other than heart muscle, in which the soft-tissue article reports it.",
     "    clue: The muscle that moves the bones, in which the soft-tissue article reports it too."),
    ("cause/05-associated.yaml", "reports it, especially after trauma.", "reports it, in the jaw."),
    ("cause/05-associated.yaml", "    back: The breast (fibrocystic disease of the breast)", "    back: The breast"),
    ("cause/05-associated.yaml", "      A chronic disease in which vascular calcification", "      A disease in which vascular calcification"),
    ("cause/05-associated.yaml", "{{c1::certain neurologic disorders and\n      certain rheumatic diseases}}",
     "certain {{c1::neurologic}} disorders and\n      certain {{c2::rheumatic}} diseases"),
    ("mechanism/01-calcium.yaml",
     "      Outside bones and teeth, the rest of the body's calcium is present in places such as\n"
     "      {{c1::the blood, the muscles and the extracellular fluid}}.",
     "      The soft-tissue article names {{c1::three}} places outside bones and teeth where the rest of\n"
     "      the body's calcium is present: the blood, the muscles and the extracellular fluid."),
    ("mechanism/02-calcification.yaml", "  - id: term-calcification\n    type: reversed",
     "  - id: term-calcification\n    type: basic"),
    ("mechanism/03-dystrophic-vs-metastatic.yaml", "  - id: term-dystrophic-calcification\n    type: reversed",
     "  - id: term-dystrophic-calcification\n    type: basic"),
    ("mechanism/03-dystrophic-vs-metastatic.yaml",
     "    front: How do the two documents differ on where in the body dystrophic calcification occurs?\n"
     "    back: >-\n      The soft-tissue article places it in the soft tissues of the body; the Dr.Oracle\n"
     "      guideline's research summary says it can occur anywhere in the body.",
     "    front: Where in the body does the soft-tissue article place dystrophic calcification?\n"
     "    back: In the soft tissues of the body"),
    ("mechanism/03-dystrophic-vs-metastatic.yaml", "does the soft-tissue article lead you to expect, and why?",
     "does the soft-tissue article lead you to expect?"),
    ("mechanism/03-dystrophic-vs-metastatic.yaml", "names {{c1::the lungs, the kidneys and the stomach}} as places",
     "names three places, {{c1::the lungs}}, {{c2::the kidneys}} and {{c3::the stomach}}, as places"),
    ("mechanism/03-dystrophic-vs-metastatic.yaml",
     "      Dystrophic calcification is usually local. What does local mean here, and when can the\n"
     "      calcification be generalized instead?\n"
     "    back: >-\n      Local: the deposits are confined to the specific area of tissue that was injured.\n"
     "      Generalized: in certain disorders.",
     "      Dystrophic calcification is usually local. What does local mean here?\n"
     "    back: The deposits are confined to the specific area of tissue that was injured."),
    ("treatment/01-imaging.yaml",
     "      Dystrophic calcification occurs in atherosclerotic changes of blood vessels. When it is\n"
     "      detected on radiography, what is it a good predictor of?",
     "      Dystrophic calcification occurs in atherosclerotic changes of the arteries. When it is\n"
     "      detected, what is it a good predictor of?"),
    ("treatment/03-management.yaml", "reduce {{c1::inflammation and further calcification}}.",
     "reduce {{c1::inflammation}} and further calcification."),
    ("treatment/03-management.yaml",
     "    front: When may dystrophic calcification need surgery, according to each of the two documents?\n"
     "    back: >-\n      The soft-tissue article: especially when the calcium lump is large enough to cause\n"
     "      discomfort in the functioning of the organ or tissue. The Dr.Oracle guideline: when the calcifications cause\n"
     "      functional impairment or cosmetic concerns.",
     "    front: According to the Dr.Oracle guideline, when may dystrophic calcification need surgery?\n"
     "    back: When the calcifications cause functional impairment or cosmetic concerns"),
]


@pytest.fixture()
def released(tmp_path: Path) -> Path:
    """A copy of the 2.0.0 project (lint builds it, and must not leave a cache in the repository)."""
    return Path(shutil.copytree(PROJECTS / "lint-2.0.0", tmp_path / "deck"))


def fixed(project: Path, skip: str = "") -> Path:
    """The project with every defect fixed as FIXES says (but the fixes of card file `skip`)."""
    for name, old, new in FIXES:
        path = project / "cards" / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (name, old)
        if name != skip:
            path.write_text(text.replace(old, new), encoding="utf-8")
    return project


def found(project: Path) -> set[tuple[str, str]]:
    return {(finding.card, finding.rule) for finding in lint_project(project).findings}


def test_every_finding_on_the_released_cards_is_a_defect_the_rubric_names(released: Path) -> None:
    assert found(released) == DEFECTS


def test_two_processes_find_what_one_finds(released: Path) -> None:
    """The helper's half of the rules comes back on the same cards, with the same messages."""
    one, two = lint_project(released, jobs=1), lint_project(released, jobs=2)
    assert two.findings == one.findings and {f.rule for f in one.findings} == {rule for _, rule in DEFECTS}


def test_a_helper_that_fails_is_reported_with_its_traceback(released: Path) -> None:
    def broken(deck: LintDeck, options: object) -> list[Finding]:
        raise RuntimeError("a rule's bug")

    rules = [Rule("front_form", "", {}, lambda deck, options: []), Rule("giveaway", "", {}, broken)]
    with pytest.raises(HelperFailed, match="RuntimeError: a rule's bug"):  # the helper runs giveaway
        run_rules(lint_deck([]), rules, {"front_form": {}, "giveaway": {}}, jobs=2)
    assert run_rules(lint_deck([]), rules[:1], {"front_form": {}}, jobs=2) == []


def test_the_fixed_twins_are_not_flagged(released: Path) -> None:
    assert found(fixed(released)) == set()


@pytest.mark.parametrize("card_file", sorted({name for name, _, _ in FIXES}))
def test_each_file_left_unfixed_is_flagged_again(released: Path, card_file: str) -> None:
    """Each fix is what quiets its own finding: leave one file's cards as released and its findings return."""
    ids = set(re.findall(r"- id: (\S+)", (released / "cards" / card_file).read_text(encoding="utf-8")))
    expected = {(card, rule) for card, rule in DEFECTS if card in ids}
    assert found(fixed(released, skip=card_file)) == expected and expected


def test_giveaways_finds_word_forms_across_the_deck(released: Path) -> None:
    shown = {(finding.card, finding.related[0]) for finding in giveaways(released)}
    assert shown == {("cause-tissue-damage-origins", "cause-local-infection"),
                     ("cause-associated-masseter-muscle", "cause-local-trauma"),
                     ("imaging-atherosclerotic-vessel-damage", "imaging-xray-detection")}
    assert giveaways(fixed(released)) == []


# ---------------------------------------------------------------------------------------------
# Decks of other shapes, as imported: lint stays quiet where an expert is
# ---------------------------------------------------------------------------------------------


def copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(PROJECTS / name, tmp_path / name))


def test_a_geography_deck_is_quiet(tmp_path: Path) -> None:
    """Image-only fronts, a capital named after its country, a country named in another's info: nothing to fix."""
    assert lint_project(copy("lint-geography", tmp_path)).findings == []


def test_image_only_fronts_are_compared_by_their_images(tmp_path: Path) -> None:
    project = copy("lint-geography", tmp_path)
    cards = project / "cards" / "ultimate-geography.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace("ug-flag-moldova.png", "ug-flag-andorra.png"), encoding="utf-8")
    [finding] = lint_project(project).findings
    assert (finding.card, finding.rule, finding.related) == ("moldova", "near_duplicate", ("andorra",))
    assert "Flag > Country: its front is the same as the front of card 'andorra'" in finding.message


def test_a_vocabulary_deck_is_quiet(tmp_path: Path) -> None:
    """Marked senses ("好*" beside "好"), meanings that name other words' meanings, lists of glosses: nothing to fix."""
    assert lint_project(copy("lint-vocabulary", tmp_path)).findings == []


def test_a_word_entered_twice_is_a_near_duplicate(tmp_path: Path) -> None:
    project = copy("lint-vocabulary", tmp_path)
    cards = project / "cards" / "words.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace('hanzi: "好*"', 'hanzi: "好"'), encoding="utf-8")
    assert {(f.card, f.rule, f.related) for f in lint_project(project).findings} == {("3", "near_duplicate", ("2",))}
