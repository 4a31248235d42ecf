"""`deckgen lint` on sample projects written here, each with one defect and its clean counterpart.

Nothing here reads this repository's own deck: its content is being rewritten, and lint's rules
are proven on the small projects below (the real card texts of its release 2.0.0, each with its
fixed twin, are in test_lint_real_text.py).
"""

from __future__ import annotations

import html
import json
import random
import re
from pathlib import Path
from typing import Callable

import pytest
from ankitools import add_deckgen_note_type, open_collection
from conftest import CliRun, run_deckgen

from deckgen.anki.template_engine import cloze_deletions
from deckgen.build.pipeline import prepare
from deckgen.lint import RULE_NAMES, lint_project
from deckgen.lint.learner_cards import LearnerNote, learner_notes, lint_deck
from deckgen.lint.word_forms import FUNCTION_WORDS, NUMBER_WORDS
from deckgen.lint.rules import giveaway, near_duplicate
from deckgen.lint.words import contains, letters, visible
from deckgen.anki.builtin_note_types import BASIC, CLOZE, NOTE_TYPES
from deckgen.build.render import RenderedNote

Make = Callable[..., Path]

CLEAN_CARDS = """\
group: cause
cards:
  - id: trauma
    front: Which kind of injury to soft tissue can end in dystrophic calcification?
    back: An open wound
  - id: salt
    front: Which calcium salt makes up most of the deposits?
    back: Calcium phosphate
  - id: membranes
    type: cloze
    text: Damaged {{c1::cell membranes}} release {{c2::phosphate}}-containing molecules.
  - id: name-site
    front: "Name the muscle of the jaw in which a case report found calcification:"
    back: The masseter
"""


def cards(*items: str, header: str = "group: cause\ncards:\n") -> dict[str, str]:
    """A project's only card file, from card entries written as YAML list items."""
    return {"cards/causes.yaml": header + "".join(items)}


def card(card_id: str, front: str, back: str, extra: str = "") -> str:
    lines = f"  - id: {card_id}\n    front: {json.dumps(front)}\n    back: {json.dumps(back)}\n"
    return lines + (f"    extra: {json.dumps(extra)}\n" if extra else "")


def cloze(card_id: str, text: str) -> str:
    return f"  - id: {card_id}\n    type: cloze\n    text: {json.dumps(text)}\n"


def lint(project: Path, *args: str) -> CliRun:
    result = run_deckgen("lint", project, *args)
    assert not result.crashed, result.exception
    return result


def findings(result: CliRun, rule: str | None = None) -> list[str]:
    """The finding lines of a text report (rule given: only that rule's)."""
    lines = [line for line in result.stdout.splitlines() if line.endswith("]")]
    return [line for line in lines if rule is None or line.endswith(f"[{rule}]")]


def config(settings: str) -> dict[str, str]:
    from conftest import MINIMAL_CONFIG

    return {"deckgen.yaml": MINIMAL_CONFIG + settings}


# ---------------------------------------------------------------------------------------------
# A clean project, and what a report looks like
# ---------------------------------------------------------------------------------------------


def test_a_well_formed_project_has_no_finding(make_project: Make) -> None:
    result = lint(make_project({"cards/causes.yaml": CLEAN_CARDS}))
    assert result.exit_code == 0, result.stdout
    assert findings(result) == []
    assert result.stdout.strip() == "5 cards of 4 notes: 0 findings to fix, 0 explained by lint_ignore"


def test_findings_are_located_at_the_card_key_and_name_card_and_rule(make_project: Make) -> None:
    project = make_project(cards(STATEMENT))
    result = lint(project)
    assert result.exit_code == 1
    assert findings(result) == [
        "cards/causes.yaml:4:12: card 'bare': the front 'Calcium salts settle in damaged tissue.' is not a question, "
        "an instruction or a blank (ask ('What ...?'), instruct ('Name ...') or hide the answer in a cloze, so that "
        "the learner knows what to recall) [front_form]"
    ]
    assert result.stdout.splitlines()[-1] == "1 card of 1 note: 1 finding to fix, 0 explained by lint_ignore"


def test_a_card_type_without_a_front_key_is_located_at_the_card(make_project: Make) -> None:
    project = make_project({
        "templates/term.yaml": "note_type: basic\nfields:\n  term: {required: true}\n  meaning: {required: true}\n",
        "templates/term.html.j2": "{% block Front %}{{ term }}{% endblock %}{% block Back %}{{ meaning }}{% endblock %}",
        **cards("  - id: bare\n    type: term\n    term: Calcium settles in damaged tissue.\n    meaning: Dystrophic calcification\n"),
    })
    assert [line.split(": ")[0] for line in findings(lint(project))] == ["cards/causes.yaml:3:5"]


# ---------------------------------------------------------------------------------------------
# One test per rule: the defect, and the same cards without it
# ---------------------------------------------------------------------------------------------


