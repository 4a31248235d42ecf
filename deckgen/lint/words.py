"""Card text as lint compares it: what a learner reads, reduced to words.

Normalising (case folded, Unicode NFKC, punctuation and spacing dropped) makes "Calcium
phosphate." and "calcium  phosphate" the same answer; HTML tags become spaces so that list
items and lines never run together.
"""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]*>|\[anki:play:[qa]:\d+\]")  # tags, and the sound buttons Anki puts in
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
ARTICLES = frozenset({"the", "a", "an"})
BLANK = re.compile(r"\[\.\.\.\]|_{3,}|…")


def visible(fragment: str) -> str:
    """What a learner reads in an HTML fragment: tags and sounds as spaces, entities decoded, spacing collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


def words(text: str) -> tuple[str, ...]:
    """The words of a text, case folded: what lint compares."""
    return tuple(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def answer_words(text: str) -> tuple[str, ...]:
    """An answer's words without a leading article: "The symptoms" answers as "symptoms"."""
    found = words(text)
    while found and found[0] in ARTICLES:
        found = found[1:]
    return found


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
