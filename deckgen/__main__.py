"""`python -m deckgen`."""

from .cli import main

main()
