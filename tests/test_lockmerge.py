"""Two authors on two branches: `git merge` of deckgen.lock, with real git, through deckgen's merge driver
and through a lock left with git's conflict markers. After the merge the build succeeds, the lock is
valid and the release report is right."""

from __future__ import annotations

import json
import os
import shlex
import random
import subprocess
import sys
from pathlib import Path
from typing import Callable

import orjson
import pytest
from conftest import REPO, run_deckgen, write_project

from deckgen.build.lock import Entry, Lock, lock_from_data
from deckgen.build.lock_file import CARD_COLUMNS, LOCK_FORMAT, RELEASED_COLUMNS
from deckgen.build.lock_merge import merge_texts, split_conflict

CONFIG = "deck: Merge Test\nkey: merge-test\ngroups:\n  cause: Causes\n"
BASE_TIME, OURS_TIME, THEIRS_TIME, MERGE_TIME = 1_700_000_000, 1_700_001_000, 1_700_002_000, 1_700_003_000


def card(card_id: str, back: str = "answer") -> str:
    return f"group: cause\ncards:\n  - id: {card_id}\n    front: Question {card_id}?\n    back: {back}\n"


class Repo:
    """A deck repository in a temporary folder, driven with real git and deckgen."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, driver: bool | str) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        home = root.parent / "home"
        home.mkdir(exist_ok=True)
        self.env = {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "PYTHONPATH": str(REPO),
                    "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@localhost",
                    "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@localhost"}
        self.env.pop("GIT_DIR", None)
        write_project(root, {"deckgen.yaml": CONFIG, ".gitignore": "dist/\n",
                             ".gitattributes": "deckgen.lock merge=deckgen-lock\n",
                             **{f"cards/{c}.yaml": card(c) for c in ("b", "c", "e")}}, base=False)
        self.git("init", "-q", "-b", "main")
        if driver:
            command = driver if isinstance(driver, str) else f"{sys.executable} -m deckgen lock-merge %O %A %B"
            self.git("config", "merge.deckgen-lock.driver", command)
        self.monkeypatch.setenv("SOURCE_DATE_EPOCH", str(BASE_TIME))
        released = run_deckgen("release", "1.0.0", self.root)  # what branches remove was released: it stays removed
        assert released.exit_code == 0, released.stdout + released.stderr
        self.commit("base")

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=self.root, env=self.env, text=True, capture_output=True,
                              check=check)

    def build(self, now: int) -> list[str]:
        """`deckgen build` at a given time; its report lines."""
        self.monkeypatch.setenv("SOURCE_DATE_EPOCH", str(now))
        run = run_deckgen("build", "--no-cache", self.root)
        assert run.exit_code == 0, run.stdout + run.stderr
        return [line.strip() for line in run.stdout.splitlines()[2:]]

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def branch(self, name: str, files: dict[str, str | None], now: int) -> None:
        """A branch off main that changes some card files, built and committed."""
        self.git("checkout", "-q", "-b", name, "main")
        write_project(self.root, files, base=False)
        self.build(now)
        self.commit(name)
        self.git("checkout", "-q", "main")

    def lock(self) -> dict:  # type: ignore[type-arg]
        data = orjson.loads((self.root / "deckgen.lock").read_bytes())
        lock_from_data(data)  # a lock deckgen reads
        return data


def merge(repo: Repo, resolve: dict[str, str] | None = None) -> list[str]:
    """Merge branch 'one' into main (it goes through), then 'two'; resolve card files; build; the report."""
    assert repo.git("merge", "-q", "--no-edit", "one").returncode == 0
    second = repo.git("merge", "-q", "--no-edit", "two", check=False)
    conflicted = repo.git("diff", "--name-only", "--diff-filter=U").stdout.split()
    if resolve:
        write_project(repo.root, resolve, base=False)
    return [second.returncode, conflicted, repo.build(MERGE_TIME)]  # type: ignore[list-item]


SCENARIOS = {
    # name: (branch one's files, branch two's files)
    "adjacent-cards-edited": ({"cards/b.yaml": card("b", "one")}, {"cards/c.yaml": card("c", "two")}),
    "neighbouring-ids-added": ({"cards/d1.yaml": card("d1")}, {"cards/d2.yaml": card("d2")}),
    "card-removed": ({"cards/c.yaml": None}, {"cards/b.yaml": card("b", "two")}),
}


@pytest.mark.parametrize("driver", [True, False], ids=["merge-driver", "conflict-markers"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_branches_merge_and_build(name: str, driver: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "deck", monkeypatch, driver)
    one, two = SCENARIOS[name]
    repo.branch("one", one, OURS_TIME)
    repo.branch("two", two, THEIRS_TIME)
    status, conflicted, report = merge(repo)
    assert (status, conflicted) == ((0, []) if driver else (1, ["deckgen.lock"]))
    assert report == ["no changes since the lock"]  # both branches' changes are in the merged lock
    lock = repo.lock()
    cards = {key: row[1] for key, row in lock["cards"].items()}
    expected = {
        "adjacent-cards-edited": ({"b": OURS_TIME, "c": THEIRS_TIME, "e": BASE_TIME}, {}),
        "neighbouring-ids-added": ({"b": BASE_TIME, "c": BASE_TIME, "d1": OURS_TIME, "d2": THEIRS_TIME,
                                    "e": BASE_TIME}, {}),
        "card-removed": ({"b": THEIRS_TIME, "e": BASE_TIME}, {"c": OURS_TIME}),
    }[name]
    assert (cards, lock["removed"]) == expected
    assert "<<<<<<<" not in (repo.root / "deckgen.lock").read_text()
    assert repo.build(MERGE_TIME + 1) == ["no changes since the lock"]


@pytest.mark.parametrize("driver", [True, False], ids=["merge-driver", "conflict-markers"])
def test_both_edit_the_same_card(driver: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "deck", monkeypatch, driver)
    repo.branch("one", {"cards/b.yaml": card("b", "one")}, OURS_TIME)
    repo.branch("two", {"cards/b.yaml": card("b", "two")}, THEIRS_TIME)
    # The card file conflicts as text: the authors settle on the first branch's wording.
    status, conflicted, report = merge(repo, resolve={"cards/b.yaml": card("b", "one")})
    assert status == 1 and set(conflicted) == ({"cards/b.yaml"} if driver else {"cards/b.yaml", "deckgen.lock"})
    assert report == ["changed: b"]  # learners who have the second branch's text get the first one's
    row = repo.lock()["cards"]["b"]
    assert row[1] == MERGE_TIME > THEIRS_TIME and row[2] == BASE_TIME


def test_check_reads_a_conflicted_lock_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "deck", monkeypatch, driver=False)
    repo.branch("one", {"cards/b.yaml": card("b", "one")}, OURS_TIME)
    repo.branch("two", {"cards/c.yaml": card("c", "two")}, THEIRS_TIME)
    repo.git("merge", "-q", "--no-edit", "one")
    repo.git("merge", "-q", "--no-edit", "two", check=False)
    before = (repo.root / "deckgen.lock").read_text()
    check = run_deckgen("check", repo.root)
    assert check.exit_code == 0 and before == (repo.root / "deckgen.lock").read_text()
    assert check.stderr.startswith(  # git's markers have no common ancestor: which side changed what is unknown
        "deckgen.lock: note: the lock held git conflict markers; deckgen merged both sides without their common "
        "ancestor: 2 entries differed, the later change of each kept (cards/b, cards/c)")
    frozen = run_deckgen("build", "--frozen", repo.root)
    assert frozen.exit_code == 1 and "deckgen.lock: the lock holds git conflict markers" in frozen.stderr
    assert run_deckgen("check", "--strict", repo.root).exit_code == 0  # a note is not a warning


def test_a_driver_that_cannot_run_leaves_a_conflict_that_build_merges(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`deckgen new`'s driver line with its interpreter gone: git's own merge leaves markers, never a silent 'ours'."""
    gone = shlex.quote(str(tmp_path / "no such python"))
    repo = Repo(tmp_path / "deck", monkeypatch, f"{gone} -m deckgen lock-merge %O %A %B || git merge-file %A %O %B")
    repo.branch("one", {"cards/b.yaml": card("b", "one")}, OURS_TIME)
    repo.branch("two", {"cards/c.yaml": card("c", "two")}, THEIRS_TIME)
    status, conflicted, report = merge(repo)
    assert (status, conflicted, report) == (1, ["deckgen.lock"], ["no changes since the lock"])
    assert {key: row[1] for key, row in repo.lock()["cards"].items()} == {"b": OURS_TIME, "c": THEIRS_TIME,
                                                                          "e": BASE_TIME}


