"""A project or package from a stranger, kept in its place.

`confine` keeps every read inside the project folder and every write off its sources, `limits`
puts a clock and size ceilings on templates and files, `package_limits` says what a package,
collection or CSV may cost an import, `remote` refuses what would make a card
load anything from a network, and `scratch` makes temporary files and worker processes that
never outlive the command that made them.

May import: `deckgen.problems` only (every other package relies on this one).
"""
