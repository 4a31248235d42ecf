"""`deckgen preview`: every card as Anki shows it, as a static site, and `--serve` to watch it live.

`site` writes the pages from the rendered notes (its page templates, scripts and styles in
`assets/`); `server` serves them on localhost and rebuilds on every change.

May import: `deckgen.build` and everything below it.
"""