def test_the_driver_says_what_came_from_which_side() -> None:
    base = _lock({"a": ["h", 1, 1, "", ""], "b": ["h", 1, 1, "", ""], "c": ["h", 1, 1, "", ""]})
    ours = _lock({"a": ["h2", 2, 1, "", ""], "b": ["h", 1, 1, "", ""], "c": ["h3", 3, 1, "", ""]})
    theirs = _lock({"a": ["h", 1, 1, "", ""], "b": ["h4", 4, 1, "", ""], "c": ["h5", 5, 1, "", ""]})
    assert merge_texts(base, ours, theirs).describe() == (
        "merged both sides: 1 entry changed on our side only (cards/a), 1 entry on theirs only (cards/b), "
        "1 entry on both sides, the later change kept (cards/c)")


def _lock(cards: dict[str, list[object]], removed: dict[str, int] | None = None) -> str:
    return json.dumps({"format": LOCK_FORMAT, "note_types": {}, "card_columns": CARD_COLUMNS,
                       "cards": cards, "releases": {}, "released_columns": RELEASED_COLUMNS, "released": {},
                       "removed": removed or {}}, indent=1)


def test_without_a_base_the_later_time_wins_and_a_removal_beats_older_entries() -> None:
    ours = _lock({"a": ["h1", 5, 1, "", "basic"], "b": ["h2", 3, 1, "", "basic"]})
    theirs = _lock({"a": ["h3", 7, 1, "", "basic"]}, removed={"b": 4})
    merged = merge_texts(None, ours, theirs)
    assert merged.lock.cards["a"].hash == "h3" and "b" not in merged.lock.cards and merged.lock.removed == {"b": 4}
    later = merge_texts(None, _lock({"b": ["h4", 9, 1, "", "basic"]}), theirs)  # changed after the removal
    assert later.lock.cards["b"].hash == "h4" and later.lock.removed == {}


