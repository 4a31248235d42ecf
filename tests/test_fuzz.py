"""Generated and mutated card YAML and Jinja templates: every run ends in a package or located problems.

Whatever a user writes, `deckgen check` and `deckgen build` end with exit 0 and a package, or exit 1
and problem lines of the form `path:line:col: ...` (or `path:line: ...` for templates, `path: ...`
for whole files) followed by the summary; never with a traceback or another exit code.
"""

from __future__ import annotations

import traceback
import zipfile
from pathlib import Path
from typing import Callable

import yaml
from conftest import CAUSE_SPEC as SPEC
from conftest import MINIMAL_CARDS, PROBLEM_LINE, SUMMARY_LINE, CliRun
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CARD_FILE = "cards/causes.yaml"
TEMPLATE = """\
{% block Front %}Name a {{ scope }} cause{% if example %} (for example {{ example }}){% endif %}.{% endblock %}
{% block Back %}{{ cause }}{% for item in items %}<li>{{ item }}</li>{% endfor %}{% endblock %}
{% block Extra %}{{ card.id }} {{ cloze(1, cause) }}{% endblock %}
"""
CUSTOM_CARDS = """\
group: mechanism
type: cause
tags: [local, x::y]
cards:
  - id: cause-trauma
    cause: Trauma
    scope: local
    example: an open wound
    items: [one, two]
    sources: [article, {id: article, ref: "2"}]
  - id: cloze-one
    type: cloze
    text: Membranes release {{c1::phosphate}} that binds {{c2::calcium::an ion}}.
    extra: "**Calcium** phosphate"
  - id: reversed-one
    type: reversed
    front: Necrosis
    back: Death of tissue
"""

# Pieces a person (or a bad paste) puts into YAML: indentation, quotes, YAML syntax, odd scalars.
YAML_PIECES = [
    "\t", "  ", "    ", "\n", "\n  - ", "- ", ": ", ":", "'", '"', "#", "&a ", "*a",
    "!!python/object/apply:os.system ['true'] ",
    "!foo ", "{", "}", "[", "]", ",", "|\n", ">\n", "---\n", "...", "? ", "<<: *a\n", "no", "yes", "1e3", "12",
    "2024-01-01", "null", "~", "@", "`", "%", "\x07", "\ufeff", "é", "{{c1::x}}", "<script>alert(1)</script>",
    "![x](../../etc/passwd)", "[sound:a b.mp3]", "id: dup", "id: trauma", "backk: x", "type: cloze", "group: nope",
    "tags: [a b]", "sources: [nope]", "cards:", "cards: []",
]
# Pieces of Jinja: tags, blocks, sandbox escapes, names that are and are not fields.
JINJA_PIECES = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{% block Front %}", "{% block Back %}", "{% block Bak %}", "{% endblock %}",
    "{% if example %}", "{% endif %}", "{% for i in items %}", "{% endfor %}", "{{ scope }}", "{{ scop }}",
    "{{ example }}", "{{ items }}", "{{ card }}", "{{ card.nope }}", "{{ none }}", "{{ true }}", "{{ 1/0 }}",
    "{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}", "{% extends 'basic.html.j2' %}",
    "{% extends 'nope.j2' %}", "{% include 'nope.j2' %}", "{% set y = 1 %}", "{% macro m() %}x{% endmacro %}",
    "{{ cloze(1, cause) }}", "{{ cause|attr('__class__') }}", "\n", "\xff", "{{ range(10**9)|list }}",
]
SCALARS = st.one_of(
    st.text(max_size=30), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.sampled_from(["no", "1e3", "{{c1::x}}", "{{c0::x}}", "<b>x</b>", "![i](a.png)", "a b", "::x", ""]),
)
KEYS = st.sampled_from(["id", "type", "group", "tags", "sources", "front", "back", "extra", "text", "backk", "x"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=6)
CARDS = st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=4)
CARD_DOCUMENTS = st.fixed_dictionaries(
    {"cards": CARDS}, optional={"group": VALUES, "type": VALUES, "tags": VALUES, "grup": VALUES}
)


