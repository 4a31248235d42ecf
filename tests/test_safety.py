"""Bad or hostile input never runs code, never reaches outside the project and never crashes deckgen."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import Callable

import pytest
import yaml
from ankitools import import_package, open_collection, rendered_cards
from conftest import MINIMAL_CARDS, CliRun, FileContent

from deckgen.project.yaml_reader import YamlError, parse

CARDS = "cards/causes.yaml"
CAUSE_SPEC = "note_type: basic\nfields:\n  cause: {required: true}\n  scope: {required: true}\n"
CAUSE_CARD = "group: cause\ntype: cause\ncards:\n  - id: trauma\n    cause: Trauma\n    scope: local\n"


def card_with(front: str, back: str = "Trauma") -> str:
    return f"group: cause\ncards:\n  - id: trauma\n    front: {front}\n    back: {back}\n"


def note_fields(apkg: Path) -> list[list[str]]:
    """The fields of every note in a package, as stored."""
    with zipfile.ZipFile(apkg) as archive, contextlib.ExitStack() as stack:
        database = apkg.with_suffix(".anki2")
        database.write_bytes(archive.read("collection.anki2"))
        connection = stack.enter_context(contextlib.closing(sqlite3.connect(database)))
        return [row[0].split("\x1f") for row in connection.execute("SELECT flds FROM notes ORDER BY id")]


def package_media(apkg: Path) -> dict[str, bytes]:
    """The media of a package, by the name Anki gives them."""
    with zipfile.ZipFile(apkg) as archive:
        names = json.loads(archive.read("media"))
        return {name: archive.read(number) for number, name in names.items()}


# YAML is loaded safely
# -------------------------------------------------------------------------------------------------

PAYLOADS = [
    ("!!python/object/apply:os.system ['touch {marker}']", "!!python/object/apply:os.system"),
    ("!!python/object/apply:subprocess.call [['touch', '{marker}']]", "!!python/object/apply:subprocess.call"),
    ("!!python/object/new:builtins.open ['{marker}', 'w']", "!!python/object/new:builtins.open"),
    ("!!python/name:os.system", "!!python/name:os.system"),
]
PLACES = {  # where the tag goes, and where it then stands (line:column)
    CARDS: (lambda tag: card_with(tag), "4:12"),
    "deckgen.yaml": (lambda tag: f"deck: {tag}\nkey: test\n", "1:7"),
    "templates/cause.yaml": (lambda tag: f"note_type: {tag}\nfields: {{}}\n", "1:12"),
}


@pytest.mark.parametrize("payload,shown", PAYLOADS, ids=[shown for _, shown in PAYLOADS])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_python_tags_never_run(payload: str, shown: str, place: str, make_project: Callable[..., Path],
                               deckgen: Callable[..., CliRun], tmp_path: Path) -> None:
    marker = tmp_path / "created-by-yaml"
    document, where = PLACES[place]
    project = make_project({place: document(payload.format(marker=marker))})
    run = deckgen("check", project)
    assert not marker.exists()
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [
        f"{place}:{where}: YAML tag '{shown}' is not allowed (deckgen reads plain YAML only: remove the tag)"]


def test_the_payload_is_live_in_an_unsafe_loader(tmp_path: Path) -> None:
    """The control for the test above: PyYAML's unsafe loader does run it; deckgen's parse does not."""
    marker = tmp_path / "created-by-yaml"
    document = card_with(PAYLOADS[0][0].format(marker=marker))
    with pytest.raises(YamlError):
        parse(document)
    assert not marker.exists()
    yaml.unsafe_load(document)
    assert marker.exists()


def test_every_unknown_tag_of_a_file_is_reported(make_project: Callable[..., Path],
                                                 deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: card_with("!foo bar", "!!binary aGVsbG8=")})
    assert deckgen("check", project).problems == [
        "cards/causes.yaml:4:12: YAML tag '!foo' is not allowed (deckgen reads plain YAML only: remove the tag, "
        "or quote the value if the '!' belongs to its text)",
        "cards/causes.yaml:5:11: YAML tag '!!binary' is not allowed (deckgen reads plain YAML only: remove the tag)",
    ]


LEVELS = "abcdefghi"
BOMB = "".join(  # a: &a ["lol", ...], b: &b [*a, *a, ...], ... nine levels of nine
    f"{name}: &{name} [" + ", ".join(['"lol"'] * 9 if i == 0 else [f"*{LEVELS[i - 1]}"] * 9) + "]\n"
    for i, name in enumerate(LEVELS)
)


@pytest.mark.parametrize("place", [CARDS, "deckgen.yaml"])
def test_alias_bomb_is_rejected_quickly(place: str, make_project: Callable[..., Path],
                                        deckgen: Callable[..., CliRun]) -> None:
    project = make_project({place: BOMB + "cards: []\n"})
    started = time.perf_counter()
    run = deckgen("check", project)
    assert time.perf_counter() - started < 1.0
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"{place}:1:1: aliases expand this document to 490,329,066 values "
                            "(remove the anchors (&) and aliases (*) that repeat large parts)"]


def test_alias_to_its_own_container_is_rejected(make_project: Callable[..., Path],
                                                deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("check", make_project({CARDS: "group: cause\ncards: &x\n  - *x\n"}))
    assert run.problems == ["cards/causes.yaml:2:8: an alias refers to the structure that contains it"]


def test_small_aliases_still_work(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: card_with("&q Which injury?", "*q")})
    assert deckgen("check", project).exit_code == 0


# Media stay inside the project
# -------------------------------------------------------------------------------------------------

SECRET = b"secret outside the project"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file next to the project folders, outside every project."""
    path = tmp_path / "secret.png"
    path.write_bytes(SECRET)
    return path


