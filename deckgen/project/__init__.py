"""Reading a deck project: deckgen.yaml, card types, note types and card files, every value located.

`config` reads deckgen.yaml (the deck's tree of groups in `deck_tree`, its Anki options preset in
`deck_options`); `card_types` loads the Jinja card types (built-in ones in `builtin_card_types/`)
and `note_type_files` an author's own Anki note types; `card_files` reads the cards. All of them
read YAML through `yaml_reader` (safe, located nodes) and `yaml_values` (typed reads that report
instead of raising). Nothing here is checked against anything else yet, rendered or written.

May import: `deckgen.anki`, `deckgen.safety` and `deckgen.problems`.
"""
