"""A source whose reference list cannot be matched to the numbers its text cites says so on the card."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

from ankitools import import_package, open_collection, rendered_cards
from deckgen.build.pipeline import BuildOptions, build

UNNUMBERED = """\
deck: Test Deck
key: test-deck
groups:
  cause: Causes
sources:
  report:
    citation: A report with an unnumbered reference list
    references:
      1: The one entry the report ties to its number
      2: null
    untitled: the report prints its list without numbers; no title is known for this number
  paper:
    citation: A paper with a numbered list
    references:
      3: Its third reference
"""
CARDS = """\
group: cause
cards:
  - id: cited
    front: Which injury?
    back: Trauma
    sources: [{id: report, ref: "1, 2"}, {id: paper, ref: "3, 7"}]
  - id: untitled-only
    front: Which tumour?
    back: A benign one
    sources: [{id: other, ref: "4"}]
"""
NO_TITLES = """\
  other:
    citation: A source that names none of its references
    references: {4: null}
    untitled: the source's reference list is unnumbered
"""


def _answers(make_project: Callable[..., Path], tmp_path: Path) -> dict[str, str]:
    root = make_project({"deckgen.yaml": UNNUMBERED + NO_TITLES, "cards/causes.yaml": CARDS})
    result = build(root, BuildOptions(output=root / "deck.apkg", use_cache=False))
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, result.output)
        description = col.decks.by_name("Test Deck")["desc"]
        return {"description": description, **{c.fields["Front"]: c.answer for c in rendered_cards(col)}}


def test_a_number_without_a_title_shows_the_source_note(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers = _answers(make_project, tmp_path)
    cited = answers["Which injury?"]
    assert "<li>[1] The one entry the report ties to its number</li>" in cited
    assert "<li>[2] <i>the report prints its list without numbers; no title is known for this number</i></li>" in cited
    # a source without the note keeps the default wording
    assert "<li>[3] Its third reference</li>" in cited
    assert "<li>[7] <i>not listed in the source</i></li>" in cited


def test_a_source_with_only_the_note_still_lists_the_cited_numbers(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers = _answers(make_project, tmp_path)
    assert "<li>[4] <i>the source's reference list is unnumbered</i></li>" in answers["Which tumour?"]


def test_the_deck_description_carries_the_note_with_its_numbers(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    description = _answers(make_project, tmp_path)["description"]
    assert "<li>[2] <i>the report prints its list without numbers; no title is known for this number</i></li>" in description
    assert "<li>[4] <i>the source's reference list is unnumbered</i></li>" in description


def test_numbers_declared_without_a_title_are_not_warned_about(make_project, deckgen) -> None:  # type: ignore[no-untyped-def]
    root = make_project({"deckgen.yaml": UNNUMBERED + NO_TITLES, "cards/causes.yaml": CARDS})
    run = deckgen("check", root)
    warned = [line for line in run.problems if "lists no reference" in line]
    assert len(warned) == 1 and "source 'paper' lists no reference 7" in warned[0], run.stderr


def test_the_note_must_be_text(make_project, deckgen) -> None:  # type: ignore[no-untyped-def]
    root = make_project({"deckgen.yaml": UNNUMBERED.replace("untitled: the report", "untitled: [the report")
                         .replace("for this number", "for this number]")})
    run = deckgen("check", root)
    assert run.exit_code == 1 and any("untitled" in line for line in run.problems), run.stderr
