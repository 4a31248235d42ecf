"""Where each card stands in its file, and the findings its author explained (`lint_ignore:`).

```yaml
- id: dystrophic-vs-metastatic
  front: ...
  lint_ignore:
    giveaway: "the contrast with metastatic calcification is the point of this card"
```

The rendered notes carry only the card's own position, so lint reads the card files again (shape
only) for the `lint_ignore` mapping and the positions of the card's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..project.card_files import CardSource, load_card_file
from ..problems import Problem, did_you_mean
from ..safety.confine import read_inside
from ..project.yaml_values import Reader, describe
from ..project.yaml_reader import Pos, YamlMap
from .rules import RULE_NAMES

IGNORE_KEY = "lint_ignore"


@dataclass
class Explanations:
    """A card's `lint_ignore` reasons by rule, where each is written, and which ones explained something."""

    reasons: dict[str, str] = field(default_factory=dict)
    positions: dict[str, Pos] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)


def card_sources(root: Path, paths: Iterable[str], explaining: bool = False) -> dict[str, CardSource]:
    """The cards of these card files, as written, by id (their problems were reported by the build);
    `explaining`: only of the files that have a lint_ignore (reading a file's positions is slow)."""
    found: dict[str, CardSource] = {}
    for path in sorted(set(paths)):
        data = read_inside(root / path, path, [], root)
        if data is None or (explaining and IGNORE_KEY.encode() not in data):
            continue
        for card in load_card_file(data, path, []):
            found.setdefault(card.id, card)
    return found


def explanations(cards: dict[str, CardSource], problems: list[Problem]) -> dict[str, Explanations]:
    """Each card's lint_ignore reasons; a mistake in one (an unknown rule, no reason) is a problem."""
    return {card_id: _explanations(card, problems) for card_id, card in cards.items() if IGNORE_KEY in card.data}


def _explanations(card: CardSource, problems: list[Problem]) -> Explanations:
    read, found = Reader(card.path, problems, card.id), Explanations()
    value = card.data[IGNORE_KEY]
    if not isinstance(value, YamlMap):
        read.report(card.data.value_pos[IGNORE_KEY], f"'{IGNORE_KEY}' must be a mapping, not {describe(value)}",
                    f'map each lint rule to the reason it does not apply: {IGNORE_KEY}: {{giveaway: "..."}}')
        return found
    for rule in value:
        if rule not in RULE_NAMES:
            read.report(value.key_pos[rule], f"unknown lint rule '{rule}' in {IGNORE_KEY}",
                        did_you_mean(rule, RULE_NAMES) or "lint rules: " + ", ".join(RULE_NAMES))
            continue
        reason = read.text_value(value[rule], value.value_pos[rule], rule,
                                 label=f"the reason to ignore '{rule}'")
        if reason is not None:
            found.reasons[rule] = reason.strip()
            found.positions[rule] = value.key_pos[rule]
    return found


def key_position(card: CardSource | None, field_name: str) -> Pos | None:
    """Where the card key that fills a note field stands: `front:` for Front; None if no key is named so."""
    if card is None or not field_name:
        return None
    key = field_name.lower()
    return card.data.value_pos[key] if key in card.data else None
