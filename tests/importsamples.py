"""Sample decks for tests/test_import.py, made by the tools authors really use.

One Anki collection (stock Basic, reversed and Cloze note types, a custom note type with
conditional templates, media, hierarchical tags, nested subdecks), exported by the official
`anki` package in the legacy and the current package format, as a .colpkg and as a text export;
and a package written by genanki.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import anki.collection  # noqa: F401  (first: importing anki.cards first is a circular import)
import genanki
from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from anki.decks import DeckId

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00fake mp3"
DRUG_CSS = ".card { font-family: serif; }\n.drug { color: navy; }\n"


@dataclass(frozen=True)
class SampleNote:
    """One note of the sample deck."""

    note_type: str
    deck: str
    fields: tuple[str, ...]
    tags: tuple[str, ...] = ()


NOTES = (
    SampleNote("Basic", "Pharm::Gout", ("What is <b>gout</b>?",
                                  'Arthritis from <i>urate</i> crystals<br><img src="crystal.png">'),
               ("rheum::gout", "exam")),
    SampleNote("Basic", "Pharm::Gout", ("Colour of a warning", '<span style="color: red;">red</span> text'), ("rheum",)),
    SampleNote("Basic (and reversed card)", "Pharm::Basics::Terms", ("Necrosis", "Death of tissue [sound:beep.mp3]"),
               ("terms::path",)),
    SampleNote("Cloze", "Pharm::Basics", ("Urate is a {{c1::purine}} {{c2::metabolite}}", "From <u>food</u>"), ()),
    SampleNote("Drug", "Pharm::Drugs", ("Allopurinol", "XO inhibitor", "Blocks xanthine oxidase",
                                        "Rash; <b>hypersensitivity</b>"), ("drugs::ult",)),
    SampleNote("Drug", "Pharm::Drugs", ("Colchicine", "Anti-inflammatory", "Inhibits microtubules", ""),
               ("drugs::acute",)),
)
EDITED_FIELD = ("Colchicine", "Mechanism")  # the note and field the learner and the author edit


def _drug_note_type(col: Collection) -> None:
    models = col.models
    drug = models.new("Drug")
    for name in ("Drug", "Class", "Mechanism", "Side effects"):
        models.add_field(drug, models.new_field(name))
    for name, front, back in (
        ("Mechanism", '<div class="drug">{{Drug}}</div>: mechanism?', "{{FrontSide}}<hr id=answer>{{Mechanism}}"),
        ("Side effects", "{{#Side effects}}{{Drug}}: side effects?{{/Side effects}}",
         "{{FrontSide}}<hr id=answer>{{Side effects}}{{#Class}}<br>({{Class}}){{/Class}}"),
    ):
        template = models.new_template(name)
        template["qfmt"], template["afmt"] = front, back
        models.add_template(drug, template)
    drug["css"] = DRUG_CSS
    models.add_dict(drug)


def make_collection(folder: Path) -> Path:
    """The author's Anki collection with the sample deck; returns its path (closed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "collection.anki2"
    with contextlib.closing(Collection(str(path))) as col:
        _drug_note_type(col)
        for name, data in (("crystal.png", PNG), ("beep.mp3", MP3)):
            (folder / name).write_bytes(data)
            col.media.add_file(str(folder / name))
        for sample in NOTES:
            note = col.new_note(col.models.by_name(sample.note_type))  # type: ignore[arg-type]
            for index, value in enumerate(sample.fields):
                note.fields[index] = value
            note.tags = list(sample.tags)
            col.add_note(note, DeckId(col.decks.id(sample.deck)))  # type: ignore[arg-type]
    return path


@dataclass(frozen=True)
class Exports:
    """The sample deck in every format Anki writes, and which package a learner of it imported."""

    legacy: Path
    current: Path
    colpkg: Path
    text: Path


