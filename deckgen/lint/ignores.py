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

import re
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
_KEY = re.compile(r"^([ -]*)([\w-]+):[ \t]*")


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


class KeyFinder:
    """Where a card's keys stand, read from its file's lines: a card is `- id:` and the keys indented under it.

    Reading a whole card file with positions takes as long as building it; a finding only needs the
    line of one key, so lines are scanned from the card's own line to the next card's.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str]] = {}

    def value_position(self, path: str, card_line: int, card_column: int, field_name: str) -> Pos | None:
        """Where the value of the card's key for a note field starts (None: the card has no such key)."""
        key = field_name.lower()
        lines = self._file(path)
        keys_at = card_column - 1  # the card's keys stand where its first one does
        for number in range(card_line - 1, len(lines)):
            found = _KEY.match(lines[number])
            if found is None:
                continue
            if number > card_line - 1 and "-" in found.group(1) and found.start(2) <= keys_at:
                return None  # the next card
            if found.group(2) == key and found.start(2) == keys_at:
                return (number + 1, found.end() + 1)
        return None

    def _file(self, path: str) -> list[str]:
        if path not in self._lines:
            data = read_inside(self.root / path, path, [], self.root)
            self._lines[path] = data.decode("utf-8", "replace").splitlines() if data is not None else []
        return self._lines[path]
