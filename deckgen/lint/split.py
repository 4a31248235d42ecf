"""The rules run by two processes on a big deck: this one and a helper forked once the cards are read.

The helper starts with everything this process knows (the deck, its cards) and runs the two rules
that compare each card with the whole deck (`near_duplicate`, `giveaway`: about half the rules'
time) while this process runs the others; it sends back its findings as plain tuples that name
each card by its place in the deck (note and card number), which pickle fast. Nothing else
crosses: the rules read the deck and never change it, so both processes see the same cards.
Where processes cannot be forked, or one process is asked for, this process runs every rule.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, Iterable

from ..safety.scratch import die_with_parent
from .findings import Finding, Rule
from .learner_cards import LintDeck

SPLIT_NOTES = 5000  # a deck this big is worth a helper: below it, forking costs more than it saves
HELPER_RULES = ("near_duplicate", "giveaway")  # the two that read the whole deck at once: half the rules' time
_Sent = tuple[str, int, int, str, str, str, tuple[str, ...]]  # rule, note, card, field, message, hint, related


class HelperFailed(Exception):
    """The helper stopped with an error (a bug: its traceback)."""


def jobs_for(deck: LintDeck, jobs: int | None) -> int:
    """How many processes lint a deck: as asked, or two for a big deck on a machine with two cores."""
    if jobs is None:
        jobs = 2 if len(deck.notes) >= SPLIT_NOTES and (os.cpu_count() or 1) >= 2 else 1
    return min(jobs, 2) if hasattr(os, "fork") else 1


def run_rules(deck: LintDeck, rules: list[Rule], options: Any, jobs: int) -> list[Finding]:
    """Every finding of these rules; with two jobs, the helper runs the rules that read the whole deck at once."""
    theirs = [rule for rule in rules if rule.name in HELPER_RULES]
    ours = [rule for rule in rules if rule.name not in HELPER_RULES]
    if jobs < 2 or not theirs or not ours:
        return _check(deck, rules, options)
    import multiprocessing.connection

    reader, writer = multiprocessing.connection.Pipe(duplex=False)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the helper: it sends its findings and leaves
        reader.close()
        _help(deck, theirs, options, writer, parent)
    writer.close()
    try:
        found = _check(deck, ours, options)
        status, sent = reader.recv()
    except EOFError:
        status, sent = "error", "the helper process stopped without a word"
    finally:
        reader.close()  # a helper still writing is stopped, not waited for forever
        os.waitpid(pid, 0)
    if status != "ok":
        raise HelperFailed(sent)
    return found + _received(deck, sent)


def _check(deck: LintDeck, rules: Iterable[Rule], options: Any) -> list[Finding]:
    return [finding for rule in rules for finding in rule.check(deck, options[rule.name])]


def _help(deck: LintDeck, rules: list[Rule], options: Any, channel: Any, parent: int) -> None:
    """The helper's whole life: run its rules, send the findings (or the error), exit."""
    code = 0
    try:
        die_with_parent(parent)
        channel.send(("ok", _sent(deck, _check(deck, rules, options))))
    except BaseException:  # noqa: BLE001 - anything the helper meets is reported, never raised in a fork
        code = 1
        try:
            channel.send(("error", traceback.format_exc()))
        except BaseException:  # noqa: BLE001 - the parent is gone: nothing left to tell
            pass
    finally:
        channel.close()
        os._exit(code)


def _sent(deck: LintDeck, found: list[Finding]) -> list[_Sent]:
    """Findings as plain tuples, each card named by its note's and its own place in the deck."""
    places = {id(card): (number, index) for number, note in enumerate(deck.notes)
              for index, card in enumerate(note.cards)}
    return [(f.rule, *places[id(f.card)], f.field, f.message, f.hint, f.related) for f in found]


def _received(deck: LintDeck, sent: list[_Sent]) -> list[Finding]:
    return [Finding(rule, deck.notes[number].cards[index], field, message, hint, related)
            for rule, number, index, field, message, hint, related in sent]
