"""Card text as lint compares it: what a learner reads, reduced to words.

Normalising (case folded, Unicode NFKC, punctuation and spacing dropped) makes "Calcium
phosphate." and "calcium  phosphate" the same answer; HTML tags become spaces so that list
items and lines never run together.
"""

from __future__ import annotations

import html
import re
import unicodedata

_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)  # never shown: code and CSS
_TAG = re.compile(r"<[^>]*>|\[anki:play:[qa]:\d+\]")  # tags, and the sound buttons Anki puts in
_WORD = re.compile(r"\w+")
_COMPOUND = re.compile(r"\w+(?:-\w+)*")
ARTICLES = frozenset({"the", "a", "an"})
BLANK = re.compile(r"\[\.\.\.\]|_{3,}|…")
_ASIDE = re.compile(r"\(([^()]*)\)")
ALIAS_WORDS = 3  # an answer's other name, in parentheses, has at most this many words
_NOT_IN_A_NAME = frozenset({"is", "are", "was", "were", "both", "all", "each", "see", "also", "not", "e", "g", "i",
                            "eg", "ie", "etc", "cf", "the", "a", "an", "this", "that", "these", "those"})


def visible(fragment: str) -> str:
    """What a learner reads in an HTML fragment: tags and sounds as spaces (scripts and styles left out),
    entities decoded, spacing collapsed."""
    if "<" in fragment or "[anki:" in fragment:  # most fields are plain text: no regex to run
        if "<s" in fragment or "<S" in fragment:
            fragment = _HIDDEN.sub(" ", fragment)
        fragment = _TAG.sub(" ", fragment)
    return " ".join(html.unescape(fragment).split())


def words(text: str) -> tuple[str, ...]:
    """The words of a text, case folded: what lint compares."""
    return tuple(_WORD.findall(text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()))


def compound_words(text: str) -> tuple[str, ...]:
    """A text's words with hyphenated compounds kept whole: "soft-tissue" is not "tissue"."""
    return tuple(_COMPOUND.findall(text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()))


def answer_words(text: str) -> tuple[str, ...]:
    """An answer's words without a leading article: "The symptoms" answers as "symptoms"."""
    found = words(text)
    while found and found[0] in ARTICLES:
        found = found[1:]
    return found


def alternatives(text: str) -> list[str]:
    """The ways an answer is written: "An x-ray (radiography)" is "An x-ray" and "radiography" too.

    Only a term with one short aside that names it again counts so; any other aside is a comment
    ("(both documents)"), and the answer is taken as written.
    """
    asides = _ASIDE.findall(text)
    outside = _ASIDE.sub(" ", text)
    if len(asides) != 1 or len(answer_words(outside)) > ALIAS_WORDS or not _alias(asides[0]):
        return [text]
    return [outside, asides[0]]


def _alias(aside: str) -> bool:
    """Whether an aside can be another name: a few words, none of them a function word ("are", "both")."""
    found = answer_words(aside)
    return 0 < len(found) <= ALIAS_WORDS and not any(word in _NOT_IN_A_NAME for word in found)


def letters(found: tuple[str, ...]) -> int:
    """How many letters and digits the words hold."""
    return sum(map(len, found))


def contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Whether the words of `needle` stand together, in order, in `haystack`."""
    size = len(needle)
    if not size:
        return False
    first = needle[0]
    return any(haystack[i:i + size] == needle for i, word in enumerate(haystack) if word == first)


def quoted(text: str) -> str:
    """Card text to quote in a message: at most 60 characters."""
    return text if len(text) <= 60 else text[:57] + "..."


_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
AUXILIARIES = frozenset({
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would", "will",
    "has", "have", "had", "may", "might", "must", "shall", "isn", "aren", "doesn", "don", "didn",
})


def sentences(text: str) -> list[str]:
    """A text's sentences (a colon or semicolon ends one too)."""
    return [part for part in _SENTENCE_END.split(text) if part.strip()]


def questions(text: str) -> list[str]:
    """The sentences of a text that end with a question mark."""
    return [part for part in sentences(text) if part.rstrip().endswith("?")]
