"""`deckgen schema`: the JSON Schemas editors use accept every real card file and config, and reject the
mistakes of tests/test_checks.py that a schema can express. Checked with the `jsonschema` library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest
from conftest import PROJECTS, REPO, CliRun
from test_checks import CASES

from deckgen.project.card_types import CARD_KEYS
from deckgen.project.config import CONFIG_KEYS
from deckgen.editor.schemas import CARDS_SCHEMA, CONFIG_SCHEMA, TAG, _card_key_schemas, _config_key_schemas, project_schemas
from deckgen.project.card_files import find_card_files
from deckgen.build.validate import tag_problem
from deckgen.project.yaml_reader import Implicit, YamlError, YamlList, YamlMap, parse

# The mistakes of test_checks.py a schema can say: the shape of files, keys, types, choices, ids,
# groups, sources and tags. (Not: YAML syntax, encodings, duplicate ids, templates, media, rendering.)
EXPRESSIBLE = [
    "file-is-a-list", "file-is-text", "file-is-empty", "file-only-comments", "file-without-cards",
    "cards-is-a-mapping", "card-is-not-a-mapping", "unknown-file-setting", "card-fields-not-indented",
    "card-without-id", "card-id-with-space", "card-id-is-a-number", "unknown-field", "missing-field",
    "empty-field", "yaml-boolean-no", "yaml-number-1e3", "yaml-date", "field-is-a-list", "choice-not-allowed",
    "list-field-given-text", "list-item-is-a-boolean", "unknown-card-type",
    "unknown-card-type-for-the-file-reported-once", "unknown-group", "unknown-group-for-the-file-reported-once",
    "no-group", "unknown-source", "tags-anki-cannot-store", "file-tag-reported-once", "config-mistakes", "config-groups",
    "config-empty",
]


def plain(value: Any) -> Any:
    """A value deckgen's YAML reader gives, as the plain data an editor validates (keys are text)."""
    if isinstance(value, YamlMap):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, YamlList):
        return [plain(item) for item in value]
    if isinstance(value, Implicit):
        return value.value
    return value


def errors(schema: dict[str, Any], path: Path) -> list[str]:
    document = plain(parse(path.read_text(encoding="utf-8")))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def schema_rejections(project: Path, base: Path) -> dict[str, list[str]]:
    """Each file of the project the schemas reject (card types, groups and sources: from `base` if the
    project's own deckgen.yaml is broken), with why."""
    try:
        schemas = project_schemas(project)
    except Exception:
        schemas = project_schemas(base)
    found = {}
    files = [(project / "deckgen.yaml", CONFIG_SCHEMA)] + [(p, CARDS_SCHEMA) for p in find_card_files(project)]
    for path, name in files:
        if not path.is_file():
            continue
        try:
            problems = errors(schemas[name], path)
        except (YamlError, UnicodeDecodeError):
            continue
        if problems:
            found[path.relative_to(project).as_posix()] = problems
    return found


@pytest.mark.parametrize("project", [REPO, PROJECTS / "sample"], ids=["this-repository", "sample"])
def test_schemas_accept_every_real_card_file(project: Path) -> None:
    schemas = project_schemas(project)
    for name in (CARDS_SCHEMA, CONFIG_SCHEMA):
        jsonschema.Draft7Validator.check_schema(schemas[name])
    assert find_card_files(project)
    assert schema_rejections(project, project) == {}


@pytest.mark.parametrize("case", [c for c in CASES if c.name in EXPRESSIBLE], ids=lambda c: c.name)
def test_schemas_reject_the_mistakes_check_reports(case: Any, make_project: Callable[..., Path]) -> None:
    project = make_project(case.files)
    rejected = schema_rejections(project, make_project())
    expected_file = case.expected[0].split(":")[0]
    assert expected_file in rejected, rejected


def test_every_mistake_in_expressible_is_a_check_case() -> None:
    assert set(EXPRESSIBLE) <= {case.name for case in CASES}


def test_every_key_deckgen_knows_is_described() -> None:
    """The schemas follow deckgen's own key lists: a key added there must be described here."""
    assert all(_card_key_schemas(None, [])[key] for key in CARD_KEYS if key not in ("group",))
    assert set(CONFIG_KEYS) <= set(_config_key_schemas())


@pytest.mark.parametrize("tag", ["ok", "a::b", "a:b", "x:", "Gout::Acute_flare", "bad tag", "::lead", "a:::b",
                                 "trail::", "a::::b", "", "tab\there", "ünï::cödé", ":"])
def test_tag_pattern_agrees_with_check(tag: str) -> None:
    valid = jsonschema.Draft7Validator(TAG).is_valid(tag)
    assert valid == (tag_problem(tag) is None and tag != "")


