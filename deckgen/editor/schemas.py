"""JSON Schemas of a project's card files, deckgen.yaml and note types, for YAML editors (yaml-language-server).

They are generated from deckgen's own definitions (the card keys every card has, the keys of a card
file, of deckgen.yaml and of a note type, and the project's card types, groups and sources), so
that the editor completes what deckgen knows and flags what `deckgen check` would refuse. A schema
cannot say everything check says (duplicate ids, templates, media), and it flags nothing check accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..project.card_types import CARD_KEYS, CardType, FieldSpec, load_templates
from ..project.config import CONFIG_KEYS, CSS_MODES, SOURCE_KEYS, ProjectConfig, load_config
from ..project.deck_options import DAILY_LIMIT, MAX_INTERVAL, NEW_CARD_ORDERS, OPTION_KEYS, RETENTION, STEP
from ..project.deck_tree import GROUP_KEY
from ..lint.rules import RULE_NAMES, RULES
from ..lint.word_forms import LANGUAGES, NO_STEMMING
from ..project.card_files import DEFAULT_TYPE, FILE_KEYS
from ..anki.builtin_note_types import FIELD_OPTION_DEFAULTS, MAX_ID
from ..safety.confine import check_output
from ..project.note_type_files import KINDS, NOTE_TYPE_KEYS, TEMPLATE_KEYS
from ..problems import Problem, ProjectError
from ..project.yaml_values import KEY

SCHEMA_DIR = "schemas"
CARDS_SCHEMA = "cards.schema.json"
CONFIG_SCHEMA = "deckgen.schema.json"
NOTE_TYPE_SCHEMA = "note_type.schema.json"
DRAFT = "http://json-schema.org/draft-07/schema#"
TEXT = {"type": "string", "pattern": r"\S"}  # non-empty text
TAG = {"type": "string", "pattern": r"^(?!::)(?!.*::$)(?!.*:::)\S+$",
       "description": "A tag: no spaces; '::' between levels of a hierarchical tag"}
Schema = dict[str, Any]
# A card id: CARD_ID's ASCII rule (a letter or digit, then letters, digits, '-', '_', '.'), with any
# character beyond ASCII let through, since ids may be words of any script (JSON Schema patterns are
# ECMA 262 regular expressions, which know no Unicode letter classes without a flag editors lack).
ID_PATTERN = r"^[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f\s][^\x00-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f\s]*$"


def project_schemas(root: Path) -> dict[str, Schema]:
    """The project's schemas, by file name; raises ProjectError if deckgen.yaml cannot be read."""
    return _schemas(_config(root), root)


def _config(root: Path) -> ProjectConfig:
    problems: list[Problem] = []
    config = load_config(root, problems)
    if config is None:
        raise ProjectError(problems)
    return config


def _schemas(config: ProjectConfig, root: Path) -> dict[str, Schema]:
    card_types = load_templates(root, []).card_types
    return {CARDS_SCHEMA: card_file_schema(config, card_types), CONFIG_SCHEMA: config_schema(),
            NOTE_TYPE_SCHEMA: note_type_schema()}


