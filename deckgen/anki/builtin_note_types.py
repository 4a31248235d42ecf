"""deckgen's fixed Anki note types.

These are Anki's templates (``{{Front}}``, ``{{cloze:Text}}``), not Jinja: they are plain strings
that never pass through Jinja. Their field and template names are a promise to every learner who
has the deck: Anki forks a note type whose names change, and then stops updating its notes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

BASIC = "basic"
REVERSED = "reversed"
CLOZE = "cloze"
MAX_ID = (1 << 63) - 1  # Anki's ids are signed 64-bit integers

_EXTRA_AND_SOURCES = (
    '{{#Extra}}\n<div class="extra">{{Extra}}</div>\n{{/Extra}}\n'
    '{{#Sources}}\n<div class="sources">{{Sources}}</div>\n{{/Sources}}'
)


def _answer(side: str) -> str:
    """The back of a front/back card: the question, a separator, the answer and its context."""
    return '{{FrontSide}}\n\n<hr id=answer>\n\n<div class="back">{{%s}}</div>\n' % side + _EXTRA_AND_SOURCES


@dataclass(frozen=True)
class CardTemplate:
    """One Anki card template: a question format and an answer format."""

    name: str
    question: str
    answer: str
    group: str | None = None  # the group whose subdeck this template's cards go to (None: the note's group)
    group_pos: tuple[int, int] = field(default=(0, 0), compare=False)  # line, column of the setting


_NOT_BLOCK_CHARACTER = re.compile(r"[^A-Za-z0-9_]")


def block_name(field_name: str) -> str:
    """The Jinja block that fills a field: every character outside [A-Za-z0-9_] becomes '_'."""
    return _NOT_BLOCK_CHARACTER.sub("_", field_name)


# A field's options in Anki (schema 11 keys) and Anki's defaults for a new field: what a note type file's
# field_options may set, and what its other fields get when it sets any.
FIELD_OPTION_DEFAULTS: dict[str, object] = {"font": "Arial", "size": 20, "sticky": False, "rtl": False,
                                            "plainText": False, "collapsed": False, "excludeFromSearch": False}


@dataclass(frozen=True)
class NoteType:
    """An Anki note type whose names never change once a deck is shared.

    `kind` is the note type's key: `basic`, `reversed`, `cloze` or a project's own
    (`note_types/<key>.yaml`). The optional settings are a project note type's; None means
    deckgen's default (the name "<deck> (<key>)", an id from the project key, the project's CSS).
    """

    kind: str
    fields: tuple[str, ...]
    templates: tuple[CardTemplate, ...]
    is_cloze: bool = False
    name: str | None = None
    id: int | None = None
    css: str | None = None
    sort_field_index: int = 0
    sources_field: str | None = "Sources"
    path: str = ""  # the file that declares it ("" for the built-ins)
    block_names: tuple[tuple[str, str], ...] = ()  # (field, Jinja block) where the file names the block itself
    latex_pre: str | None = None  # the LaTeX header Anki renders [latex] with (None: genanki's)
    latex_post: str | None = None
    field_options: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] | None = None  # (field, its Anki
    # options) from the file's field_options (None: none given; given, the other fields get Anki's defaults)

    @functools.cached_property
    def content_fields(self) -> tuple[str, ...]:
        """The fields a card type's Jinja template fills (deckgen fills the sources field itself)."""
        return tuple(name for name in self.fields if name != self.sources_field)

    @functools.cached_property
    def blocks(self) -> dict[str, str]:
        """Jinja block name -> the content field it fills."""
        given = dict(self.block_names)
        return {given.get(name) or block_name(name): name for name in self.content_fields}

    def display_name(self, deck: str) -> str:
        """The name learners see in Anki."""
        return self.name or note_type_name(deck, self.kind)

    def style(self, project_css: str) -> str:
        """The CSS Anki stores with the note type: its own, or else the project's."""
        return project_css if self.css is None else self.css

    @functools.cached_property
    def generated_cards(self) -> dict[frozenset[str], tuple[int, ...]]:
        """Which cards a note gets, by the set of its filled fields: filled in by `deckgen.anki.template_engine`."""
        return {}

    @functools.cached_property
    def template_facts(self) -> dict[str, bool]:
        """What `deckgen.anki.name_rules` found once about the templates, kept here because it is asked per note."""
        return {}

    @functools.cached_property
    def field_set(self) -> frozenset[str]:
        """The field names, for membership tests."""
        return frozenset(self.fields)

    @property
    def schema(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What Anki compares to decide between updating a note type and forking it."""
        return self.fields, tuple(t.name for t in self.templates)


NOTE_TYPES: dict[str, NoteType] = {
    BASIC: NoteType(
        kind=BASIC,
        fields=("Front", "Back", "Extra", "Sources"),
        templates=(CardTemplate("Card 1", '<div class="front">{{Front}}</div>', _answer("Back")),),
    ),
    REVERSED: NoteType(
        kind=REVERSED,
        fields=("Front", "Back", "Extra", "Sources"),
        templates=(
            CardTemplate("Forward", '<div class="front">{{Front}}</div>', _answer("Back")),
            CardTemplate("Reverse", '<div class="front">{{Back}}</div>', _answer("Front")),
        ),
    ),
    CLOZE: NoteType(
        kind=CLOZE,
        fields=("Text", "Extra", "Sources"),
        templates=(
            CardTemplate(
                "Cloze",
                '<div class="cloze-text">{{cloze:Text}}</div>',
                '<div class="cloze-text">{{cloze:Text}}</div>\n\n<hr id=answer>\n\n' + _EXTRA_AND_SOURCES,
            ),
        ),
        is_cloze=True,
    ),
}


def note_type_name(deck: str, kind: str) -> str:
    """What learners see as a note type's name in Anki (not part of its schema: renaming is safe)."""
    return f"{deck} ({kind})"
