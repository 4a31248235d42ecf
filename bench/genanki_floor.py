"""The floor: a plain genanki script writing the same notes as the synthetic project, no more.

Run as its own process by bench.py, so its time includes starting Python and importing genanki,
exactly as a `deckgen build` run does.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import genanki

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import GROUPS, card_fields  # noqa: E402

FIELDS = {
    "basic": ["Front", "Back", "Extra", "Sources"],
    "reversed": ["Front", "Back", "Extra", "Sources"],
    "cloze": ["Text", "Extra", "Sources"],
}


def models() -> dict[str, genanki.Model]:
    front_back = [{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}]
    reverse = front_back + [{"name": "Card 2", "qfmt": "{{Back}}", "afmt": "{{FrontSide}}<hr id=answer>{{Front}}"}]
    cloze = [{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>{{Extra}}"}]
    return {
        "basic": genanki.Model(1607392319, "Basic", fields=[{"name": n} for n in FIELDS["basic"]], templates=front_back),
        "reversed": genanki.Model(1607392320, "Reversed", fields=[{"name": n} for n in FIELDS["reversed"]],
                                  templates=reverse),
        "cloze": genanki.Model(1607392321, "Cloze", fields=[{"name": n} for n in FIELDS["cloze"]], templates=cloze,
                               model_type=genanki.Model.CLOZE),
    }


def main(cards: int, output: str) -> None:
    warnings.simplefilter("ignore")
    kinds = models()
    decks = {g: genanki.Deck(2059400110 + i, f"Synthetic Deck::{g}") for i, g in enumerate(GROUPS)}
    for index in range(cards):
        kind, data = card_fields(index)
        if kind == "finding":
            kind, values = "basic", [data["finding"], data["site"], data["detail"], "bench"]
        elif kind == "cloze":
            values = [data["text"], data["extra"], "bench"]
        else:
            values = [data["front"], data["back"], data["extra"], "bench"]
        decks[GROUPS[index % 3]].add_note(genanki.Note(model=kinds[kind], fields=values, tags=["synthetic"],
                                                      guid=genanki.guid_for("synthetic", index)))
    genanki.Package(list(decks.values())).write_to_file(output)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
