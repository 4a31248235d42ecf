"""Card identity across releases: renamed cards, pinned GUIDs and restored cards, checked project-wide.

Anki matches notes by GUID, so a note's GUID must never change once learners have it. A card's
GUID comes from its id (`note_guid(key, id)`); a renamed card keeps the GUID of its first id
(`former_ids`, oldest first), and a card continued from a deck made elsewhere pins its GUID
(`guid:`). The lock's `guids` table remembers every GUID that is not the one from the card's id,
so that dropping a former id or a pin later is caught before it gives learners a second note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from .compiler import FileResult
from ..project.config import ProjectConfig
from .lock_file import Lock
from ..problems import WARNING, Problem, did_you_mean
from .render import note_guid
from .validate import Identity
from ..project.yaml_reader import Pos


@dataclass(frozen=True)
class Identities:
    """What the project's identity keys mean for this build."""

    renames: dict[str, str] = field(default_factory=dict)  # new id -> the old id whose lock entry it takes over
    guids: dict[str, str] = field(default_factory=dict)  # card id -> GUID, where not the one from its id
    restored: frozenset[str] = frozenset()  # removed ids brought back with 'restore: true'


class _Card(NamedTuple):  # a tuple: an imported deck pins the GUIDs of its thousands of cards
    path: str
    identity: Identity


def resolve(config: ProjectConfig, results: Iterable[FileResult], old: Lock) -> tuple[Identities, list[Problem]]:
    """The build's renames, GUIDs and restores, with every located problem they have."""
    results = list(results)
    cards = {card_id: _Card(result.path, identity) for result in results
             for card_id, identity in result.identities.items()}
    if not cards and not old.guids and not any(row.guid for row in old.released.values()):
        return Identities(), []  # the common case: every GUID comes from its card's id
    ids = {card_id: (result.path, line, column) for result in results for card_id, line, column in result.ids}
    renamed = {card_id: card for card_id, card in cards.items() if card.identity.former_ids}  # few, if any
    problems = _former_id_problems(renamed, ids)
    guids = {card_id: guid for card_id, (_, identity) in cards.items()  # pinned, or a renamed card's first id's
             if (guid := identity.guid if identity.guid is not None else _guid(config.key, card_id, identity))}
    problems += _shared_guids(config.key, cards, guids, ids)
    renames = {card_id: old_id for card_id, card in renamed.items()
               if (old_id := _renamed_from(config.key, card_id, card.identity, guids, old))}
    rendered = {note.card_id for result in results for note in result.notes}  # a card with errors has no note:
    checked = {card_id: where for card_id, where in ids.items() if card_id in rendered}  # its identity is unknown
    problems += _changed_guids(config.key, checked, cards, guids, old)
    problems += _unknown_former_ids(renamed, old)
    restored, restore_problems = _restores({card_id: card for card_id, card in cards.items()
                                            if card.identity.restore is not None}, old)
    return Identities(renames, guids, restored), problems + restore_problems


def _guid(key: str, card_id: str, identity: Identity) -> str | None:
    """The card's GUID where it is not the one from its id: pinned, or its first id's."""
    if identity.guid is not None:
        return identity.guid
    if identity.former_ids:
        return note_guid(key, identity.former_ids[0][0])
    return None


def _problem(card: _Card, card_id: str, pos: Pos | None, message: str, hint: str, severity: str = "error") -> Problem:
    pos = pos or Pos(0, 0)
    return Problem(card.path, pos.line, pos.column, message, card_id, hint, severity)


def _former_id_problems(cards: dict[str, _Card], ids: dict[str, tuple[str, int, int]]) -> list[Problem]:
    """A former id is another card's current id, or two cards claim it: both would be one note."""
    problems = []
    claimed: dict[str, str] = {}
    for card_id, card in cards.items():
        for former, pos in card.identity.former_ids:
            if former in ids:
                where = ":".join(map(str, ids[former]))
                problems.append(_problem(card, card_id, pos, f"former id '{former}' is the id of another card at {where}",
                                         "a card renamed from it keeps its note; two cards cannot share one note"))
            elif claimed.get(former) == card_id:
                problems.append(_problem(card, card_id, pos, f"former id '{former}' is listed twice",
                                         "list each earlier id once, oldest first"))
            elif former in claimed:
                problems.append(_problem(card, card_id, pos, f"former id '{former}' is also listed by card '{claimed[former]}'",
                                         "only one card can keep the note of a renamed card"))
            else:
                claimed[former] = card_id
    return problems