def test_with_a_base_a_removal_loses_to_a_change_on_the_other_side() -> None:
    base = _lock({"b": ["h2", 3, 1, "", "basic"]})
    changed = _lock({"b": ["h5", 9, 1, "", "basic"]})
    removed = _lock({}, removed={"b": 12})
    assert merge_texts(base, changed, removed).lock.cards["b"].hash == "h5"
    assert merge_texts(base, base, removed).lock.cards == {}


def test_unknown_top_level_tables_are_merged_entry_by_entry() -> None:
    def side(table: dict[str, object]) -> str:
        return _lock({})[:-2] + ', "renamed": ' + json.dumps(table) + "\n}"

    base, ours, theirs = side({}), side({"x": {"to": "y", "mtime": 4}}), side({"z": {"to": "w", "mtime": 5}})
    from deckgen.build.lock_merge import _data, _Merger

    merged = _Merger(_data(base), _data(ours), _data(theirs)).run()
    assert merged["renamed"] == {"x": {"to": "y", "mtime": 4}, "z": {"to": "w", "mtime": 5}}


def test_diff3_markers_give_the_base() -> None:
    text = "a\n<<<<<<< ours\nb1\n||||||| base\nb0\n=======\nb2\n>>>>>>> theirs\nc\n"
    assert split_conflict(text) == ("a\nb0\nc\n", "a\nb1\nc\n", "a\nb2\nc\n")
    assert split_conflict(text.replace("||||||| base\nb0\n", ""))[0] is None


def test_pathological_markers_fail_as_a_damaged_lock(make_project: Callable[..., Path]) -> None:
    project = make_project({"deckgen.lock": "<<<<<<< ours\n{\n=======\n"})
    run = run_deckgen("check", project)
    assert run.exit_code == 1 and "deckgen.lock: the lock file is damaged" in run.stderr


def test_merge_driver_refuses_what_is_not_a_lock(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("base", "ours", "theirs")]
    for path, text in zip(paths, [_lock({}), "not json", _lock({})]):
        path.write_text(text)
    run = run_deckgen("lock-merge", *paths)
    assert run.exit_code == 1 and "deckgen.lock: cannot merge" in run.stderr
    assert paths[1].read_text() == "not json"  # left for git to mark as a conflict