@pytest.mark.parametrize("reference,message", [
    ("![x](../../secret.png)", "media '../../secret.png' is outside the project"),
    ("'[sound:../../secret.png]'", "media '../../secret.png' is outside the project"),
    ("![x](../deckgen.yaml)", "media '../deckgen.yaml' is outside media/"),
])
def test_media_paths_that_leave_the_media_folder(reference: str, message: str, outside: Path,
                                                 make_project: Callable[..., Path],
                                                 deckgen: Callable[..., CliRun]) -> None:
    written = f"'{reference}'" if reference.startswith("!") else reference
    project = make_project({CARDS: card_with(written)})
    assert (project.parent / "secret.png").read_bytes() == SECRET
    run = deckgen("build", project)
    assert run.exit_code == 1
    column = f"    front: {written}".index(message.split("'")[1]) + 1  # where the card names it
    assert run.problems == [f"cards/causes.yaml:4:{column}: card 'trauma': {message} "
                            "(put the file in media/ and refer to it by name)"]
    assert not (project / "dist").exists()


def test_absolute_media_path(outside: Path, make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    run = deckgen("build", make_project({CARDS: card_with(f"'![x]({outside})'")}))
    assert run.problems == [f"cards/causes.yaml:4:18: card 'trauma': media '{outside}' is outside the project "
                            "(put the file in media/ and refer to it by name)"]


def test_media_link_to_a_file_outside(outside: Path, make_project: Callable[..., Path],
                                      deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: card_with("'![x](link.png)'")})
    (project / "media").mkdir()
    (project / "media" / "link.png").symlink_to(outside)
    run = deckgen("build", project)
    assert run.problems == ["cards/causes.yaml:4:18: card 'trauma': media 'link.png' is a link to a file outside "
                            "the project (copy the file into the project instead)"]
    assert not (project / "dist").exists()


def test_template_media_link_to_a_file_outside(outside: Path, make_project: Callable[..., Path],
                                               deckgen: Callable[..., CliRun]) -> None:
    project = make_project()
    (project / "media").mkdir()
    (project / "media" / "_font.woff").symlink_to(outside)
    run = deckgen("build", project)
    assert run.problems == ["media/_font.woff: this is a link to a file outside the project "
                            "(copy the file into the project instead)"]