def test_near_duplicate_fronts(make_project: Make) -> None:
    first = card("injury", "Which injury to soft tissue can end in dystrophic calcification?", "Trauma")
    again = card("injury-again", "Which injury to the soft tissue can end in dystrophic calcification?", "An open wound")
    other = card("salt", "Which calcium salt makes up most of the deposits?", "Calcium phosphate")
    result = lint(make_project(cards(first, again)))
    [found] = findings(result, "near_duplicate")
    assert found.startswith("cards/causes.yaml:7:12: card 'injury-again': its front shares 91% of its words "
                            "with the front of card 'injury' (cards/causes.yaml:3)")
    assert findings(lint(make_project(cards(first, other))), "near_duplicate") == []


def test_identical_fronts_are_named_the_same(make_project: Make) -> None:
    first = card("a", "What is necrosis?", "Death of tissue")
    result = lint(make_project(cards(first, card("b", "What is  NECROSIS", "Cell death"))))
    [found] = findings(result, "near_duplicate")
    assert "card 'b': its front is the same as the front of card 'a'" in found


def test_near_duplicate_threshold_is_a_setting(make_project: Make) -> None:
    pair = cards(card("injury", "Which injury to soft tissue can end in dystrophic calcification?", "Trauma"),
                 card("injury-again", "Which injury to the soft tissue can end in dystrophic calcification?", "A wound"))
    assert findings(lint(make_project(pair)), "near_duplicate")
    assert not findings(lint(make_project({**pair, **config("lint:\n  near_duplicate: {similarity: 0.95}\n")})),
                        "near_duplicate")


def test_giveaway_in_another_cards_back(make_project: Make) -> None:
    asks = card("salt", "Which calcium salt makes up most of the deposits?", "Calcium phosphate")
    gives = card("xray", "How do the deposits look on an x-ray?", "White and gritty",
                 extra="The calcium phosphate crystals block x-rays.")
    fair = card("xray", "How do the deposits look on an x-ray?", "White and gritty",
                extra="The crystals block x-rays.")
    [found] = findings(lint(make_project(cards(asks, gives))), "giveaway")
    assert found.startswith("cards/causes.yaml:9:12: card 'xray': shows 'Calcium phosphate' (or a form of it), the "
                            "answer to card 'salt' (cards/causes.yaml:3)")
    assert findings(lint(make_project(cards(asks, fair))), "giveaway") == []


def test_giveaway_of_a_cloze_deletion_and_of_a_word_form(make_project: Make) -> None:
    deletion = cloze("membranes", "Damaged membranes release {{c1::phosphate-containing molecules}}.")
    reverse = card("term", "What is calcium deposited in healthy tissue called?", "Metastatic calcification")
    gives = card("blood", "Which blood calcium level goes with metastatic calcifications?",
                 "A high one, as phosphate-containing molecules are released")
    result = lint(make_project(cards(deletion, reverse, gives)))
    assert sorted(re.findall(r"the answer to card '([^']+)' \(([^:]*)", "\n".join(findings(result, "giveaway")))) == [
        ("membranes", "Cloze 1"), ("term", "cards/causes.yaml")]


def test_a_name_that_other_cards_are_about_is_no_giveaway(make_project: Make) -> None:
    """A term card's cue is an entity the deck is about: asked from another angle (its definition), it is named freely."""
    term = ("  - id: term\n    type: reversed\n    front: Metastatic calcification\n"
            "    back: Calcium deposited in healthy tissue because blood calcium is high\n")
    names = card("blood", "Which blood calcium level goes with metastatic calcification?", "A high one")
    assert findings(lint(make_project(cards(term, names))), "giveaway") == []


def test_two_cards_with_the_same_answer_do_not_give_each_other_away(make_project: Make) -> None:
    allopurinol = card("allopurinol", "Which drug class is allopurinol?", "Xanthine oxidase inhibitor")
    febuxostat = card("febuxostat", "Which drug class is febuxostat?", "Xanthine oxidase inhibitor")
    listed = card("drugs", "Which drug lowers urate the most?", "Febuxostat",
                  extra="Like allopurinol, a xanthine oxidase inhibitor.")
    assert findings(lint(make_project(cards(allopurinol, febuxostat))), "giveaway") == []
    assert len(findings(lint(make_project(cards(allopurinol, listed))), "giveaway")) == 1


def test_a_one_word_answer_is_a_giveaway_on_a_front_in_any_word_form(make_project: Make) -> None:
    injury = card("injury", "Which kind of injury can end in dystrophic calcification?", "Trauma")
    fronts = card("wound", "What do traumas to soft tissue leave behind?", "A wound")
    backs = card("wound", "What does an injury to soft tissue leave behind?", "A wound", extra="Trauma does.")
    [found] = findings(lint(make_project(cards(injury, fronts))), "giveaway")
    assert "card 'wound': shows 'Trauma' (or a form of it), the answer to card 'injury'" in found
    assert findings(lint(make_project(cards(injury, backs))), "giveaway") == []  # a short answer is read on fronts
    longer = config("lint:\n  giveaway: {min_words: 1}\n")
    assert len(findings(lint(make_project({**cards(injury, backs), **longer})), "giveaway")) == 1


