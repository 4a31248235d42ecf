"""Remote resources: what in card HTML, a template or CSS would make Anki's reviewer fetch from a network.

A resource loaded from the network (an image, a stylesheet) tells a server whenever a card is
shown, and fails offline: it is refused in card text, templates and CSS.
"""

from __future__ import annotations

import re

# What makes a browser or Anki fetch something by itself: src-like attributes, <link href>, CSS
# url() and @import, whose address is remote (a scheme with '//', or a protocol-relative '//').
REMOTE = re.compile(
    r"""(?:\b(?:src|srcset|poster|data|background|action|formaction)\s*=\s*["']?|<link\b[^>]*?\bhref\s*=\s*["']?"""
    r"""|url\(\s*["']?|@import\s+["']?)\s*((?:[a-z][a-z0-9+.-]*:)?//[^\s"')>]*)""",
    re.IGNORECASE,
)


def remote_problem(text: str) -> tuple[int, str] | None:
    """(offset, why) for the first remote resource an HTML or CSS text would load, or None."""
    if "//" not in text:
        return None
    found = REMOTE.search(text)
    if found is None:
        return None
    return found.start(), f"loads the remote resource '{found.group(1)[:80]}'"


REMOTE_HINT = ("remote content is refused: it tells a server whenever the card is shown, and fails offline; "
               "copy the file into the media folder and refer to it by name")
