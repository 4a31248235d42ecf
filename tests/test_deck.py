"""This repository's own deck: Dystrophic Calcification, built and read back by the Anki backend."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from ankitools import import_package, open_collection, rendered_cards, strip_style
from deckgen.build import BuildOptions, build
from deckgen.render import visible_text

REPO = Path(__file__).parent.parent
PROJECT_FILES = ("deckgen.yaml", "deckgen.lock", "cards", "templates")
EXPECTED_NOTES = {"Causes": 36, "Mechanism": 23, "Treatment": 9}


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


def test_the_project_card_type_words_many_cards(deck) -> None:  # type: ignore[no-untyped-def]
    result, _, _ = deck
    cause_cards = [n for n in result.project.notes if "cause-question" in n.fields[0]]
    assert len(cause_cards) >= 20
    assert all(n.fields[0].count("Name the ") == 1 for n in cause_cards)