def write_schemas(root: Path, out_dir: Path | None = None) -> list[Path]:
    """Write the project's schemas (default: schemas/ in the project); only files whose text changed.

    Like every file deckgen writes, never through a link and never over a source of the project.
    """
    config = _config(root)
    out_dir = out_dir or root / SCHEMA_DIR
    schemas = _schemas(config, root)
    for name in schemas:
        check_output(root, out_dir / name, config.media, "the editor schemas")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas.items():
        path = out_dir / name
        text = (json.dumps(schema, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        if not path.is_file() or path.stat().st_size != len(text) or path.read_bytes() != text:  # size first
            path.write_bytes(text)
        written.append(path)
    return written


def refresh_schemas(root: Path) -> None:
    """After a build: keep a project's schemas true to its card types, groups and sources, if it has them."""
    if (root / SCHEMA_DIR / CARDS_SCHEMA).is_file():
        try:
            write_schemas(root)
        except ProjectError:
            pass  # a schemas folder deckgen may not write to (a link): the build itself is done


# ---------------------------------------------------------------------------------------------
# Card files
# ---------------------------------------------------------------------------------------------

def card_file_schema(config: ProjectConfig | None, card_types: dict[str, CardType]) -> Schema:
    """The schema of one card file of this project."""
    types = sorted(card_types)
    keys = _card_key_schemas(config, types)
    file_keys = {"cards": {"type": ["array", "null"], "items": {"$ref": "#/definitions/card"},
                           "description": "The cards of this file, each starting with '- id: ...'"},
                 "group": _described(keys["group"], "The group of every card below that names none"),
                 "type": _described(keys["type"], f"The card type of every card below that names none "
                                                   f"(default: {DEFAULT_TYPE})"),
                 "tags": _described(keys["tags"], "Tags added to every card of this file")}
    definitions: dict[str, Schema] = {"card": _general_card(keys)}
    for name in types:
        definitions[f"fields-{name}"] = _fields_schema(card_types[name])
        definitions[f"card-{name}"] = _typed_card(name, types)
    rules = [_file_type_rule(name, name != DEFAULT_TYPE) for name in types]
    if config is not None and len(_group_paths(config)) > 1:
        rules.append({"if": {"not": {"required": ["group"]}},
                      "then": {"properties": {"cards": {"items": {"required": ["group"]}}}}})
    return {
        "$schema": DRAFT,
        "title": f"deckgen card file{f' of {config.deck}' if config else ''}",
        "type": "object",
        "required": ["cards"],
        "properties": {key: file_keys.get(key, {}) for key in FILE_KEYS},
        "additionalProperties": False,
        "allOf": rules,
        "definitions": definitions,
    }


def _card_key_schemas(config: ProjectConfig | None, types: list[str]) -> dict[str, Schema]:
    """The schema of each key every card may have (CARD_KEYS); one deckgen does not know yet accepts anything."""
    groups = _group_paths(config) if config else []
    sources = sorted(config.sources) if config else []
    source_id = {"enum": sources} if sources else {"not": {}, "description": "deckgen.yaml declares no sources"}
    reference = {"anyOf": [source_id, {"type": "object", "required": ["id"], "additionalProperties": False,
                                       "properties": {"id": source_id, "ref": {"type": "string"}}}]}
    known: dict[str, Schema] = {
        "id": {"type": "string", "pattern": ID_PATTERN,
               "description": "The card's id: unique in the project and never changed or reused"},
        "type": {"enum": types, "description": "The card type"},
        "group": {"enum": groups, "description": "The group, and so the subdeck, of the card"}
        if groups else {"not": {}, "description": "deckgen.yaml declares no groups"},
        "tags": {"anyOf": [TAG, {"type": "array", "items": TAG}, {"type": "null"}]},
        "sources": {"anyOf": [reference, {"type": "array", "items": reference}, {"type": "null"}],
                    "description": "Sources from deckgen.yaml: an id, or {id: ..., ref: ...}"},
        "former_ids": {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN},
                       "description": "The ids this card had before, oldest first"},
        "guid": {**TEXT, "description": "The Anki GUID of this card's note, pinned"},
        "restore": {"type": "boolean", "description": "Bring back an id retired in an earlier release"},
        "keep_empty": {"type": "boolean",
                       "description": "Keep a note that has no card of its own with the one empty card Anki gives it"},
        "lint_ignore": {"type": "object", "propertyNames": {"enum": list(RULE_NAMES)}, "additionalProperties": TEXT,
                        "description": "Lint rule -> why it does not apply to this card"},
    }
    return {key: known.get(key, {}) for key in CARD_KEYS}


def _group_paths(config: ProjectConfig) -> list[str]:
    return [path for path in config.group_paths() if path]


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def _general_card(keys: dict[str, Schema]) -> Schema:
    """What every card is, whatever its type: completion offers these keys first."""
    return {"type": "object", "required": ["id"], "properties": keys}


def _fields_schema(card_type: CardType) -> Schema:
    """The keys a card of this type may have, and the fields it must have."""
    properties: dict[str, Schema] = {key: {} for key in CARD_KEYS}
    properties.update({spec.name: _field_schema(spec) for spec in card_type.fields.values()})
    required = [spec.name for spec in card_type.fields.values() if spec.required]
    return {"properties": properties, "additionalProperties": False, **({"required": required} if required else {})}


def _field_schema(spec: FieldSpec) -> Schema:
    """One data field: text (Markdown or plain), one of a few choices, or a list."""
    what = "Markdown text" if spec.markdown else "text"
    if spec.is_list:
        return {"type": "array", "items": TEXT, "description": f"A list of {what} items"}
    if spec.choices:
        return {"enum": [*spec.choices, *([] if spec.required else [None])],
                "description": "One of: " + ", ".join(spec.choices)}
    if spec.required:
        return {**TEXT, "description": f"{what.capitalize()} (required)"}
    return {"type": ["string", "null"], "description": f"{what.capitalize()} (optional)"}


def _typed_card(default: str, types: list[str]) -> Schema:
    """A card in a file whose cards are of type `default` unless they name another."""
    return {"allOf": [
        {"$ref": "#/definitions/card"},
        *({"if": {"required": ["type"], "properties": {"type": {"const": name}}},
           "then": {"$ref": f"#/definitions/fields-{name}"}} for name in types),
        {"if": {"not": {"required": ["type"]}}, "then": {"$ref": f"#/definitions/fields-{default}"}},
    ]}


def _file_type_rule(name: str, named: bool) -> Schema:
    """The cards of a file with `type: name` (or, for the default type, with no type) are checked as `name`."""
    condition = {"required": ["type"], "properties": {"type": {"const": name}}} if named else {
        "anyOf": [{"not": {"required": ["type"]}}, {"properties": {"type": {"const": name}}}]}
    return {"if": condition, "then": {"properties": {"cards": {"items": {"$ref": f"#/definitions/card-{name}"}}}}}


# ---------------------------------------------------------------------------------------------
# deckgen.yaml
# ---------------------------------------------------------------------------------------------

def config_schema() -> Schema:
    """The schema of deckgen.yaml (the same for every project)."""
    known = _config_key_schemas()
    return {
        "$schema": DRAFT,
        "title": "deckgen project config (deckgen.yaml)",
        "type": "object",
        "required": ["deck", "key"],
        "properties": {key: known.get(key, {}) for key in CONFIG_KEYS},
        "additionalProperties": False,
        "definitions": {"groups": _groups_schema()},
    }


def _groups_schema() -> Schema:
    """A mapping of groups, each a title or a title with subgroups (the schema refers to itself)."""
    title = {"type": "string", "pattern": r"^(?!.*::).*\S", "description": "The subdeck's name learners see"}
    nested = {"type": "object", "required": ["title"], "additionalProperties": False,
              "properties": {"title": title, "groups": {"anyOf": [{"$ref": "#/definitions/groups"}, {"type": "null"}]},
                             "description": {"type": "string", "description": "The subdeck's description in Anki"}}}
    return {"type": "object", "propertyNames": {"pattern": GROUP_KEY.pattern},
            "additionalProperties": {"anyOf": [title, nested]},
            "description": "Group key -> subdeck title, or {title: ..., groups: {...}} for a group with subgroups; "
                           "cards name a group by its path of keys joined with '/'"}


def _lint_schema() -> Schema:
    """`lint:` settings: each rule off (false) or its thresholds, from the rules' own defaults."""
    def setting(default: Any) -> Schema:
        if isinstance(default, tuple):
            return {"type": "array", "items": TEXT}
        if isinstance(default, float):
            return {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
        return {"type": "integer", "minimum": 1}

    rules = {rule.name: {"anyOf": [{"type": ["boolean", "null"]}, {
        "type": "object", "additionalProperties": False,
        "properties": {key: setting(default) for key, default in rule.defaults.items()}}],
        "description": f"{rule.summary}: false turns it off"} for rule in RULES}
    deck = {"language": {"enum": [*LANGUAGES, NO_STEMMING],
                         "description": "the stemmer that finds word forms (default english; none: words as written)"},
            "subject": {"type": "array", "items": TEXT,
                        "description": "words named everywhere by design, never a giveaway (the deck's name always is)"}}
    return {"anyOf": [{"type": "null"}, {"type": "object", "properties": {**deck, **rules}, "additionalProperties": False}],
            "description": "deckgen lint: the deck's language and subject, rules turned off, and each rule's thresholds"}


def _options_schema() -> Schema:
    """The deck-options preset: one schema a key of OPTION_KEYS (one deckgen does not know yet accepts anything)."""
    step = {"type": "string", "pattern": STEP.pattern, "description": "A number and a unit: 30s, 1m, 10m, 1h, 1d"}
    steps = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": r"^\s*$"}, step,
                       {"type": "array", "items": step}]}
    known: dict[str, Schema] = {
        "name": _described(TEXT, "The preset's name (default: the deck's)"),
        "new_per_day": {"type": "integer", "minimum": 0, "maximum": DAILY_LIMIT},
        "reviews_per_day": {"type": "integer", "minimum": 0, "maximum": DAILY_LIMIT},
        "learning_steps": steps,
        "relearning_steps": steps,
        "maximum_interval": {"type": "integer", "minimum": 1, "maximum": MAX_INTERVAL, "description": "Days"},
        "desired_retention": {"type": "number", "minimum": RETENTION[0], "maximum": RETENTION[1],
                              "description": "FSRS"},
        "new_card_order": {"enum": list(NEW_CARD_ORDERS)},
    }
    return {"type": "object", "properties": {key: known.get(key, {}) for key in OPTION_KEYS},
            "additionalProperties": False,
            "description": "One Anki deck-options preset for the deck and its subdecks (learners get it only "
                           "if they tick 'Import any deck presets')"}