def test_an_answer_in_parentheses_is_a_giveaway_too(make_project: Make) -> None:
    detection = card("xray-detection", "Which imaging examination finds most deposits?", "An x-ray (radiography)")
    gives = card("vessels", "When calcification is found on radiography, what does it predict?", "Vessel damage")
    fair = card("vessels", "When calcification is found on such imaging, what does it predict?", "Vessel damage")
    [found] = findings(lint(make_project(cards(detection, gives))), "giveaway")
    assert "shows 'radiography' (or a form of it), the answer to card 'xray-detection'" in found
    assert findings(lint(make_project(cards(detection, fair))), "giveaway") == []


def test_the_decks_subject_is_never_a_giveaway(make_project: Make) -> None:
    subject = config("lint:\n  subject: [dystrophic calcification]\n")
    term = card("term", "What is calcium deposited in dead tissue called?", "Dystrophic calcification")
    names = card("where", "Where does dystrophic calcification form?", "In damaged tissue")
    assert len(findings(lint(make_project(cards(term, names))), "giveaway")) == 1
    assert findings(lint(make_project({**cards(term, names), **subject})), "giveaway") == []


def test_a_pair_of_cards_is_reported_once(make_project: Make) -> None:
    first = card("first", "Which tissue do trauma and infection share?", "Soft tissue")
    second = card("second", "What can soft tissue suffer from?", "Trauma")
    assert len(findings(lint(make_project(cards(first, second))), "giveaway")) == 1


def test_answer_in_its_own_front(make_project: Make) -> None:
    own = card("injury", "Which kind of trauma to soft tissue can end in calcification?", "Trauma")
    clean = card("injury", "Which kind of injury to soft tissue can end in calcification?", "Trauma")
    hinted = cloze("salt", "Most deposits are {{c1::calcium phosphate::calcium phosphate}}.")
    result = lint(make_project(cards(own, hinted)))
    assert [line.split(": ", 1)[1] for line in findings(result, "answer_in_front")] == [
        "card 'injury': the front already shows its answer 'Trauma' (cue the answer without naming it) "
        "[answer_in_front]",
        "card 'salt': Cloze 1: the front already shows its answer 'calcium phosphate' (cue the answer without "
        "naming it) [answer_in_front]",
    ]
    assert findings(lint(make_project(cards(clean))), "answer_in_front") == []


def test_list_dump_answers(make_project: Make) -> None:
    three = card("causes", "Which causes does the article list?", "Trauma, necrosis (of any kind) and tumors")
    two = card("causes", "Which two causes does the article list first?", "Trauma and necrosis")
    adjectives = card("look", "How do the deposits look on an x-ray?", "A tiny, white, gritty granule")
    listed = card("causes", "Which causes does the article list?", "- trauma\n- necrosis\n- tumors\n- infection")
    [found] = findings(lint(make_project(cards(three))), "list_dump")
    assert "card 'causes': its answer is a list of 3 items (more than 2)" in found
    assert findings(lint(make_project(cards(two))), "list_dump") == []
    assert findings(lint(make_project(cards(adjectives))), "list_dump") == []
    assert "a list of 4 items" in findings(lint(make_project(cards(listed))), "list_dump")[0]
    assert findings(lint(make_project({**cards(three), **config("lint:\n  list_dump: {max_items: 3}\n")})),
                    "list_dump") == []


def test_latex_items_are_items_and_lines_of_prose_are_not(make_project: Make) -> None:
    latex = card("uses", "Which uses of lasers does the lecture name?",
                 "[latex]\\\\begin{itemize} \\\\item sintering \\\\item welding \\\\item communication \\\\end{itemize}[/latex]")
    prose = card("why", "Why does the deposit grow?", "The dead cells keep binding calcium from the blood.<br>"
                 "The calcium that binds forms crystals in the tissue around them.<br>So the lump grows for years.")
    found = findings(lint(make_project(cards(latex, prose))), "list_dump")
    assert [line.split("'")[1] for line in found] == ["uses"] and "a list of 3 items" in found[0]


def test_cloze_with_too_many_deletions(make_project: Make) -> None:
    together = cloze("together", "Deposits hold {{c1::calcium}}, {{c1::phosphate}}, {{c1::carbonate}} and {{c1::protein}}.")
    three = cloze("three", "Deposits hold {{c1::calcium}}, {{c1::phosphate}} and {{c1::carbonate}}.")
    numbered = cloze("numbered", " ".join(f"{{{{c{n}::item{n}}}}}" for n in range(1, 7)))
    five = cloze("five", " ".join(f"{{{{c{n}::item{n}}}}}" for n in range(1, 6)))
    result = lint(make_project(cards(together, numbered)))
    [per_card, per_note] = findings(result, "cloze_deletions")
    assert "card 'together': Cloze 1: hides 4 deletions at once (more than 3)" in per_card
    assert "card 'numbered': the text has 6 cloze numbers (more than 5): 6 cards from one text" in per_note
    assert findings(lint(make_project(cards(three, five))), "cloze_deletions") == []
    strict = config("lint:\n  cloze_deletions: {per_card: 2, per_note: 4}\n")
    assert len(findings(lint(make_project({**cards(three, five), **strict})), "cloze_deletions")) == 2


