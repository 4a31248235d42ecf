"""What lint finds: a rule's finding on a card, and the same finding located in the project."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Mapping

from .learner_cards import LearnerCard, LintDeck


@dataclass(frozen=True)
class Finding:
    """A formulation defect a rule sees on one card, before it is located and matched with lint_ignore."""

    rule: str
    card: LearnerCard
    field: str  # the note field at fault: the finding points at the card key that fills it, if any
    message: str
    hint: str
    related: tuple[str, ...] = ()  # other cards whose lint_ignore for this rule explains it too


@dataclass(frozen=True)
class Rule:
    """One lint rule: its name (for lint_ignore and the `lint:` settings), its defaults and its check."""

    name: str
    summary: str
    defaults: Mapping[str, Any]
    check: Callable[[LintDeck, Mapping[str, Any]], Iterable[Finding]]


@dataclass(frozen=True, order=True)
class LintFinding:
    """A finding located like a compiler's diagnostic, with the reason that explains it, if one does."""

    path: str
    line: int
    column: int
    card: str
    rule: str
    message: str
    hint: str = ""
    related: tuple[str, ...] = ()
    explained: str | None = None  # the lint_ignore reason that explains it

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: card '{self.card}': {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        tail = f"{self.rule}, explained: {self.explained}" if self.explained is not None else self.rule
        return f"{text} [{tail}]"

    def to_json(self) -> dict[str, Any]:
        """The finding as a plain dict, for `--format json`."""
        found = asdict(self)
        found["related"] = list(self.related)
        return found
