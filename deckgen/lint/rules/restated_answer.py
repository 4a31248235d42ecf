"""restated_answer: an answer its own cue already holds, in other word forms.

`answer_in_front` finds an answer written out on its front; this rule compares word forms (stems)
of the words that carry meaning: "Damage inside the blood vessel" restates a cue about
"atherosclerotic changes of blood vessels", "Injury" one about "injured tissue". It flags an
answer all of whose words stand in the cue, or all but one of them when the cue holds at least
`min_shared` of them. A hyphenated compound of the cue counts as one word ("the soft-tissue
article" does not hold "tissue"). The deck's subject (its name, its title words) is left out on both sides:
it is named everywhere. A term card (a name asked for what goes with it: a capital's country)
is not judged: the name is the fact.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..learner_cards import Answer, LearnerCard, LintDeck
from ..findings import Finding, Rule
from ..words import compound_words, contains, quoted

NAME = "restated_answer"


def check(deck: LintDeck, options: Mapping[str, Any]) -> Iterator[Finding]:
    """Each front/back card whose cue holds its answer's words, all or all but one."""
    least = int(options["min_shared"])
    for note in deck.notes:
        if note.is_cloze:
            continue
        for card in note.cards:
            if card.is_term:
                continue
            cue = set(deck.forms.content(compound_words(card.question))) - deck.subject
            for answer in card.answers:
                shared = _restated(deck, card, answer, cue, least)
                if shared:
                    yield Finding(NAME, card, card.answer_field,
                                  f"{card.which}the cue already holds the answer '{quoted(answer.text)}' "
                                  f"({', '.join(shared)}): it restates, it does not recall",
                                  "cue the answer by what it means or does, in words that are not the answer's own")
                    break


def _restated(deck: LintDeck, card: LearnerCard, answer: Answer, cue: set[str], least: int) -> list[str]:
    """The answer's words the cue holds, if they are all of it or all but one (and enough); else []."""
    if contains(card.question_words, answer.words):
        return []  # written out: answer_in_front's finding
    stems = list(dict.fromkeys(stem for stem in deck.forms.content(answer.words) if stem not in deck.subject))
    shared = [stem for stem in stems if stem in cue]
    missing = len(stems) - len(shared)
    if stems and (missing == 0 or (missing == 1 and len(shared) >= least)):
        return [word for word in dict.fromkeys(answer.words) if deck.forms.stem(word) in shared]
    return []


RULE = Rule(NAME, "an answer that restates its cue in other word forms", {"min_shared": 2}, check)