def test_fronts_that_ask_nothing(make_project: Make) -> None:
    statement = card("statement", "Dystrophic calcification follows tissue damage.", "In damaged or dead tissue")
    asking = [
        card("question", "Where does dystrophic calcification form?", "In damaged or dead tissue"),
        card("instruction", "Name the tissue in which dystrophic calcification forms.", "Damaged or dead tissue"),
        card("second-sentence", "Dystrophic calcification follows damage. State where it forms.", "In dead tissue"),
        card("blank", "Dystrophic calcification forms in ___ tissue.", "damaged or dead"),
        cloze("cloze", "Dystrophic calcification forms in {{c1::damaged}} tissue."),
    ]
    assert len(findings(lint(make_project(cards(statement))), "front_form")) == 1
    assert findings(lint(make_project(cards(*asking))), "front_form") == []
    verbs = config("lint:\n  front_form: {verbs: [dystrophic]}\n")
    assert findings(lint(make_project({**cards(statement), **verbs})), "front_form") == []


def test_a_front_of_only_an_image_or_a_sound_is_not_judged(make_project: Make) -> None:
    files = {"media/heart.png": b"\x89PNG\r\n\x1a\n", "media/beat.mp3": b"ID3",
             **cards(card("image", "![](heart.png)", "A calcified valve"), card("sound", "[sound:beat.mp3]", "A murmur"),
                     card("sound-term", "[sound:beat.mp3] The heart makes this sound.", "A murmur"))}
    found = findings(lint(make_project(files)), "front_form")
    assert [line.split("'")[1] for line in found] == ["sound-term"]
    assert "the front 'The heart makes this sound.' is not" in found[0]


def test_images_are_told_apart_by_their_whole_file_names(make_project: Make) -> None:
    files = {"media/French Guiana.svg": b"<svg/>", "media/French Polynesia.svg": b"<svg/>",
             **cards(card("guiana", '<img src="French Guiana.svg">', "French Guiana"),
                     card("polynesia", "<img src='French Polynesia.svg'>", "French Polynesia"),
                     card("again", '<img src="French Guiana.svg">', "Guyane"))}
    found = findings(lint(make_project(files)), "near_duplicate")
    assert [line.split("'")[1] for line in found] == ["again"]  # the same image twice, not two images alike


def test_each_card_of_a_reversed_note_is_judged_as_learners_meet_it(make_project: Make) -> None:
    term = "  - id: term\n    type: reversed\n    front: What is necrosis?\n    back: Tissue that has died in a living body.\n"
    [found] = findings(lint(make_project(cards(term))), "front_form")
    assert found.startswith("cards/causes.yaml:6:11: card 'term': Reverse: the front 'Tissue that has died in a living "
                            "body.' is not a question")


def test_a_term_card_and_its_reverse_are_not_asked_to_be_questions(make_project: Make) -> None:
    term = "  - id: term\n    type: reversed\n    front: Necrosis\n    back: The death of tissue in a living body.\n"
    vocabulary = card("word", "der Nebel", "fog")
    assert findings(lint(make_project(cards(term, vocabulary))), "front_form") == []


def test_cards_of_the_authors_own_note_type_are_judged_by_its_templates(make_project: Make) -> None:
    project = make_project({
        "note_types/drug.yaml": (
            "kind: standard\nfields: [Drug, Class, Mechanism, Notes]\nsources_field: Notes\ntemplates:\n"
            "  - name: Mechanism\n    front: \"{{Drug}}: mechanism?\"\n"
            "    back: \"{{FrontSide}}<hr id=answer>{{Mechanism}}\"\n"
            "  - name: Class\n    front: \"{{Drug}}\"\n    back: \"{{FrontSide}}<hr id=answer>{{Class}}\"\n"),
        "templates/drug.yaml": ("note_type: drug\nfields:\n  drug: {required: true}\n  class: {required: true}\n"
                                "  mechanism: {required: true}\n"),
        "templates/drug.html.j2": ("{% block Drug %}{{ drug }}{% endblock %}{% block Class %}{{ class }}{% endblock %}"
                                   "{% block Mechanism %}{{ mechanism }}{% endblock %}"),
        **cards("  - id: allopurinol\n    type: drug\n    drug: Allopurinol\n    class: Xanthine oxidase inhibitor\n"
                "    mechanism: Blocks xanthine oxidase, so that less uric acid is made\n"
                "  - id: colchicine\n    type: drug\n    drug: Colchicine\n    class: Anti-inflammatory\n"
                "    mechanism: It calms the flare; unlike allopurinol, it does not block xanthine oxidase so that less "
                "uric acid is made\n"),
    })
    found = findings(lint(project))
    assert [line.split(": ")[0] for line in found] == ["cards/causes.yaml:12:16"]
    assert ("card 'colchicine': shows 'Blocks xanthine oxidase, so that less uric acid is made' (or a form of it), "
            "the answer to card 'allopurinol' (Mechanism: ") in found[0]
    # the Class card pairs a name with its class: a term card, asked as such, whose answer others may name