def export_all(collection: Path, folder: Path) -> Exports:
    """Anki's own exporter: legacy and current .apkg, a .colpkg and a text export with every column."""
    exports = Exports(folder / "legacy.apkg", folder / "current.apkg", folder / "whole.colpkg", folder / "notes.txt")
    with contextlib.closing(Collection(str(collection))) as col:
        limit = DeckIdLimit(DeckId(col.decks.id("Pharm")))  # type: ignore[arg-type]
        for path, legacy in ((exports.legacy, True), (exports.current, False)):
            col.export_anki_package(out_path=str(path), limit=limit, options=ExportAnkiPackageOptions(
                with_scheduling=False, with_deck_configs=False, with_media=True, legacy=legacy))
        col.export_note_csv(out_path=str(exports.text), limit=limit, with_html=True, with_tags=True,
                            with_deck=True, with_notetype=True, with_guid=True)
        col.export_collection_package(str(exports.colpkg), include_media=True, legacy=False)
    return exports


GENANKI_MODEL_ID = 1607392319
GENANKI_DRUG_ID = 1607392320


def make_genanki_package(folder: Path) -> Path:
    """The sample deck as genanki writes it (legacy collection.anki2), with fixed GUIDs."""
    folder.mkdir(parents=True, exist_ok=True)
    basic = genanki.Model(GENANKI_MODEL_ID, "GA Basic", fields=[{"name": "Front"}, {"name": "Back"}],
                          templates=[{"name": "Card 1", "qfmt": "{{Front}}",
                                      "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}], css=".card { color: black; }")
    drug = genanki.Model(GENANKI_DRUG_ID, "GA Drug", fields=[{"name": "Drug"}, {"name": "Side effects"}],
                         templates=[{"name": "Drug", "qfmt": "{{Drug}}?", "afmt": "{{FrontSide}}<hr id=answer>x"},
                                    {"name": "Side effects", "qfmt": "{{#Side effects}}{{Drug}}: effects?{{/Side effects}}",
                                     "afmt": "{{FrontSide}}<hr id=answer>{{Side effects}}"}])
    cloze = genanki.Model(1607392321, "GA Cloze", fields=[{"name": "Text"}, {"name": "Extra"}],
                          templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>{{Extra}}"}],
                          model_type=genanki.Model.CLOZE)
    root = genanki.Deck(2059400110, "GA::Main")
    sub = genanki.Deck(2059400111, "GA::Sub deck")
    root.add_note(genanki.Note(basic, ["What is <b>gout</b>?", 'Arthritis <img src="crystal.png">'],
                               tags=["rheum::gout"], guid="ga-basic-1"))
    root.add_note(genanki.Note(basic, ["Colchicine mechanism", "Inhibits microtubules"], guid="ga-basic-2"))
    sub.add_note(genanki.Note(drug, ["Allopurinol", "Rash"], tags=["drugs::ult"], guid="ga-drug-1"))
    sub.add_note(genanki.Note(drug, ["Probenecid", ""], guid="ga-drug-2"))
    sub.add_note(genanki.Note(cloze, ["Urate is a {{c1::purine}} metabolite", ""], guid="ga-cloze-1"))
    (folder / "crystal.png").write_bytes(PNG)
    path = folder / "genanki.apkg"
    package = genanki.Package([root, sub])
    package.media_files = [str(folder / "crystal.png")]
    package.write_to_file(str(path))
    return path


def export_crowdanki(collection: Path, folder: Path, deck: str = "Pharm") -> Path:
    """The deck as CrowdAnki exports it: deck.json (a tree of decks by their last name part, each naming its
    preset by uuid; presets and note types as schema 11 JSON, by uuid, without ids or times) and media/, written
    here from the collection through the official backend."""
    folder.mkdir(parents=True)
    with contextlib.closing(Collection(str(collection))) as col:
        models = {m["id"]: m for m in col.models.all()}
        uuids = {mid: str(uuid.uuid5(uuid.NAMESPACE_OID, str(mid))) for mid in models}
        by_deck: dict[str, list[dict[str, object]]] = {}
        used: set[int] = set()
        for nid in col.find_notes(f'"deck:{deck}"'):
            note = col.get_note(nid)
            home = col.decks.name(note.cards()[0].did)
            used.add(note.mid)
            by_deck.setdefault(home, []).append({"__type__": "Note", "guid": note.guid, "fields": list(note.fields),
                                                 "tags": list(note.tags), "note_model_uuid": uuids[note.mid]})
        media = sorted(name for name in os.listdir(col.media.dir()))
        (folder / "media").mkdir()
        for name in media:
            shutil.copy(Path(col.media.dir()) / name, folder / "media" / name)
        presets = {str(d.id): str(col.decks.get(d.id)["conf"]) for d in col.decks.all_names_and_ids()}  # type: ignore[index]
        configs = [{**config, "crowdanki_uuid": f"conf-{config['id']}"} for config in col.decks.all_config()]
        by_name = {d.name: presets[str(d.id)] for d in col.decks.all_names_and_ids()}
    tree = _crowdanki_deck(deck, deck, by_deck, by_name)
    tree.update(note_models=[_crowdanki_model(models[mid], uuids[mid]) for mid in sorted(used)], media_files=media,
                deck_configurations=[{k: v for k, v in config.items() if k != "id"} for config in configs])
    path = folder / "deck.json"
    path.write_text(json.dumps(tree, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _crowdanki_deck(full: str, name: str, by_deck: dict[str, list[dict[str, object]]],
                    presets: dict[str, str]) -> dict[str, object]:
    children = sorted({d[len(full) + 2:].split("::")[0] for d in by_deck if d.startswith(full + "::")})
    return {"__type__": "Deck", "name": name, "desc": f"About {name}", "notes": by_deck.get(full, []),
            "deck_config_uuid": f"conf-{presets[full]}",
            "children": [_crowdanki_deck(f"{full}::{child}", child, by_deck, presets) for child in children]}


def _crowdanki_model(model: dict, uuid_: str) -> dict[str, object]:  # type: ignore[type-arg]
    keys = ("name", "type", "css", "sortf", "latexPre", "latexPost")
    return {"__type__": "NoteModel", "crowdanki_uuid": uuid_, **{k: model[k] for k in keys},
            "flds": [dict(f) for f in model["flds"]],  # CrowdAnki keeps each field's schema 11 JSON
            "tmpls": [{"name": t["name"], "ord": t["ord"], "qfmt": t["qfmt"], "afmt": t["afmt"]} for t in model["tmpls"]]}


def make_package(folder: Path, fields: tuple[str, ...], front: str, back: str, notes: list[tuple[str, ...]],
                 deck: str = "Words", note_type: str = "Vocab", decks: list[str] | None = None) -> Path:
    """A legacy .apkg exported by the official backend: one note type with these fields and one template; each
    note in `deck`, or in its deck of `decks` (under `deck`)."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(Collection(str(folder / "collection.anki2"))) as col:
        models = col.models
        model = models.new(note_type)
        for name in fields:
            models.add_field(model, models.new_field(name))
        template = models.new_template("Card 1")
        template["qfmt"], template["afmt"] = front, back
        models.add_template(model, template)
        models.add_dict(model)
        for number, values in enumerate(notes):
            note = col.new_note(col.models.by_name(note_type))  # type: ignore[arg-type]
            for index, value in enumerate(values):
                note.fields[index] = value
            col.add_note(note, DeckId(col.decks.id(decks[number] if decks else deck)))  # type: ignore[arg-type]
        path = folder / "deck.apkg"
        col.export_anki_package(out_path=str(path), limit=DeckIdLimit(DeckId(col.decks.id(deck))),  # type: ignore[arg-type]
                                options=ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False,
                                                                 with_media=True, legacy=True))
    return path