def _config_key_schemas() -> dict[str, Schema]:
    text = {"type": "string"}
    source_keys: dict[str, Schema] = {
        "citation": TEXT,
        "references": {"type": "object", "additionalProperties": {"anyOf": [TEXT, {"type": "null"}]},
                       "description": "Number -> title; empty: cited in the text, missing from its list"},
        "untitled": _described(TEXT, "Shown for a cited number the references give no title"),
    }
    source = {"anyOf": [TEXT, {"type": "object", "required": ["citation"], "additionalProperties": False,
                               "properties": {key: source_keys.get(key, {}) for key in SOURCE_KEYS}}]}
    return {
        "deck": {"type": "string", "pattern": r"^(?!\s*::)(?!.*::\s*$)(?!.*::\s*::).*\S",
                 "description": "The root deck's name; 'Parent::Deck' puts it inside other decks"},
        "key": {"type": "string", "pattern": KEY.pattern,
                "description": "The stable project key: it seeds every Anki id. Never change it."},
        "groups": {"anyOf": [{"$ref": "#/definitions/groups"}, {"type": "null"}],
                   "description": "Optional: the subdecks, in this order (none: a flat deck)"},
        "options": _options_schema(),
        "group_options": {"type": "object", "additionalProperties": _options_schema(),
                          "description": "A group's path -> the preset its subdeck (and its subgroups') use instead"},
        "css": {"enum": list(CSS_MODES), "description": "add: templates/style.css comes after the built-in CSS "
                                                         "(default); replace: it is the whole CSS"},
        "lint": _lint_schema(),
        "description": _described(text, "Markdown, shown on the deck's overview in Anki"),
        "sources": {"type": "object", "additionalProperties": source,
                    "description": "Source id -> citation (or citation and numbered references)"},
        "version": _described(text, "Release version, shown in the deck's description (quote it)"),
        "license": text,
        "authors": {"anyOf": [TEXT, {"type": "array", "items": TEXT}, {"type": "null"}]},
        "html": {"type": "boolean", "description": "Allow raw HTML in card text (through an allowlist sanitizer)"},
        "media": _described(TEXT, "The media folder, inside the project"),
        "missing_media": {"type": "array", "items": TEXT,
                          "description": "Media files cards name that the deck has never had: built without them"},
        "output": _described(TEXT, "Where build writes the package (default dist/<deck>.apkg)"),
        "group_tags": {"type": "boolean", "description": "Tag every note with its subdeck's path (default true; "
                                                         "false keeps an imported deck's tags as they were)"},
        "description_html": {"type": "boolean", "description": "The description is HTML, used as it is (an "
                                                               "imported deck's), not Markdown"},
    }