def test_two_questions_in_one_front(make_project: Make) -> None:
    joined = card("level", "What blood calcium level do you expect, and why?", "Normal, as the tissue is damaged")
    two = card("local", "Is it local? Where does it form?", "In the injured area")
    relative = card("organ", "Name the organ, in which the deposits form first.", "The lung")
    word = "  - id: word\n    type: reversed\n    front: 怎麼樣\n    back: How about it? What do you think?\n"
    found = findings(lint(make_project(cards(joined, two, relative, word))), "two_questions")
    assert [line.split("'")[1] for line in found] == ["level", "local"]
    assert "the front asks two things: 'and why?'" in found[0]


@pytest.mark.parametrize("front, flagged", [
    ("Which kind of muscle, skeletal or smooth?", "offers a choice of two: 'skeletal or smooth?'"),
    ("Skeletal or smooth?", "offers a choice of two"),
    ("Is the calcification local?", "asks a yes/no question"),
    ("Which kind of muscle does it reach, besides the heart?", ""),
    ("Which drug lowers urate or blocks its synthesis?", ""),
    ("Name the site that fits this clue: the kind of muscle, other than heart muscle, in which it is seen.",
     "rules out 'heart muscle' and asks for another muscle"),
    ("Besides the heart muscle, which named muscle is it seen in?", ""),  # a name among many, not a kind
])
def test_offered_choices_and_yes_no_questions(make_project: Make, front: str, flagged: str) -> None:
    found = findings(lint(make_project(cards(card("muscle", front, "Skeletal muscle")))), "offered_choice")
    assert (flagged in found[0]) if flagged else found == []


@pytest.mark.parametrize("front, flagged", [
    ("According to which document is the calcification local?", "which document"),
    ("How do the two documents differ on where it forms?", "the two documents"),
    ("Which guideline recommends surgery for it?", "Which guideline"),
    ("According to the guideline, when is surgery needed?", ""),
    ("Which study design answers this best?", ""),
])
def test_questions_about_the_source(make_project: Make, front: str, flagged: str) -> None:
    found = findings(lint(make_project(cards(card("source", front, "When it hurts")))), "source_question")
    assert (f"asks about the source ('{flagged}')" in found[0]) if flagged else found == []
    extra = config("lint:\n  source_question: {sources: [handout]}\n")
    asked = cards(card("source", "Which handout says so?", "The first"))
    assert findings(lint(make_project({**asked, **extra})), "source_question")


def test_a_gap_in_an_open_list(make_project: Make) -> None:
    open_list = cloze("open", "Calcium is found in places such as {{c1::the blood}} and the muscles.")
    others = cloze("others", "It may follow injury, {{c1::chemical damage}} or infection, among others.")
    closed = cloze("closed", "Calcium is found in three places: {{c1::the blood}}, the muscles and the fluid.")
    one_of_many = card("many", "Name a cause of dystrophic calcification.", "Trauma")
    found = findings(lint(make_project(cards(open_list, others, closed, one_of_many))), "open_list")
    assert [line.split("'")[1] for line in found] == ["open", "others", "many"]
    assert "the gap stands in an open list ('such as')" in found[0]


def test_a_deletion_that_hides_a_list_two_terms_or_a_clause(make_project: Make) -> None:
    listed = cloze("listed", "It is seen in {{c1::the lungs, the kidneys and the stomach}}.")
    joined = cloze("joined", "It is given to reduce {{c1::inflammation and further calcification}}.")
    clause = cloze("clause", "Deposits form {{c1::when damaged membranes release molecules that bind it}}.")
    single = cloze("single", "It is seen in {{c1::the lungs}}, {{c2::the kidneys}} and {{c3::the stomach}}.")
    found = findings(lint(make_project(cards(listed, joined, clause, single))), "cloze_list")
    assert [re.search(r"hides (.*?) \(hide", line).group(1) for line in found] == [
        "3 terms", "2 terms", "8 words (more than 6)"]


def test_an_answer_that_restates_its_cue(make_project: Make) -> None:
    restated = card("vessels", "It occurs in changes of blood vessels. What does it predict?", "Damage inside the blood vessel")
    forms = card("injured", "Which injuries can end in calcification?", "Injury")
    fair = card("salt", "Which calcium salt makes up most deposits?", "Calcium phosphate")
    compound = card("group", "A group of diseases the soft-tissue article names: which?", "Connective tissue diseases")
    found = findings(lint(make_project(cards(restated, forms, fair, compound))), "restated_answer")
    assert [line.split("'")[1] for line in found] == ["vessels", "injured"]
    assert "the cue already holds the answer 'Damage inside the blood vessel' (blood, vessel)" in found[0]


