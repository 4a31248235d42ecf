"""This repository's own deck: Dystrophic Calcification, built and read back by the Anki backend."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from ankitools import import_package, open_collection, rendered_cards, strip_style
from deckgen.build.pipeline import BuildOptions, build
from deckgen.lint import giveaways, lint_project
from deckgen.build.render import visible_text

REPO = Path(__file__).parent.parent
PROJECT_FILES = ("deckgen.yaml", "deckgen.lock", "cards", "templates")
EXPECTED_NOTES = {"Causes": 10, "Mechanism": 11, "Treatment": 5}


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The deck built from a copy of the repository's project (the build must not touch the repo's lock)."""
    root = tmp_path_factory.mktemp("deck")
    for name in PROJECT_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    result = build(root, BuildOptions(output=root / "deck.apkg", frozen=True, strict=True, use_cache=False))
    col = open_collection(root)
    import_package(col, result.output)
    yield result, col, rendered_cards(col)
    col.close()


def test_the_committed_lock_matches_the_sources(deck) -> None:  # type: ignore[no-untyped-def]
    result, _, _ = deck
    assert result.project.report.empty  # built with --frozen: the repository's lock is current


def test_three_subdecks_with_the_expected_notes(deck) -> None:  # type: ignore[no-untyped-def]
    result, col, _ = deck
    per_group = {result.project.config.group_title(g): n for g, n in result.project.cards_per_group().items() if g}
    assert per_group == EXPECTED_NOTES
    names = {d.name for d in col.decks.all_names_and_ids()}
    assert {f"Dystrophic Calcification::{title}" for title in EXPECTED_NOTES} <= names


def test_every_card_cites_a_source(deck) -> None:  # type: ignore[no-untyped-def]
    _, col, cards = deck
    for nid in col.find_notes(""):
        assert visible_text(col.get_note(nid)["Sources"]), col.get_note(nid).fields[0]
    for card in cards:
        assert '<div class="sources">' in card.answer


def test_no_two_cards_share_a_front(deck) -> None:  # type: ignore[no-untyped-def]
    _, _, cards = deck
    fronts = Counter(visible_text(strip_style(card.question)) for card in cards)
    assert [front for front, n in fronts.items() if n > 1] == []


def test_every_card_has_a_front_and_a_back_that_adds_to_it(deck) -> None:  # type: ignore[no-untyped-def]
    _, _, cards = deck
    for card in cards:
        question, answer = visible_text(strip_style(card.question)), visible_text(strip_style(card.answer))
        assert question and answer != question


def test_description_names_both_documents_and_is_not_medical_advice(deck) -> None:  # type: ignore[no-untyped-def]
    _, col, _ = deck
    description = col.decks.by_name("Dystrophic Calcification")["desc"]
    assert "Dystrophic Calcification Of Soft Tissue: Causes &amp; Treatment" in description
    assert "What are the causes of dystrophic calcifications?" in description
    assert "not medical advice" in description


def test_no_card_uses_the_retired_cause_card_type(deck) -> None:  # type: ignore[no-untyped-def]
    """Deck 3.0.0 dropped the `cause` card type: its clue-to-cause fronts named the definition of the answer."""
    result, _, _ = deck
    assert [n for n in result.project.notes if "cause-question" in n.fields[0]] == []
    assert not (REPO / "templates" / "cause.yaml").exists()


def test_no_card_lists_the_other_items_of_its_source_list(deck) -> None:  # type: ignore[no-untyped-def]
    """v1's "The same source list also names:" block handed learners the answers of other cards."""
    _, _, cards = deck
    for card in cards:
        assert "The same source list also names" not in card.answer
        assert "cause-context" not in card.answer


def test_no_card_is_told_where_a_document_lists_its_answer(deck) -> None:  # type: ignore[no-untyped-def]
    """Clues about the document ("in one item together with", "the last item") are not clues about the subject."""
    _, _, cards = deck
    for card in cards:
        text = visible_text(strip_style(card.answer)).lower()
        for phrase in ("in one item", "the last item", "one particular organ", "one particular tissue", "any cause of this process"):
            assert phrase not in text, (phrase, text[:80])


def test_no_card_gives_another_cards_answer_away(deck) -> None:  # type: ignore[no-untyped-def]
    """A giveaway: one card's answer, in any word form ("radiography" for "An x-ray (radiography)", "trauma"
    for "Trauma"), shown on another card: lint's giveaway rule over the whole deck, with nothing explained away."""
    result, _, _ = deck
    assert [str(finding) for finding in giveaways(result.project.config.root)] == []


def test_clozes_hide_one_thing_per_card(deck) -> None:  # type: ignore[no-untyped-def]
    """A cloze card hides one term (a number may recur for the same term); a list is a closed list, one number per item."""
    _, col, _ = deck
    for nid in col.find_notes("Text:_*"):
        text = col.get_note(nid)["Text"]
        numbers = re.findall(r"\{\{c(\d+)::(.*?)\}\}", text)
        assert 1 <= len({n for n, _ in numbers}) <= 10, text
        for number in {n for n, _ in numbers}:
            terms = {term.lower() for n, term in numbers if n == number}
            assert len(terms) == 1, (number, text)


def test_guideline_references_as_printed(deck) -> None:  # type: ignore[no-untyped-def]
    """The guideline's list is unnumbered: a title only for 1 (probably its one "Guideline" entry) and 3, 4 (the masseter reports)."""
    _, _, cards = deck
    items = [item for card in cards for item in re.findall(r"<li>\[(\d+)\] (.*?)</li>", card.answer, re.S)]
    assert {number for number, _ in items} == {"1", "2", "3", "4", "5", "6"}
    for number, title in items:
        if number == "1":
            assert title.startswith("Guideline Directed Topic Overview") and "probably" in title
        elif number in ("3", "4"):
            assert "masseter" in title and "does not say which" in title
        else:
            assert title == "<i>title unknown: the guideline prints its reference list without numbers</i>"


def test_description_carries_the_guidelines_caution_and_its_unnumbered_list(deck) -> None:  # type: ignore[no-untyped-def]
    _, col, _ = deck
    description = col.decks.by_name("Dystrophic Calcification")["desc"]
    assert "Educational purpose only" in description
    assert "pending human review" in description
    assert "<em>without numbers</em>" in description


def test_lint_finds_nothing_unexplained(deck) -> None:  # type: ignore[no-untyped-def]
    """`deckgen lint --strict` on the deck: every finding is explained by a card's lint_ignore, and every lint_ignore explains one."""
    result, _, _ = deck
    report = lint_project(result.project.config.root)
    assert report.unexplained == [] and report.passed(strict=True), [str(f) for f in report.unexplained]
