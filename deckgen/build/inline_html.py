"""The small inline HTML set card text may use with `html: false`, and the raw HTML it may not.

Science needs HbA<sub>1c</sub> and x<sup>2</sup>; Markdown has no syntax for them. So even with
`html: false`, a few inline tags written exactly, without attributes (`<sub>`, `</sub>`, `<br>`),
are kept when they pair up; every other tag is shown as text, and `tags_shown_as_text` names each
one so the author is told, never silently.
"""

from __future__ import annotations

import re
from typing import NamedTuple

INLINE_TAGS = ("b", "i", "u", "em", "strong", "sub", "sup", "br")
_VOID = "br"
_KEPT = ", ".join(f"<{tag}>" for tag in INLINE_TAGS[:-1]) + f" and <{INLINE_TAGS[-1]}>"
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?/?)>")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# cmark passes private-use characters through untouched: each kept tag travels as one of them
_PLACEHOLDER = {f"{slash}{name}": chr(0xE010 + 2 * n + bool(slash))
                for n, name in enumerate(INLINE_TAGS) for slash in ("", "/")}
_TAG_OF = {char: f"<{tag}>" for tag, char in _PLACEHOLDER.items()}
_PLACEHOLDERS = re.compile("[" + "".join(_TAG_OF) + "]")


class ShownTag(NamedTuple):
    """A tag that card text will show as text, and why."""

    tag: str  # as written
    name: str
    reason: str


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Backtick code spans, roughly as Markdown finds them: tags inside are meant as text."""
    return [match.span() for match in _CODE.finditer(text)] if "`" in text else []


def _scan(text: str) -> tuple[list[tuple[re.Match[str], bool]], list[ShownTag]]:
    """Every tag outside code spans, with whether it is kept, and the ones shown as text.

    A tag of the set is kept when it pairs up, properly nested, within one paragraph: what is
    kept is always well-formed HTML.
    """
    code = _code_spans(text)
    found: list[tuple[re.Match[str], bool]] = []
    open_: list[int] = []  # indexes into found of the tags opened and not yet closed
    paragraph_end = _next_blank_line(text, 0)
    for match in _TAG.finditer(text):
        if any(start <= match.start() < end for start, end in code):
            continue
        if match.start() > paragraph_end:  # a paragraph ended: what is still open stays text
            _never_closed(found, open_)
            paragraph_end = _next_blank_line(text, match.start())
        slash, name, rest = match.group(1), match.group(2).lower(), match.group(3)
        simple = name in INLINE_TAGS and (rest.strip() in ("", "/") if name == _VOID else not rest)
        keep = simple and not (slash and name == _VOID)
        if keep and name != _VOID:
            if not slash:
                open_.append(len(found))
            elif open_ and found[open_[-1]][0].group(2).lower() == name:
                open_.pop()
            else:
                keep = False  # a closing tag with nothing (or something else) to close
        found.append((match, keep))
    _never_closed(found, open_)
    return found, [_shown(match) for match, kept in found if not kept]


def _next_blank_line(text: str, start: int) -> int:
    match = _BLANK_LINE.search(text, start)
    return match.start() if match else len(text)


def _never_closed(found: list[tuple[re.Match[str], bool]], open_: list[int]) -> None:
    """Opening tags whose paragraph (or text) ended before they were closed stay text."""
    for index in open_:
        found[index] = (found[index][0], False)
    open_.clear()


def _shown(match: re.Match[str]) -> ShownTag:
    slash, name, rest = match.group(1), match.group(2).lower(), match.group(3)
    if name not in INLINE_TAGS:
        reason = f"with html: false only {_KEPT} are kept"
    elif rest.strip() and rest.strip() != "/":
        reason = "attributes are not allowed with html: false"
    elif name == _VOID:
        reason = "write <br>"
    else:
        reason = f"no matching {'<' + name + '>' if slash else '</' + name + '>'}"
    return ShownTag(match.group(0), name, reason)


def tags_shown_as_text(text: str) -> list[ShownTag]:
    """The tags of a Markdown text that will appear as text on the card (no kept tag is listed)."""
    return _scan(angle_destinations(text))[1] if "<" in text else []


_ANGLE_DESTINATION = re.compile(r"\]\(<([^<>\n\\]*)>(?=[ \t)])")  # '](<my ring.png>)': a target written in <...>


def angle_destinations(text: str) -> str:
    """Markdown link and image targets written in <...> as plain ones: '![ring](<my ring.png>)' names a file.

    CommonMark's way to write a name with spaces; read as a tag, it would be shown as text.
    """
    if "](<" not in text:
        return text
    return _ANGLE_DESTINATION.sub(lambda found: "](" + found.group(1).replace(" ", "%20"), text)


_ENCODED_SPACE_TARGET = re.compile(r'(?<= )(src|href)="([^"]*%20[^"]*)"')


def spaced_targets(rendered: str) -> str:
    """Rendered HTML with the spaces of its targets as written: Anki keeps 'my ring.png' so in the field,
    and its media check does not read '%20' as a space."""
    return _ENCODED_SPACE_TARGET.sub(lambda found: f'{found.group(1)}="{found.group(2).replace("%20", " ")}"', rendered)


def every_tag(text: str) -> list[str]:
    """Every HTML tag in a plain text, as written."""
    return [match.group() for match in _TAG.finditer(text)]


def protect(text: str, lt: str) -> tuple[str, bool]:
    """The text with every '<' that does not start a kept tag replaced by `lt`, and each kept tag
    by a private-use placeholder (see `restore`); True if any tag was kept."""
    found, _ = _scan(text)
    kept = [match for match, keep in found if keep]
    if kept:
        text = _PLACEHOLDERS.sub("", text)  # the author's own such characters cannot pose as tags
        found, _ = _scan(text)
        kept = [match for match, keep in found if keep]
    out, at = [], 0
    for match in kept:
        slash, name = match.group(1), match.group(2).lower()
        out += [text[at:match.start()].replace("<", lt), _PLACEHOLDER[slash + name]]
        at = match.end()
    out.append(text[at:].replace("<", lt))
    return "".join(out), bool(kept)


def restore(rendered: str) -> str:
    """Rendered HTML with the placeholders of `protect` turned back into their tags."""
    return _PLACEHOLDERS.sub(lambda match: _TAG_OF[match.group()], rendered)