def test_a_clue_that_is_the_decks_own_definition_of_its_answer(make_project: Make) -> None:
    glossed = card("tumor", "Name the local cause that fits this clue: It may be benign or malignant.", "A tumor",
                   extra="The guideline lists tumors (both benign and malignant).")
    term = card("term", "Necrosis", "The death of cells in living tissue")
    defined = card("necrosis", "Name the change that fits this clue: the death of the cells of living tissue.", "Necrosis")
    fair = card("site", "Name the local cause that fits this clue: it can grow in the jaw bone.", "A tumor")
    own = card("own", "A tumor (benign or malignant) is named by which document?", "The guideline")
    found = findings(lint(make_project(cards(glossed, term, defined, fair, own))), "definition_clue")
    assert [line.split("'")[1] for line in found] == ["tumor", "necrosis"]
    assert "the clue 'It may be benign or malignant.' is what the deck says 'tumors' means " \
           "('both benign and malignant', cards/causes.yaml:3)" in found[0]
    assert "'necrosis' means ('The death of cells in living tissue', cards/causes.yaml:7)" in found[1]


def test_a_reverse_answered_by_the_decks_title(make_project: Make) -> None:
    reverse = "  - id: term\n    type: reversed\n    front: Test deck\n    back: The deck that tests the lint rules\n"
    basic = "  - id: term\n    type: basic\n    front: Test deck\n    back: The deck that tests the lint rules\n"
    [found] = findings(lint(make_project(cards(reverse))), "answered_by_title")
    assert "card 'term': Reverse: its answer 'Test deck' is the deck's own title" in found
    assert findings(lint(make_project(cards(basic))), "answered_by_title") == []


def test_word_forms_follow_the_decks_language(make_project: Make) -> None:
    asks = card("cause", "Welche Art Schaden führt zur Verkalkung?", "Verletzung")
    gives = card("wound", "Was hinterlassen Verletzungen im Gewebe?", "Narben")
    german = config("lint:\n  language: german\n")
    assert findings(lint(make_project(cards(asks, gives))), "giveaway") == []  # English stems: "verletzungen" stays
    result = lint(make_project({**cards(asks, gives), **german}))
    assert len(findings(result, "giveaway")) == 1
    assert findings(result, "offered_choice") == []  # "Was" is German: the English phrasing rules do not read it
    many = [card(f"q{number}", f"Was ist die Wellenlänge des Lasers Nummer {number} im Versuch?",
                 f"Etwa {number} hundert Nanometer") for number in range(60)]  # 900 words, a few English ("was")
    assert findings(lint(make_project(cards(*many))), "offered_choice") == []  # not set to German: read as German
    assert len(findings(lint(make_project(cards(*many[:3]))), "offered_choice")) == 3  # too few words to tell
    two = card("two", "Was ist der Brechungsindex von Glas? Was der des Vakuums?", "1,5 und 1,0")
    assert len(findings(lint(make_project({**cards(two), **german})), "two_questions")) == 1  # two question marks


def test_a_rule_can_be_turned_off(make_project: Make) -> None:
    files = cards(STATEMENT)
    result = lint(make_project({**files, **config("lint:\n  front_form: off\n")}))
    assert result.exit_code == 0 and findings(result) == []


# ---------------------------------------------------------------------------------------------
# Explaining a finding: lint_ignore with a reason
# ---------------------------------------------------------------------------------------------

STATEMENT = card("bare", "Calcium salts settle in damaged tissue.", "Dystrophic calcification")
TERM = STATEMENT
REASON = '    lint_ignore: {front_form: "a term the deck defines; the term alone is the cue"}\n'


def test_a_reason_explains_a_finding(make_project: Make) -> None:
    project = make_project(cards(TERM + REASON))
    result = lint(project)
    assert result.exit_code == 0 and findings(result) == []
    assert result.stdout.splitlines()[-1] == "1 card of 1 note: 0 findings to fix, 1 explained by lint_ignore"
    [shown] = findings(lint(project, "--explained"))
    assert shown.endswith("[front_form, explained: a term the deck defines; the term alone is the cue]")
    report = json.loads(lint(project, "--format", "json").stdout)
    assert report["ok"] is True
    assert [f["explained"] for f in report["findings"]] == ["a term the deck defines; the term alone is the cue"]


def test_a_unicode_id_written_in_another_normal_form_keeps_its_reason(make_project: Make) -> None:
    decomposed = card("calcification-dystrophique-e\u0301te\u0301", "Calcium salts settle in damaged tissue.", "Dystrophic calcification")
    result = lint(make_project(cards(decomposed + REASON)))
    assert result.exit_code == 0 and result.stdout.strip().endswith("0 findings to fix, 1 explained by lint_ignore")


def test_a_reason_explains_only_its_rule(make_project: Make) -> None:
    other = '    lint_ignore: {giveaway: "the contrast is the point"}\n'
    result = lint(make_project(cards(TERM + other)))
    assert result.exit_code == 1 and len(findings(result, "front_form")) == 1


