"""The `lint:` settings of deckgen.yaml: the deck's language and subject, rules turned off, each rule's thresholds.

```yaml
lint:
  language: french                # the stemmer that finds word forms (default english; none: words as written)
  subject: [calcification]        # words named everywhere by design (the deck's name always is)
  giveaway: {min_letters: 5}      # a rule's settings (the others keep their defaults)
  front_form: false               # a rule turned off
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..project.config import CONFIG_FILE
from ..problems import Problem, did_you_mean
from ..safety.confine import read_inside
from ..project.yaml_values import Reader, describe, parse_document
from ..project.yaml_reader import Implicit, Pos, Value, YamlList, YamlMap
from .findings import Rule
from .rules import RULES, RULE_NAMES
from .word_forms import LANGUAGES, NO_STEMMING

DECK_SETTINGS = ("language", "subject")


@dataclass(frozen=True)
class LintSettings:
    """Which rules run, and with which settings."""

    enabled: frozenset[str] = frozenset(RULE_NAMES)
    options: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {rule.name: dict(rule.defaults) for rule in RULES})
    language: str = "english"
    subject: tuple[str, ...] = ()


def read_settings(root: Path, problems: list[Problem]) -> LintSettings:
    """The settings under `lint:` in deckgen.yaml (defaults where it says nothing); mistakes are problems."""
    data = read_inside(root / CONFIG_FILE, CONFIG_FILE, problems, root)
    document = parse_document(data, CONFIG_FILE, []) if data is not None else None
    if not isinstance(document, YamlMap) or document.get("lint") is None:
        return LintSettings()
    read = Reader(CONFIG_FILE, problems, noun="setting")
    section = read.mapping(document, "lint")
    if section is None:
        return LintSettings()
    read.unknown_keys(section, (*DECK_SETTINGS, *RULE_NAMES), "lint rule",
                      "lint settings: " + ", ".join(DECK_SETTINGS) + "; lint rules: " + ", ".join(RULE_NAMES))
    enabled, options = set(RULE_NAMES), {}
    for rule in RULES:
        value = section.get(rule.name)
        if _turned_off(value):
            enabled.discard(rule.name)
        elif value is not None and not isinstance(value, YamlMap) and not _turned_on(value):
            _not_settings(read, section, rule)
        options[rule.name] = _rule_options(rule, value if isinstance(value, YamlMap) else None, read)
    return LintSettings(frozenset(enabled), options, _language(section, read), _subject(section, read))


def _language(section: YamlMap, read: Reader) -> str:
    """The stemmer's language: one Snowball has, or `none`."""
    value = section.get("language")
    if value is None:
        return "english"
    name = value.strip().casefold() if isinstance(value, str) else None
    if name in (*LANGUAGES, NO_STEMMING):
        return name  # type: ignore[return-value]
    read.report(section.value_pos["language"], f"lint setting 'language' must name a stemmer's language, not {_said(value)}",
                did_you_mean(str(value), LANGUAGES) or "languages: " + ", ".join(LANGUAGES) + f", or {NO_STEMMING}")
    return "english"


def _subject(section: YamlMap, read: Reader) -> tuple[str, ...]:
    value = section.get("subject")
    if value is None:
        return ()
    found = _setting(value, section.value_pos["subject"], "subject", (), read)
    return found if found is not None else ()


def _turned_off(value: Value) -> bool:
    return isinstance(value, Implicit) and value.value is False


def _turned_on(value: Value) -> bool:
    return isinstance(value, Implicit) and value.value is True


def _said(value: Value) -> str:
    """A value as the author wrote it, for a message."""
    if isinstance(value, Implicit):
        return value.raw
    return f"'{value}'" if isinstance(value, str) else describe(value)


def _not_settings(read: Reader, section: YamlMap, rule: Rule) -> None:
    example = ", ".join(f"{key}: {value!r}" for key, value in rule.defaults.items())
    read.report(section.value_pos[rule.name],
                f"lint rule '{rule.name}' must be false (off) or a mapping of its settings, "
                f"not {describe(section[rule.name])}", f"e.g. {{{example}}}")


def _rule_options(rule: Rule, given: YamlMap | None, read: Reader) -> dict[str, Any]:
    options = dict(rule.defaults)
    if given is None:
        return options
    read.unknown_keys(given, rule.defaults, f"'{rule.name}' setting", "its settings: " + ", ".join(rule.defaults))
    for key, default in rule.defaults.items():
        if key in given:
            value = _setting(given[key], given.value_pos[key], f"{rule.name}.{key}", default, read)
            if value is not None:
                options[key] = value
    return options


def _setting(value: Value, pos: Pos, name: str, default: Any, read: Reader) -> Any:
    """A threshold (a whole number from 1, or a fraction for a float default) or a list of words."""
    if isinstance(default, tuple):
        if isinstance(value, YamlList) and all(isinstance(item, str) and item.strip() for item in value):
            return tuple(value)
        read.report(pos, f"lint setting '{name}' must be a list of words, not {describe(value)}")
        return None
    number = value.value if isinstance(value, Implicit) else None
    if isinstance(default, float):
        if isinstance(number, (int, float)) and not isinstance(number, bool) and 0 < number <= 1:
            return float(number)
        read.report(pos, f"lint setting '{name}' must be a number above 0 and at most 1, not {_said(value)}")
        return None
    if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
        return number
    read.report(pos, f"lint setting '{name}' must be a whole number from 1, not {_said(value)}")
    return None
