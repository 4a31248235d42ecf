"""A synthetic deck project of any size, and the same notes for the plain genanki floor.

Both sides take their text from `card_fields`, so the floor writes the same notes deckgen does.
"""

from __future__ import annotations

from pathlib import Path

GROUPS = ("cause", "mechanism", "treatment")
KINDS = ("basic", "reversed", "cloze", "finding")
_WORDS = (
    "calcium phosphate tissue necrosis injury membrane crystal deposit lesion vessel muscle "
    "inflammation infection trauma tumour scar plaque radiograph granule lump surgery therapy "
    "kidney lung stomach cell salt blood fluid chronic acute local generalized"
).split()

CONFIG = """\
deck: Synthetic Deck
key: synthetic-deck
groups:
  cause: Causes
  mechanism: Mechanism
  treatment: Treatment
description: A generated deck for deckgen's benchmarks.
sources:
  bench: The benchmark generator
"""

FINDING_SPEC = """\
note_type: basic
fields:
  finding: {required: true}
  site: {required: true, markdown: false}
  detail: {}
"""

FINDING_TEMPLATE = """\
{% block Front %}Where is this finding seen: {{ finding }}?{% endblock %}
{% block Back %}{{ site }}{% endblock %}
{% block Extra %}{% if detail %}{{ detail }}{% endif %}{% endblock %}
"""


class _Words:
    """Cheap deterministic text, so that making it costs the floor script next to nothing."""

    def __init__(self, seed: int) -> None:
        self.state = seed * 2654435761 % 4294967291

    def sentence(self, words: int) -> str:
        out = []
        for _ in range(words):
            self.state = (self.state * 48271) % 2147483647
            out.append(_WORDS[self.state % len(_WORDS)])
        return " ".join(out)


def card_fields(index: int, salt: str = "") -> tuple[str, dict[str, str]]:
    """The card type and data of synthetic card `index` (deterministic)."""
    rng = _Words(index * 31 + len(salt) + 1)
    kind = KINDS[index % len(KINDS)]
    if kind == "cloze":
        return kind, {"text": f"{rng.sentence(6)} {{{{c1::{rng.sentence(2)}}}}} {rng.sentence(5)} #{index}",
                      "extra": rng.sentence(8)}
    if kind == "finding":
        return kind, {"finding": f"*{rng.sentence(4)}* #{index}", "site": rng.sentence(2),
                      "detail": rng.sentence(10)}
    return kind, {"front": f"What is **{rng.sentence(5)}** #{index}?", "back": rng.sentence(8),
                  "extra": rng.sentence(6)}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def card_yaml(index: int, salt: str = "") -> str:
    """One card as YAML, as an author would write it."""
    kind, data = card_fields(index, salt)
    lines = [f"  - id: card-{index}", f"    type: {kind}", f"    group: {GROUPS[index % 3]}"]
    lines += [f"    {key}: {_quote(value)}" for key, value in data.items()]
    lines.append("    sources: [bench]")
    return "\n".join(lines) + "\n"


def file_yaml(first: int, count: int, salt: str = "") -> str:
    """A card file holding cards first .. first+count-1."""
    return "tags: [synthetic]\ncards:\n" + "".join(card_yaml(i, salt) for i in range(first, first + count))


def write_project(root: Path, cards: int, files: int) -> list[Path]:
    """Write the project; returns its card files."""
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "deckgen.yaml").write_text(CONFIG)
    (root / "templates/finding.yaml").write_text(FINDING_SPEC)
    (root / "templates/finding.html.j2").write_text(FINDING_TEMPLATE)
    per_file = -(-cards // files)
    paths = []
    for number, first in enumerate(range(0, cards, per_file)):
        path = root / "cards" / f"part-{number:05d}.yaml"
        path.write_text(file_yaml(first, min(per_file, cards - first)))
        paths.append(path)
    return paths
