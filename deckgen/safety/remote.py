"""Remote resources: what in card HTML, a template or CSS would make Anki's reviewer fetch from outside its media folder.

A resource loaded from the network (an image, a stylesheet) tells a server whenever a card is
shown, and fails offline: it is refused in card text, templates and CSS. The text is read the
way a browser reads it, not searched for `//`: tags and attributes as HTML5 tokenizes them,
attribute values with their character references decoded, CSS with its escapes decoded (so
`ht&#116;ps:`, `/&#47;host`, `\\75rl(` and `url("https:\\2f\\2f...")` are what they stand for),
and each address judged as the browser's URL parser resolves it against the media folder:
anything with a scheme (`https:evil.example` needs no `//`), a leading `/` or `\\` (the root,
or another host), or a `..` step leaves the folder. `data:` stays allowed where it can only be
an image. What counts as a fetch: `src`, `srcset`, `poster`, `data`, `background`, `action`,
`formaction`, `href` on anything but a link (`<a>`, `<area>`): `<link>`, `<base>`, SVG
`<image>`/`<use>`, `xlink:href` alike; `<meta http-equiv=refresh>`; `<iframe srcdoc>`; CSS
`url()`, `@import`, `image-set()`, in `<style>`, `style=` and any attribute that holds `url(`
(but a `data-*` one, which nothing loads from: Anki's cloze keeps the hidden text there).
"""

from __future__ import annotations

import functools
import html
import re
from typing import Iterator, NamedTuple

# HTML5 tokenizing, each step a linear regex
_TAG_START = re.compile(r"<(?:(!--)|([!?/])|([a-zA-Z]))")
_TAG_NAME = re.compile(r"[^\t\n\f\r />]*")
# one attribute (after white space or '/'): its name, and its value quoted either way or not at all
_ATTRIBUTE = re.compile(r'[\t\n\f\r /]*(?:([^\t\n\f\r />][^\t\n\f\r />=]*)(?:[\t\n\f\r ]*=[\t\n\f\r ]*'
                        r'(?:"([^"]*)"?|\'([^\']*)\'?|([^\t\n\f\r >]*)))?)?')
_URL_ATTRS = frozenset({"src", "srcset", "imagesrcset", "poster", "data", "background", "action", "formaction",
                        "href", "xlink:href", "ping", "manifest", "codebase", "archive", "lowsrc", "dynsrc"})
_LINKS = frozenset({"a", "area"})  # their href is followed on a click, not fetched
_IMAGES = frozenset({"img", "image", "source", "picture", "video", "audio", "track", "input", "feimage",
                     "body", "table", "td", "th", "tr"})  # where a data: address can only be an image or sound
_STYLE_END = re.compile(r"</style", re.IGNORECASE)
_STYLE_START = re.compile(r"<style", re.IGNORECASE)
_SRCSETS = frozenset({"srcset", "imagesrcset"})
_OTHER, _IMAGE, _IMG_SRC = 0, 1, 2  # what a place may load: anything, only an image or sound, an <img src>
_REFRESH = re.compile(r"\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(.*)", re.IGNORECASE | re.DOTALL)

# CSS tokens (CSS Syntax 3, simplified but with escapes)
_CSS_TOKEN = re.compile(
    r"""(?P<comment>/\*.*?(?:\*/|\Z))"""
    r"""|(?P<string>"(?:[^"\\\n]|\\.)*(?:"|(?=\n)|\Z)|'(?:[^'\\\n]|\\.)*(?:'|(?=\n)|\Z))"""
    r"""|(?P<ident>(?:[-\w]|[^\x00-\x7f]|\\(?:[0-9a-fA-F]{1,6}[ \t\n\r\f]?|[^\n0-9a-fA-F]))+)(?P<call>\()?"""
    r"""|(?P<at>@)|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<end>;)|.""",
    re.DOTALL,
)
_UNQUOTED_URL = re.compile(r"[ \t\n\r\f]*((?:[^)\\\"']|\\.)*)\)?", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(\n)|(.))", re.DOTALL)
_CSS_SPACE = re.compile(r"[ \t\n\r\f]*")
_URL_FUNCTIONS = frozenset({"url", "src"})
_STRING_URL_FUNCTIONS = frozenset({"url", "src", "image-set", "-webkit-image-set", "image", "cross-fade",
                                   "-webkit-cross-fade"})

