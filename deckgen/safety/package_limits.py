"""Ceilings on what a package, collection or text file from a stranger may cost `deckgen import`.

Each is decided before the work it bounds: sizes are read from the zip's directory, the media
map and SQL (`length()`, `count()`) before anything is unpacked or turned into Python objects,
and whatever is streamed (a collection, a media file, a CSV) is counted as it comes and stopped
at its ceiling. A bigger source is refused with a located message, never read on.
"""

from __future__ import annotations

MAX_COLLECTION_BYTES = 4 << 30  # the collection, unpacked to a scratch file on disk
MAX_MEDIA_MAP_BYTES = 32 << 20  # the media map, unpacked
MAX_MEDIA_FILES = 300_000  # entries of the media map
MAX_ZIP_MEMBERS = MAX_MEDIA_FILES + 16  # members the zip's directory lists (each costs memory to open it)
MAX_MEDIA_BYTES = 256 << 20  # one media file, unpacked (AnkiWeb syncs none over 100 MB)
MAX_MEDIA_TOTAL = 4 << 30  # the media files notes and templates use, together (the only ones read; each is
# read when written into the project, one at a time, so memory holds one file at most)
MAX_MEDIA_NAME_BYTES = 255  # a media name, in UTF-8: what a file system takes

MAX_NOTES = 500_000  # rows of `notes`
MAX_CARDS = 2_000_000  # rows of `cards`
MAX_NOTE_TYPES = 10_000
MAX_DECKS = 100_000
MAX_NOTE_TYPE_FIELDS = 1_000  # fields of one note type
MAX_TEMPLATES = 1_000  # card templates of one note type
MAX_NOTE_CHARS = 2_000_000  # all of one note's values together: a card may render no more
MAX_TEXT_CHARS = 100_000_000  # all notes' values and tags together, in a collection or a text file
MAX_TAGS_CHARS = 100_000  # one note's tags
MAX_NAME_CHARS = 10_000  # a GUID, a deck's, note type's, field's or template's name
MAX_CONFIG_BYTES = 8 << 20  # one note type's, field's or template's config (current collections)
MAX_LEGACY_JSON_BYTES = 64 << 20  # the legacy `models` or `decks` JSON
MAX_SQL_STEPS = 2_000_000_000  # SQLite virtual machine steps while reading one collection
SQL_STEP_CHECK = 10_000  # steps between two checks of that budget and of Ctrl-C

MAX_CSV_LINE_CHARS = MAX_NOTE_CHARS  # one physical line of a text export or CSV
