"""Anki's stock note types (Basic, Basic (and reversed card), ..., Cloze), as a fresh collection has them.

An Anki text export names its notes' note types but does not carry them; for the stock ones,
deckgen knows their fields, templates and CSS (checked against the official Anki backend in
tests/test_import.py). It cannot know their ids: Anki gives each collection its own.
"""

from __future__ import annotations

from .source_deck import ImportedNoteType, ImportedTemplate

_CSS = (".card {\n    font-family: arial;\n    font-size: 20px;\n    line-height: 1.5;\n    text-align: center;\n"
        "    color: black;\n    background-color: white;\n}\n")
_CLOZE_CSS = _CSS + ".cloze {\n    font-weight: bold;\n    color: blue;\n}\n.nightMode .cloze {\n    color: lightblue;\n}\n"
_ANSWER = "{{FrontSide}}\n\n<hr id=answer>\n\n"
_FORWARD = ImportedTemplate("Card 1", "{{Front}}", _ANSWER + "{{Back}}")


def _standard(name: str, fields: tuple[str, ...], *templates: ImportedTemplate) -> ImportedNoteType:
    return ImportedNoteType(name, None, False, fields, templates, _CSS)


STOCK_NOTE_TYPES = {note_type.name: note_type for note_type in (
    _standard("Basic", ("Front", "Back"), _FORWARD),
    _standard("Basic (and reversed card)", ("Front", "Back"), _FORWARD,
              ImportedTemplate("Card 2", "{{Back}}", _ANSWER + "{{Front}}")),
    _standard("Basic (optional reversed card)", ("Front", "Back", "Add Reverse"), _FORWARD,
              ImportedTemplate("Card 2", "{{#Add Reverse}}{{Back}}{{/Add Reverse}}", _ANSWER + "{{Front}}")),
    _standard("Basic (type in the answer)", ("Front", "Back"),
              ImportedTemplate("Card 1", "{{Front}}\n\n{{type:Back}}", "{{Front}}\n\n<hr id=answer>\n\n{{type:Back}}")),
    ImportedNoteType("Cloze", None, True, ("Text", "Back Extra"),
                     (ImportedTemplate("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),), _CLOZE_CSS),
)}
BY_CARD_TYPE = {"basic": "Basic", "reversed": "Basic (and reversed card)", "cloze": "Cloze"}  # --note-type