def test_the_answer_cards_reason_explains_a_giveaway_too(make_project: Make) -> None:
    asks = card("salt", "Which calcium salt makes up most of the deposits?", "Calcium phosphate")
    gives = card("xray", "What block x-rays in the deposits?", "The calcium phosphate crystals")
    reason = '    lint_ignore: {giveaway: "the salt is named on every card about the deposits"}\n'
    assert lint(make_project(cards(asks, gives))).exit_code == 1
    assert lint(make_project(cards(asks + reason, gives))).exit_code == 0
    assert lint(make_project(cards(asks, gives + reason))).exit_code == 0


def test_a_reason_is_required_and_rule_names_are_checked(make_project: Make) -> None:
    result = lint(make_project(cards(TERM + '    lint_ignore: {front_form: "", giveway: "x"}\n')))
    assert result.exit_code == 1
    assert "cards/causes.yaml:6:31: card 'bare': the reason to ignore 'front_form' is empty" in result.stderr
    assert ("cards/causes.yaml:6:35: card 'bare': unknown lint rule 'giveway' in lint_ignore "
            "(did you mean 'giveaway'?)") in result.stderr
    listed = lint(make_project(cards(TERM + "    lint_ignore: [front_form]\n")))
    assert "'lint_ignore' must be a mapping, not a list" in listed.stderr and listed.exit_code == 1


def test_a_reason_that_explains_nothing_is_reported_and_fails_under_strict(make_project: Make) -> None:
    project = make_project(cards(card("q", "What is calcification?", "Deposition of calcium salts in tissue") + REASON))
    result = lint(project)
    assert result.exit_code == 0
    assert ("cards/causes.yaml:6:19: card 'q': lint_ignore 'front_form' explains no finding on this card "
            "(remove it, so that it cannot hide a future one) [front_form] (unused)") in result.stdout
    assert lint(project, "--strict").exit_code == 1


def test_lint_ignore_is_a_card_key_that_check_and_build_accept_without_changing_the_note(make_project: Make) -> None:
    plain, explained = make_project(cards(TERM)), make_project(cards(TERM + REASON))
    assert run_deckgen("check", explained).exit_code == 0
    assert [n.hash for n in prepare(plain).notes] == [n.hash for n in prepare(explained).notes]


# ---------------------------------------------------------------------------------------------
# Settings, formats, and projects lint cannot read
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings, message", [
    ("lint:\n  giveway: {min_words: 3}\n", "deckgen.yaml:9:3: unknown lint rule 'giveway' (did you mean 'giveaway'?)"),
    ("lint:\n  giveaway: {min_words: 0}\n", "deckgen.yaml:9:25: lint setting 'giveaway.min_words' must be a whole number from 1, not 0"),
    ("lint:\n  near_duplicate: {similarity: 2}\n", "lint setting 'near_duplicate.similarity' must be a number above 0 and at most 1, not 2"),
    ("lint:\n  list_dump: {most: 3}\n", "deckgen.yaml:9:15: unknown 'list_dump' setting 'most' (its settings: max_items)"),
    ("lint:\n  front_form: yes please\n", "lint rule 'front_form' must be false (off) or a mapping of its settings, not text"),
    ("lint:\n  front_form: {verbs: name}\n", "lint setting 'front_form.verbs' must be a list of words, not text"),
    ("lint:\n  language: englsh\n", "lint setting 'language' must name a stemmer's language, not 'englsh' (did you mean 'english'?)"),
    ("lint:\n  subject: calcification\n", "lint setting 'subject' must be a list of words, not text"),
])
def test_wrong_settings_are_located_problems(make_project: Make, settings: str, message: str) -> None:
    project = make_project({"cards/causes.yaml": CLEAN_CARDS, **config(settings)})
    result = lint(project)
    assert result.exit_code == 1 and message in result.stderr
    assert run_deckgen("check", project).exit_code == 0  # only lint reads its settings


def test_a_project_with_errors_is_reported_as_check_reports_it(make_project: Make) -> None:
    result = lint(make_project(cards("  - id: broken\n    front: Which?\n    backk: x\n")))
    assert result.exit_code == 1 and "unknown field 'backk'" in result.stderr
    as_json = json.loads(lint(make_project(cards("  - id: broken\n    front: Which?\n")), "--format", "json").stdout)
    assert as_json["ok"] is False and as_json["problems"][0]["message"] == "missing field 'back'"


