"""Field HTML to readable Markdown, kept only where deckgen renders it back to the very same bytes.

markdownify (a maintained HTML-to-Markdown converter) writes the Markdown; deckgen's own
Markdown renderer turns it back into HTML; the two are compared byte for byte, since Anki's
{{text:}}, type-in answers and a learner's eye see every difference (`<b>` and `<strong>`, an
added `alt=""`, `&quot;`, a trailing space). A field that does not come back the same stays
HTML: through the sanitizer where that keeps it byte for byte, or else passed through as the
original deck had it. Values with MathJax or LaTeX are never made Markdown, whose escaping
would double their backslashes.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import NamedTuple

from markdownify import MarkdownConverter

from ..build.render import Renderer, is_plain

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
    shape: Shape | None = None  # the value's shape, where it was converted as one
    form: str | None = None  # the text with the shape's placeholders: rendered once for every value of the shape


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


_MATH = re.compile(r"\\[(\[]|\[\$|\[latex\]", re.IGNORECASE)  # MathJax's \( and \[, Anki's [$], [$$], [latex]
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


# A run of text that renders as itself in HTML and in Markdown, in every mode: letters, digits and
# plain punctuation, starting and ending with a letter or digit (so that emphasis next to it opens
# and closes as next to a placeholder), single spaces only, not the start of a numbered list
# ('1.', '2)'), not inside a tag and not where a tag would start ('<b', '</b', '<!').
_RUN = r"(?<!<)(?<!</)(?<!<!)(?![0-9]+[.)])[^\W_](?:(?:[^\W_]|[,;:?'%/=@.()-]| (?! ))*[^\W_])?"
_INERT_SPLIT = re.compile(f"({_RUN}(?![^<]*>))")  # one pass gives the runs and what lies between them
# The same runs where tags have attributes: each tag is taken whole, so that no run is tried inside
# it (trying them, each failing at the tag's '>', takes time that grows with the square of its length).
_TAG_OR_RUN = re.compile(f"(<[^<>]*>)|({_RUN})")
# An image's file name of ASCII letters, digits, '.' and '-' (as Anki names pasted images) goes
# into Markdown's ![](...) and back into src="..." as it is, and is inert text where a broken tag
# leaves it as text: it stands for a run too, so that a field holding an image has one shape
# whichever image it holds.
_IMAGE_NAME = re.compile(r'(<img\s(?:[^<>"]*\s)?src=")([A-Za-z0-9][A-Za-z0-9.-]*)(?=")', re.IGNORECASE)
_MARK, _IMAGE = "\ue010", "\ue013"  # stand for one inert run, one image name, in a shape
_MARKS = re.compile(f"[{_MARK}{_IMAGE}]")
_OPEN, _CLOSE = "\ue011", "\ue012"  # around a run's number, while a shape is converted and checked
_OURS = re.compile(f"[{_MARK}{_IMAGE}{_OPEN}{_CLOSE}]|dgimg[0-9]")
_NUMBERED = re.compile(f"{_OPEN}([0-9]+){_CLOSE}|dgimg([0-9]+)x")  # an image name's number: plain ASCII for a URL


class Shape(NamedTuple):
    """A value with each inert text run and image name replaced by a mark, and those in order."""

    skeleton: str
    texts: tuple[str, ...]


def shape(value: str) -> Shape | None:
    """The value's shape, or None if it has nothing to stand for.

    Fields of one deck repeat a few shapes ('<b>term</b>: definition'); converting and checking a
    shape once stands for every value of that shape, since inert text renders as itself in both
    HTML and Markdown, and next to markup behaves as a placeholder does. A value with an entity
    (`&`) is converted whole.
    """
    if "&" in value or _OURS.search(value):
        return None
    images: list[str] = []
    if "=" in value and ("src=" in value or "SRC=" in value.upper()):  # most values have no attribute to upper
        images = [name for _, name in _IMAGE_NAME.findall(value)]
        value = _IMAGE_NAME.sub(f"\\g<1>{_IMAGE}", value) if images else value
    skeleton, runs = _runs(value)
    if images:
        texts, names = iter(runs), iter(images)
        ordered = (next(texts) if mark == _MARK else next(names) for mark in _MARKS.findall(skeleton))
        return Shape(skeleton, tuple(ordered))
    return Shape(skeleton, tuple(runs)) if runs else None


def _runs(value: str) -> tuple[str, list[str]]:
    """The value with each inert run replaced by a mark, and the runs in order."""
    if '="' not in value and "='" not in value:
        parts = _INERT_SPLIT.split(value)  # text between runs, a run, text between runs, ...
        return _MARK.join(parts[0::2]), parts[1::2]
    parts = _TAG_OR_RUN.split(value)  # text, a tag or None, a run or None, text, ...
    skeleton, runs = [parts[0]], []
    for tag, run, text in zip(parts[1::3], parts[2::3], parts[3::3]):
        if tag is None:
            runs.append(run)
        skeleton += (_MARK if tag is None else tag, text)
    return "".join(skeleton), runs


def fill(form: str, texts: tuple[str, ...]) -> str:
    """A shape's text (Markdown or HTML, with its marks) with the runs put back in order."""
    return _template(form).format(*texts)


@functools.lru_cache(maxsize=65536)
def _template(form: str) -> str:
    """The form as a format string: one '{}' for each mark (the runs hold no mark)."""
    return form.replace("{", "{{").replace("}", "}}").replace(_MARK, "{}").replace(_IMAGE, "{}")


