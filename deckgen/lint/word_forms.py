"""Word forms: each word reduced to its stem, so that "infections" is found where "Infection" is asked.

Stems come from the Snowball stemmers (`snowballstemmer`), in the language the `lint: {language:}`
setting names (English by default). A word is stemmed only if it is written in its language's
script: a kanji or a Cyrillic word on an English deck stays as it is, and so do words with digits.
The function words of English (articles, prepositions, auxiliaries) are what `content` leaves out.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

import snowballstemmer

LANGUAGES: tuple[str, ...] = tuple(sorted(snowballstemmer.algorithms()))
NO_STEMMING = "none"
_SCRIPTS = {  # the script each stemmer reads; every other one reads Latin letters
    "arabic": "ARABIC", "persian": "ARABIC", "armenian": "ARMENIAN", "greek": "GREEK",
    "hindi": "DEVANAGARI", "nepali": "DEVANAGARI", "russian": "CYRILLIC", "tamil": "TAMIL",
    "yiddish": "HEBREW",
}
FUNCTION_WORDS = frozenset("""
a an the this that these those it its it's they them their there here
of in on at by for from to into onto over under with within without about after before
between through during against among amongst upon via per than as like such
and or nor but so if then else also either neither both each every any some all no not
is are was were be been being am do does did done has have had having can could may might
must shall should will would i you he she we me my your his her our us one ones which what
who whom whose when where why how whether while very more most less least only just other
another same own inside outside up down out off again further once
""".split())


NUMBER_WORDS = frozenset("""
zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
hundred thousand million first second third half percent
""".split())


class WordForms:
    """Stems words in one language, remembering each word's stem (a deck repeats its words)."""

    def __init__(self, language: str = "english") -> None:
        self.language = language
        self._stemmer = None if language == NO_STEMMING else snowballstemmer.stemmer(language)
        self._script = _SCRIPTS.get(language, "LATIN")
        self._known: dict[str, str] = {}

    def stem(self, word: str) -> str:
        """The word's stem, or the word itself if its script is not the stemmer's."""
        found = self._known.get(word)
        if found is None:
            found = self._stemmed(word)
            self._known[word] = found
        return found

    def stems(self, words: Iterable[str]) -> tuple[str, ...]:
        known = self._known
        try:
            return tuple([known[word] for word in words])  # the deck's words are soon all known
        except KeyError:
            return tuple(map(self.stem, words))

    def content(self, words: Iterable[str]) -> tuple[str, ...]:
        """The stems of the words that carry meaning: function words and single letters left out."""
        return self.stems([word for word in words if word not in FUNCTION_WORDS and len(word) > 1])

    def _stemmed(self, word: str) -> str:
        if self._stemmer is None or not word.isalpha():
            return word
        if (self._script != "LATIN") if word.isascii() else script(word) != self._script:  # ASCII: Latin, no name to look up
            return word
        return self._stemmer.stemWord(word)


def script(word: str) -> str:
    """The script of a word's first letter, as Unicode names it ("LATIN", "CJK", "CYRILLIC")."""
    name = unicodedata.name(word[0], "")
    return name.split(" ")[0] if name else ""
