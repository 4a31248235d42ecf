"""Field HTML to readable Markdown, kept only where deckgen renders it back to equivalent HTML.

markdownify (a maintained HTML-to-Markdown converter) writes the Markdown; deckgen's own
Markdown renderer turns it back into HTML; the two HTML texts are compared as a browser would
draw them (tags and their attributes, text with collapsed white space). A field that does not
come back equivalent stays HTML: through the sanitizer where that keeps it whole, or else
passed through as the original deck had it.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import NamedTuple

from markdownify import MarkdownConverter

from ..render import Renderer, is_plain

MARKDOWN, HTML, RAW = "markdown", "html", "raw"
_ALIASES = {"b": "strong", "i": "em"}
_VOID = {"br", "img", "hr", "input", "wbr", "source"}
_BLOCK = {"p", "div", "br", "hr", "ul", "ol", "li", "blockquote", "pre", "table", "thead", "tbody", "tr", "td",
          "th", "h1", "h2", "h3", "h4", "h5", "h6"}
_CONVERTERS = [MarkdownConverter(heading_style="ATX", bullets="-", escape_misc=escape, escape_underscores=escape,
                                 escape_asterisks=escape) for escape in (False, True)]


class Converted(NamedTuple):
    """A field value as the project writes it, and how it must be rendered."""

    text: str
    mode: str  # MARKDOWN, HTML (Markdown with raw HTML under the sanitizer) or RAW (passed through)


class _Canonical(HTMLParser):
    """HTML as a list of tokens that differ only where the drawn result differs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, ...]] = []
        self._text: list[str] = []

    def _flush(self) -> None:
        if self._text:
            self.tokens.append(("text", " ".join("".join(self._text).split(" ")).strip("\x00")))
            self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        kept = tuple(sorted(f"{k}={v or ''}" for k, v in attrs if not (k == "alt" and not v)))
        self.tokens.append(("<", _ALIASES.get(tag, tag), *kept))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self._flush()
            self.tokens.append((">", _ALIASES.get(tag, tag)))

    def handle_data(self, data: str) -> None:
        self._text.append(" ".join(data.split()) if data.strip() else (" " if data else ""))

    def result(self) -> list[tuple[str, ...]]:
        self._flush()
        return _trim(self.tokens)


