"""What Anki cannot store or tells apart poorly: control characters in fields, names it merges, invisible characters.

Anki joins a note's fields with U+001F, so that character inside a field breaks the whole
package on import; it compares tags and deck names without regard to case, and its Unicode
handling normalises them (NFC), so two names that differ only there become one (a subdeck
renamed with a '_', a tag merged). Invisible characters (zero width, bidi controls) make names
that look the same and are not: refused too. A note that would load a remote resource is refused
as well (`deckgen.safety.remote` says what counts as one).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Iterable

from ..safety.remote import REMOTE_HINT, remote_problem

# Control characters other than tab, line feed and carriage return (U+001F, Anki's field separator, among them).
FIELD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Zero-width characters, bidi embeddings, overrides and isolates, the BOM, soft hyphen.
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def note_problem(values: Iterable[str]) -> tuple[str, str] | None:
    """Why a note with these fields cannot go into the package, and the fix; None when it can.

    A control character (Anki refuses the whole package) or a remote resource (a beacon).
    """
    joined = "\n".join(values)  # one search for the whole note
    found = FIELD_CONTROL.search(joined)
    if found:
        return (f"its fields would contain the control character U+{ord(found.group()):04X}",
                "Anki refuses the whole package: remove it from the template or the card")
    remote = remote_problem(joined, paths=False)  # the media check names an <img src> out of the folder
    return (remote[1], REMOTE_HINT) if remote else None


def invisible_problem(name: str) -> str | None:
    """Why a name with an invisible or bidi control character is refused, or None."""
    found = INVISIBLE.search(name) or FIELD_CONTROL.search(name)
    return f"contains the invisible character U+{ord(found.group()):04X}" if found else None


@functools.lru_cache(maxsize=4096)
def merge_key(name: str) -> str:
    """What Anki compares a tag or deck name by: case and Unicode normalisation ignored."""
    return unicodedata.normalize("NFC", name).casefold()


def merged_with(names: Iterable[str]) -> dict[str, str]:
    """Each name that Anki would merge with an earlier, different spelling: name -> the earlier one."""
    first: dict[str, str] = {}
    merged = {}
    for name in names:
        key = merge_key(name)
        earlier = first.setdefault(key, name)
        if earlier != name:
            merged[name] = earlier
    return merged
