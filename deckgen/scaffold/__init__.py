"""`deckgen new` and the repository set-up `deckgen import` shares with it.

`starter` writes a new project from the files in `files/` (package data), and imports a deck into
one; `repository` gives either the deck repository's own files (.gitignore, the lock's merge
setup, CI, editor settings and schemas) and sets git up to merge deckgen.lock.

May import: `deckgen.editor`, `deckgen.importer` and everything below them.
"""
