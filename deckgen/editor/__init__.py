"""Editor support: JSON Schemas of a project's card files, deckgen.yaml and note types.

`schemas` makes them from deckgen's own definitions, for yaml-language-server.

May import: `deckgen.lint` (its rules' names and settings) and everything below it.
"""