_C0_OR_SPACE = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_DOT_DOT = re.compile(r"(?:^|[/\\])(?:\.|%2e){2}(?:[/\\?#]|$)", re.IGNORECASE)
_MAYBE_CSS = re.compile(r"\(|@|\\", re.IGNORECASE)
# Every attribute that can load (see _tag_addresses: the URL attributes, a meta refresh's content, srcdoc, style,
# any value with a '(' in it, which may be CSS, also written as a character reference) and <style> name one of these
_MAY_LOAD = ("src", "poster", "data", "background", "action", "href", "ping", "manifest", "codebase", "archive",
             "content", "style", "(", "&")  # looked for as substrings: a regex of them costs ten times as much


def remote_problem(text: str, paths: bool = True) -> tuple[int, str] | None:
    """(offset, why) for the first address outside the media folder an HTML text would load, or None.

    `paths` False: a path that leaves the folder ('/x', '../x') in an `<img src>` is left to the
    build's media check, which names it in notes.
    """
    found = remote_address(text, paths)
    return (found[0], found[2]) if found else None


def remote_address(text: str, paths: bool = True) -> tuple[int, str, str] | None:
    """(offset, address, why) for the first address outside the media folder an HTML text would load, or None."""
    if "<" not in text or not _may_load(text):  # no attribute value, no CSS: nothing can load
        return None
    for offset, address, where in _html_addresses(text):
        why = address_problem(address, where != _OTHER, paths or where != _IMG_SRC)
        if why:
            return offset, address, why
    return None


def _may_load(text: str) -> bool:
    """Whether the HTML names anything that can load (most card text names none: the full reading is skipped)."""
    return any(map(text.lower().__contains__, _MAY_LOAD))  # no generator: a frame per word cost more than the search


def css_remote_problem(css: str) -> tuple[int, str] | None:
    """(offset, why) for the first address outside the media folder a style sheet would load, or None."""
    for offset, address, where in _css_addresses(css, 0):
        why = address_problem(address, where != _OTHER)
        if why:
            return offset, why
    return None


def address_problem(address: str, images: bool = False, paths: bool = True) -> str | None:
    """Why a browser would fetch this address from outside the media folder; None when it stays inside.

    `images`: the place can only show an image or play a sound, so a `data:` address loads nothing more.
    """
    url = _TAB_OR_NEWLINE.sub("", address.strip(_C0_OR_SPACE))  # what the URL parser drops
    shown = url[:80]
    scheme = _SCHEME.match(url)
    if scheme:
        if scheme[1].lower() == "data" and images:
            return None
        return f"loads the remote resource '{shown}'"
    if url[:2].replace("\\", "/") == "//":  # the same scheme on another host
        return f"loads the remote resource '{shown}'"
    if not paths:
        return None
    if url.startswith(("/", "\\")):
        return f"loads '{shown}', which is outside the media folder (the root)"
    if _DOT_DOT.search(url):
        return f"loads '{shown}', which is outside the media folder"
    return None


# HTML
# ----------------------------------------


def without_refresh(text: str) -> str:
    """The HTML with each `<meta http-equiv=refresh>` taken out: in the preview, a card never moves its frame."""
    if "<" not in text:
        return text
    kept, position = [], 0
    for tag in _start_tags(text):
        if tag.name == "meta" and _is_refresh(dict(tag.attributes)):
            kept.append(text[position:tag.start])
            position = tag.end
    return "".join(kept) + text[position:] if kept else text


def _is_refresh(attributes: dict[str, str]) -> bool:
    return attributes.get("http-equiv", "").strip().lower() == "refresh"


class _StartTag(NamedTuple):
    start: int
    end: int
    name: str
    attributes: list[tuple[str, str]]


