"""deckgen: YAML fact cards and Jinja templates in, an Anki package that updates cleanly out."""

__version__ = "0.1.0"