def test_every_table_of_the_lock_merges_entry_by_entry() -> None:
    """Tables the lock has besides cards (deck options, note types) merge like the cards."""
    def side(preset: str, mtime: int, note_type_mtime: int) -> str:
        data = json.loads(_lock({"a": ["h1", 5, 1, "", "basic"]}))
        data["deck_options"] = {"preset": {"hash": preset, "mtime": mtime, "added": 1}}
        data["note_types"] = {"basic": {"hash": f"n{note_type_mtime}", "mtime": note_type_mtime, "added": 1,
                                        "fields": ["Front", "Back", "Extra", "Sources"], "templates": ["Card 1"]}}
        return json.dumps(data)

    base, ours, theirs = side("p0", 2, 2), side("p1", 8, 2), side("p0", 2, 9)
    for merged in (merge_texts(base, ours, theirs).lock, merge_texts(None, ours, theirs).lock):
        assert merged.deck_options["preset"].hash == "p1" and merged.note_types["basic"].mtime == 9


@pytest.mark.parametrize("style", ["merge", "diff3"])
def test_conflict_markers_of_many_random_merges(tmp_path: Path, style: str) -> None:
    """git merge-file on random edits of both sides: the sides rebuilt from its markers always merge, and
    an entry changed on one side only comes from that side."""
    rng = random.Random(14)
    conflicted = 0

    def lock_text(cards: dict[str, Entry], removed: dict[str, int]) -> str:
        return Lock(cards=cards, removed=removed).to_json()

    for _ in range(40):
        base = {f"c{n:02d}": Entry(f"h{n}", 100, 100, "", "basic") for n in range(rng.randint(1, 12))}
        sides = []
        for time in (200, 300):
            cards, removed = dict(base), {}
            for card_id in list(cards):
                roll = rng.random()
                if roll < 0.25:
                    cards[card_id] = Entry(f"{card_id}@{time}", time, 100, "", "basic")
                elif roll < 0.35:
                    del cards[card_id]
                    removed[card_id] = time
            for _ in range(rng.randint(0, 2)):
                cards[f"c{rng.randint(0, 15):02d}{'ab'[time == 300]}"] = Entry(f"new@{time}", time, time, "", "basic")
            sides.append((cards, removed))
        paths = [tmp_path / name for name in ("ours", "base", "theirs")]
        for path, (cards, removed) in zip(paths, [sides[0], (base, {}), sides[1]]):
            path.write_text(lock_text(cards, removed))
        marked = subprocess.run(["git", "merge-file", "-p", *([f"--{style}"] if style == "diff3" else []),
                                 *map(str, paths)], capture_output=True, text=True).stdout
        merged = merge_texts(*split_conflict(marked)).lock if "<<<<<<<" in marked else None
        if merged is None:
            continue
        conflicted += 1
        for card_id in base.keys() | sides[0][0].keys() | sides[1][0].keys():
            ours, theirs = sides[0][0].get(card_id), sides[1][0].get(card_id)
            before = base.get(card_id)
            if ours == before and theirs is not None:
                assert merged.cards.get(card_id) == theirs
            if theirs == before and ours is not None:
                assert merged.cards.get(card_id) == ours
        assert all(merged.cards[c].mtime >= base[c].mtime for c in merged.cards if c in base)
    assert conflicted >= 20


def test_the_next_release_covers_both_branches_after_the_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each branch's build moved the lock, so the merged build reports nothing; the release notes still say it all."""
    repo = Repo(tmp_path / "deck", monkeypatch, driver=True)  # 1.0.0 released on main
    repo.branch("one", {"cards/b.yaml": card("b", "one"), "cards/d1.yaml": card("d1")}, OURS_TIME)
    repo.branch("two", {"cards/c.yaml": None}, THEIRS_TIME)
    status, conflicted, report = merge(repo)
    assert (status, conflicted, report) == (0, [], ["no changes since the lock"])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(MERGE_TIME))
    released = run_deckgen("release", "1.1.0", repo.root)
    assert released.exit_code == 0, released.stdout + released.stderr
    assert "release 1.1.0 (since 1.0.0): 1 new, 1 changed, 1 retired, 0 with emptied cards" in released.stdout
    notes = (repo.root / "dist" / "merge-test-1.1.0.md").read_text(encoding="utf-8")
    assert "## New\n\n1 new note; its cards arrive as new cards:\n\n- Question d1?" in notes
    assert "## Changed\n\n1 note updated in place; your reviews are kept:\n\n- Question b?" in notes
    assert "## Retired" in notes