def test_media_folder_outside_the_project(outside: Path, make_project: Callable[..., Path],
                                          deckgen: Callable[..., CliRun]) -> None:
    config = "deck: Test Deck\nkey: test-deck\ngroups:\n  cause: Causes\nmedia: ..\n"
    run = deckgen("build", make_project({"deckgen.yaml": config, CARDS: card_with("'![x](secret.png)'")}))
    assert run.problems == ["deckgen.yaml:5:8: the media folder '..' is outside the project "
                            "(name a folder inside the project, such as 'media')"]


def test_nothing_outside_the_project_goes_into_a_package(outside: Path, make_project: Callable[..., Path],
                                                         deckgen: Callable[..., CliRun]) -> None:
    project = make_project({CARDS: card_with("'![x](dot.png)'"), "media/dot.png": b"a dot", "media/_ok.css": b"x"})
    (project / "media" / "unused-link.png").symlink_to(outside)
    run = deckgen("build", project)
    assert run.exit_code == 0, run.stderr
    assert run.problems == ["media/unused-link.png: warning: media file is not used by any card "
                            "(it is left out of the package)"]
    assert package_media(project / "dist" / "test-deck.apkg") == {"_ok.css": b"x", "dot.png": b"a dot"}


# Templates run in Jinja's sandbox
# -------------------------------------------------------------------------------------------------

ESCAPES = [
    ("''.__class__.__mro__", "access to attribute '__class__' of 'str' object is unsafe"),
    ("cause|attr('__class__')", "access to attribute '__class__' of 'Markup' object is unsafe"),
    ("'{0.__class__}'.format(cause)", "access to attribute '__class__' of 'Markup' object is unsafe"),
    ("cycler.__init__.__globals__.os.system('touch {marker}')", "access to attribute '__init__' of 'type' object "
                                                               "is unsafe"),
    ("lipsum.__globals__['os'].system('touch {marker}')", "access to attribute '__globals__' of 'function' object "
                                                          "is unsafe"),
    ("self._TemplateReference__context", "access to attribute '_TemplateReference__context' of "
                                         "'TemplateReference' object is unsafe"),
]


@pytest.mark.parametrize("expression,refusal", ESCAPES, ids=[expression for expression, _ in ESCAPES])
def test_templates_cannot_reach_python_internals(expression: str, refusal: str, tmp_path: Path,
                                                 make_project: Callable[..., Path],
                                                 deckgen: Callable[..., CliRun]) -> None:
    marker = tmp_path / "created-by-template"
    template = "{% block Front %}{{ scope }}{% endblock %}\n{% block Back %}{{ " + expression + " }}{% endblock %}\n"
    project = make_project({CARDS: CAUSE_CARD, "templates/cause.yaml": CAUSE_SPEC,
                            "templates/cause.html.j2": template.replace("{marker}", str(marker))})
    run = deckgen("build", project)
    assert not marker.exists()
    assert run.exit_code == 1 and not run.crashed
    assert run.problems == [f"cards/causes.yaml:4:5: card 'trauma': template templates/cause.html.j2:2 tried "
                            f"something unsafe: {refusal} (templates run in a sandbox)"]
    assert not (project / "dist").exists()


# Card text is escaped; raw HTML only by opt-in, and then sanitized
# -------------------------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)>"


def test_script_in_a_fact_shows_as_text(make_project: Callable[..., Path], deckgen: Callable[..., CliRun],
                                        tmp_path: Path) -> None:
    project = make_project({CARDS: card_with(f'"{HOSTILE}"')})
    assert deckgen("build", project).exit_code == 0
    apkg = project / "dist" / "test-deck.apkg"
    front = note_fields(apkg)[0][0]
    assert front == "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;"
    with contextlib.closing(open_collection(tmp_path)) as col:
        import_package(col, apkg)
        question = rendered_cards(col)[0].question
    assert "<script>" not in question and "&lt;script&gt;alert(1)&lt;/script&gt;" in question