# ---------------------------------------------------------------------------------------------
# note_types/*.yaml
# ---------------------------------------------------------------------------------------------

def note_type_schema() -> Schema:
    """The schema of a project's own Anki note type (the same for every project)."""
    field_name = {"type": "string", "pattern": r'^(?![#/^\s])[^:{}"]*[^:{}"\s]$',
                  "description": "A field name Anki keeps as written"}
    template = {"type": "object", "required": list(TEMPLATE_KEYS), "additionalProperties": False,
                "properties": {**{key: TEXT for key in TEMPLATE_KEYS},
                               "group": _described({"type": "string"}, "The group this template's cards go to, "
                                                   "whatever the note's ('' the deck itself)")},
                "description": "A card template, in Anki's own template language ({{Field}}, {{FrontSide}})"}
    known: dict[str, Schema] = {
        "name": _described(TEXT, "The name learners see (default: '<deck> (<key>)')"),
        "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": "Pin the Anki note type id"},
        "kind": {"enum": list(KINDS)},
        "fields": {"type": "array", "minItems": 1, "items": field_name},
        "blocks": {"type": "object", "additionalProperties": TEXT,
                   "description": "The Jinja block that fills a field, where its name makes none (1SG: f_1SG)"},
        "sort_field": _described(TEXT, "The field Anki sorts by (default: the first)"),
        "sources_field": _described(TEXT, "The field deckgen fills with the card's sources"),
        "css": _described({"type": "string"}, "This note type's whole CSS (default: the project's)"),
        "templates": {"type": "array", "minItems": 1, "items": template},
        "latex_pre": _described({"type": "string"}, "The LaTeX header Anki renders [latex] with"),
        "latex_post": _described({"type": "string"}, "The LaTeX footer Anki renders [latex] with"),
        "field_options": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {key: {"type": {str: "string", int: "integer", bool: "boolean"}[type(value)]}
                           for key, value in FIELD_OPTION_DEFAULTS.items()}},
            "description": "A field -> its Anki options (font, size, sticky, rtl, plainText, ...)"},
    }
    return {
        "$schema": DRAFT,
        "title": "deckgen note type (note_types/<key>.yaml)",
        "type": "object",
        "required": ["fields", "templates"],
        "properties": {key: known.get(key, {}) for key in NOTE_TYPE_KEYS},
        "additionalProperties": False,
    }
