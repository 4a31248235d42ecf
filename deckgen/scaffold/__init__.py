"""`deckgen new`: a starter project that builds at once, with CI, editor support and lock merging.

`starter` writes the project from the files in `files/` (package data).

May import: `deckgen.editor` and everything below it.
"""