def mutated(text: str, pieces: list[str]) -> st.SearchStrategy[str]:
    """`text` with a few insertions, deletions, line swaps and truncations."""
    edit = st.tuples(st.sampled_from(["insert", "delete", "swap", "truncate", "indent"]), st.integers(0, 10_000),
                     st.integers(0, 10_000), st.sampled_from(pieces))
    return st.lists(edit, min_size=1, max_size=5).map(lambda edits: _apply(text, edits))


def _apply(text: str, edits: list[tuple[str, int, int, str]]) -> str:
    for kind, a, b, piece in edits:
        i, j = sorted((a % (len(text) + 1), b % (len(text) + 1)))
        lines = text.split("\n")
        if kind == "insert":
            text = text[:i] + piece + text[i:]
        elif kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "truncate":
            text = text[:j]
        elif kind == "swap" and len(lines) > 1:
            x, y = a % len(lines), b % len(lines)
            lines[x], lines[y] = lines[y], lines[x]
            text = "\n".join(lines)
        elif kind == "indent":
            lines[a % len(lines)] = " " * (b % 5) + lines[a % len(lines)].lstrip()
            text = "\n".join(lines)
    return text


def assert_package_or_located_problems(project: Path, deckgen: Callable[..., CliRun]) -> None:
    """`check`, then (if clean) `build`: exit 0 with a package, or exit 1 with located problems."""
    check = deckgen("check", project)
    _assert_clean_ending(check)
    if check.exit_code == 0:
        output = project / "out" / "deck.apkg"
        built = deckgen("build", project, "-o", output)
        _assert_clean_ending(built)
        assert built.exit_code == 0, built.stderr
        assert zipfile.ZipFile(output).testzip() is None
        assert sorted(p.name for p in output.parent.iterdir()) == ["deck.apkg"]  # no temporary file left


def _assert_clean_ending(run: CliRun) -> None:
    assert not run.crashed, "".join(traceback.format_exception(run.exception))  # type: ignore[arg-type]
    assert run.exit_code in (0, 1), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.splitlines()
    if run.exit_code == 1:
        assert lines and SUMMARY_LINE.match(lines[-1]), run.stderr
        lines = lines[:-1]
        assert lines, "a failure names at least one problem"
    for line in lines:
        assert PROBLEM_LINE.match(line), f"not a located problem line: {line!r}"


@FUZZ
@given(document=CARD_DOCUMENTS)
def test_generated_card_files(document: dict, make_project, deckgen) -> None:  # type: ignore[no-untyped-def,type-arg]
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    assert_package_or_located_problems(make_project({CARD_FILE: text}), deckgen)


@FUZZ
@given(text=st.one_of(mutated(MINIMAL_CARDS, YAML_PIECES), mutated(CUSTOM_CARDS, YAML_PIECES)))
def test_mutated_card_files(text: str, make_project, deckgen) -> None:  # type: ignore[no-untyped-def]
    files = {CARD_FILE: text, "templates/cause.yaml": SPEC, "templates/cause.html.j2": TEMPLATE}
    assert_package_or_located_problems(make_project(files), deckgen)


@FUZZ
@given(template=mutated(TEMPLATE, JINJA_PIECES), spec=st.one_of(st.just(SPEC), mutated(SPEC, YAML_PIECES)))
def test_mutated_templates(template: str, spec: str, make_project, deckgen) -> None:  # type: ignore[no-untyped-def]
    files = {CARD_FILE: None, "cards/custom.yaml": CUSTOM_CARDS, "templates/cause.yaml": spec,
             "templates/cause.html.j2": template}
    assert_package_or_located_problems(make_project(files), deckgen)


@FUZZ
@given(data=st.binary(max_size=200), name=st.sampled_from(
    ["deckgen.yaml", CARD_FILE, "templates/cause.yaml", "templates/cause.html.j2", "templates/style.css"]))
def test_binary_garbage_in_any_file(data: bytes, name: str,  # type: ignore[no-untyped-def]
                                    make_project, deckgen) -> None:
    files = {"templates/cause.yaml": SPEC, "templates/cause.html.j2": TEMPLATE, name: data}
    assert_package_or_located_problems(make_project(files), deckgen)