def test_a_release_on_one_branch_merges_with_builds_on_another() -> None:
    """The release record merges entry by entry like the rest: one branch's release, the other's new cards."""
    from deckgen.build.lock_file import Release, Released

    def lock(cards: dict[str, Entry], released: dict[str, Released], releases: dict[str, Release]) -> str:
        return Lock(cards=cards, released=released, releases=releases).to_json()

    entry = Entry("h1", 10, 10, "", "basic")
    first = {"a": Released("h1", "", "basic", (0,), 10_000, "", "1.0.0"), "b": Released("h2", "", "basic", (0,), 10_001, "", "1.0.0")}
    base = lock({"a": entry, "b": entry}, first, {"1.0.0": Release(10, {})})
    released = lock({"a": entry}, {**first, "b": first["b"]._replace(retired="1.1.0")},
                    {"1.0.0": Release(10, {}), "1.1.0": Release(20, {})})
    built = lock({"a": entry, "b": entry, "c": Entry("h3", 30, 30, "", "basic")}, first, {"1.0.0": Release(10, {})})
    merged = merge_texts(base, released, built).lock
    assert sorted(merged.releases) == ["1.0.0", "1.1.0"] and merged.retired("b") and sorted(merged.cards) == ["a", "c"]


def test_a_release_that_records_note_times_merges_with_a_branch_on_a_format_3_lock() -> None:
    """A branch still on a format-3 lock (no released note times) merges with one that released since: the times stay."""
    from deckgen.build.lock_file import Release, Released

    def lock(released: dict[str, Released], releases: dict[str, Release], cards: dict[str, Entry]) -> str:
        return Lock(cards=cards, released=released, releases=releases).to_json()

    def as_format_3(text: str) -> str:
        data = json.loads(text)
        data["released"] = {card_id: row[:-1] for card_id, row in data["released"].items()}
        return json.dumps({**data, "format": 3, "released_columns": RELEASED_COLUMNS[:-1]})

    entry, row = Entry("h1", 10, 10, "", "basic"), Released("h1", "", "basic", (0,), 10_000, "", "1.0.0")
    base = as_format_3(lock({"a": row}, {"1.0.0": Release(10, {})}, {"a": entry}))
    ours = lock({"a": row._replace(version="1.1.0", time=10)}, {"1.0.0": Release(10, {}), "1.1.0": Release(20, {})},
                {"a": entry})
    theirs = as_format_3(lock({"a": row}, {"1.0.0": Release(10, {})}, {"a": entry, "c": Entry("h3", 30, 30, "", "basic")}))
    merged = merge_texts(base, ours, theirs).lock
    assert merged.released["a"].time == 10 and merged.released["a"].version == "1.1.0" and sorted(merged.cards) == ["a", "c"]
    assert json.loads(merged.to_json())["released"]["a"][-1] == 10


def test_media_hashes_merge_like_cards() -> None:
    def with_media(media: dict[str, dict[str, object]]) -> str:
        data = json.loads(_lock({"a": ["h", 1, 1, "", ""]}))
        return json.dumps({**data, "media": media})

    base = with_media({"x.png": {"hash": "x1", "mtime": 1, "added": 1}, "y.png": {"hash": "y1", "mtime": 1, "added": 1}})
    ours = with_media({"x.png": {"hash": "x2", "mtime": 5, "added": 1}, "y.png": {"hash": "y1", "mtime": 1, "added": 1}})
    theirs = with_media({"x.png": {"hash": "x1", "mtime": 1, "added": 1}, "y.png": {"hash": "y2", "mtime": 6, "added": 1}})
    merged = merge_texts(base, ours, theirs)
    assert {name: (entry.hash, entry.mtime) for name, entry in merged.lock.media.items()} == {
        "x.png": ("x2", 5), "y.png": ("y2", 6)}
    assert (merged.from_ours, merged.from_theirs) == (["media/x.png"], ["media/y.png"])