def _numbered(form: str) -> str:
    """The marks numbered, so that a conversion that drops or reorders runs shows it."""
    numbers = itertools.count()
    return _MARKS.sub(lambda mark: f"{_OPEN}{next(numbers)}{_CLOSE}" if mark.group() == _MARK
                      else f"dgimg{next(numbers)}x", form)


def _marked(numbered: str, runs: int) -> str | None:
    """Numbered placeholders back to marks, if each run is there once and in order (else None)."""
    if [int(text or image) for text, image in _NUMBERED.findall(numbered)] != list(range(runs)):
        return None
    marked = _NUMBERED.sub(lambda found: _MARK if found.group(1) is not None else _IMAGE, numbered)
    return None if _OPEN in marked or _CLOSE in marked else marked


class FieldConverter:
    """Converts field values for one project; `html` says whether it renders raw HTML (html: true)."""

    def __init__(self, allow_html: bool) -> None:
        self.allow_html = allow_html
        self._shapes: dict[str, Converted | None] = {}  # None: the shape does not keep its runs in order
        self._verdicts: dict[tuple[str, str], bool] = {}
        self._forms: dict[str, str | None] = {}  # a form -> its rendering as a format string (None: render each value)
        self._renderer = Renderer(SimpleNamespace(html=allow_html), None)  # type: ignore[arg-type]

    def keeps_markdown(self, converted: Converted, original: str) -> bool:
        """Whether this project renders Markdown made from `original` back to the same bytes."""
        found, form = converted.shape, converted.form
        if found is None or form is None:
            return self.rendered(converted.text) == original
        key = (form, found.skeleton)
        if key not in self._verdicts:
            self._verdicts[key] = self.rendered(_numbered(form)) == _numbered(found.skeleton)
        return self._verdicts[key]

    def rendered(self, text: str) -> str:
        """What deckgen makes of a Markdown field value (its Jinja blocks strip the result)."""
        return self._renderer.markdown_html(text).strip()

    def rendered_value(self, text: str, form: str | None, texts: tuple[str, ...]) -> str:
        """What deckgen renders a written value to: from its form, rendered once for every value of that form."""
        if form is None:
            return self.rendered(text)
        if form not in self._forms:
            marked = _marked(self.rendered(_numbered(form)), len(texts))
            self._forms[form] = None if marked is None else _template(marked)
        template = self._forms[form]
        return self.rendered(text) if template is None else template.format(*texts)

    def convert(self, value: str, found: Shape | None = None) -> Converted:
        """The most readable form of a field value that renders back to the same bytes (`found`: its shape, if
        another converter found it: an import tries each value as Markdown first, then with HTML)."""
        if found is None:
            if is_plain(value) and "&" not in value and '"' not in value:
                return Converted(value, MARKDOWN)
            if _MATH.search(value):
                return self._as_html(value)
            found = shape(value) if "<" in value else None
            if found is None:
                return self._convert(value)
        if found.skeleton not in self._shapes:
            self._shapes[found.skeleton] = self._convert_shape(found)
        known = self._shapes[found.skeleton]
        if known is None:
            return self._convert(value)
        text = fill(known.text, found.texts) if known.mode == MARKDOWN else value  # HTML and raw: the value itself
        return Converted(text, known.mode, found, known.text)

    def _convert_shape(self, found: Shape) -> Converted | None:
        """A shape converted once, its text with marks; None if the conversion does not keep each run in place."""
        converted = self._convert(_numbered(found.skeleton))
        text = _marked(converted.text, len(found.texts))
        return None if text is None else Converted(text, converted.mode)

    def _convert(self, value: str) -> Converted:
        target = canonical(value) if "=" in value else None
        for converter in _CONVERTERS if target is None or _markdown_may_keep(target) else ():
            text = converter.convert(value).replace("  \n", "\n").strip()
            if self.rendered(text) == value:
                return Converted(text, MARKDOWN)
        return self._as_html(value)

    def _as_html(self, value: str) -> Converted:
        """A value kept as HTML: under the sanitizer where that gives back its bytes, else passed through."""
        if self.allow_html and self.rendered(value) == value:
            return Converted(value, HTML)
        return Converted(value, RAW)


# The attributes cmark-gfm writes, with deckgen's options: links and images, a fenced code block's
# language, an ordered list's start, a table cell's alignment. A value with any other attribute
# (style, width, id, ...) cannot come back from Markdown the same, so Markdown is not tried.
_MARKDOWN_ATTRIBUTES = frozenset({"href", "title", "src", "alt", "class", "start", "align"})


def _markdown_may_keep(tokens: list[tuple[str, ...]]) -> bool:
    """Whether Markdown can give back these tokens' attributes (a quick test before converting)."""
    return all(attribute.split("=", 1)[0] in _MARKDOWN_ATTRIBUTES
               for token in tokens if token[0] == "<" for attribute in token[2:])


def plain_text(fragment: str) -> str:
    """What a learner reads in a field: for card ids and messages."""
    if "<" not in fragment and "&" not in fragment and "\x00" not in fragment:
        return " ".join(fragment.split()) or fragment  # what the parser makes of plain text, without it
    return " ".join(token[1] for token in canonical(fragment) if token[0] == "text") or html.unescape(fragment)
