"""Deck options: the one Anki deck-options preset `options:` in deckgen.yaml gives the deck and its subdecks.

A legacy package (genanki's `collection.anki2`) carries presets as the schema 11 JSON of the `col`
table's `dconf`, and each deck names its preset by id (`conf`). Anki's importer takes a preset only
when the learner ticks "Import any deck presets", and it adds a preset only if its id is new
(an existing one is never overwritten). So the preset's id comes from the project key and the time
the options last changed: unchanged options keep the id (a learner's own tweaks to it stay), and
changed options arrive as a new preset that the decks then use.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass

from .yaml_values import Reader, describe
from .yaml_reader import Implicit, Pos, YamlList, YamlMap

OPTION_KEYS = ("name", "new_per_day", "reviews_per_day", "learning_steps", "relearning_steps",
               "maximum_interval", "desired_retention", "new_card_order")
# new_card_order -> (schema 11 `new.order`, Anki's "insertion order": 1 due, 0 random;
#                    `newGatherPriority`, the order new cards are shown in: 0 deck by deck, then
#                    position; 1 position across decks; 3 random notes). An import keeps the cards'
#                    positions (deckgen's: source order), so it is the gather priority that shows them.
NEW_CARD_ORDERS = {"due": (1, 0), "source": (1, 1), "random": (0, 3)}
STEP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_MINUTES = {"s": 1 / 60, "m": 1, "h": 60, "d": 24 * 60}
DAILY_LIMIT = 9999  # what Anki's deck options screen accepts for the daily limits
MAX_INTERVAL = 36500  # days: the longest maximum interval Anki accepts
RETENTION = (0.7, 0.99)  # the desired retention FSRS accepts
# Where the Default preset of genanki's collection differs from a fresh Anki collection's: what a
# preset leaves out must be Anki's default (tests/test_deck_options.py compares every option).
ANKI_DEFAULTS = {"easyDaysPercentages": [1.0] * 7}
ANKI_SECTION_DEFAULTS = {"new": {"bury": False}, "rev": {"bury": False}, "lapse": {"leechAction": 1}}  # 1: tag only


@dataclass(frozen=True)
class DeckOptions:
    """An Anki deck-options preset; what the author leaves out has Anki's default."""

    name: str
    new_per_day: int = 20
    reviews_per_day: int = 200
    learning_steps: tuple[float, ...] = (1.0, 10.0)  # minutes, as Anki stores them
    relearning_steps: tuple[float, ...] = (10.0,)
    maximum_interval: int = 36500  # days
    desired_retention: float = 0.9
    new_card_order: str = "due"

    def digest(self) -> str:
        """A hash of the preset, so the lock gives it a new time only when it changes."""
        payload = json.dumps([self.name, self.new_per_day, self.reviews_per_day, list(self.learning_steps),
                              list(self.relearning_steps), self.maximum_interval, self.desired_retention,
                              self.new_card_order])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    def schema11(self, preset_id: int, mtime: int, default: dict) -> dict:  # type: ignore[type-arg]
        """The preset as schema 11 JSON: the package's Default preset (it has every key Anki requires) with
        Anki's own defaults where genanki's differ, and the author's options."""
        preset = copy.deepcopy(default)
        preset.update(copy.deepcopy(ANKI_DEFAULTS))
        for section, values in ANKI_SECTION_DEFAULTS.items():
            preset[section].update(values)
        insert_order, gather_priority = NEW_CARD_ORDERS[self.new_card_order]
        preset.update(id=preset_id, mod=mtime, name=self.name, usn=-1, desiredRetention=self.desired_retention,
                      newGatherPriority=gather_priority)
        preset["new"].update(perDay=self.new_per_day, delays=list(self.learning_steps), order=insert_order)
        preset["rev"].update(perDay=self.reviews_per_day, maxIvl=self.maximum_interval)
        preset["lapse"].update(delays=list(self.relearning_steps))
        return preset


