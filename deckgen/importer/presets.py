"""Deck-options presets and deck descriptions as a package keeps them, in either collection schema.

A legacy collection keeps presets as schema 11 JSON in the `col` row's `dconf`, each deck naming
its preset by `conf`; a current one keeps them in the `deck_config` table as protobuf
(`DeckConfig.Config` of proto/anki/deck_config.proto) and each deck's preset id and description in
its `kind` column (`Deck.KindContainer` → `Deck.Normal` of proto/anki/decks.proto). Only what a
project's `options:` can say is read; the rest of a preset stays Anki's default.
"""

from __future__ import annotations

import json
import sqlite3
import struct

from . import protobuf
from .source_deck import ImportedPreset

DEFAULT_PRESET = 1  # Anki's "Default": every collection has it, so a deck using it gets the learner's own
# new-card order: schema 11 `new.order` (1 due, 0 random) and `newGatherPriority`, as deck_options reads them
_ORDERS = {(1, 0): "due", (1, 1): "source", (0, 3): "random"}


def preset_options(preset: ImportedPreset) -> dict[str, object]:
    """A preset as deckgen.yaml's `options:` mapping."""
    return {"name": preset.name, "new_per_day": preset.new_per_day, "reviews_per_day": preset.reviews_per_day,
            "learning_steps": [_step(minutes) for minutes in preset.learning_steps],
            "relearning_steps": [_step(minutes) for minutes in preset.relearning_steps],
            "maximum_interval": preset.maximum_interval, "desired_retention": round(preset.desired_retention, 4),
            "new_card_order": preset.new_card_order}


def _step(minutes: float) -> str:
    """A step as deckgen.yaml writes it: whole minutes as '10m', else seconds."""
    if minutes == int(minutes):
        return f"{int(minutes)}m"
    return f"{round(minutes * 60)}s"


def legacy_presets(connection: sqlite3.Connection) -> dict[str, ImportedPreset]:
    """Each deck's preset (by full deck name) in a schema 11 collection."""
    presets_json, decks_json = connection.execute("select dconf, decks from col").fetchone()
    presets = {int(p["id"]): schema11_preset(p, int(p["id"])) for p in json.loads(presets_json or "{}").values()
               if isinstance(p, dict) and "id" in p}
    decks = json.loads(decks_json or "{}").values()
    return {d["name"]: presets[int(d["conf"])] for d in decks if not d.get("dyn") and int(d.get("conf", 1)) in presets}


def schema11_preset(preset: dict, preset_id: int) -> ImportedPreset:  # type: ignore[type-arg]
    """A preset as schema 11 JSON keeps it (a legacy collection's `dconf`, a CrowdAnki deck's configurations)."""
    new, review, lapse = preset.get("new", {}), preset.get("rev", {}), preset.get("lapse", {})
    order = (int(new.get("order", 1)), int(preset.get("newGatherPriority", 0)))
    return ImportedPreset(
        preset_id, str(preset.get("name", "")), int(new.get("perDay", 20)), int(review.get("perDay", 200)),
        tuple(float(s) for s in new.get("delays", (1.0, 10.0))), tuple(float(s) for s in lapse.get("delays", (10.0,))),
        int(review.get("maxIvl", 36500)), float(preset.get("desiredRetention", 0.9)), _ORDERS.get(order, "due"))


def current_presets(connection: sqlite3.Connection) -> dict[str, ImportedPreset]:
    """Each deck's preset (by full deck name) in a schema 18 collection (none where it has no presets table)."""
    if not connection.execute("select 1 from sqlite_master where type = 'table' and name = 'deck_config'").fetchone():
        return {}
    presets = {int(pid): _current_preset(int(pid), name, config)
               for pid, name, config in connection.execute("select id, name, config from deck_config")}
    found = {}
    for name, kind in connection.execute("select name, kind from decks"):
        normal = protobuf.messages(protobuf.parse(kind), 1)
        preset = presets.get(protobuf.integer(normal[0], 1)) if normal else None
        if preset is not None:
            found[name.replace("\x1f", "::")] = preset
    return found


def current_descriptions(connection: sqlite3.Connection) -> dict[str, str]:
    """Each normal deck's description (by full deck name) in a schema 18 collection."""
    found = {}
    for name, kind in connection.execute("select name, kind from decks"):
        normal = protobuf.messages(protobuf.parse(kind), 1)
        if normal:
            found[name.replace("\x1f", "::")] = protobuf.text(normal[0], 4)
    return found


def _current_preset(preset_id: int, name: str, config: bytes) -> ImportedPreset:
    fields = protobuf.parse(config)
    insert = 0 if protobuf.integer(fields, 20) == 1 else 1  # the proto's RANDOM is 1; schema 11's random is 0
    retention = _floats(fields, 37)
    return ImportedPreset(
        preset_id, name, protobuf.integer(fields, 9), protobuf.integer(fields, 10), tuple(_floats(fields, 1)),
        tuple(_floats(fields, 2)), protobuf.integer(fields, 16) or 36500, round(retention[-1], 4) if retention else 0.9,
        _ORDERS.get((insert, protobuf.integer(fields, 34)), "due"))


def _floats(fields: dict[int, list[int | bytes]], number: int) -> list[float]:
    """A float field's values: packed (bytes of 4 each) or one by one (fixed32)."""
    values: list[float] = []
    for value in fields.get(number, []):
        if isinstance(value, bytes):
            values += [round(v, 4) for (v,) in struct.iter_unpack("<f", value[:len(value) // 4 * 4])]
        else:
            values.append(round(struct.unpack("<f", value.to_bytes(4, "little"))[0], 4))
    return values
