"""Card identity across releases, checked with the official Anki backend: renames keep learners'
notes and reviews, removed cards come back on purpose, GUIDs can be pinned, ids can be any script's."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ankitools import import_package, review_everything
from conftest import write_project
from deckgen.build.pipeline import BuildOptions, BuildResult, build, prepare
from deckgen.release.make import ReleaseOptions
from deckgen.release.make import release as make_release
from deckgen.build.lock import LOCK_FILE
from deckgen.problems import ProjectError
from deckgen.build.render import note_guid

KEY = "test-deck"
T0 = 1_800_000_000


def _cards(*cards: str) -> str:
    return "group: cause\ncards:\n" + "".join(cards)


TRAUMA = "  - id: trauma\n    front: Which injury?\n    back: Trauma\n"
NECROSIS = "  - id: necrosis\n    front: What is necrosis?\n    back: Death of tissue\n"


def _injury(back: str = "Trauma", former: str = "[trauma]") -> str:
    return f"  - id: injury\n    former_ids: {former}\n    front: Which injury?\n    back: {back}\n"


@pytest.fixture
def release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """release(n, cards_text) -> release n.0.0 of one project, n days after T0 (`deckgen release`), as a build result."""
    root = tmp_path / "project"

    def make(number: int, cards: str, **options: object):  # type: ignore[no-untyped-def]
        write_project(root, {"cards/causes.yaml": cards})
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400 * number))
        made = make_release(root, f"{number}.0.0", ReleaseOptions(BuildOptions(use_cache=False, **options)))  # type: ignore[arg-type]
        return BuildResult(made.project, made.package)

    return make



def _lock(result) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads((result.project.config.root / LOCK_FILE).read_text(encoding="utf-8"))


def test_a_renamed_card_keeps_its_note_and_review_history(release, learner) -> None:  # type: ignore[no-untyped-def]
    v1 = release(1, _cards(TRAUMA, NECROSIS))
    assert len(import_package(learner, v1.output, with_scheduling=True).log.new) == 2
    reviews = review_everything(learner)
    first = _lock(v1)["cards"]["trauma"]

    v2 = release(2, _cards(_injury(), NECROSIS))  # renamed, content as before
    report = v2.project.report
    assert (report.renamed, report.added, report.removed, report.changed) == ([("trauma", "injury")], [], [], [])
    assert "renamed: trauma → injury (learners keep their note and its reviews)" in report.lines(v2.project.config)
    assert "- `trauma` → `injury`: learners keep their note and its reviews" in report.markdown(v2.project.config)
    lock = _lock(v2)
    assert lock["cards"]["injury"] == first  # the entry moved, its times kept
    assert "trauma" not in lock["cards"] and lock["removed"] == {}
    assert lock["guids"] == {"injury": note_guid(KEY, "trauma")}
    log = import_package(learner, v2.output).log
    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (0, 0, 2, 0)

    v3 = release(3, _cards(_injury("Trauma, e.g. an open wound"), NECROSIS))  # and now edited
    assert v3.project.report.changed == ["injury"] and v3.project.report.renamed == []
    assert _lock(v3)["cards"]["injury"][1] == T0 + 3 * 86_400  # a newer time for the new content
    log = import_package(learner, v3.output).log
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 1, 0)
    assert len(learner.find_notes("")) == 2
    note = learner.get_note(learner.find_notes("back:*wound*")[0])
    assert note.guid == note_guid(KEY, "trauma")
    assert dict(learner.db.all("select cid, count() from revlog group by cid")) == reviews


def test_a_rename_chain_keeps_the_first_id_and_dropping_it_later_is_refused(release) -> None:  # type: ignore[no-untyped-def]
    release(1, _cards(TRAUMA))
    release(2, _cards(_injury()))
    third = "  - id: wound\n    former_ids: [trauma, injury]\n    front: Which injury?\n    back: Trauma\n"
    v3 = release(3, _cards(third))
    assert v3.project.report.renamed == [("injury", "wound")]
    assert [n.guid for n in v3.project.notes] == [note_guid(KEY, "trauma")]
    with pytest.raises(ProjectError) as error:
        release(4, _cards(third.replace("former_ids: [trauma, injury]", "former_ids: [injury]")))
    assert [str(p) for p in error.value.problems] == [
        f"cards/causes.yaml:3:5: card 'wound': its GUID would change from "
        f"'{note_guid(KEY, 'trauma')}' to '{note_guid(KEY, 'injury')}' (learners would get a second note; keep the "
        "card's 'former_ids' (oldest first) or 'guid' as they were in the release learners have)"
    ]


def test_a_renamed_card_with_an_error_gets_only_that_error(release) -> None:  # type: ignore[no-untyped-def]
    """Its identity is unknown while it has errors: no false 'its GUID would change' beside the real mistake."""
    release(1, _cards(TRAUMA))
    release(2, _cards(_injury()))
    with pytest.raises(ProjectError) as error:
        release(3, _cards(_injury() + "    extr: an open wound\n"))
    assert [str(p) for p in error.value.problems] == [
        "cards/causes.yaml:7:5: card 'injury': unknown field 'extr' (did you mean 'extra'?)"]


def test_former_ids_are_checked(release) -> None:  # type: ignore[no-untyped-def]
    release(1, _cards(TRAUMA, NECROSIS))
    with pytest.raises(ProjectError) as error:
        release(2, _cards(
            _injury(former="[necrosis]"), NECROSIS,
            "  - id: wound\n    former_ids: [trauma, trauma]\n    front: Which wound?\n    back: Open\n",
            "  - id: lesion\n    former_ids: [trauma]\n    front: Which lesion?\n    back: Any\n",
        ))
    assert sorted(str(p) for p in error.value.problems) == [
        "cards/causes.yaml:11:26: card 'wound': former id 'trauma' is listed twice "
        "(list each earlier id once, oldest first)",
        "cards/causes.yaml:15:18: card 'lesion': former id 'trauma' is also listed by card 'wound' "
        "(only one card can keep the note of a renamed card)",
        "cards/causes.yaml:4:18: card 'injury': former id 'necrosis' is the id of another card at "
        "cards/causes.yaml:7:5 (a card renamed from it keeps its note; two cards cannot share one note)",
    ]


def test_a_released_card_cannot_take_former_ids(release) -> None:  # type: ignore[no-untyped-def]
    release(1, _cards(TRAUMA, NECROSIS))
    with pytest.raises(ProjectError) as error:
        release(2, _cards(TRAUMA, NECROSIS.replace("necrosis\n", "necrosis\n    former_ids: [old-necrosis]\n", 1)))
    assert "card 'necrosis': its GUID would change" in str(error.value.problems[0])


def test_a_removed_card_is_restored_on_purpose(release, learner) -> None:  # type: ignore[no-untyped-def]
    v1 = release(1, _cards(TRAUMA, NECROSIS))
    import_package(learner, v1.output, with_scheduling=True)
    reviews = review_everything(learner)
    v2 = release(2, _cards(TRAUMA))
    assert v2.project.report.removed == ["necrosis"] and "necrosis" in _lock(v2)["removed"]

    with pytest.raises(ProjectError) as error:
        release(3, _cards(TRAUMA, NECROSIS.replace("Death of tissue", "Death of cells in living tissue")))
    assert [str(p) for p in error.value.problems] == [
        "cards/causes.yaml:6:5: card 'necrosis': this id belonged to a card retired in an earlier release (ids "
        "are never reused: learners still have the old card; give this one a new id, or add 'restore: true' to "
        "bring the old card back on purpose)"
    ]
    restored = NECROSIS.replace("Death of tissue", "Death of cells in living tissue") + "    restore: true\n"
    v3 = release(3, _cards(TRAUMA, restored))
    assert (v3.project.report.restored, v3.project.report.added) == (["necrosis"], [])
    assert "restored: necrosis (learners who still have it get it updated)" in v3.project.report.lines(
        v3.project.config)
    assert "## Restored" in v3.project.report.markdown(v3.project.config)
    assert _lock(v3)["removed"] == {} and "necrosis" in _lock(v3)["cards"]
    log = import_package(learner, v3.output).log
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 1, 0)
    assert len(learner.find_notes("")) == 2
    assert dict(learner.db.all("select cid, count() from revlog group by cid")) == reviews

    v4 = release(4, _cards(TRAUMA, restored))  # the flag left in: it has done its work
    assert [str(p) for p in v4.project.problems] == [
        "cards/causes.yaml:9:14: warning: card 'necrosis': 'restore: true', but no release retired a card with this id "
        "(remove 'restore: true' (after the release that restored the card, it has done its work))"
    ]
    assert v4.project.report.empty


def test_a_pinned_guid_arrives_as_given(release, learner) -> None:  # type: ignore[no-untyped-def]
    pinned = TRAUMA + '    guid: "f%Kx!2@Lp"\n'
    v1 = release(1, _cards(pinned, NECROSIS))
    assert _lock(v1)["guids"] == {"trauma": "f%Kx!2@Lp"}
    import_package(learner, v1.output)
    guids = {learner.get_note(n)["Front"]: learner.get_note(n).guid for n in learner.find_notes("")}
    assert guids == {"Which injury?": "f%Kx!2@Lp", "What is necrosis?": note_guid(KEY, "necrosis")}
    v2 = release(2, _cards(pinned.replace("Trauma", "Trauma, e.g. a wound"), NECROSIS))
    log = import_package(learner, v2.output).log
    assert (len(log.new), len(log.updated)) == (0, 1)


def test_a_pinned_guid_must_be_no_other_cards(release) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProjectError) as error:
        release(1, _cards(
            TRAUMA + '    guid: "abc"\n',
            NECROSIS + f'    guid: "{note_guid(KEY, "lesion")}"\n',
            "  - id: wound\n    guid: abc\n    front: Which wound?\n    back: Open\n",
            "  - id: lesion\n    front: Which lesion?\n    back: Any\n",
        ))
    assert sorted(str(p) for p in error.value.problems) == [
        f"cards/causes.yaml:10:11: card 'necrosis': GUID '{note_guid(KEY, 'lesion')}' is also the GUID of card "
        "'lesion' (from its id) (every note needs its own GUID)",
        "cards/causes.yaml:12:11: card 'wound': GUID 'abc' is also the GUID of card 'trauma' "
        "(every note needs its own GUID)",
    ]


def test_unicode_ids_are_nfc_normalised(release, learner) -> None:  # type: ignore[no-untyped-def]
    nfc = "étiologie-φ"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    card = "  - id: {}\n    front: Étiologie?\n    back: Les causes\n"
    v1 = release(1, _cards(card.format(nfc), card.format("नमस्ते").replace("Étiologie", "Namaste")))
    assert [n.card_id for n in v1.project.notes] == [nfc, "नमस्ते"]
    assert v1.project.notes[0].guid == note_guid(KEY, nfc)
    import_package(learner, v1.output)
    v2 = release(2, _cards(card.format(nfd), card.format("नमस्ते").replace("Étiologie", "Namaste")))
    assert v2.project.report.empty  # the same id, however the editor wrote the 'é'
    assert [n.card_id for n in v2.project.notes] == [nfc, "नमस्ते"]
    log = import_package(learner, v2.output).log
    assert (len(log.new), len(log.duplicate)) == (0, 2)

    with pytest.raises(ProjectError) as error:
        release(3, _cards(card.format(nfc), card.format(nfd).replace("Étiologie", "Autre")))
    assert [str(p) for p in error.value.problems] == [
        f"cards/causes.yaml:6:5: card '{nfc}': card id is already used at cards/causes.yaml:3:5 "
        "(every card needs its own id, unique in the project)"
    ]


@pytest.mark.parametrize("bad", ["a b", "-start", "semi;colon", "zero\u200bwidth", "a/b"])
def test_ids_outside_letters_digits_and_three_marks_are_refused(release, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProjectError) as error:
        release(1, _cards(f'  - id: "{bad}"\n    front: Q?\n    back: A\n'))
    assert "must be letters, digits, '-', '_' or '.'" in str(error.value.problems[0])


def test_identities_survive_the_build_cache(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"cards/causes.yaml": _cards(TRAUMA + '    guid: "pinned"\n')})
    build(root, BuildOptions(output=tmp_path / "a.apkg"))
    write_project(root, {"cards/causes.yaml": _cards(_injury().replace("[trauma]", "[trauma]\n    guid: pinned"))})
    checked = prepare(root, BuildOptions(fields=False))  # from a fresh compile
    cached = prepare(root, BuildOptions(fields=False))  # from the cache, without field text
    assert checked.identities == cached.identities
    assert cached.report.renamed == [("trauma", "injury")]
    assert cached.lock.guids == {"injury": "pinned"}


def test_a_former_id_the_lock_does_not_know_is_warned(release) -> None:  # type: ignore[no-untyped-def]
    release(1, _cards(TRAUMA, NECROSIS))
    v2 = release(2, _cards(_injury(former="[trauam]"), NECROSIS))
    assert [str(p) for p in v2.project.problems] == [
        "cards/causes.yaml:4:18: warning: card 'injury': no card 'trauam' was released (deckgen.lock has no "
        "release with it) (did you mean 'trauma'?)",
        "cards/causes.yaml:3:5: warning: card 'injury': same content as the released card 'trauma', which is gone: "
        "learners would get this card as a second note (if it is that card renamed, add former_ids: [trauma]; "
        "learners then keep their note and its reviews)",
    ]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), min_size=1, max_size=8))
def test_the_locks_guid_table_is_the_json_it_stands_for(guids: dict[str, str]) -> None:
    """The lock's guids table, formatted directly, is byte for byte the JSON json.dumps(indent=4) writes."""
    from deckgen.build.lock_file import _guid_table

    assert _guid_table(guids) == json.dumps(dict(sorted(guids.items())), indent=4)[:-1] + "  }"