# HTML that ends in text, read as _start_tags reads it, in one linear pass (possessive: no backtracking):
# text, comments, end tags and bogus comments, and start tags closed by '>' (a <style> closed by </style)
_TAG_BODY = (r"[^\t\n\f\r />]*+(?:[\t\n\f\r /]++|[^\t\n\f\r />][^\t\n\f\r />=]*+"
             r"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"]*+"|'[^']*+'|(?!["'])[^\t\n\f\r >]*+)"""
             r"|(?![\t\n\f\r ]*+=)))*+>")  # a value that opens a quote and never closes it leaves the tag open
_IN_TEXT = re.compile(r"(?:[^<]++|<!--(?:[^-]++|-(?!->))*+-->|<(?!!--)[!?/][^>]*+>|<style(?=[\t\n\f\r />])"
                      + _TAG_BODY + r"(?:[^<]++|<(?!/style))*+(?=</style)|<(?!style[\t\n\f\r />])[a-z]"
                      + _TAG_BODY + r"|<(?![a-z!?/]))*+", re.IGNORECASE)


def ends_in_text(text: str) -> bool:
    """Whether HTML read from its start ends where text goes on, not inside a start tag or a `<style>`.

    Only then is what follows it (a template's text, another field) read as it would be alone: after
    `<img alt=` it becomes an attribute, after `<style>` a style sheet. (An open comment hides what
    follows: it counts as text.)
    """
    if "<" not in text:
        return True
    if '"' not in text and "'" not in text and text.rfind("<") < text.rfind(">") and not _STYLE_START.search(text):
        return True  # without quotes each tag ends at the first '>' after it, and every '<' has one after it
    return _read_to_the_end(text)


@functools.lru_cache(maxsize=256)  # a note's sources field is one text of a few, again and again
def _read_to_the_end(text: str) -> bool:
    return _IN_TEXT.match(text).end() == len(text) or _in_comment(text)  # type: ignore[union-attr]


def _in_comment(text: str) -> bool:
    """Whether the HTML ends inside a comment (then nothing after it loads)."""
    stop = _IN_TEXT.match(text).end()  # type: ignore[union-attr]
    return text.startswith("<!--", stop)


def _html_addresses(text: str) -> Iterator[tuple[int, str, int]]:
    """(offset, address, what it may load) for every address the HTML's tags would load."""
    for start, end, name, attributes in _start_tags(text):
        if attributes:
            yield from _tag_addresses(name, attributes, start)
        if name == "style":
            yield from _style_element(text, end)


def _start_tags(text: str) -> Iterator[_StartTag]:
    """Each start tag as HTML5 tokenizes it (comments and end tags skipped, a <style>'s text too)."""
    position = 0
    while True:
        start = _TAG_START.search(text, position)
        if start is None:
            return
        if start[1]:  # a comment
            end = text.find("-->", start.end())
            position = len(text) if end == -1 else end + 3
        elif start[2]:  # an end tag or a bogus comment: attributes load nothing
            end = text.find(">", start.end())
            position = len(text) if end == -1 else end + 1
        else:
            name_match = _TAG_NAME.match(text, start.end() - 1)
            attributes, position = _attributes(text, name_match.end())
            position = min(position, len(text))
            yield _StartTag(start.start(), position, name_match[0].lower(), attributes)
            if name_match[0].lower() == "style":
                position = _style_end(text, position)


def _attributes(text: str, position: int) -> tuple[list[tuple[str, str]], int]:
    """The attributes of a start tag, values decoded, and where the tag ends."""
    found = []
    while True:
        attribute = _ATTRIBUTE.match(text, position)
        position = attribute.end()  # type: ignore[union-attr]
        name, double, single, bare = attribute.groups()  # type: ignore[union-attr]
        if name is None:  # at '>' or the end of the text
            return found, position + 1
        value = double if double is not None else single if single is not None else bare or ""
        found.append((name.lower(), html.unescape(value) if "&" in value else value))


