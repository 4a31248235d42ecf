"""A hostile stranger's project: it can neither read nor write outside its folder, nor trust its own
cache, nor hang the build. Every case ends in a located message, no traceback, nothing outside the
project read or written, and the previous package intact (issue 12)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import orjson
import pytest
from conftest import MINIMAL_CARDS, CliRun
from hostile import PACKAGE, SECRET, Outside, dead_pid, link, make_outside

from deckgen.build.cache import CACHE_DIR
from deckgen.preview.site import write_preview
from deckgen.build.pipeline import prepare
from deckgen.preview.server import PreviewServer

CARDS = "cards/causes.yaml"
SPEC = "note_type: basic\nfields:\n  cause: {required: true}\n"
CAUSE_CARD = "group: cause\ntype: cause\ncards:\n  - id: trauma\n    cause: Trauma\n"


@pytest.fixture
def outside(tmp_path: Path) -> Outside:
    return make_outside(tmp_path)


@pytest.fixture
def built(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> Path:
    """A clean project with its package and lock: what a hostile change must not destroy."""
    project = make_project()
    assert deckgen("build", project).exit_code == 0
    return project


@pytest.fixture
def guard() -> Iterator[None]:
    """A generous alarm, so that a limit that does not hold fails the test instead of hanging it."""
    def expired(*_: object) -> None:
        raise TimeoutError("a limit did not stop the template")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def state(project: Path) -> dict[str, bytes]:
    return {name: (project / name).read_bytes() for name in (PACKAGE, "deckgen.lock")}


def refused(run: CliRun, *expected: str) -> None:
    """A located refusal: exit 1, no traceback, the secret nowhere in the output, every expected line."""
    assert run.exit_code == 1 and not run.crashed, (run.stdout, run.stderr, run.exception)
    assert SECRET not in run.stdout + run.stderr
    for line in expected:
        assert line in run.problems, run.problems


# Reads stay inside the project
# -------------------------------------------------------------------------------------------------

LINK = "this is a link to a file outside the project (copy the file into the project instead of linking to it)"
READ_LINKS = {  # place in the project -> (target under outside/, the problem line)
    "deckgen.yaml": ("deckgen.yaml", f"deckgen.yaml: {LINK}"),
    CARDS: ("cards/stolen.yaml", f"{CARDS}: {LINK}"),
    "cards": ("cards", f"cards: {LINK}"),
    "templates/basic.html.j2": ("templates/basic.html.j2", "templates/basic.html.j2: template 'basic.html.j2' is "
                                "refused: it is a link to a file outside the project (keep every template as a "
                                "file inside the project)"),
    "templates/style.css": ("style.css", f"templates/style.css: {LINK}"),
    "templates/cause.yaml": ("secret.txt", f"templates/cause.yaml: {LINK}"),
    "deckgen.lock": ("secret.txt", f"deckgen.lock: {LINK}"),
}


@pytest.mark.parametrize("place", sorted(READ_LINKS))
def test_a_link_out_of_the_project_is_never_read(place: str, built: Path, outside: Outside,
                                                 deckgen: Callable[..., CliRun]) -> None:
    before, seen = state(built), outside.snapshot()
    target, problem = READ_LINKS[place]
    link(built, place, outside.folder / target)
    for command in ("check", "build"):
        refused(deckgen(command, built), problem)
    assert (built / PACKAGE).read_bytes() == before[PACKAGE]
    assert (built / "deckgen.lock").is_symlink() or (built / "deckgen.lock").read_bytes() == before["deckgen.lock"]
    assert outside.snapshot() == seen


def test_the_templates_folder_linked_out_is_refused(built: Path, outside: Outside,
                                                    deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    link(built, "templates", outside.folder / "templates")
    run = deckgen("build", built)
    refused(run)
    assert any("templates/basic.html.j2" in line and "outside the project" in line for line in run.problems)
    assert state(built) == before


def test_an_included_template_that_links_out_is_refused(built: Path, outside: Outside,
                                                        deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    (built / "templates").mkdir()
    (built / "templates/cause.yaml").write_text(SPEC, encoding="utf-8")
    (built / "templates/cause.html.j2").write_text(
        "{% block Front %}{% include 'part.html.j2' %}{{ cause }}{% endblock %}{% block Back %}x{% endblock %}",
        encoding="utf-8")
    link(built, "templates/part.html.j2", outside.secret)
    (built / CARDS).write_text(CAUSE_CARD, encoding="utf-8")
    refused(deckgen("build", built), "templates/part.html.j2: template 'part.html.j2' is refused: it is a link to a "
            "file outside the project (keep every template as a file inside the project)")
    assert state(built) == before


def test_a_lock_that_links_to_a_fifo_never_blocks(built: Path, guard: None, deckgen: Callable[..., CliRun]) -> None:
    os.mkfifo(built / "pipe")
    link(built, "deckgen.lock", built / "pipe")
    refused(deckgen("build", built), "deckgen.lock: this is not a regular file (keep plain files in a project)")


def test_a_card_file_name_that_is_not_utf8(built: Path, deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    with open(os.path.join(os.fsencode(built / "cards"), b"bad-\xff.yaml"), "wb") as stream:
        stream.write(MINIMAL_CARDS.replace("trauma", "other").encode())
    refused(deckgen("build", built), "cards/bad-\\xff.yaml: the file name is not UTF-8 text (rename the file)")
    assert state(built) == before


# Writes stay where the user said, never onto a source, never through a link
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("output", ["../outside.apkg", "/tmp/deckgen-hostile-absolute.apkg", "dist/../../x.apkg"])
def test_output_in_the_config_cannot_leave_the_project(output: str, built: Path,
                                                       deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    config = built / "deckgen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"output: {output}\n", encoding="utf-8")
    line = len(config.read_text(encoding="utf-8").splitlines())
    refused(deckgen("build", built), f"deckgen.yaml:{line}:9: the output '{output}' is outside the project "
            "(name a file inside the project, such as 'dist/deck.apkg'; 'build -o' writes elsewhere)")
    assert state(built) == before
    assert not (built.parent / "outside.apkg").exists() and not Path("/tmp/deckgen-hostile-absolute.apkg").exists()


@pytest.mark.parametrize("source", [CARDS, "templates/style.css", "deckgen.yaml", "deckgen.lock", "media/x.apkg",
                                    "cards/new.apkg"])
def test_build_never_writes_onto_a_source(source: str, built: Path, deckgen: Callable[..., CliRun]) -> None:
    (built / "templates").mkdir(exist_ok=True)
    (built / "templates/style.css").write_text(".card {}\n", encoding="utf-8")
    def sources() -> dict[Path, bytes]:  # everything but the build cache
        return {path: path.read_bytes() for path in built.rglob("*") if path.is_file() and CACHE_DIR not in path.parts}

    before = sources()
    run = deckgen("build", built, "-o", built / source)
    assert run.exit_code == 1 and not run.crashed
    assert len(run.problems) == 1 and "cannot write the package here: it is the project's source" in run.problems[0]
    assert sources() == before


def test_the_package_is_never_written_through_a_link(built: Path, outside: Outside,
                                                     deckgen: Callable[..., CliRun]) -> None:
    seen = outside.snapshot()
    link(built, "dist", outside.folder)
    run = deckgen("build", built)
    refused(run)
    assert "is a link" in run.problems[0]
    assert outside.snapshot() == seen


@pytest.mark.parametrize("place", ["dist/preview", "dist/preview/assets", "dist/preview/media", "dist"])
def test_the_preview_is_never_written_through_a_link(place: str, built: Path, outside: Outside,
                                                     deckgen: Callable[..., CliRun]) -> None:
    (built / "dist/preview").mkdir(parents=True, exist_ok=True)
    link(built, place, outside.folder)
    seen = outside.snapshot()
    run = deckgen("preview", built)
    refused(run)
    assert "is a link" in run.stderr
    assert outside.snapshot() == seen


def test_the_lock_is_never_written_through_its_old_temporary_name(built: Path, outside: Outside,
                                                                  deckgen: Callable[..., CliRun]) -> None:
    link(built, "deckgen.lock.tmp", outside.folder / "victim.txt")
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "Trauma, changed"), encoding="utf-8")
    seen = outside.snapshot()
    assert deckgen("build", built).exit_code == 0
    assert outside.snapshot() == seen
    assert "Trauma, changed" not in (outside.folder / "victim.txt").read_text(encoding="utf-8")


def test_a_linked_cache_folder_is_never_written(make_project: Callable[..., Path], outside: Outside,
                                                deckgen: Callable[..., CliRun]) -> None:
    project = make_project()
    link(project, CACHE_DIR, outside.folder)
    seen = outside.snapshot()
    assert deckgen("build", project).exit_code == 0
    assert outside.snapshot() == seen


def test_leftovers_of_a_killed_build_are_cleaned(built: Path, deckgen: Callable[..., CliRun]) -> None:
    import tempfile

    pid = dead_pid()
    stale = built / "dist" / f".test-deck.apkg.{pid}.abc123.tmp"
    stale.write_bytes(b"")
    scratch = Path(tempfile.gettempdir()) / f"deckgen-{pid}-leftover"
    scratch.mkdir()
    (scratch / "collection.anki2").write_bytes(b"x" * 1000)
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "Trauma, changed"), encoding="utf-8")
    assert deckgen("build", built).exit_code == 0
    assert not stale.exists() and not scratch.exists()
    assert sorted(os.listdir(built / "dist")) == ["test-deck.apkg"]
    assert not [name for name in os.listdir(built) if name.endswith(".tmp")]


@pytest.mark.skipif(os.geteuid() == 0, reason="needs file permissions that apply (not root)")
def test_a_read_only_project_says_truthfully_what_was_written(built: Path, tmp_path: Path,
                                                              deckgen: Callable[..., CliRun]) -> None:
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "Trauma, changed"), encoding="utf-8")
    os.chmod(built, 0o555)
    try:
        run = deckgen("build", built, "-o", tmp_path / "elsewhere.apkg")
    finally:
        os.chmod(built, 0o755)
    assert run.exit_code == 1 and not run.crashed
    assert run.stderr.splitlines()[-1].endswith("nothing was written")
    assert not (tmp_path / "elsewhere.apkg").exists()



def test_a_lock_that_cannot_be_written_leaves_nothing_written(built: Path, tmp_path: Path, monkeypatch,
                                                             deckgen: Callable[..., CliRun]) -> None:
    """The read-only case above as root can run it: the project refuses the lock's temporary file."""
    def refuse(root: Path, lock: object) -> Path:
        raise PermissionError(13, "Permission denied", str(root / "deckgen.lock.tmp"))

    monkeypatch.setattr("deckgen.build.pipeline.prepare_lock", refuse)
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "Trauma, changed"), encoding="utf-8")
    run = deckgen("build", built, "-o", tmp_path / "elsewhere.apkg")
    assert run.exit_code == 1 and not run.crashed
    assert "Permission denied" in run.stderr and run.stderr.splitlines()[-1].endswith("nothing was written")
    assert not (tmp_path / "elsewhere.apkg").exists()