def test_a_card_file_linked_out_of_the_project_is_refused_not_read(make_project: Make, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(CLEAN_CARDS, encoding="utf-8")
    project = make_project({"cards/causes.yaml": None})
    (project / "cards" / "causes.yaml").symlink_to(secret)
    result = lint(project)
    assert result.exit_code == 1 and "cards/causes.yaml: this is a link to a file outside the project" in result.stderr
    assert "cards checked" not in result.stdout and findings(result) == []


def test_github_format_annotates_each_finding(make_project: Make) -> None:
    result = lint(make_project(cards(TERM)), "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "::warning file=cards/causes.yaml,line=4,col=12,title=deckgen lint%3A front_form::card 'bare': the front "
        "'Calcium salts settle in damaged tissue.' is not a question, an instruction or a blank (ask ('What ...?'), "
        "instruct ('Name ...') or hide the answer in a cloze, so that the learner knows what to recall)")


def test_json_lists_every_rule_name_it_can_report(make_project: Make) -> None:
    report = json.loads(lint(make_project(cards(TERM)), "--format", "json").stdout)
    assert report["ok"] is False and {f["rule"] for f in report["findings"]} <= set(RULE_NAMES)
    assert report["findings"][0]["card"] == "bare"


def test_lint_project_is_the_library_call(make_project: Make) -> None:
    report = lint_project(make_project(cards(TERM)))
    assert [(f.card, f.rule, f.line, f.column) for f in report.unexplained] == [("bare", "front_form", 4, 12)]


# ---------------------------------------------------------------------------------------------
# A cloze card's answers are what Anki hides on it
# ---------------------------------------------------------------------------------------------


def test_cloze_deletions_are_what_anki_hides(tmp_path: Path) -> None:
    text = ("{{c1::calcium}} binds {{c2::phosphate {{c1::ions}}}} in {{c1::<b>dead</b> tissue::where?}}; "
            "{{c3::crystals}} form")
    col = open_collection(tmp_path)
    try:
        note = col.new_note(add_deckgen_note_type(col, NOTE_TYPES[CLOZE]))
        note["Text"] = text
        col.add_note(note, 1)  # type: ignore[arg-type]
        for anki_card in note.cards():
            hidden = re.findall(r'data-cloze="([^"]*)"', anki_card.question())
            expected = [visible(html.unescape(value)) for value in hidden]
            assert [visible(d) for d in cloze_deletions(text, anki_card.ord + 1)] == expected
    finally:
        col.close()


# ---------------------------------------------------------------------------------------------
# The indexes behind the fast rules miss nothing that comparing every pair would find
# ---------------------------------------------------------------------------------------------


def _random_notes(seed: int, count: int = 120) -> list[LearnerNote]:
    """Basic notes of random text from a small vocabulary, so that many fronts and answers recur."""
    rng = random.Random(seed)
    vocabulary = "calcium phosphate tissue tissues dead the injury injuries salt of".split()

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, k=rng.randint(low, high)))

    notes = [RenderedNote(f"n{i}", BASIC, (text(2, 7), text(1, 4), text(0, 9), ""), (), "cause", (),
                          "cards/random.yaml", i + 1, 5, (0,), "", "") for i in range(count)]
    return learner_notes(notes)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("similarity", [0.5, 0.8, 1.0])
def test_near_duplicate_finds_every_pair_that_all_pairs_would(seed: int, similarity: float) -> None:
    notes = _random_notes(seed)
    cards = [card for note in notes for card in note.cards]
    expected = {
        (first.card_id, second.card_id)
        for i, first in enumerate(cards) for second in cards[i + 1:]
        if first.card_id != second.card_id and first.question_words and second.question_words
        and not (first.is_term and second.is_term and first.cue != second.cue)
        and len(set(first.question_words) & set(second.question_words))
        / len(set(first.question_words) | set(second.question_words)) >= similarity - 1e-9
    }
    found = {(f.related[0], f.card.card_id) for f in near_duplicate.check(lint_deck(notes), {"similarity": similarity})}
    assert found == expected and expected


@pytest.mark.parametrize("seed", range(4))
def test_giveaway_finds_every_answer_that_all_pairs_would(seed: int) -> None:
    deck = lint_deck(_random_notes(seed))
    stems = deck.forms.stems
    entities = {stems(card.cue) for note in deck.notes for card in note.cards if card.is_term}
    entities |= {stems(note.entity) for note in deck.notes if note.entity}

    def shows(giver: LearnerNote, form: tuple[str, ...]) -> bool:
        texts = giver.seen if len(form) >= 2 else [card.question_words for card in giver.cards]
        return any(contains(stems(text), stems(form)) for text in texts)

    expected = {
        frozenset((giver.note.card_id, other.note.card_id))
        for giver in deck.notes for other in deck.notes if other is not giver
        for card in other.cards if not card.is_association
        for answer in card.answers for form in answer.forms
        if letters(form) >= 4 and stems(form) not in entities and not deck.is_subject(form)
        and not (len(form) == 1 and (form[0] in FUNCTION_WORDS or form[0] in NUMBER_WORDS or form[0].isdigit()))
        and stems(form) not in {stems(own) for own_card in giver.cards for a in own_card.answers for own in a.forms}
        and shows(giver, form)
    }
    found = [frozenset((f.card.card_id, f.related[0])) for f in giveaway.check(deck, {"min_words": 2, "min_letters": 4})]
    assert set(found) == expected and expected
    assert len(found) == len(set(found))  # each pair once


def test_github_format_annotates_a_project_that_cannot_be_built(make_project: Make) -> None:
    result = lint(make_project(cards("  - id: broken\n    front: Which?\n    backk: x\n")), "--format", "github")
    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert any("unknown field 'backk'" in line and "cards/causes.yaml,line=" in line for line in annotations)