def _tag_addresses(tag: str, attributes: list[tuple[str, str]], offset: int) -> Iterator[tuple[int, str, int]]:
    images = _IMAGE if tag in _IMAGES else _OTHER
    values = dict(attributes)
    for name, value in attributes:
        if name in _SRCSETS:
            yield from ((offset, address, images) for address in _srcset(value))
        elif name in _URL_ATTRS and not (name == "href" and tag in _LINKS):
            yield offset, value, _IMG_SRC if (tag, name) == ("img", "src") else images if name != "action" else _OTHER
        elif name == "content" and tag == "meta" and _is_refresh(values):
            yield offset, _refresh_target(value), _OTHER
        elif name == "srcdoc":
            yield from ((offset, address, image) for _, address, image in _html_addresses(value))
        if name == "style" or ("(" in value and _MAYBE_CSS.search(value) and not name.startswith("data-")):
            yield from ((offset, address, image) for _, address, image in _css_addresses(value, 0))


def _srcset(value: str) -> Iterator[str]:
    """The addresses of a `srcset`: each candidate's first run of non-space characters (commas at its end dropped)."""
    for candidate in re.finditer(r"[\s,]*([^\s,][^\s]*)([^,]*)", value):
        address = candidate[1]
        yield address.rstrip(",") if address.endswith(",") else address


def _refresh_target(content: str) -> str:
    """Where `<meta http-equiv=refresh content=...>` sends the page ('' : it reloads itself)."""
    target = _REFRESH.match(content)[1].strip()  # type: ignore[index]
    if target[:1] in ("'", '"'):
        quote, target = target[0], target[1:]
        target = target.split(quote, 1)[0]
    return target


def _style_end(text: str, position: int) -> int:
    """Where a `<style>` element's text ends."""
    end = _STYLE_END.search(text, position)
    return len(text) if end is None else end.start()


def _style_element(text: str, position: int) -> Iterator[tuple[int, str, int]]:
    """The addresses of a `<style>` element's CSS (its text as is, and decoded, as SVG reads it)."""
    css = text[position:_style_end(text, position)]
    for sheet in (css, html.unescape(css)) if "&" in css else (css,):
        yield from _css_addresses(sheet, position)


# CSS
# ----------------------------------------


def _css_unescape(text: str) -> str:
    return _CSS_ESCAPE.sub(_css_char, text) if "\\" in text else text


def _css_char(match: re.Match[str]) -> str:
    if match[1]:
        code = int(match[1], 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
    return "" if match[2] else match[3]


def _css_addresses(css: str, base: int) -> Iterator[tuple[int, str, int]]:
    """(offset, address, what it may load) for every address CSS would load: url(), @import, image-set() strings."""
    functions: list[str] = []
    importing = at_rule = False
    position = 0
    while position < len(css):
        token = _CSS_TOKEN.match(css, position)
        assert token is not None  # the last alternative matches any character
        position, kind = token.end(), token.lastgroup
        if kind == "ident" or kind == "call":
            name = _css_unescape(token["ident"]).lower()
            if at_rule:
                importing, at_rule = name == "import", False
            if token["call"] and name in _URL_FUNCTIONS and not _quoted_next(css, position):
                address = _UNQUOTED_URL.match(css, position)
                position = address.end()  # type: ignore[union-attr]
                yield base + token.start(), _css_unescape(address[1]).strip(), _OTHER if importing else _IMAGE  # type: ignore[index]
            elif token["call"]:
                functions.append(name)
        elif kind == "string" and (importing or (functions and functions[-1] in _STRING_URL_FUNCTIONS)):
            yield base + token.start(), _css_unescape(_string_body(token["string"])), _OTHER if importing else _IMAGE
        elif kind == "at":
            at_rule = True
        elif kind == "open":
            functions.append("")
        elif kind == "close" and functions:
            functions.pop()
        if kind == "end" or token[0] == "{":
            importing = False


def _string_body(token: str) -> str:
    return token[1:-1] if len(token) > 1 and token[-1] == token[0] else token[1:]


def _quoted_next(css: str, position: int) -> bool:
    """Whether `url(` is followed by a string: then the string is the address."""
    after = _CSS_SPACE.match(css, position).end()  # type: ignore[union-attr]
    return css[after:after + 1] in ("'", '"')


REMOTE_HINT = ("remote content is refused: it tells a server whenever the card is shown, and fails offline; "
               "copy the file into the media folder and refer to it by name")