# Untrusted state: the cache, the stamp and the lock
# -------------------------------------------------------------------------------------------------

def _fields(apkg: Path) -> str:
    import sqlite3

    with zipfile.ZipFile(apkg) as archive:
        database = apkg.with_suffix(".anki2")
        database.write_bytes(archive.read("collection.anki2"))
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return "\n".join(row[0] for row in connection.execute("SELECT flds || tags FROM notes"))


def test_a_crafted_cache_entry_is_never_used(built: Path, deckgen: Callable[..., CliRun]) -> None:
    """An entry rewritten with fresh (unkeyed) checksums, as a stranger would ship it, is rebuilt."""
    entry = next((built / CACHE_DIR / "files").glob("*.json"))
    header, summary, _, texts = entry.read_bytes().split(b"\n", 3)
    fields = orjson.loads(texts)
    fields[0][0] = ["<script>alert(1)</script><img src=x onerror=alert(2)>", "x", "", ""]
    texts = orjson.dumps(fields)
    import hashlib

    entry.write_bytes(b"\n".join([header, summary, hashlib.sha256(texts).hexdigest().encode(), texts]))
    os.utime(built / CARDS)  # the stamp must not short-cut the build either
    (built / "deckgen.lock").write_bytes((built / "deckgen.lock").read_bytes() + b"\n")
    assert deckgen("check", built).exit_code == 0
    assert deckgen("build", built).exit_code == 0
    content = _fields(built / PACKAGE)
    assert "<script>" not in content and "onerror" not in content and "Which injury?" in content


