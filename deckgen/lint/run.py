"""`deckgen lint`: the project built in memory, every rule run on the cards learners meet."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..build.compiler import gc_paused
from ..build.pipeline import Project, prepare
from ..project.card_files import CardSource
from ..build.build_options import BuildOptions
from ..problems import Problem, ProjectError
from .learner_cards import LintDeck, learner_notes, lint_deck
from .word_forms import WordForms
from .findings import Finding, LintFinding
from .ignores import Explanations, KeyFinder, card_sources, explanations, key_position
from .rules import RULES
from .settings import LintSettings, read_settings
from .split import jobs_for, run_rules


@dataclass
class LintReport:
    """What lint found in a project: findings, explained or not, and lint_ignore entries that explain nothing."""

    notes: int
    cards: int
    findings: list[LintFinding]
    unused: list[LintFinding] = field(default_factory=list)

    @property
    def unexplained(self) -> list[LintFinding]:
        return [finding for finding in self.findings if finding.explained is None]

    @property
    def explained(self) -> list[LintFinding]:
        return [finding for finding in self.findings if finding.explained is not None]

    def passed(self, strict: bool = False) -> bool:
        """No finding left unexplained (and, under --strict, no lint_ignore that explains nothing)."""
        return not self.unexplained and not (strict and self.unused)

    def summary(self) -> str:
        """'12 cards of 10 notes: 2 findings to fix, 3 explained by lint_ignore'."""
        counts = (f"{self.cards} card{'' if self.cards == 1 else 's'} of {self.notes} "
                  f"note{'' if self.notes == 1 else 's'}: {_count(len(self.unexplained), 'finding')} to fix, "
                  f"{len(self.explained)} explained by lint_ignore")
        return counts + (f", {_count(len(self.unused), 'lint_ignore entry', 'lint_ignore entries')} explaining nothing"
                         if self.unused else "")


def lint_project(root: Path, settings: LintSettings | None = None, jobs: int | None = None) -> LintReport:
    """Lint a project; raise ProjectError if it cannot be built or its lint settings are wrong.

    `jobs`: processes that run the rules (at most two; None: two for a deck of SPLIT_NOTES notes or more).
    """
    with gc_paused():  # the cards' many small acyclic objects: the collector took a quarter of the time
        return _lint(root, settings, jobs)


def _lint(root: Path, settings: LintSettings | None, jobs: int | None) -> LintReport:
    project = prepare(root, BuildOptions())
    problems: list[Problem] = []
    settings = settings or read_settings(root, problems)
    sources = card_sources(root, (note.path for note in project.notes), explaining=True)
    explained = explanations(sources, problems)
    if problems:
        raise ProjectError(problems)
    deck = _deck(project, settings)
    rules = [rule for rule in RULES if rule.name in settings.enabled]
    found = run_rules(deck, rules, settings.options, jobs_for(deck, jobs))
    keys = KeyFinder(root)
    findings = sorted({_located(finding, sources, explained, keys) for finding in found})
    return LintReport(len(deck.notes), sum(len(note.cards) for note in deck.notes), findings,
                      _unused(explained, sources, settings))


def giveaways(root: Path) -> list[LintFinding]:
    """Every giveaway in a project (explained or not): the cards that show another card's answer, in any word form."""
    report = lint_project(root, dataclasses.replace(_settings(root), enabled=frozenset({"giveaway"})))
    return report.findings


def _settings(root: Path) -> LintSettings:
    problems: list[Problem] = []
    settings = read_settings(root, problems)
    if problems:
        raise ProjectError(problems)
    return settings


def _deck(project: Project, settings: LintSettings) -> LintDeck:
    """The cards learners meet, with the word forms of the deck's language and its subject (its name, its title words)."""
    notes = learner_notes(project.notes, project.templates.note_types)
    subject = (*project.config.deck.split("::"), *settings.subject)
    return lint_deck(notes, WordForms(settings.language), subject)


def _located(finding: Finding, sources: dict[str, CardSource], explained: dict[str, Explanations],
             keys: KeyFinder) -> LintFinding:
    """The finding at the card key at fault (the card itself if none), with the reason that explains it."""
    note = finding.card.note
    source = sources.get(note.card_id)
    at = (key_position(source, finding.field) if source is not None
          else keys.value_position(note.path, note.line, note.column, finding.field) if finding.field else None)
    line, column = at or (note.line, note.column)
    reason = None
    for card_id in (note.card_id, *finding.related):
        entry = explained.get(card_id)
        if entry is not None and finding.rule in entry.reasons:
            entry.used.add(finding.rule)
            reason = reason if reason is not None else entry.reasons[finding.rule]
    return LintFinding(note.path, line, column, note.card_id, finding.rule, finding.message, finding.hint,
                       finding.related, reason)


def _unused(explained: dict[str, Explanations], sources: dict[str, CardSource],
            settings: LintSettings) -> list[LintFinding]:
    """lint_ignore entries of running rules that explained no finding: stale once the card was fixed."""
    unused = []
    for card_id, entry in explained.items():
        for rule in sorted(set(entry.reasons) - entry.used):
            if rule in settings.enabled:
                line, column = entry.positions[rule]
                unused.append(LintFinding(sources[card_id].path, line, column, card_id, rule,
                                          f"lint_ignore '{rule}' explains no finding on this card",
                                          "remove it, so that it cannot hide a future one"))
    return sorted(unused)


def _count(number: int, word: str, plural: str = "") -> str:
    return f"{number} {word if number == 1 else plural or word + 's'}"
