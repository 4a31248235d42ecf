"""What Anki does, written down: its note types, its card rendering, the names it merges or refuses.

`builtin_note_types` holds deckgen's three fixed note types (Basic, Basic and reversed, Cloze),
`template_engine` renders cards with Anki's own template language (`{{Field}}`, conditionals,
`{{cloze:}}`) exactly as the reviewer does, and `name_rules` says which characters Anki cannot
store and which names it treats as one.

May import: `deckgen.safety` and `deckgen.problems`.
"""