def test_a_cache_entry_signed_on_another_machine_is_never_used(make_project: Callable[..., Path], tmp_path: Path,
                                                                deckgen: Callable[..., CliRun],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The stranger signs a crafted entry with their own secret; this machine's secret differs."""
    from deckgen.build import cache

    project = make_project()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "stranger"))
    cache.machine_secret.cache_clear()
    assert deckgen("build", project).exit_code == 0
    entry = next((project / CACHE_DIR / "files").glob("*.json"))
    header, summary, _, texts = entry.read_bytes().split(b"\n", 3)
    fields = orjson.loads(texts)
    fields[0][0] = ["<script>alert(1)</script>", "x", "", ""]
    texts = orjson.dumps(fields)
    entry.write_bytes(b"\n".join([header, summary, cache.mac(header, texts).encode(), texts]))
    (project / PACKAGE).unlink()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user"))
    cache.machine_secret.cache_clear()
    try:
        assert deckgen("build", project).exit_code == 0
    finally:
        cache.machine_secret.cache_clear()
    assert "<script>" not in _fields(project / PACKAGE)
    secret = tmp_path / "user" / "deckgen" / "secret"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_a_crafted_stamp_never_keeps_a_shipped_package(built: Path, deckgen: Callable[..., CliRun]) -> None:
    shipped = built / PACKAGE
    shipped.write_bytes(b"a package the stranger shipped")
    stat = shipped.stat()
    from deckgen.build.cache import input_stamp
    from deckgen.build.build_options import BuildOptions

    record = {"stamp": input_stamp(built, None, BuildOptions().stamp_settings(), "media"),
              "output": str(shipped.resolve()), "package": [stat.st_size, stat.st_mtime_ns], "media": "media",
              "mac": "0" * 64}
    (built / CACHE_DIR / "stamp.json").write_text(json.dumps(record), encoding="utf-8")
    run = deckgen("build", built)
    assert run.exit_code == 0 and "up to date" not in run.stdout
    assert zipfile.is_zipfile(shipped)


