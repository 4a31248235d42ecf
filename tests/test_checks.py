"""One test per check: the exact message and location `deckgen check` prints for each kind of mistake.

Every case is a new user's mistake written into a small project; `deckgen check` must exit 1, print
exactly the expected problem lines (file:line:column, card, what is wrong, the fix) and no traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from conftest import CAUSE_SPEC, SUMMARY_LINE, CliRun, FileContent

from deckgen.build.pipeline import prepare
from deckgen.problems import Problem, ProjectError

CARDS = "cards/causes.yaml"
CAUSE_TEMPLATE = """\
{% block Front %}Name a {{ scope }} cause{% if example %} (for example {{ example }}){% endif %}.{% endblock %}
{% block Back %}{{ cause }}{% endblock %}
"""
CAUSE_CARD = "group: cause\ntype: cause\ncards:\n  - id: trauma\n    cause: Trauma\n    scope: local\n"


def cards(body: str, head: str = "group: cause\n") -> str:
    """A card file: file settings, then `cards:` with the given (already indented) body."""
    return head + "cards:\n" + body


def cause_type(
    template: str | bytes = CAUSE_TEMPLATE, spec: str = CAUSE_SPEC, card: str = CAUSE_CARD,
) -> dict[str, FileContent]:
    """A project card type 'cause' (templates/cause.yaml and .html.j2) and one card of it."""
    return {"templates/cause.yaml": spec, "templates/cause.html.j2": template, CARDS: card}


@dataclass(frozen=True)
class Case:
    """A mistake and the exact problem lines it must produce."""

    name: str
    files: dict[str, FileContent]
    expected: list[str]


BASIC = "  - id: trauma\n    front: Which injury?\n"
TWO_CARDS = BASIC + "    back: b\n  - id: t2\n    front: a\n    back: b\n"
BACK = "{% block Back %}{{ cause }}{% endblock %}"

CASES = [
    # YAML syntax
    Case("yaml-tab-indent", {CARDS: cards("\t- id: trauma\n    front: a\n    back: b\n")},
         ["cards/causes.yaml:3:1: YAML syntax error: a tab in the indentation "
          "(indent with spaces, YAML does not allow tabs)"]),
    Case("yaml-tab-inside-card", {CARDS: cards(BASIC + "\tback: b\n")},
         ["cards/causes.yaml:5:1: YAML syntax error: a tab in the indentation "
          "(indent with spaces, YAML does not allow tabs)"]),
    Case("yaml-unclosed-quote", {CARDS: cards('  - id: trauma\n    front: "Which injury?\n    back: b\n')},
         ["cards/causes.yaml:4:12: YAML syntax error: a quoted value is never closed "
          "(end it with the same quote it starts with)"]),
    Case("yaml-text-after-quote", {CARDS: cards(BASIC + "    back: 'it's trauma'\n")},
         ["cards/causes.yaml:5:15: YAML syntax error: text after the closing quote of a value "
          "(quote the whole value (inside \"...\" write \\\" for a quote, inside '...' write ''), "
          "or close a quote left open above)"]),
    Case("yaml-indented-too-far", {CARDS: cards(BASIC + "      back: b\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: mapping values are not allowed in this context "
          "(this line is indented more than the line above it: align it with its siblings)"]),
    Case("yaml-indented-too-little", {CARDS: cards(BASIC + "   back: b\n")},
         ["cards/causes.yaml:5:4: YAML syntax error: did not find expected '-' indicator "
          "(check the indentation: the fields of a card start in one column, and each card starts with '- ')"]),
    Case("yaml-colon-in-value", {CARDS: cards("  - id: trauma\n    front: Cause: which injury?\n    back: b\n")},
         ["cards/causes.yaml:4:17: YAML syntax error: mapping values are not allowed in this context "
          "(a value containing ': ' must be quoted: front: 'Cause: which injury?')"]),
    Case("yaml-plain-text-cannot-start-with-at", {CARDS: cards(BASIC + "    back: @trauma\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: a value cannot start with '@' unless quoted (YAML reserves "
          "it) (quote the whole value: back: '@trauma')"]),
    Case("yaml-value-starts-with-image", {CARDS: cards(BASIC + "    back: b\n    extra: ![The β-lactam ring](ring.png)\n")},
         ["cards/causes.yaml:6:12: YAML syntax error: a value cannot start with '!' unless quoted (YAML reads it "
          "as a tag) (quote the whole value: extra: '![The β-lactam ring](ring.png)')",
          # the rest of the file is read on as if the value were quoted: its other mistakes are found too
          "cards/causes.yaml:6:33: card 'trauma': media file 'ring.png' not found in media/ (put it into media/, or "
          "list it under missing_media in deckgen.yaml to build without it)"]),
    Case("yaml-value-starts-with-bracket",
         {CARDS: cards(BASIC + "    back: [Vancomycin], linezolid or daptomycin\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: a value cannot start with '[' unless quoted (YAML reads it "
          "as the start of a list) (quote the whole value: back: '[Vancomycin], linezolid or daptomycin')"]),
    Case("yaml-value-starts-with-brace-quoted-with-its-quote",
         {CARDS: cards(BASIC + "    back: {c1} isn't a cloze\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: a value cannot start with '{' unless quoted (YAML reads it "
          "as the start of a mapping) (quote the whole value: back: \"{c1} isn't a cloze\")"]),
    Case("yaml-value-starts-with-asterisk", {CARDS: cards(BASIC + "    back: *Trauma* of the skin\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: a value cannot start with '*' unless quoted (YAML reads it "
          "as an alias) (quote the whole value: back: '*Trauma* of the skin')"]),
    Case("yaml-value-starts-with-bar", {CARDS: cards(BASIC + "    back: | a table row |\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: a value cannot start with '|' unless quoted (YAML reads it "
          "as the start of a block of lines) (quote the whole value: back: '| a table row |')"]),
    Case("yaml-value-starts-with-backtick", {CARDS: cards(BASIC + "    back: `Ca2+` ions\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: a value cannot start with '`' unless quoted (YAML reserves "
          "it) (quote the whole value: back: '`Ca2+` ions')"]),
    Case("yaml-unclosed-bracket", {CARDS: cards(BASIC + "    back: [Trauma\n")},
         ["cards/causes.yaml:5:11: YAML syntax error: did not find expected ',' or ']' "
          "(a value starting with '{' or '[' is read as a mapping or list: quote it, or close it)"]),
    Case("yaml-two-documents", {CARDS: cards(BASIC + "    back: b\n---\ncards: []\n")},
         ["cards/causes.yaml:6:1: YAML syntax error: but found another document "
          "(a card file holds one document: remove the '---' separator)"]),
    Case("yaml-duplicate-keys-all-reported", {CARDS: cards(BASIC + "    back: b\n    front: c\n    back: d\n")},
         ["cards/causes.yaml:6:5: duplicate key 'front' (first at line 4) (keep one of the two: another YAML reader would keep only the last one, deckgen reads on with the first)",
          "cards/causes.yaml:7:5: duplicate key 'back' (first at line 5) "
          "(keep one of the two: another YAML reader would keep only the last one, deckgen reads on with the first)"]),
    Case("yaml-control-character", {CARDS: cards(BASIC + "    back: a\x07b\n")},
         ["cards/causes.yaml:5:12: the control character U+0007 is not allowed in YAML (remove it)"]),
    Case("yaml-merge-key", {CARDS: cards("  - &base {id: a, front: x, back: y}\n  - <<: *base\n    id: b\n")},
         ["cards/causes.yaml:4:5: merge keys ('<<') are not supported (write the keys out)"]),
    Case("yaml-git-conflict-markers",
         {CARDS: cards(BASIC + "<<<<<<< HEAD\n    back: one\n=======\n    back: two\n>>>>>>> theirs\n")},
         ["cards/causes.yaml:5:1: git conflict markers: a merge left this file unresolved (keep what both sides "
          "wrote, delete the <<<<<<<, ======= and >>>>>>> lines, then 'git add' the file)"]),
    # the shape of a file
    Case("file-is-a-list", {CARDS: "- id: trauma\n  front: a\n  back: b\n"},
         ["cards/causes.yaml:1:1: a card file must be a mapping with 'cards:', not a list"]),
    Case("file-is-text", {CARDS: "just some text\n"},
         ["cards/causes.yaml:1:1: a card file must be a mapping with 'cards:', not text"]),
    Case("file-is-empty", {CARDS: ""},
         ["cards/causes.yaml:1:1: the file is empty (a card file starts with 'cards:')"]),
    Case("file-only-comments", {CARDS: "# cards to come\n"},
         ["cards/causes.yaml:1:1: the file is empty (a card file starts with 'cards:')"]),
    Case("file-without-cards", {CARDS: "group: cause\n"},
         ["cards/causes.yaml:1:1: missing 'cards:' (the list of cards)"]),
    Case("cards-is-a-mapping", {CARDS: "cards:\n  id: trauma\n  front: a\n"},
         ["cards/causes.yaml:2:3: 'cards' must be a list, not a mapping (start each card with '- id: ...')"]),
    Case("card-is-not-a-mapping", {CARDS: cards("  - trauma\n  - [a, b]\n")},
         ["cards/causes.yaml:3:5: a card must be a mapping of fields, not text "
          "(write each card as '- id: ...' followed by its fields)",
          "cards/causes.yaml:4:5: a card must be a mapping of fields, not a list "
          "(write each card as '- id: ...' followed by its fields)"]),
    Case("unknown-file-setting", {CARDS: cards(BASIC + "    back: b\n", head="grup: cause\ngroup: cause\n")},
         ["cards/causes.yaml:1:1: unknown file setting 'grup' (did you mean 'group'?)"]),
    Case("card-fields-not-indented", {CARDS: cards("- id: trauma\nfront: a\nback: b\n")},
         ["cards/causes.yaml:3:3: card 'trauma': missing field 'back' (card type 'basic' requires it)",
          "cards/causes.yaml:3:3: card 'trauma': missing field 'front' (card type 'basic' requires it)",
          "cards/causes.yaml:4:1: unknown file setting 'front' "
          "(a card's fields go under its '- id:', lined up with 'id')",
          "cards/causes.yaml:5:1: unknown file setting 'back' "
          "(a card's fields go under its '- id:', lined up with 'id')"]),
    # ids
    Case("card-without-id", {CARDS: cards("  - front: a\n    back: b\n")},
         ["cards/causes.yaml:3:5: card has no 'id' (every card needs a unique id that never changes)"]),
    Case("card-id-with-space", {CARDS: cards("  - id: my card\n    front: a\n    back: b\n")},
         ["cards/causes.yaml:3:9: card id 'my card' must be letters, digits, '-', '_' or '.' (no spaces)"]),
    Case("card-id-is-a-number", {CARDS: cards("  - id: 12\n    front: a\n    back: b\n")},
         ["cards/causes.yaml:3:9: field 'id' is the number 12, not text (YAML reads 12 as a number: quote it, "
          "id: \"12\")"]),
    Case("duplicate-ids-across-files",
         {"cards/a.yaml": cards("  - id: trauma\n    front: a\n    back: b\n"),
          CARDS: cards("  - id: other\n    front: a\n    back: b\n  - id: trauma\n    front: c\n    back: d\n")},
         ["cards/causes.yaml:6:5: card 'trauma': card id is already used at cards/a.yaml:3:5 "
          "(every card needs its own id, unique in the project)"]),
    # fields
    Case("unknown-field", {CARDS: cards(BASIC + "    backk: Trauma\n")},
         ["cards/causes.yaml:3:5: card 'trauma': missing field 'back' (card type 'basic' requires it)",
          "cards/causes.yaml:5:5: card 'trauma': unknown field 'backk' (did you mean 'back'?)"]),
    Case("missing-field", {CARDS: cards(BASIC)},
         ["cards/causes.yaml:3:5: card 'trauma': missing field 'back' (card type 'basic' requires it)"]),
    Case("empty-field", {CARDS: cards(BASIC + "    back:\n")},
         ["cards/causes.yaml:5:10: card 'trauma': field 'back' is empty"]),
    Case("yaml-boolean-no", {CARDS: cards(BASIC + "    back: no\n")},
         ["cards/causes.yaml:5:11: card 'trauma': field 'back' is the boolean no, not text "
          "(YAML reads no as a boolean: quote it, back: \"no\")"]),
    Case("yaml-number-1e3", {CARDS: cards(BASIC + "    back: 1e3\n")},
         ["cards/causes.yaml:5:11: card 'trauma': field 'back' is the number 1e3, not text "
          "(YAML reads 1e3 as a number: quote it, back: \"1e3\")"]),
    Case("yaml-date", {CARDS: cards("  - id: trauma\n    front: 2024-01-01\n    back: b\n")},
         ["cards/causes.yaml:4:12: card 'trauma': field 'front' is the date 2024-01-01, not text "
          "(YAML reads 2024-01-01 as a date: quote it, front: \"2024-01-01\")"]),
    Case("field-is-a-list", {CARDS: cards(BASIC + "    back: [a, b]\n")},
         ["cards/causes.yaml:5:11: card 'trauma': field 'back' must be text, not a list (YAML reads '[...]' or "
          "lines starting with '- ' as a list: to write text, quote the whole value)"]),
    Case("control-character-in-text", {CARDS: cards(BASIC + '    back: "a\\x1fb"\n')},
         ["cards/causes.yaml:5:11: card 'trauma': field 'back' contains the control character U+001F "
          "(remove it: control characters do not belong on a card, and Anki drops most of them)"]),
    Case("choice-not-allowed", cause_type(card=CAUSE_CARD.replace("scope: local", "scope: locl")),
         ["cards/causes.yaml:6:12: card 'trauma': field 'scope' is 'locl', not one of the allowed values "
          "(did you mean 'local'?)"]),
    Case("list-field-given-text", cause_type(card=CAUSE_CARD + "    items: one\n"),
         ["cards/causes.yaml:7:12: card 'trauma': field 'items' must be a list, not text (write one '- item' a line)"]),
    Case("list-item-is-a-boolean", cause_type(card=CAUSE_CARD + "    items: [one, yes]\n"),
         ["cards/causes.yaml:7:18: card 'trauma': item 2 of 'items' is the boolean yes, not text "
          "(YAML reads yes as a boolean: quote it, \"yes\")"]),
    # types, groups, sources
    Case("unknown-card-type", {CARDS: cards("  - id: trauma\n    type: basik\n    front: a\n    back: b\n")},
         ["cards/causes.yaml:4:11: card 'trauma': unknown card type 'basik' (did you mean 'basic'?)"]),
    Case("unknown-card-type-for-the-file-reported-once",
         {CARDS: cards(TWO_CARDS, head="group: cause\ntype: basik\n")},
         ["cards/causes.yaml:2:7: unknown card type 'basik' (did you mean 'basic'?)"]),
    Case("unknown-group", {CARDS: cards("  - id: trauma\n    group: mechanizm\n    front: a\n    back: b\n")},
         ["cards/causes.yaml:4:12: card 'trauma': unknown group 'mechanizm' (did you mean 'mechanism'?)"]),
    Case("unknown-group-for-the-file-reported-once",
         {CARDS: cards(TWO_CARDS, head="group: causes\n")},
         ["cards/causes.yaml:1:8: unknown group 'causes' (did you mean 'cause'?)"]),
    Case("no-group", {CARDS: cards(BASIC + "    back: b\n", head="")},
         ["cards/causes.yaml:2:5: card 'trauma': card has no group "
          "(add 'group:' to the card or at the top of the file: cause, mechanism)"]),
    Case("unknown-source", {CARDS: cards(BASIC + "    back: b\n    sources: [artcle, {id: nope, ref: \"2\"}]\n")},
         ["cards/causes.yaml:6:15: card 'trauma': unknown source 'artcle' (did you mean 'article'?)",
          "cards/causes.yaml:6:28: card 'trauma': unknown source 'nope' "
          "(declare it under 'sources:' in deckgen.yaml)"]),
    # cards Anki would not make
    Case("cloze-without-marker", {CARDS: cards("  - id: trauma\n    type: cloze\n    text: Trauma causes it\n")},
         ["cards/causes.yaml:3:5: card 'trauma': the Text field has no cloze marker (mark what to hide with "
          "{{c1::...}}: a small c, numbers from 1, closed with }}; without one Anki gives the note a single empty card (keep_empty: true keeps one on purpose))"]),
    Case("cloze-marker-anki-does-not-read", {CARDS: cards("  - id: trauma\n    type: cloze\n    text: '{{C1::x}}'\n")},
         ["cards/causes.yaml:3:5: card 'trauma': the Text field has no cloze marker (mark what to hide with "
          "{{c1::...}}: a small c, numbers from 1, closed with }}; without one Anki gives the note a single empty card (keep_empty: true keeps one on purpose))"]),
    Case("front-renders-empty",
         cause_type(template="{% block Front %}{% if example %}{{ example }}{% endif %}{% endblock %}"
                             "{% block Back %}{{ cause }}{% endblock %}"),
         ["cards/causes.yaml:4:5: card 'trauma': the Front of this card would be empty "
          "(card type 'cause' rendered nothing for it)"]),
    Case("reversed-back-renders-empty",
         {CARDS: cards("  - id: trauma\n    type: reversed\n    front: Which injury?\n    back: '&nbsp;'\n")},
         ["cards/causes.yaml:3:5: card 'trauma': the Back of this card would be empty "
          "(card type 'reversed' rendered nothing for it)"]),
    # templates
    Case("template-syntax-error", cause_type(template="{% block Front %}\nName a {{ scope }\n{% endblock %}\n"),
         ["templates/cause.html.j2:2: template syntax error: unexpected '}'"]),
    Case("template-unclosed-if",
         cause_type(template="{% block Front %}\n{% if example %}x\n{% endblock %}" + BACK),
         ["templates/cause.html.j2:3: template syntax error: Encountered unknown tag 'endblock'. You probably made a "
          "nesting mistake. Jinja is expecting this tag, but currently looking for 'elif' or 'else' or 'endif'. "
          "The innermost block that needs to be closed is 'if'."]),
    Case("template-undeclared-variable",
         cause_type(template="{% block Front %}\nName a {{ scop }} cause\n{% endblock %}" + BACK),
         ["templates/cause.html.j2:2:11: template uses 'scop', which card type 'cause' does not declare "
          "(did you mean 'scope'?)"]),
    Case("template-unknown-card-attribute",
         cause_type(template="{% block Front %}{{ scope }} {{ card.name }}{% endblock %}" + BACK),
         ["templates/cause.html.j2:1:33: template uses 'card.name', which no card has "
          "(a card has: id, type, group, group_title, tags)"]),
    Case("template-optional-field-unguarded",
         cause_type(template="{% block Front %}{{ scope }}\n{{ example }}{% endblock %}" + BACK),
         ["cards/causes.yaml:4:5: card 'trauma': template templates/cause.html.j2:2 uses 'example', which this card "
          "does not have (guard it with {% if example %} in the template, or give the card 'example:')"]),
    Case("template-prints-a-list",
         cause_type(template="{% block Front %}{{ scope }}{% endblock %}{% block Back %}{{ items }}{% endblock %}",
                    card=CAUSE_CARD + "    items: [a, b]\n"),
         ["cards/causes.yaml:4:5: card 'trauma': template templates/cause.html.j2:1 prints a list as text "
          "(loop over it with {% for item in ... %}, or join it: |join(', '))"]),
    Case("template-prints-none",
         cause_type(template="{% block Front %}{{ scope }}{% endblock %}{% block Back %}{{ none }}{% endblock %}"),
         ["templates/cause.html.j2:1:62: template prints None as text (print a field, or text in quotes)"]),
    Case("template-prints-an-empty-optional-value",
         cause_type(template="{% block Front %}{{ scope }}{% endblock %}{% block Back %}{{ example|default(none) }}"
                             "{% endblock %}"),
         ["cards/causes.yaml:4:5: card 'trauma': template templates/cause.html.j2:1 prints None as text "
          "(print a field that has a value, or guard it with {% if %})"]),
    Case("template-file-missing", {"templates/cause.yaml": CAUSE_SPEC, CARDS: CAUSE_CARD},
         ["templates/cause.yaml:1:1: template 'cause.html.j2' not found "
          "(looked in the project's templates/ and deckgen's built-in ones)"]),
    Case("template-extends-missing",
         cause_type(template="{% extends 'base.html.j2' %}\n{% block Front %}{{ scope }}{% endblock %}"),
         ["templates/cause.html.j2:1: template 'base.html.j2' not found "
          "(looked in the project's templates/ and deckgen's built-in ones)"]),
    Case("template-block-not-a-field",
         cause_type(template="{% block Front %}{{ scope }}{% endblock %}\n{% block Bak %}{{ cause }}{% endblock %}"),
         ["templates/cause.html.j2:2: block 'Bak' is not a field of the basic note type (did you mean 'Back'?)"]),
    Case("template-without-question", cause_type(template="Name a {{ scope }} cause\n"),
         ["templates/cause.html.j2:1: card type 'cause' has no {% block Front %} "
          "(the basic note type needs it: it is the question)"]),
    Case("template-name-defined-outside-blocks",
         cause_type(template="{% set label = 'Cause' %}\n{% block Front %}{{ label }}: {{ scope }}{% endblock %}"
                             "{% block Back %}{{ cause }}{% endblock %}"),
         ["templates/cause.html.j2:2:21: 'label' is defined outside the blocks, where block 'Front' cannot see it "
          "(deckgen renders only the blocks: define or import it inside the block)"]),
    Case("template-macro-defined-under-an-if",  # found by test_fuzz: it crashed check
         cause_type(template="{% block Front %}{{ scope }}{% if example %}{% macro m() %}x{% endmacro %}{% endif %}"
                             "{% endblock %}{% block Back %}{{ cause }}{% endblock %}"),
         ["templates/cause.html.j2:1:54: template uses 'm', which card type 'cause' does not declare "
          "(declare it under 'fields:' in templates/cause.yaml)"]),
    Case("template-extends-loop",
         cause_type(template="{% extends 'cause.html.j2' %}{% block Front %}{{ scope }}{% endblock %}"),
         ["templates/cause.html.j2:1: templates extend each other in a loop: cause.html.j2 -> cause.html.j2"]),
    Case("card-type-spec-mistakes",
         cause_type(spec="note_type: basik\nfields:\n  cause: {required: yes, optional: true}\n  scope: [a]\n"),
         ["templates/cause.yaml:1:12: unknown note type 'basik' (did you mean 'basic'?)",
          "templates/cause.yaml:3:26: unknown field option 'optional'",
          "templates/cause.yaml:4:10: field 'scope' must be a mapping of options, not a list"]),
    # media
    Case("media-missing", {CARDS: cards(BASIC + "    back: '![x-ray](xray.png) [sound:say.mp3]'\n")},
         ["cards/causes.yaml:5:21: card 'trauma': media file 'xray.png' not found in media/ (put it into media/, or "
          "list it under missing_media in deckgen.yaml to build without it)",
          "cards/causes.yaml:5:38: card 'trauma': media file 'say.mp3' not found in media/ (put it into media/, or "
          "list it under missing_media in deckgen.yaml to build without it)"]),
    Case("media-missing-in-a-later-field", {CARDS: cards(BASIC + "    back: b\n    extra: '![ring](ring.png)'\n"
                                                         "  - id: other\n    front: a\n    back: b\n")},
         ["cards/causes.yaml:6:21: card 'trauma': media file 'ring.png' not found in media/ (put it into media/, or "
          "list it under missing_media in deckgen.yaml to build without it)"]),
    Case("media-name-anki-renames", {CARDS: cards(BASIC + "    back: '[sound:a*b.mp3]'\n"), "media/a*b.mp3": b"ID3"},
         ["cards/causes.yaml:5:19: card 'trauma': media name 'a*b.mp3' contains a character Anki removes "
          "([]<>:\"/?*^\\| or a control character), so Anki would rename it and the card would lose it "
          "(rename the file)"]),
    Case("media-in-a-folder", {CARDS: cards(BASIC + "    back: '![x](img/x.png)'\n"), "media/img/x.png": b"PNG"},
         ["cards/causes.yaml:5:17: card 'trauma': media 'img/x.png' is not a file name in media/: Anki's media has "
          "no folders (put it directly in media/ and refer to it as 'x.png')"]),
    # tags
    Case("tags-anki-cannot-store",
         {CARDS: cards(BASIC + "    back: b\n    tags: [ok, 'bad tag', '::lead', 'a:::b']\n")},
         ["cards/causes.yaml:6:16: card 'trauma': tag 'bad tag' contains a space, so Anki would split it into "
          "separate tags (write 'bad_tag')",
          "cards/causes.yaml:6:27: card 'trauma': tag '::lead' has an empty level, which Anki would name 'blank' "
          "(write 'lead')",
          "cards/causes.yaml:6:37: card 'trauma': tag 'a:::b' contains ':::', which Anki can split into levels "
          "in another way (use '::' between levels)"]),
    Case("file-tag-reported-once",
         {CARDS: cards(TWO_CARDS, head="group: cause\ntags: [a b]\n")},
         ["cards/causes.yaml:2:8: tag 'a b' contains a space, so Anki would split it into separate tags "
          "(write 'a_b')"]),
    # deckgen.yaml
    Case("config-missing", {"deckgen.yaml": None},
         ["deckgen.yaml: no deckgen.yaml in the project folder (is this a deckgen project folder?)"]),
    Case("config-mistakes", {"deckgen.yaml": "dek: Test\nkey: my key\ngroups: [a, b]\nhtml: maybe\n"},
         ["deckgen.yaml:1:1: missing setting 'deck'",
          "deckgen.yaml:1:1: unknown setting 'dek' (did you mean 'deck'?)",
          "deckgen.yaml:2:6: key 'my key' must be letters, digits, '-', '_' or '.'",
          "deckgen.yaml:3:9: 'groups' must be a mapping, not a list",
          "deckgen.yaml:4:7: 'html' must be true or false, not text"]),
    Case("config-groups",
         {"deckgen.yaml": "deck: T\nkey: t\ngroups:\n  cause: Causes\n  mechanism: Causes\n  treatment:\n"},
         ["deckgen.yaml:5:14: groups 'cause' and 'mechanism' share the title 'Causes' (each group is its own subdeck)",
          "deckgen.yaml:6:13: the title of group 'treatment' is empty"]),
    Case("config-media-outside-project", {"deckgen.yaml": "deck: T\nkey: t\nmedia: ../shared\n"},
         ["deckgen.yaml:3:8: the media folder '../shared' is outside the project "
          "(name a folder inside the project, such as 'media')"]),
    # files that are not UTF-8 text
    Case("card-file-latin-1", {CARDS: cards(BASIC + "    back: caf\xe9\n").encode("latin-1")},
         ["cards/causes.yaml:5:14: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"]),
    Case("card-file-utf-16", {CARDS: cards(BASIC + "    back: b\n").encode("utf-16")},
         ["cards/causes.yaml: the file is UTF-16 text, not UTF-8 (save it as UTF-8)"]),
    Case("card-file-binary", {CARDS: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
         ["cards/causes.yaml: this is a binary file, not YAML text"]),
    Case("config-empty", {"deckgen.yaml": ""},
         ["deckgen.yaml:1:1: deckgen.yaml must be a mapping of settings "
          "(start with 'deck: My Deck' and 'key: my-deck')"]),
    Case("template-not-utf-8", cause_type(template=b"{% block Front %}\n\xff{{ scope }}{% endblock %}"),
         ["templates/cause.html.j2:2:1: not UTF-8 text (byte 0xff) (save the file as UTF-8)"]),
    Case("css-not-utf-8", {"templates/style.css": b".card { color: r\xe9d; }"},
         ["templates/style.css:1:17: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"]),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_check_reports_the_mistake_located(case: Case, make_project: Callable[..., Path],
                                           deckgen: Callable[..., CliRun]) -> None:
    project = make_project(case.files)
    run = deckgen("check", project)
    assert not run.crashed, run.exception
    assert run.exit_code == 1, run.stdout + run.stderr
    problems = [line.replace(str(project), "the project folder") for line in run.problems]
    assert problems == case.expected
    assert SUMMARY_LINE.match(run.stderr.splitlines()[-1])


def test_build_runs_the_same_checks_and_writes_nothing(make_project: Callable[..., Path],
                                                       deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: cards(BASIC + "    backk: Trauma\n")})
    run = deckgen("build", project)
    assert run.exit_code == 1
    assert run.problems == deckgen("check", project).problems
    assert run.stderr.splitlines()[-1] == "2 errors, 0 warnings; nothing was written"
    assert not (project / "dist").exists() and not (project / "deckgen.lock").exists()


def test_every_problem_of_a_run_is_reported_not_only_the_first(make_project: Callable[..., Path],
                                                               deckgen: Callable[..., CliRun]) -> None:
    project = make_project({
        "cards/a.yaml": cards("  - id: one\n    front: a\n    back: no\n  - id: two\n    front: a\n"),
        "cards/b.yaml": "cards:\n\t- id: three\n",
        "cards/c.yaml": cards("  - id: four\n    group: nope\n    front: a\n    back: b\n"),
    })
    run = deckgen("check", project)
    assert run.exit_code == 1
    assert [line.split(": ")[0] for line in run.problems] == [
        "cards/a.yaml:5:11", "cards/a.yaml:6:5", "cards/b.yaml:2:1", "cards/c.yaml:4:12",
    ]
    assert run.stderr.splitlines()[-1] == "4 errors, 0 warnings"  # check never writes: it does not say so


def test_clean_project_exits_0(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project()
    run = deckgen("check", project)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "1 card checked: 0 errors, 0 warnings\n", "")
    assert not (project / "dist").exists() and not (project / "deckgen.lock").exists()


def test_warnings_pass_unless_strict(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project({"media/unused.png": b"PNG"})
    warning = "media/unused.png: warning: media file is not used by any card (it is left out of the package)"
    relaxed = deckgen("check", project)
    assert (relaxed.exit_code, relaxed.problems) == (0, [warning])
    strict = deckgen("check", "--strict", project)
    assert (strict.exit_code, strict.problems) == (1, [warning])
    assert strict.stderr.splitlines()[-1] == "0 errors, 1 warning (--strict: warnings count as errors)"
    build = deckgen("build", "--strict", project)
    assert build.exit_code == 1
    assert build.stderr.splitlines()[-1] == (
        "0 errors, 1 warning; nothing was written (--strict: warnings count as errors)")
    assert not (project / "dist").exists()


def test_json_format_for_editors_and_ci(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    failing = deckgen("check", "--format", "json", make_project({CARDS: cards(BASIC + "    backk: x\n")}))
    report = json.loads(failing.stdout)
    assert failing.exit_code == 1 and report["ok"] is False and report["summary"] == "2 errors, 0 warnings"
    assert report["problems"][1] == {
        "path": "cards/causes.yaml", "line": 5, "column": 5, "card": "trauma", "severity": "error",
        "message": "unknown field 'backk'", "hint": "did you mean 'back'?",
    }
    clean = deckgen("check", "--format", "json", make_project())
    assert clean.exit_code == 0
    assert json.loads(clean.stdout) == {"ok": True, "summary": "0 errors, 0 warnings", "problems": []}


@pytest.mark.parametrize("args", [
    ["check", "/nonexistent/project"], ["check", "--format", "xml"], ["check", "--bogus"], ["build", "-o"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(args: list[str], deckgen: Callable[..., CliRun]) -> None:
    run = deckgen(*args)
    assert not run.crashed and run.exit_code == 2
    assert "Error:" in run.stderr and "Traceback" not in run.stderr


def test_library_prepare_collects_problems_as_data(make_project: Callable[..., Path]) -> None:
    project = make_project({CARDS: cards(BASIC + "    backk: Trauma\n")})
    with pytest.raises(ProjectError) as raised:
        prepare(project)
    assert raised.value.problems == [
        Problem("cards/causes.yaml", 3, 5, "missing field 'back'", "trauma", "card type 'basic' requires it"),
        Problem("cards/causes.yaml", 5, 5, "unknown field 'backk'", "trauma", "did you mean 'back'?"),
    ]
    assert raised.value.exit_code == 1


def test_unknown_field_points_at_the_key_and_wrong_value_at_the_value(make_project: Callable[..., Path]) -> None:
    project = make_project({CARDS: cards("  - id: trauma\n    front:    yes\n    extraa: x\n    back: b\n")})
    with pytest.raises(ProjectError) as raised:
        prepare(project)
    assert [(p.line, p.column, p.message) for p in raised.value.problems] == [
        (4, 15, "field 'front' is the boolean yes, not text"),
        (5, 5, "unknown field 'extraa'"),
    ]


CLOZE_CARD = "  - id: imipenem\n    type: cloze\n    text: {text}\n"
WARNING_CASES = [
    Case("value-cut-by-a-comment",
         {CARDS: cards("  - id: anaphylaxis\n    front: Which class is the #1 cause of anaphylaxis?\n"
                       "    back: Beta-lactams #penicillins most often\n")},
         ["cards/causes.yaml:4:12: warning: card 'anaphylaxis': field 'front' ends before ' #': YAML reads "
          "'#1 cause of anaphylaxis?' as a comment and leaves it off the card (quote the whole value to keep it: "
          "front: 'Which class is the #1 cause of anaphylaxis?')",
          "cards/causes.yaml:5:11: warning: card 'anaphylaxis': field 'back' ends before ' #': YAML reads "
          "'#penicillins most often' as a comment and leaves it off the card (quote the whole value to keep it: "
          "back: 'Beta-lactams #penicillins most often')"]),
    Case("list-item-cut-by-a-comment", cause_type(card=CAUSE_CARD + "    items:\n      - C# and F#\n      - it's #2\n"),
         ["cards/causes.yaml:9:9: warning: card 'trauma': field 'items' ends before ' #': YAML reads '#2' as a "
          "comment and leaves it off the card (quote the whole value to keep it: - \"it's #2\")"]),
    Case("single-brace-cloze",
         {CARDS: cards(CLOZE_CARD.format(text="Imipenem is a {{c1::carbapenem}} and stable to "
                                              "{c2::renal dehydropeptidase}"))},
         ["cards/causes.yaml:5:11: warning: card 'imipenem': field 'text' has '{c2::' with one brace, which is "
          "not a cloze marker: Anki shows the braces as they are (a cloze marker has two braces on each side: "
          "{{c2::...}})"]),
    Case("single-colon-cloze", {CARDS: cards(CLOZE_CARD.format(text="Imipenem is a {{c1:carbapenem}} and {{c2::x}}."))},
         ["cards/causes.yaml:5:11: warning: card 'imipenem': field 'text' has '{{c1:' with one colon, which is not "
          "a cloze marker: Anki makes no card for it and shows the braces as they are (a cloze marker has two "
          "colons: {{c1::...}})"]),
    Case("optional-value-all-comment",
         {CARDS: cards("  - id: met\n    front: First-line drug?\n    back: Metformin\n"
                       "    extra: #1 choice in every guideline\n")},
         ["cards/causes.yaml:6:12: warning: card 'met': field 'extra' is empty: YAML reads '#1 choice in every "
          "guideline' as a comment, since a value cannot start with '#' (quote the whole value to keep it: "
          "extra: '#1 choice in every guideline')"]),
    Case("lines-joined-by-yaml",
         {CARDS: cards("  - id: dig\n    front: Signs of digoxin toxicity?\n    back: Nausea and vomiting\n"
                       "      Yellow-green vision\n  - id: dq\n    front: Two?\n    back: \"Nausea\n      Yellow\"\n"
                       "  - id: kept\n    front: Paragraphs?\n    back: One\n\n      Two\n")},
         ["cards/causes.yaml:5:11: warning: card 'dig': field 'back' is written on several lines, but YAML joins "
          "them with spaces: learners see one line (to keep the lines, write 'back: |' and the lines below it, "
          "indented (or put the text on one line))",
          "cards/causes.yaml:9:11: warning: card 'dq': field 'back' is written on several lines, but YAML joins "
          "them with spaces: learners see one line (to keep the lines, write 'back: |' and the lines below it, "
          "indented (or put the text on one line))"]),
    Case("image-name-with-a-space",
         {CARDS: cards(BASIC + "    back: '![ring](my ring.png)'\n"), "media/my ring.png": b"PNG"},
         ["cards/causes.yaml:5:11: warning: card 'trauma': field 'back': '![ring](my ring.png)' is not an image, "
          "since its file name has a space: learners see the text as written (put the name in <...>: "
          "![ring](<my ring.png>))",
          "media/my ring.png: warning: media file is not used by any card (it is left out of the package)"]),
]


def test_a_required_value_that_is_all_comment_says_why_it_is_empty(make_project: Callable[..., Path],
                                                                    deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: cards("  - id: met2\n    front: First-line drug?\n    back: #1 choice is metformin\n")})
    assert deckgen("check", project).problems == [
        "cards/causes.yaml:5:10: card 'met2': field 'back' is empty",
        "cards/causes.yaml:5:11: warning: card 'met2': field 'back' is empty: YAML reads '#1 choice is metformin' as "
        "a comment, since a value cannot start with '#' (quote the whole value to keep it: "
        "back: '#1 choice is metformin')"]


def test_an_image_name_in_angle_brackets_is_an_image(make_project: Callable[..., Path],
                                                     deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: cards(BASIC + "    back: '![ring](<my ring.png>)'\n"), "media/my ring.png": b"PNG"})
    assert (deckgen("check", "--strict", project).problems) == []
    from deckgen.build.pipeline import prepare
    assert prepare(project).notes[0].media == ("my ring.png",)


def test_a_duplicate_key_hides_no_other_problem_of_its_file(make_project: Callable[..., Path],
                                                           deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: cards(BASIC + "    back: one\n    back: two\n  - id: n\n    front: a\n"
                                         "    back: 1e3\n  - id: e\n    front: b\n    back:\n")})
    assert deckgen("check", project).problems == [
        "cards/causes.yaml:6:5: duplicate key 'back' (first at line 5) (keep one of the two: another YAML reader would keep only the last one, deckgen reads on with the first)",
        "cards/causes.yaml:9:11: card 'n': field 'back' is the number 1e3, not text (YAML reads 1e3 as a number: "
        "quote it, back: \"1e3\")",
        "cards/causes.yaml:12:10: card 'e': field 'back' is empty"]


@pytest.mark.parametrize("case", WARNING_CASES, ids=[case.name for case in WARNING_CASES])
def test_check_warns_about_text_learners_would_not_see_as_written(
        case: Case, make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project(case.files)
    assert deckgen("check", project).exit_code == 0
    run = deckgen("check", "--strict", project)
    assert (run.exit_code, run.problems) == (1, case.expected)


def test_quoted_values_and_real_comments_are_not_warned_about(make_project: Callable[..., Path],
                                                              deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: cards(
        "  - id: anaphylaxis  # the most common cause\n    type: basic  # a comment after a setting\n"
        "    front: \"Which class is the #1 cause?\"\n    back: 'C# and #penicillins'\n    tags: [drug]  # ok\n"
        "    extra: |\n      A block # keeps its hash\n")})
    run = deckgen("check", "--strict", project)
    assert (run.exit_code, run.problems) == (0, [])


def test_a_broken_config_does_not_hide_the_cards_problems(make_project: Callable[..., Path],
                                                          deckgen: Callable[..., CliRun]) -> None:
    project = make_project({"deckgen.yaml": "deck: Test Deck\nkey: test deck\n",
                            CARDS: cards(BASIC + "    backk: Trauma\n"),
                            "cards/other.yaml": "cards:\n\t- id: x\n"})
    run = deckgen("check", project)
    assert run.exit_code == 1
    assert run.problems == [
        "cards/causes.yaml:3:5: card 'trauma': missing field 'back' (card type 'basic' requires it)",
        "cards/causes.yaml:5:5: card 'trauma': unknown field 'backk' (did you mean 'back'?)",
        "cards/other.yaml:2:1: YAML syntax error: a tab in the indentation (indent with spaces, YAML does not allow tabs)",
        "deckgen.yaml:2:6: key 'test deck' must be letters, digits, '-', '_' or '.'",
    ]


def test_media_named_in_an_unreadable_card_file_is_not_called_unused(make_project: Callable[..., Path],
                                                                       deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: cards(BASIC + "    back: b\n    extra: ![ring](ring.png)\n    front: [x\n"),
                            "media/ring.png": b"PNG", "media/spare.png": b"PNG"})
    run = deckgen("check", project)
    assert run.problems == [
        "cards/causes.yaml:6:12: YAML syntax error: a value cannot start with '!' unless quoted (YAML reads it as "
        "a tag) (quote the whole value: extra: '![ring](ring.png)')",
        "cards/causes.yaml:7:12: YAML syntax error: did not find expected ',' or ']' (a value starting with '{' or "
        "'[' is read as a mapping or list: quote it, or close it)",  # no fix to read on with: the file stays unread
        "media/spare.png: warning: media file is not used by any card (it is left out of the package)",
    ]


def test_commands_find_the_project_from_a_folder_inside_it(make_project: Callable[..., Path],
                                                           deckgen: Callable[..., CliRun],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project({CARDS: cards(BASIC + "    backk: Trauma\n")})
    monkeypatch.chdir(project / "cards")
    run = deckgen("check")
    assert run.stderr.splitlines()[0] == f"using the project in .. ({project.resolve()})"
    assert run.problems[1:] == ["cards/causes.yaml:3:5: card 'trauma': missing field 'back' "
                                "(card type 'basic' requires it)",
                                "cards/causes.yaml:5:5: card 'trauma': unknown field 'backk' (did you mean 'back'?)"]
    assert run.stderr.splitlines()[-1] == "2 errors, 0 warnings"
    assert deckgen("lint").stderr.splitlines()[-1] == "2 errors, 0 warnings"  # neither writes, nor says so
    monkeypatch.chdir(project.parent)
    assert deckgen("check", project / "cards").problems[1:] == run.problems[1:]


def test_a_yaml_error_that_quoting_fixes_hides_nothing_else_in_its_file(make_project: Callable[..., Path],
                                                                         deckgen: Callable[..., CliRun]) -> None:
    """The file is read on as if each such value were quoted: every other mistake in it is found in the same run."""
    project = make_project({CARDS: cards(
        "  - id: ring\n    front: Which ring?\n    back: b\n    extra: ![The β-lactam ring](ring.png)\n"
        "  - id: mrsa\n    front: Which drugs treat MRSA?\n    back: [Vancomycin], linezolid\n"
        "  - id: imipenem\n    front: Is imipenem given alone?\n    back: no\n    bakc: x\n")})
    run = deckgen("check", project)
    assert [line.split(": ")[0] for line in run.problems] == [
        "cards/causes.yaml:6:12", "cards/causes.yaml:6:33", "cards/causes.yaml:9:11", "cards/causes.yaml:12:11",
        "cards/causes.yaml:13:5"]
    assert "field 'back' is the boolean no" in run.problems[3] and "unknown field 'bakc'" in run.problems[4]
    assert run.stderr.splitlines()[-1] == "5 errors, 0 warnings"
    assert deckgen("build", project).exit_code == 1 and not (project / "dist").exists()


def test_frozen_reports_the_cards_errors_not_a_stale_lock(make_project: Callable[..., Path],
                                                           deckgen: Callable[..., CliRun]) -> None:
    """A file that cannot be read changes nothing in the lock: --frozen says what is wrong, not '1 removed'."""
    project = make_project()
    assert deckgen("build", project).exit_code == 0
    (project / CARDS).write_text(cards(BASIC + "    back: [Trauma], a wound\n"), encoding="utf-8")
    run = deckgen("build", "--frozen", project)
    assert run.exit_code == 1 and [line.split(": ")[0] for line in run.problems] == ["cards/causes.yaml:5:11"]


_DRUG_SPEC = "note_type: own\nfields:\n  drug: {required: true}\n  use: {choices: [acute, long-term]}\n"
_DRUG_TEMPLATE = "{% block Front %}{{ drug }}{% endblock %}\n{% block Back %}{{ use or '-' }}{% endblock %}\n"
_OWN_NOTE_TYPE = "fields: [Front, Back]\ntemplates:\n  - name: Card 1\n    front: '{{Front}}'\n    back: '{{Back}}'\n"
_DRUG_CARDS = ("group: cause\ntype: drug\ncards:\n  - id: allopurinol\n    drug: Allopurinol\n    use: sometimes\n"
               "  - id: colchicine\n    drug: '![x](missing.png)'\n    dose: 1 mg\n  - id: probenecid\n"
               "    use: acute\n  - id: febuxostat\n    drug: [Febuxostat]\n  - id: indometacin\n"
               "    drug: Indometacin ![x](missing.png)\n")
_DRUG_CARD_PROBLEMS = [
    "cards/drugs.yaml:6:10: card 'allopurinol': field 'use' is 'sometimes', not one of the allowed values "
    "(one of: acute, long-term)",
    "cards/drugs.yaml:9:5: card 'colchicine': unknown field 'dose' (card type 'drug' takes: drug, use)",
    "cards/drugs.yaml:15:28: card 'indometacin': media file 'missing.png' not found in media/ (put it into media/, "
    "or list it under missing_media in deckgen.yaml to build without it)",
    "cards/drugs.yaml:10:5: card 'probenecid': missing field 'drug' (card type 'drug' requires it)",
    "cards/drugs.yaml:13:11: card 'febuxostat': field 'drug' must be text, not a list (YAML reads '[...]' or lines "
    "starting with '- ' as a list: to write text, quote the whole value)",
]


@pytest.mark.parametrize("broken,problem", [
    ({}, None),
    ({"templates/drug.html.j2": _DRUG_TEMPLATE.replace("{{ use or '-' }}", "{{ use }")},
     "templates/drug.html.j2:2: template syntax error: unexpected '}'"),
    ({"templates/drug.html.j2": _DRUG_TEMPLATE.replace("{{ use or '-' }}", "{{ usse }}")},
     "templates/drug.html.j2:2:20: template uses 'usse', which card type 'drug' does not declare (did you mean 'use'?)"),
    ({"note_types/own.yaml": _OWN_NOTE_TYPE.replace("{{Back}}", "{{Bakc}}")},
     "note_types/own.yaml:5:12: the back template names the field 'Bakc', which the note type does not have "
     "(did you mean 'Back'?)"),
    ({"templates/drug.yaml": _DRUG_SPEC.replace("note_type: own", "note_type: onw")},
     "templates/drug.yaml:1:12: unknown note type 'onw' (did you mean 'own'?)"),
])
def test_a_broken_template_or_note_type_does_not_hide_its_cards_problems(
        broken: dict[str, str], problem: str | None, make_project: Callable[..., Path],
        deckgen: Callable[..., CliRun]) -> None:
    files = {"templates/drug.yaml": _DRUG_SPEC, "templates/drug.html.j2": _DRUG_TEMPLATE,
             "note_types/own.yaml": _OWN_NOTE_TYPE, "cards/drugs.yaml": _DRUG_CARDS}
    project = make_project({**files, **broken})
    run = deckgen("check", project)
    assert run.exit_code == 1 and not run.crashed
    assert sorted(run.problems) == sorted(_DRUG_CARD_PROBLEMS + ([problem] if problem else []))
    (project / "media").mkdir()
    (project / "media/missing.png").write_bytes(b"PNG")  # added: the next run says so (no stale answer from a cache)
    assert not any("missing.png" in line for line in deckgen("check", project).problems)


def test_a_broken_note_type_does_not_hide_the_card_type_template_s_mistakes(
        make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project({"templates/drug.yaml": _DRUG_SPEC, "cards/drugs.yaml": _DRUG_CARDS,
                            "templates/drug.html.j2": _DRUG_TEMPLATE.replace("{{ use or '-' }}", "{{ usse }}"),
                            "note_types/own.yaml": _OWN_NOTE_TYPE.replace("{{Back}}", "{{Bakc}}")})
    problems = deckgen("check", project).problems
    assert [line for line in problems if not line.startswith("cards/")] == [
        "note_types/own.yaml:5:12: the back template names the field 'Bakc', which the note type does not have "
        "(did you mean 'Back'?)",
        "templates/drug.html.j2:2:20: template uses 'usse', which card type 'drug' does not declare (did you mean "
        "'use'?)"]
    assert sorted(line for line in problems if line.startswith("cards/")) == sorted(_DRUG_CARD_PROBLEMS)