def read_options(doc: YamlMap, read: Reader, deck: str, key: str = "options") -> DeckOptions | None:
    """The `options:` mapping (or another key's), every value checked and located; None when there is none
    (or it is unusable)."""
    mapping = read.mapping(doc, key)
    if mapping is None:
        return None
    read.unknown_keys(mapping, OPTION_KEYS, "deck option")
    values: dict[str, object] = {}
    name = read.text(mapping, "name", required="name" in mapping)
    values["name"] = name.strip() if name is not None else deck
    for key, low, high in (("new_per_day", 0, DAILY_LIMIT), ("reviews_per_day", 0, DAILY_LIMIT),
                           ("maximum_interval", 1, MAX_INTERVAL)):
        _put(values, key, _whole(mapping, key, read, low, high))
    _put(values, "desired_retention", _retention(mapping, read))
    for key in ("learning_steps", "relearning_steps"):
        _put(values, key, _steps(mapping, key, read))
    _put(values, "new_card_order", _order(mapping, read))
    return DeckOptions(**values)  # type: ignore[arg-type]


def _put(values: dict[str, object], key: str, value: object) -> None:
    if value is not None:
        values[key] = value


def _number(mapping: YamlMap, key: str, read: Reader, kinds: tuple[type, ...], what: str) -> object | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if isinstance(value, Implicit) and isinstance(value.value, kinds) and not isinstance(value.value, bool):
        return value.value
    read.report(mapping.value_pos[key], f"deck option '{key}' must be {what}, not {describe(value)}")
    return None


def _whole(mapping: YamlMap, key: str, read: Reader, low: int, high: int) -> int | None:
    value = _number(mapping, key, read, (int,), "a whole number")
    if value is None:
        return None
    assert isinstance(value, int)
    if not low <= value <= high:
        read.report(mapping.value_pos[key], f"deck option '{key}' is {value}; Anki takes {low} to {high}")
        return None
    return value


def _retention(mapping: YamlMap, read: Reader) -> float | None:
    value = _number(mapping, "desired_retention", read, (int, float), "a number such as 0.9")
    if value is None:
        return None
    assert isinstance(value, (int, float))
    low, high = RETENTION
    if not low <= value <= high:
        read.report(mapping.value_pos["desired_retention"], f"deck option 'desired_retention' is {value}; "
                    f"Anki takes {low:.2f} to {high:.2f}", "0.9 means 90% of reviews are meant to be remembered")
        return None
    return float(value)


def _order(mapping: YamlMap, read: Reader) -> str | None:
    order = read.text(mapping, "new_card_order", required="new_card_order" in mapping)
    if order is None:
        return None
    if order.strip() not in NEW_CARD_ORDERS:
        read.report(mapping.value_pos["new_card_order"], f"unknown new card order '{order.strip()}'",
                    "due (deck by deck, each in source order), source (source order across the subdecks) or random")
        return None
    return order.strip()


def _steps(mapping: YamlMap, key: str, read: Reader) -> tuple[float, ...] | None:
    """Steps such as [1m, 10m, 1h, 1d], as the minutes Anki stores."""
    if key not in mapping:
        return None
    value = mapping[key]
    if value is None or (isinstance(value, str) and not value.strip()):
        return ()
    items: list[tuple[object, Pos]] = (list(zip(value, value.item_pos)) if isinstance(value, YamlList)
                                       else [(value, mapping.value_pos[key])])
    steps, ok = [], True
    for number, (item, pos) in enumerate(items, start=1):
        minutes = _step(item, pos, read, f"step {number} of '{key}'")
        ok = ok and minutes is not None
        steps.append(minutes)
    return tuple(s for s in steps if s is not None) if ok else None


def _step(item: object, pos: Pos, read: Reader, what: str) -> float | None:
    text = item.raw if isinstance(item, Implicit) else item
    match = STEP.match(text) if isinstance(text, str) else None
    if match is None or float(match.group(1)) <= 0:
        read.report(pos, f"{what} is {describe(item) if not isinstance(text, str) else repr(text)}, not a step",
                    "a step is a number and a unit: 30s, 1m, 10m, 1h, 1d")
        return None
    minutes = float(match.group(1)) * _MINUTES[match.group(2)]
    return int(minutes) if minutes == int(minutes) else round(minutes, 4)
