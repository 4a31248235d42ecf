"""What Anki cannot store or tells apart poorly: control characters in fields, names it merges, invisible characters.

Anki joins a note's fields with U+001F, so that character inside a field breaks the whole
package on import; it compares tags and deck names without regard to case, and its Unicode
handling normalises them (NFC), so two names that differ only there become one (a subdeck
renamed with a '_', a tag merged). Invisible characters (zero width, bidi controls) make names
that look the same and are not: refused too. A note that would load a remote resource is refused
as well (`deckgen.safety.remote` says what counts as one): judged by its fields, and by its cards as
Anki renders them where a template puts a field in markup (`<img src="{{Image}}">`) or a field's HTML
ends inside a tag (what follows it is then read differently).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from typing import Iterable

from ..safety.remote import REMOTE_HINT, ends_in_text, remote_address, remote_problem
from .builtin_note_types import NoteType
from .template_engine import SPECIAL_FIELDS, NoteContext, parse_template, render_cards, template_texts

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


# Filters whose output may hold markup the stored field does not show (`text:` decodes `&lt;img ...&gt;`)
_REWRITING_FILTERS = frozenset({"text", "furigana", "kana", "kanji", "cloze-only"})


def needs_cards(note_type: NoteType, values: Iterable[str]) -> bool:
    """Whether only the note's cards as Anki renders them tell what they load; otherwise its fields do.

    The fields tell it when every template puts each field where HTML is text, unchanged, and
    every field's HTML ends in text: the cards are then the templates' own text (checked with the
    note type) and the fields' HTML side by side. The rest costs one substring search a field.
    """
    return places_fields_in_markup(note_type) or any("<" in value and not ends_in_text(value) for value in values)


def places_fields_in_markup(note_type: NoteType) -> bool:
    """Whether a template puts a field inside a tag or a style sheet, rewrites one into markup, or shows
    a special field ({{Tags}}, {{Deck}}, ...): decided once per note type."""
    facts = note_type.template_facts
    if "markup" not in facts:
        sides = [side for template in note_type.templates for side in (template.question, template.answer)]
        facts["markup"] = any(map(_places_in_markup, sides))
    return facts["markup"]


def _places_in_markup(template: str) -> bool:
    """A template side whose own text leaves a field's place inside markup, or whose uses rewrite or add to it."""
    if not all(map(ends_in_text, template_texts(template))):
        return True
    return any(_REWRITING_FILTERS.intersection(use.filters) or use.key in SPECIAL_FIELDS
               for use in parse_template(template))


def card_remote_problem(note_type: NoteType, fields: dict[str, str], note: NoteContext) -> tuple[str, str] | None:
    """Why a card of the note, as Anki renders it, would load something from outside the media folder, and the fix.

    Raises CardTooLarge for a card past deckgen's output ceiling.
    """
    for card in render_cards(note_type, fields, note):
        for side, html in (("front", card.question), ("back", card.answer)):
            found = remote_address(html)
            if found:
                name = f"Cloze {card.ord + 1}" if note_type.is_cloze else note_type.templates[card.ord].name
                return (f"the {side} of its card '{name}' {found[2]}{_from_field(found[1], fields)}, as note "
                        f"type '{note_type.kind}' places it", REMOTE_HINT)
    return None


def _from_field(address: str, fields: dict[str, str]) -> str:
    """", from field 'X'" for the field the address comes from, when one holds it."""
    address = address.strip()
    name = next((name for name, value in fields.items() if address and address in html.unescape(value)), None)
    return f", from field '{name}'" if name else ""


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