def _trim(tokens: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop white space that a browser does not draw: at the ends and next to block tags."""
    kept = []
    for index, token in enumerate(tokens):
        if token[0] != "text":
            kept.append(token)
            continue
        text = " ".join(token[1].split())
        before = tokens[index - 1] if index else None
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        if before is None or before[1] in _BLOCK:
            text = text.lstrip()
        if after is None or after[1] in _BLOCK:
            text = text.rstrip()
        if token[1][:1] == " " and text and before is not None and before[1] not in _BLOCK:
            text = " " + text.lstrip()
        if token[1][-1:] == " " and text and after is not None and after[1] not in _BLOCK:
            text = text.rstrip() + " "
        if text:
            kept.append(("text", text))
    return kept


def canonical(fragment: str) -> list[tuple[str, ...]]:
    """The tokens two equivalent HTML fragments share."""
    parser = _Canonical()
    parser.feed(fragment)
    parser.close()
    return parser.result()


_SAME_TAGS = (("<b>", "<strong>"), ("</b>", "</strong>"), ("<i>", "<em>"), ("</i>", "</em>"), ("<br>", "<br />"))


def _quick_form(fragment: str) -> str:
    """The fragment with the tag spellings that draw the same unified: a cheap test before parsing."""
    for old, new in _SAME_TAGS:
        fragment = fragment.replace(old, new)
    return fragment


def equivalent(rendered: str, original: str, target: list[tuple[str, ...]] | None = None) -> bool:
    """Whether two HTML fragments draw the same (`target`: the original's canonical tokens, if known)."""
    if rendered == original or _quick_form(rendered) == _quick_form(original):
        return True
    return canonical(rendered) == (target if target is not None else canonical(original))


_INERT_TEXT = re.compile(r"(?:[^\W_]|[ ,;:?'\"%/=@.()-])*")  # letters, digits, plain punctuation
_OPEN, _CLOSE = "\ue010", "\ue011"  # private-use characters around a placeholder's number


def _inert(text: str) -> bool:
    """Text that reads the same as HTML and as Markdown wherever it stands: words, digits, plain punctuation."""
    if not text or "  " in text or _INERT_TEXT.fullmatch(text) is None:
        return False
    after_digits = text.lstrip("0123456789")[:1]
    return text[0].isalpha() or (text[0].isdigit() and after_digits not in (".", ")"))  # '1.' would be a list


def shape(value: str) -> tuple[str, list[str]] | None:
    """The value with each run of inert text replaced by a numbered placeholder, and the runs.

    Fields of one deck repeat a few shapes ('<b>term</b>: definition'); converting and checking a
    shape once stands for every value of that shape, since inert text renders as itself in both.
    None if some text run is not inert.
    """
    texts: list[str] = []
    pieces: list[str] = []
    position = 0
    while position < len(value):
        start = value.find("<", position)
        if start == -1:
            start = len(value)
        run = value[position:start]
        core = run.strip(" ")
        if core:
            if not _inert(core):
                return None
            lead = run[:len(run) - len(run.lstrip(" "))]
            tail = run[len(run.rstrip(" ")):]
            pieces.append(f"{lead}{_OPEN}{len(texts)}{_CLOSE}{tail}")
            texts.append(core)
        else:
            pieces.append(run)
        if start == len(value):
            break
        end = value.find(">", start)
        if end == -1:
            return None
        pieces.append(value[start:end + 1])
        position = end + 1
    return ("".join(pieces), texts) if texts else None


def _fill(text: str, texts: list[str]) -> str:
    for number, run in enumerate(texts):
        text = text.replace(f"{_OPEN}{number}{_CLOSE}", run)
    return text


class FieldConverter:
    """Converts field values for one project; `html` says whether it renders raw HTML (html: true)."""

    def __init__(self, allow_html: bool) -> None:
        self.allow_html = allow_html
        self._shapes: dict[str, Converted] = {}
        self._verdicts: dict[str, bool] = {}
        self._renderer = Renderer(SimpleNamespace(html=allow_html), None)  # type: ignore[arg-type]

    def keeps_markdown(self, text: str, original: str) -> bool:
        """Whether this project renders Markdown made from `original` back to equivalent HTML."""
        found = shape(original) if "<" in original else None
        if found is None:
            return equivalent(self.rendered(text), original)
        skeleton = found[0]
        if skeleton not in self._verdicts:
            known = self._shapes.get(skeleton) or _markdown_only(skeleton)
            self._verdicts[skeleton] = known.mode == MARKDOWN and equivalent(self.rendered(known.text), skeleton)
        return self._verdicts[skeleton]

    def rendered(self, text: str) -> str:
        """What deckgen makes of a Markdown field value (its Jinja blocks strip the result)."""
        return self._renderer.markdown_html(text).strip()

    def convert(self, value: str) -> Converted:
        """The most readable form of a field value that renders back to equivalent HTML."""
        if is_plain(value) and "&" not in value:
            return Converted(value, MARKDOWN)
        found = shape(value) if "<" in value else None
        if found is None:
            return self._convert(value)
        skeleton, texts = found
        known = self._shapes.get(skeleton)
        if known is None:
            known = self._shapes[skeleton] = self._convert(skeleton)
        return Converted(_fill(known.text, texts), known.mode)

    def _convert(self, value: str) -> Converted:
        target = None
        for converter in _CONVERTERS:
            text = converter.convert(value).replace("  \n", "\n").strip()
            rendered = self.rendered(text)
            if rendered == value or _quick_form(rendered) == _quick_form(value):
                return Converted(text, MARKDOWN)
            target = target if target is not None else canonical(value)
            if canonical(rendered) == target:
                return Converted(text, MARKDOWN)
        if self.allow_html and equivalent(self.rendered(value), value, target):
            return Converted(value, HTML)
        return Converted(value, RAW)


def _markdown_only(value: str) -> Converted:
    return FieldConverter(False).convert(value)


def plain_text(fragment: str) -> str:
    """What a learner reads in a field: for card ids and messages."""
    return " ".join(token[1] for token in canonical(fragment) if token[0] == "text") or html.unescape(fragment)