def test_html_opt_in_is_sanitized(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    config = "deck: Test Deck\nkey: test-deck\nhtml: true\ngroups:\n  cause: Causes\n"
    front = ('<b>bold</b> <script>alert(1)</script><img src="dot.png" onerror="alert(1)"> '
             '<a href="javascript:alert(1)">x</a> <a href="https://example.org" onclick="x()">ok</a> '
             '<iframe src="https://example.org"></iframe><style>body {}</style>')
    project = make_project({"deckgen.yaml": config, CARDS: card_with(f"'{front}'"), "media/dot.png": b"PNG"})
    assert deckgen("build", project).exit_code == 0
    assert note_fields(project / "dist" / "test-deck.apkg")[0][0] == (
        '<b>bold</b> <img src="dot.png"> <a rel="noopener noreferrer">x</a> '
        '<a href="https://example.org" rel="noopener noreferrer">ok</a>')


# Files that are not text
# -------------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
LATIN_1 = "caf\xe9: x\n".encode("latin-1")
FILES = ["deckgen.yaml", CARDS, "templates/cause.yaml", "templates/cause.html.j2", "templates/style.css"]
EXPECTED: dict[tuple[str, str], str | None] = {
    **{(name, "binary"): f"{name}: this is a binary file, not {kind} text"
       for name, kind in zip(FILES, ["YAML", "YAML", "YAML", "template", "CSS"])},
    **{(name, "latin-1"): f"{name}:1:4: not UTF-8 text (byte 0xe9) (save the file as UTF-8)" for name in FILES},
    ("deckgen.yaml", "empty"): "deckgen.yaml:1:1: deckgen.yaml must be a mapping of settings "
                               "(start with 'deck: My Deck' and 'key: my-deck')",
    (CARDS, "empty"): "cards/causes.yaml:1:1: the file is empty (a card file starts with 'cards:')",
    ("templates/cause.yaml", "empty"): "templates/cause.yaml:1:1: card type 'cause' must be a mapping with "
                                       "'note_type' and 'fields'",
    ("templates/cause.html.j2", "empty"): "templates/cause.html.j2:1: card type 'cause' has no {% block Front %} "
                                          "(the basic note type needs it: it is the question)",
    ("templates/style.css", "empty"): None,  # an empty style sheet is fine
}


@pytest.mark.parametrize("name,kind", sorted(EXPECTED), ids=[f"{kind}-{name}" for name, kind in sorted(EXPECTED)])
def test_files_that_are_not_text_are_reported(name: str, kind: str, make_project: Callable[..., Path],
                                              deckgen: Callable[..., CliRun]) -> None:
    content: FileContent = {"binary": PNG, "latin-1": LATIN_1, "empty": b""}[kind]
    files: dict[str, FileContent] = {CARDS: CAUSE_CARD, "templates/cause.yaml": CAUSE_SPEC,
                                     "templates/cause.html.j2": "{% block Front %}{{ scope }}{% endblock %}"
                                                                "{% block Back %}{{ cause }}{% endblock %}"}
    run = deckgen("check", make_project({**files, name: content}))
    assert not run.crashed
    expected = EXPECTED[(name, kind)]
    assert (run.exit_code, run.problems) == ((1, [expected]) if expected else (0, []))


def test_minimal_cards_fixture_is_valid(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    assert deckgen("check", make_project({CARDS: MINIMAL_CARDS})).exit_code == 0


@pytest.mark.parametrize("name", ["deckgen.yaml", "templates/cause.yaml", "templates/style.css"])
def test_files_that_cannot_be_read_are_reported(name: str, make_project: Callable[..., Path],
                                                deckgen: Callable[..., CliRun],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Permissions that deny reading (simulated: the tests may run as root, whom permissions do not stop)."""
    project = make_project({CARDS: CAUSE_CARD, "templates/cause.yaml": CAUSE_SPEC, "templates/style.css": "",
                            "templates/cause.html.j2": "{% block Front %}{{ scope }}{% endblock %}"})
    read_bytes = Path.read_bytes

    def denied(path: Path) -> bytes:
        if path == project / name:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    run = deckgen("check", project)
    assert run.exit_code == 1 and not run.crashed
    assert f"{name}: cannot read the file: Permission denied" in run.problems