def test_schema_command_writes_both(sample_project: Path, deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("schema", sample_project)
    assert run.exit_code == 0, run.stderr
    cards = json.loads((sample_project / "schemas" / CARDS_SCHEMA).read_text())
    assert cards["properties"]["group"]["enum"] == ["cause", "mechanism", "treatment"]
    assert cards["definitions"]["fields-cause"]["properties"]["scope"]["enum"] == ["local", "generalized"]
    (sample_project / "deckgen.yaml").write_text(
        (sample_project / "deckgen.yaml").read_text().replace("treatment: Treatment", "treatment: Treatment\n  extra: Extra"))
    assert deckgen("build", sample_project).exit_code == 0  # a build keeps the schemas true
    cards = json.loads((sample_project / "schemas" / CARDS_SCHEMA).read_text())
    assert cards["properties"]["group"]["enum"][-1] == "extra"


@pytest.mark.parametrize("card_id", ["trauma", "a.b-c_d", "X1", "ünï-cödé", "症状", "my card", "-lead", "_x", "a/b",
                                     "a:b", "", "a b", "tab\there", "ok."])
def test_id_pattern_accepts_every_id_check_accepts(card_id: str) -> None:
    from deckgen.editor.schemas import ID_PATTERN
    from deckgen.project.card_files import card_key

    valid = jsonschema.Draft7Validator({"type": "string", "pattern": ID_PATTERN}).is_valid(card_id)
    accepted = card_key(card_id) == card_id
    assert valid or not accepted  # never rejects an id deckgen takes
    if card_id.isascii():
        assert valid == accepted


def test_deck_layout_and_options(make_project: Callable[..., Path]) -> None:
    """Nested groups named by path, '::' deck paths and the deck-options preset (deckgen.project.deck_tree, deckgen.project.deck_options)."""
    config = ("deck: Medicine::Gout\nkey: gout\ngroups:\n  cause: Causes\n  treatment:\n    title: Treatment\n"
              "    description: Drugs for the flare\n    groups:\n      acute: Acute flare\noptions:\n  new_per_day: 15\n  learning_steps: [1m, 10m]\n"
              "  desired_retention: 0.9\n  new_card_order: random\n")
    card = "group: treatment/acute\ncards:\n  - id: colchicine\n    front: a\n    back: b\n"
    project = make_project({"deckgen.yaml": config, "cards/causes.yaml": card})
    assert schema_rejections(project, project) == {}
    bad = config.replace("new_card_order: random", "new_card_order: sideways\n  new_per_dya: 3")
    project = make_project({"deckgen.yaml": bad, "cards/causes.yaml": card.replace("treatment/acute", "acute")})
    rejected = schema_rejections(project, make_project())
    assert set(rejected) == {"deckgen.yaml", "cards/causes.yaml"}
    assert len(rejected["deckgen.yaml"]) == 2


def test_schemas_are_never_written_through_a_link(sample_project: Path, tmp_path: Path,
                                                  deckgen: Callable[..., CliRun]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (sample_project / "schemas").symlink_to(outside)
    run = deckgen("schema", sample_project)
    assert run.exit_code == 1 and "is a link" in run.stderr and list(outside.iterdir()) == []


def test_note_type_schema_accepts_real_note_types_and_rejects_what_it_can_say(tmp_path: Path) -> None:
    from test_note_types import BAD_NOTE_TYPES, DRUG_NOTE_TYPE, PASSAGE_NOTE_TYPE

    from deckgen.editor.schemas import note_type_schema

    schema = note_type_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    grouped = DRUG_NOTE_TYPE.replace("{{/Notes}}\"\n", "{{/Notes}}\"\n    group: review\n", 1)  # a template's own group
    assert "group: review" in grouped
    for number, text in enumerate([DRUG_NOTE_TYPE, PASSAGE_NOTE_TYPE, grouped]):
        (tmp_path / f"good{number}.yaml").write_text(text)
        assert errors(schema, tmp_path / f"good{number}.yaml") == []
    expressible = ("characters Anki strips", "whole number", "unknown note type setting")
    rejected = []
    for number, (text, _, message) in enumerate(BAD_NOTE_TYPES):
        path = tmp_path / f"bad{number}.yaml"
        path.write_text(text)
        if errors(schema, path):
            rejected.append(message)
    assert all(any(part in message for message in rejected) for part in expressible)
    assert sum(any(part in m for part in expressible) for m in rejected) == sum(
        any(part in m for part in expressible) for _, _, m in BAD_NOTE_TYPES)


def test_lint_settings_and_ignores(make_project: Callable[..., Path]) -> None:
    """`lint:` in deckgen.yaml and a card's `lint_ignore`, from the lint rules' own names and defaults."""
    from conftest import MINIMAL_CONFIG

    good = MINIMAL_CONFIG + ("lint:\n  language: german\n  subject: [Verkalkung]\n  giveaway: {min_words: 3}\n"
                             "  front_form: false\n  near_duplicate:\n")
    card = ("group: cause\ncards:\n  - id: a\n    front: x?\n    back: y\n"
            "    lint_ignore: {giveaway: the contrast is the point}\n")
    project = make_project({"deckgen.yaml": good, "cards/causes.yaml": card})
    assert schema_rejections(project, project) == {}
    bad = make_project({"deckgen.yaml": good.replace("min_words: 3", "min_wrds: 3"),
                        "cards/causes.yaml": card.replace("giveaway:", "giveway:")})
    assert set(schema_rejections(bad, project)) == {"deckgen.yaml", "cards/causes.yaml"}