@pytest.mark.parametrize("value", ["1e300", str(2**62), "-1", "true", "1.5"])
def test_lock_times_out_of_range_are_located(value: str, built: Path, deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    lock = built / "deckgen.lock"
    lines = lock.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip().startswith('"trauma"'))
    row = json.loads(lines[number].strip().rstrip(",").split(": ", 1)[1])
    lines[number] = lines[number].replace(f", {row[1]},", f", {value},", 1)
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = deckgen("build", built)
    refused(run)
    assert run.problems[0].startswith(f"deckgen.lock:{number + 1}: the lock's entry 'trauma' has the time ")
    assert (built / PACKAGE).read_bytes() == before[PACKAGE]


def test_a_source_date_epoch_past_the_limit_is_located(built: Path, deckgen: Callable[..., CliRun],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "9" * 20)
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "Trauma, changed"), encoding="utf-8")
    run = deckgen("build", built)
    refused(run, "SOURCE_DATE_EPOCH: the time 99999999999999999999 is past deckgen's limit of 4294967295 "
            "(the year 2106) (set it to a Unix time in seconds)")


# Limits: bombs stop quickly, with a located message
# -------------------------------------------------------------------------------------------------

BOMBS = {
    "nested ranges": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "huge power": "{{ 9**(9**9) }}",
    "growing power": '{% set ns = namespace(x=10) %}{% for i in range(20) %}{% set ns.x = ns.x ** 64 %}{% endfor %}'
                     "{{ ns.x }}",
    "squaring": '{% set ns = namespace(x=10) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}'
                "{{ ns.x }}",
    "format width": '{{ "%999999999d"|format(1) }}',
    "str.format width": '{{ "{:999999999}".format(1) }}',
    "string times": '{{ "x"*100000000 }}',
    "doubling": '{% set ns = namespace(x="ab") %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}'
                "{{ ns.x }}",
    "replace": '{{ ("x"*1000000)|replace("", "x"*1000000) }}',
    "join": '{{ (["x"*1000000]*100000)|join }}',
    "center": '{{ "x"|center(999999999) }}',
    "lipsum": "{{ lipsum(100000) }}",
    "recursion": "{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}{{ m(1) }}",
    "output": '{% for i in range(100000) %}{{ "x"*900000 }}{% endfor %}',
}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_template_bombs_stop_with_a_located_message(bomb: str, built: Path, guard: None,
                                                    deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    (built / "templates").mkdir()
    (built / "templates/cause.yaml").write_text(SPEC, encoding="utf-8")
    (built / "templates/cause.html.j2").write_text(
        "{% block Front %}" + BOMBS[bomb] + "{{ cause }}{% endblock %}\n{% block Back %}{{ cause }}{% endblock %}\n",
        encoding="utf-8")
    (built / CARDS).write_text(CAUSE_CARD, encoding="utf-8")
    run = deckgen("build", built)
    refused(run)
    assert run.problems[0].startswith("cards/causes.yaml:4:5: card 'trauma': template templates/cause.html.j2:1 ")
    assert state(built) == before


def test_ordinary_templates_and_text_stay_within_the_limits(built: Path, deckgen: Callable[..., CliRun]) -> None:
    """The ceilings look at sizes and widths, not at what card text says."""
    (built / "templates").mkdir()
    (built / "templates/cause.yaml").write_text(SPEC, encoding="utf-8")
    (built / "templates/cause.html.j2").write_text(
        '{% block Front %}{{ cause|upper }} {{ "%s!"|format(cause) }} {{ "{}".format(cause) }} '
        '{{ (cause ~ " ") * 3 }}{% for i in range(1000) %}.{% endfor %}{% endblock %}'
        "{% block Back %}{{ cause|center(40) }} {{ 2 ** 10 }}{% endblock %}", encoding="utf-8")
    (built / CARDS).write_text(CAUSE_CARD.replace("Trauma", "'rises 50% 100000 times {:999999}'"), encoding="utf-8")
    run = deckgen("build", built)
    assert run.exit_code == 0, run.stderr
    assert "RISES 50% 100000 TIMES" in _fields(built / PACKAGE)


def test_tags_past_the_ceiling_fail_fast(built: Path, guard: None, deckgen: Callable[..., CliRun]) -> None:
    tags = ", ".join(f"t{i}" for i in range(80_000))
    (built / CARDS).write_text(MINIMAL_CARDS + f"    tags: [{tags}]\n", encoding="utf-8")
    refused(deckgen("check", built), "cards/causes.yaml:6:11: card 'trauma': 'tags' has 80,000 items, above "
            "deckgen's limit of 10,000")
    tags = ", ".join(f"t{i}" for i in range(201))
    (built / CARDS).write_text(MINIMAL_CARDS + f"    tags: [{tags}]\n", encoding="utf-8")
    refused(deckgen("check", built), "cards/causes.yaml:6:11: card 'trauma': the card has 201 tags, above "
            "deckgen's limit of 200")


def test_a_field_past_the_ceiling(built: Path, deckgen: Callable[..., CliRun]) -> None:
    (built / CARDS).write_text(MINIMAL_CARDS.replace("Trauma", "x" * 100_001), encoding="utf-8")
    run = deckgen("check", built)
    refused(run)
    assert "above deckgen's limit of 100,000" in run.problems[0] and run.problems[0].startswith("cards/causes.yaml:5:")


def test_a_file_past_the_ceiling(built: Path, deckgen: Callable[..., CliRun]) -> None:
    (built / "cards/big.yaml").write_bytes(b"# " + b"x" * (9 * 1024 * 1024) + b"\ncards: []\n")
    refused(deckgen("check", built), "cards/big.yaml: the file is larger than deckgen's limit of 8 MiB "
            "(split it into smaller files)")


# What Anki cannot store or would merge
# -------------------------------------------------------------------------------------------------

def test_a_field_separator_from_a_template_is_located(built: Path, deckgen: Callable[..., CliRun]) -> None:
    (built / "templates").mkdir()
    (built / "templates/basic.html.j2").write_text(
        '{% block Front %}{{ front }}a\x1fb{% endblock %}{% block Back %}{{ back }}{% endblock %}', encoding="utf-8")
    refused(deckgen("build", built), "cards/causes.yaml:3:5: card 'trauma': its fields would contain the control "
            "character U+001F (Anki refuses the whole package: remove it from the template or the card)")


@pytest.mark.parametrize("second", ["causes", "Cause\u0301s".replace("Cause\u0301s", "Caus\u00e9s"), "CAUSES"])
def test_group_titles_that_anki_merges(second: str, make_project: Callable[..., Path],
                                       deckgen: Callable[..., CliRun]) -> None:
    first = "Causés" if "é" in second else "Causes"
    first = unicode_nfd(first) if "é" in second else first
    config = f"deck: T\nkey: t\ngroups:\n  cause: {first}\n  mechanism: {second}\n"
    run = deckgen("check", make_project({"deckgen.yaml": config}))
    refused(run)
    assert run.problems[0].startswith("deckgen.yaml:5:14: groups 'cause' and 'mechanism' share the title ")


def unicode_nfd(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize("tags,problem", [
    ("[Anatomy, anatomy]", "cards/causes.yaml:3:5: card 'trauma': tags 'Anatomy' and 'anatomy' differ only in case "
                           "or Unicode form (Anki would merge them into one tag: write them the same way)"),
    ("[\"ana\u200btomy\"]", "cards/causes.yaml:6:12: card 'trauma': tag 'ana\u200btomy' contains the invisible "
                            "character U+200B (remove it: Anki would keep a tag that looks like another)"),
    ("[\"\u202eymotana\"]", "cards/causes.yaml:6:12: card 'trauma': tag '\\u202eymotana' contains the invisible "
                            "character U+202E (remove it: Anki would keep a tag that looks like another)"),
])
def test_tags_that_anki_merges_or_hides(tags: str, problem: str, make_project: Callable[..., Path],
                                        deckgen: Callable[..., CliRun]) -> None:
    refused(deckgen("check", make_project({CARDS: MINIMAL_CARDS + f"    tags: {tags}\n"})), problem)


def test_tags_of_different_cards_that_anki_merges(make_project: Callable[..., Path],
                                                  deckgen: Callable[..., CliRun]) -> None:
    cards = MINIMAL_CARDS + "    tags: [Anatomy]\n  - id: other\n    front: Q\n    back: A\n    tags: [anatomy]\n"
    project = make_project({CARDS: cards})
    problem = ("cards/causes.yaml:7:5: card 'other': tag 'anatomy' differs from the tag 'Anatomy' of another card "
               "only in case or Unicode form (Anki would merge them into one tag: write them the same way)")
    refused(deckgen("check", project), problem)
    refused(deckgen("check", project), problem)  # the same from the build cache
    refused(deckgen("build", project), problem)


# Remote content is refused in card text, templates and CSS
# -------------------------------------------------------------------------------------------------

def test_a_remote_image_in_card_text(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project({"deckgen.yaml": "deck: T\nkey: t\ngroups: {cause: Causes}\nhtml: true\n",
                            CARDS: MINIMAL_CARDS.replace("Trauma", "'<img src=\"https://evil.example/b.png\">'")})
    refused(deckgen("build", project), "cards/causes.yaml:3:5: card 'trauma': loads the remote resource "
            "'https://evil.example/b.png' (remote content is refused: it tells a server whenever the card is shown, "
            "and fails offline; copy the file into the media folder and refer to it by name)")


def test_a_remote_import_in_the_css(make_project: Callable[..., Path], deckgen: Callable[..., CliRun]) -> None:
    project = make_project({"templates/style.css": ".card { color: red; }\n@import url(//evil.example/x.css);\n"})
    run = deckgen("build", project)
    refused(run)
    assert run.problems[0].startswith("templates/style.css:2:9: the CSS loads the remote resource "
                                      "'//evil.example/x.css'")


def test_a_remote_image_in_the_deck_description(make_project: Callable[..., Path],
                                                deckgen: Callable[..., CliRun]) -> None:
    config = "deck: T\nkey: t\ngroups: {cause: Causes}\ndescription: '![beacon](https://evil.example/b.png)'\n"
    refused(deckgen("build", make_project({"deckgen.yaml": config})),
            "deckgen.yaml: the deck's description loads the remote resource 'https://evil.example/b.png' (remote "
            "content is refused: it tells a server whenever the card is shown, and fails offline; copy the file "
            "into the media folder and refer to it by name)")


def test_template_media_with_a_name_that_is_not_utf8(built: Path, deckgen: Callable[..., CliRun]) -> None:
    before = state(built)
    (built / "media").mkdir()
    with open(os.path.join(os.fsencode(built / "media"), b"_font-\xfe.woff"), "wb") as stream:
        stream.write(b"x")
    refused(deckgen("build", built), "media/_font-\\xfe.woff: media name is not UTF-8 text, so Anki would rename "
            "it (rename the file)")
    assert state(built) == before


# --serve: only what it wrote, for its own host, never a traceback
# -------------------------------------------------------------------------------------------------

def _request(server: PreviewServer, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    port = server.httpd.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_serve_answers_only_what_it_wrote(sample_project: Path, tmp_path: Path, outside: Outside,
                                          capfd: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    with PreviewServer(sample_project, site, port=0) as server:
        assert _request(server, "/")[0] == 200
        assert _request(server, "/", host="evil.example")[0] == 421
        assert _request(server, "/", host=f"evil.example:{server.httpd.server_address[1]}")[0] == 421
        assert _request(server, "/assets/")[0] == 404  # no listing
        assert _request(server, "/index.html%00.png")[0] == 404
        assert _request(server, "/%ff%fe")[0] in (400, 404)
        assert _request(server, "/../../secret.txt")[0] == 404
        os.symlink(outside.secret, site / "secret.txt")
        assert _request(server, "/secret.txt")[0] == 404
        (site / "assets" / "preview.css").unlink()
        os.symlink(outside.secret, site / "assets" / "preview.css")  # a file it wrote, swapped for a link
        status, _, body = _request(server, "/assets/preview.css")
        assert status == 404 and SECRET.encode() not in body
        _, headers, _ = _request(server, "/media/dot.png")
        assert "sandbox" in headers["Content-Security-Policy"]
        with socket.create_connection(server.httpd.server_address[:2]) as aborted:  # a download given up
            aborted.sendall(f"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:{server.httpd.server_address[1]}\r\n\r\n"
                            .encode())
        assert _request(server, "/")[0] == 200
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out


def test_card_documents_carry_a_policy_and_no_card_script_is_allowed(sample_project: Path, tmp_path: Path) -> None:
    result = write_preview(prepare(sample_project), tmp_path / "site")
    document = (tmp_path / "site" / "cards" / "0-question.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in document and "default-src &#x27;none&#x27;" in document
    assert "unsafe-inline&#x27;; font-src" in document  # style only: scripts need the hash
    assert "script-src &#x27;sha256-" in document
    assert all((tmp_path / "site" / name).is_file() for name in result.files)


# Workers die with their build
# -------------------------------------------------------------------------------------------------

SLOW = "{% for i in range(100000) %}{% for j in range(5) %}{% endfor %}{% endfor %}"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from Linux's /proc")
def test_workers_die_with_a_killed_build(make_project: Callable[..., Path], guard: None) -> None:
    """Each worker has minutes of template work queued: only the kernel's parent-death signal ends it at once."""
    import subprocess
    import sys
    import time

    files: dict[str, str | bytes | None] = {
        "templates/cause.yaml": SPEC,
        "templates/cause.html.j2": "{% block Front %}" + SLOW + "{{ cause }}{% endblock %}{% block Back %}x{% endblock %}",
    }
    for number in range(16):
        cards = "".join(f"  - id: c{number}-{i}\n    cause: Cause {i}\n" for i in range(40))
        files[f"cards/f{number:02}.yaml"] = "group: cause\ntype: cause\ncards:\n" + cards
    files[CARDS] = None
    project = make_project(files)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    build = subprocess.Popen([sys.executable, "-m", "deckgen", "build", "--no-cache", "-j", "3", str(project)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers: list[int] = []
        while len(workers) < 2 and build.poll() is None:
            workers = _children(build.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the build finished before its workers could be seen"
    finally:
        build.kill()
        build.wait()
    while any(_alive(worker) for worker in workers):  # the guard's alarm fails the test if they live on
        time.sleep(0.05)