def _shared_guids(key: str, cards: dict[str, _Card], guids: dict[str, str],
                  ids: dict[str, tuple[str, int, int]]) -> list[Problem]:
    """Two cards with one GUID would be one note in Anki: a pinned GUID must be no other card's."""
    problems = []
    owner: dict[str, str] = {}
    for card_id, guid in guids.items():
        card = cards[card_id]
        if guid in owner and (card.identity.guid is not None or cards[owner[guid]].identity.guid is not None):
            problems.append(_problem(card, card_id, card.identity.guid_pos,
                                     f"GUID '{guid}' is also the GUID of card '{owner[guid]}'",
                                     "every note needs its own GUID"))
        else:  # two cards sharing a former id are reported as such
            owner.setdefault(guid, card_id)
    if any(card.identity.guid is not None for card in cards.values()):
        for card_id in ids.keys() - guids.keys():
            other = owner.get(note_guid(key, card_id))
            if other is not None and cards[other].identity.guid is not None:
                card = cards[other]
                problems.append(_problem(card, other, card.identity.guid_pos,
                                         f"GUID '{guids[other]}' is also the GUID of card '{card_id}' (from its id)",
                                         "every note needs its own GUID"))
    return problems


def released_guid(key: str, card_id: str, old: Lock) -> str:
    """The GUID learners were given for a released card."""
    return old.released[card_id].guid or note_guid(key, card_id)


def _renamed_from(key: str, card_id: str, identity: Identity, guids: dict[str, str], old: Lock) -> str | None:
    """The id in the lock whose entry a renamed card takes over: the former id with the card's GUID."""
    if card_id in old.cards:
        return None  # renamed in an earlier build (or not renamed)
    candidates = [former for former, _ in identity.former_ids if former in old.cards]
    if not candidates:
        return None
    guid = guids.get(card_id)
    matching = [former for former in candidates if (old.guids.get(former) or note_guid(key, former)) == guid]
    return (matching or candidates)[-1]


def released_as(key: str, card_id: str, former_ids: Iterable[str], guid: str, old: Lock) -> str | None:
    """The id a card was released under: its own, or the former id learners have its note under."""
    if card_id in old.released:
        return card_id
    candidates = [former for former in former_ids if former in old.released]
    matching = [former for former in candidates if released_guid(key, former, old) == guid]
    return (matching or candidates or [None])[-1]


def _changed_guids(key: str, ids: dict[str, tuple[str, int, int]], cards: dict[str, _Card], guids: dict[str, str],
                   old: Lock) -> list[Problem]:
    """A released card whose GUID would change: Anki would give learners a second note (a card only built is free)."""
    problems = []
    released = old.released
    for card_id, (path, line, column) in ids.items():
        if card_id in released and card_id not in guids and not released[card_id].guid:
            continue  # the GUID from its id, when released and now
        now = guids.get(card_id) or note_guid(key, card_id)
        card = cards.get(card_id)
        was = released_as(key, card_id, [f for f, _ in card.identity.former_ids] if card else (), now, old)
        if was is None:
            continue  # new to learners
        before = released_guid(key, was, old)
        if before == now:
            continue
        whose = "its GUID" if was == card_id else f"renamed from '{was}', its GUID"
        problems.append(Problem(path, line, column, f"{whose} would change from '{before}' to '{now}'",
                                card_id, _guid_hint(key, card_id, was, old)))
    return problems


def _unknown_former_ids(cards: dict[str, _Card], old: Lock) -> list[Problem]:
    """A renamed card none of whose former ids was released: most often a typo, and then a new note."""
    problems = []
    for card_id, card in cards.items():
        former = card.identity.former_ids
        if not former or not old.released or card_id in old.released:
            continue
        if any(former_id in old.released for former_id, _ in former):
            continue
        latest, pos = former[-1]
        problems.append(_problem(card, card_id, pos, f"no card '{latest}' was released (deckgen.lock has no "
                                 "release with it)", did_you_mean(latest, old.released) or "learners have no note "
                                 "for it to keep: list the id the card had in the last release", WARNING))
    return problems


def _guid_hint(key: str, card_id: str, was: str, old: Lock) -> str:
    if released_guid(key, was, old) != note_guid(key, was):
        return ("learners would get a second note; keep the card's 'former_ids' (oldest first) "
                "or 'guid' as they were in the release learners have")
    if was == card_id:
        return "learners would get a second note; a card that learners have cannot take former ids or a GUID"
    return "learners would get a second note; the first of 'former_ids' must be the id the card was released under"


def _restores(cards: dict[str, _Card], old: Lock) -> tuple[frozenset[str], list[Problem]]:
    """Cards brought back on purpose; 'restore: true' on a card that was not removed is a slip."""
    restored, problems = set(), []
    for card_id, card in cards.items():
        if card.identity.restore is None:
            continue
        if old.retired(card_id):
            restored.add(card_id)
        else:
            problems.append(_problem(card, card_id, card.identity.restore,
                                     "'restore: true', but no release retired a card with this id",
                                     "remove 'restore: true' (after the release that restored the card, "
                                     "it has done its work)", WARNING))
    return frozenset(restored), problems
