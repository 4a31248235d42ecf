"""Stage 5: render valid cards into the fields of Anki notes.

Card text is Markdown (CommonMark with GitHub's tables and strikethrough, by cmark-gfm); raw HTML
in it is escaped unless the project opts in with `html: true`, and then it passes through nh3's
allowlist sanitizer. The result of this stage is a compact, picklable
`RenderedNote` that the package stage, the preview and the build cache share.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import types
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

import cmarkgfm
import jinja2
import nh3
from cmarkgfm.cmark import Options
from markupsafe import Markup

from ..anki.template_engine import MAX_CARD_ORD, CardTooLarge, NoteContext, cloze_fields, generated_ords
from ..project.card_types import CardType, PrintError, Templates, display_path
from ..project.config import ProjectConfig, Source
from .inline_html import angle_destinations, protect, restore, spaced_targets
from ..safety.limits import TemplateLimit
from ..anki.name_rules import card_remote_problem, needs_cards, note_problem
from ..problems import WARNING, Problem
from .validate import FieldValue, SourceRef, ValidCard

_CLOZE = re.compile(r"\{\{c(\d+)::")
_BLOCK_LINE = re.compile(r">|[-*+](?:[ \t]|$)|#{1,6}(?:[ \t]|$)|(?:[-*_][ \t]*){3,}$")  # a quote, list item,
# heading or rule, as the start of one line of Markdown
MAX_CLOZE = MAX_CARD_ORD + 1
# Anki's own reading of a media reference (rslib/src/text.rs, HTML_MEDIA_TAGS and AV_TAGS): the src or
# data of an image, audio, video, object or source tag, double-quoted, single-quoted or unquoted, and
# the name in a sound tag, taken exactly (two spaces stay two spaces).
_MEDIA_TAG = re.compile(r"""<\b(?:img|audio|video|object|source)\b(?:[^>]|"[^"]+?"|'[^']+?')+?\b(?:src|data)\b="""
                        r"""(?:"([^"]+?)"[^>]*>|'([^']+?)'[^>]*>|([^ >]+?)(?: [^>]*>|>))""", re.IGNORECASE | re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]+)"|'([^']+)'|([^)'"\s]+))\s*\)""", re.IGNORECASE)
_MEDIA_HINT = re.compile(r"<(?:img|audio|video|object|source)\b|\[sound:|url\(|\[latex\]|\[\$", re.IGNORECASE)
_MEDIA_MARKS = ("<img", "<audio", "<video", "<object", "<source", "[sound:", "url(", "[latex]", "[$")  # as _MEDIA_HINT
_SOUND = re.compile(r"\[sound:(.+?)\]", re.DOTALL)
# Anki's LaTeX (rslib/src/latex.rs): the image it renders for each is named from the SHA-1 of the
# LaTeX text, with line breaks made newlines, tags removed and entities decoded.
_LATEX = re.compile(r"\[latex\](.+?)\[/latex\]|\[\$\](.+?)\[/\$\]|\[\$\$\](.+?)\[/\$\$\]", re.IGNORECASE | re.DOTALL)
_LATEX_NEWLINES = re.compile(r"<br( /)?>|<div>", re.IGNORECASE)
_ANKI_HTML = re.compile(r"<!--.*?-->|<style.*?>.*?</style>|<script.*?>.*?</script>|<.*?>", re.IGNORECASE | re.DOTALL)
_CLOZE_WHOLE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
LATEX_IMAGE = re.compile(r"latex-[0-9a-f]{40}\.(?:png|svg)")
_TAGS = re.compile(r"<[^>]*>")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_PLAIN = re.compile(r"[^\\`*_\[\]!<>&~|\n\r\t\x00-\x1f\x7f\ue000]+")
_BLOCK_STARTS = ("-", "+", "=", ">", " ", "#")  # a '#' further on is text: a heading needs it first on the line
_QUOTE = json.encoder.encode_basestring  # a JSON string, non-ASCII kept as it is (ensure_ascii=False)
_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
_BASE91_SQUARED = 91 * 91
_BASE91_PAIRS = tuple(high + low for high in _BASE91 for low in _BASE91)  # the two digits of each number below 91²
_LT = "\ue000"  # stands in for "<" while cmark parses, so that raw HTML comes out as text
_CMARK_OPTIONS = Options.CMARK_OPT_HARDBREAKS
_CMARK_EXTENSIONS = ["table", "strikethrough"]
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {"*": {"class", "title"}, "a": {"href"}, "img": {"src", "alt", "width", "height"}}


class RenderedNote(NamedTuple):
    """One card rendered into an Anki note: a plain tuple, cheap to cache and send between processes."""

    card_id: str
    note_type: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    group: str
    media: tuple[str, ...]
    path: str
    line: int
    column: int
    ords: tuple[int, ...]  # the cards Anki generates for the note
    hash: str  # of everything a learner's copy of the note holds: what the lock compares
    guid: str  # from the project key and the card id: what Anki matches notes by


def note_guid(key: str, card_id: str) -> str:
    """A note's GUID: from the project key and the card id, never from content or position.

    The same value as `genanki.guid_for(key, card_id)` (tests/test_render.py compares them), the
    first 8 bytes of a SHA-256 in Anki's base-91 digits, computed without its per-digit list.
    """
    return _base91(int.from_bytes(hashlib.sha256(f"{key}__{card_id}".encode()).digest()[:8], "big"))


def _base91(number: int) -> str:
    """A number in Anki's base-91 digits, with no leading zero ('' for 0), as genanki writes a GUID: two digits
    at a time (half the divisions: a build makes one GUID for every card)."""
    digits = ""
    while number >= _BASE91_SQUARED:  # more digits above these two: a leading 'a' among them is a zero digit
        number, pair = divmod(number, _BASE91_SQUARED)
        digits = _BASE91_PAIRS[pair] + digits
    if number >= 91:  # the top two digits (the pair's first is not zero)
        return _BASE91_PAIRS[number] + digits
    return _BASE91[number] + digits if number else digits


def content_hash(note_type: str, fields: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """A short, stable hash of a note's content: of the JSON `[note_type, fields, tags]`.

    The JSON text is put together from json's own string quoting, byte for byte what
    `json.dumps` writes (tests/test_render.py compares them) without its encoder set-up per call.
    """
    payload = f'[{_QUOTE(note_type)}, [{", ".join(map(_QUOTE, fields))}], [{", ".join(map(_QUOTE, tags))}]]'
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()


def is_plain(text: str) -> bool:
    """Text in which Markdown finds nothing to do: one line, no markup characters, no HTML.

    Most card text is like this; tests/test_render.py checks it against cmark itself.
    """
    return (
        _PLAIN.fullmatch(text) is not None
        and text == text.strip()
        and text[:1] not in _BLOCK_STARTS
        and not text[:1].isdigit()
    )


def literal_line(text: str) -> str:
    """A one-line value as written: a start Markdown would make a quote, list, heading or rule is escaped.

    Written on one line, '> 99 %', '- 0.5 mmol/L' or '# of doses: 7' is the text itself: made a
    block, its first sign would be lost. A block of lines (`|`) keeps Markdown's lists and quotes.
    """
    return "\\" + text if _BLOCK_LINE.match(text) else text


def _cmark(text: str, options: int) -> str:
    """cmark-gfm; the table and strikethrough extensions only where their syntax appears.

    Attaching extensions costs a parser set-up per call, ten times the rendering of a short
    field; without a '|' or '~' they cannot change the output.
    """
    if "|" in text or "~" in text:
        return cmarkgfm.markdown_to_html_with_extensions(text, options=options, extensions=_CMARK_EXTENSIONS)
    return cmarkgfm.markdown_to_html(text, options=options)


def cloze_numbers(text: str) -> list[int]:
    """The distinct cloze numbers of a text, in ascending order."""
    return sorted({int(n) for n in _CLOZE.findall(text)})


def visible_text(fragment: str) -> str:
    """What a learner would read in an HTML fragment, roughly: tags removed, entities decoded."""
    return html.unescape(_TAGS.sub("", fragment) if "<" in fragment else fragment).strip()


def media_references(fragment: str) -> list[str]:
    """Local media a field refers to as Anki reads it: tags' sources, [sound:...], CSS url() and the
    images Anki renders for [latex] (see `latex_images`)."""
    if not _MEDIA_HINT.search(fragment):
        return []
    sources = [html.unescape(next(filter(None, found), "")) for found in _MEDIA_TAG.findall(fragment)]
    sources += [next(filter(None, found), "") for found in _CSS_URL.findall(fragment)]
    found = [unquote(src) for src in sources if src and not _URL.match(src)]  # a URL's scheme, before %3A becomes ':'
    found += [name for name in map(html.unescape, _SOUND.findall(fragment)) if not _URL.match(name)]
    return found + latex_images(fragment) if "[" in fragment else found


def latex_html(fragment: str, svg: bool = False) -> str:
    """Card HTML with each [latex], [$] and [$$] drawn as Anki draws it: the image named from its text."""
    def image(found: re.Match[str]) -> str:
        plain, inline, display = found.groups()
        latex = _latex_text(plain, inline, display)
        name = f"latex-{hashlib.sha1(latex.encode('utf-8')).hexdigest()}.{'svg' if svg else 'png'}"
        return f'<img class=latex alt="{html.escape(latex)}" src="{name}">'
    return _LATEX.sub(image, fragment) if "[" in fragment else fragment


def _latex_text(plain: str | None, inline: str | None, display: str | None) -> str:
    """The LaTeX Anki renders (and names the image after): line breaks made newlines, tags gone, entities decoded."""
    latex = plain or (f"${inline}$" if inline else f"\\begin{{displaymath}}{display}\\end{{displaymath}}")
    stripped = _ANKI_HTML.sub("", _LATEX_NEWLINES.sub("\n", latex))
    return html.unescape(stripped).replace("\xa0", " ") if "&" in stripped else stripped


def latex_images(fragment: str) -> list[str]:
    """The names of the images Anki renders for a field's [latex], [$] and [$$] (PNG and SVG: which one
    Anki made depends on the note type's setting), with its clozes revealed as Anki reveals them."""
    if not _LATEX.search(fragment):
        return []
    text = _clozes_revealed(fragment) if "{{c" in fragment else fragment
    names = []
    for found in _LATEX.findall(text):
        digest = hashlib.sha1(_latex_text(*found).encode("utf-8")).hexdigest()
        names += [f"latex-{digest}.png", f"latex-{digest}.svg"]
    return names


def _clozes_revealed(text: str) -> str:
    """Each cloze's question and answer side, one after the other (Anki's expand_clozes_to_reveal_latex)."""
    def side(number: int, question: bool) -> str:
        return _CLOZE_WHOLE.sub(lambda found: (f"[{found.group(3) or '...'}]" if question and int(found.group(1))
                                               == number else found.group(2)), text)
    return "".join(side(number, True) + side(number, False) for number in cloze_numbers(text))


def media_hint(values: tuple[str, ...]) -> bool:
    """Whether any of these values may refer to a media file (if not, none does): a few substring searches of the
    lowered text, cheaper than one case-insensitive regex over it (a false hint only costs the full reading)."""
    return any(map("\x1f".join(values).lower().__contains__, _MEDIA_MARKS))  # no generator, as in remote's _may_load


def _media(values: tuple[str, ...]) -> list[str]:
    """The media files a note's fields refer to, sorted, each once."""
    if not media_hint(values):
        return []
    return sorted({name for value in values for name in media_references(value)})


def _markup(html_text: str) -> Markup:
    """HTML marked safe for the templates: `Markup(text)` without its Python-level checks for another
    markup object, for the plain str every field's HTML is (one for each field of each card)."""
    return str.__new__(Markup, html_text)


class Renderer:
    """Renders valid cards of one project; holds the Markdown parser and the sources cache."""

    def __init__(self, config: ProjectConfig, templates: Templates) -> None:
        self.config = config
        self.templates = templates
        self._sources: dict[tuple[SourceRef, ...], str] = {}

    def markdown_document(self, text: str) -> str:
        """Markdown to HTML with cmark-gfm: raw HTML escaped, or sanitized where the project opts in."""
        text = text.replace(_LT, "")
        if self.config.html:
            rendered = _cmark(text, _CMARK_OPTIONS | Options.CMARK_OPT_UNSAFE)
            return nh3.clean(rendered, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES).strip()
        if "<" not in text:
            return _cmark(text, _CMARK_OPTIONS).strip()
        targets = angle_destinations(text)  # '![ring](<my ring.png>)': a file's name, not a tag
        text, kept = protect(targets, _LT)  # the inline set (<sub>, <sup>, <br>, ...) is kept
        rendered = _cmark(text, _CMARK_OPTIONS).replace(_LT, "&lt;").strip()
        rendered = spaced_targets(rendered) if "%20" in targets else rendered
        return restore(rendered) if kept else rendered

    def markdown_html(self, text: str) -> str:
        """Markdown to HTML; a single paragraph is unwrapped so that short text stays inline."""
        if is_plain(text):
            return text.replace('"', "&quot;")  # what cmark makes of it, without the call
        rendered = self.markdown_document(literal_line(text) if text[:1] in ">-*+#_" and "\n" not in text else text)
        if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
            rendered = rendered[3:-4]
        return rendered

    def render(self, card: ValidCard, problems: list[Problem]) -> RenderedNote | None:
        """The card's note, or None with a located problem."""
        try:
            fields = card.card_type.render_fields(self._context(card))
            sources_field = card.card_type.note_type.sources_field
            if sources_field is not None:
                fields[sources_field] = self._sources_html(card.sources)
        except Exception as exc:  # a user's template may fail in any way: report it, located
            problems.append(self._template_problem(card, exc))
            return None
        return self.note(card, fields, problems)

    def note(self, card: ValidCard, fields: dict[str, str], problems: list[Problem],
             ords: tuple[int, ...] | None = None) -> RenderedNote | None:
        """The note of a card whose fields are rendered (by its card type, or known already), checked as Anki would take it.

        `ords`, the cards Anki generates for these fields, if the caller knows them already (the importer does).
        """
        note_type = card.card_type.note_type
        values = tuple(map(fields.__getitem__, note_type.fields))
        tags = (*card.tags, self.config.group_tag(card.group)) if self.config.group_tags else card.tags
        unfit = note_problem(values) or (self._card_problem(card, values, tags) if needs_cards(note_type, values)
                                         else None)
        if unfit:
            problems.append(Problem(card.path, card.pos.line, card.pos.column, unfit[0], card.id, unfit[1]))
            return None
        if ords is None:
            ords = tuple(generated_ords(note_type, fields))
        if card.keep_empty:
            ords = self._kept_empty(card, ords, problems)
        elif not self._usable(card, fields, ords, problems):
            return None
        if card.sources and note_type.sources_field is None:
            problems.append(Problem(card.path, card.pos.line, card.pos.column,
                                    f"the card's sources are not shown: note type '{note_type.kind}' has no "
                                    "sources_field", card.id, "name the field for them with sources_field: in "
                                    f"{note_type.path}", WARNING))
        media = _media(values)
        return RenderedNote(card.id, note_type.kind, values, tags, card.group, tuple(media), card.path,
                            card.pos.line, card.pos.column, ords, content_hash(note_type.kind, values, tags),
                            note_guid(self.config.key, card.id) if card.identity is None else self._guid(card))

    def unrendered_note(self, card: ValidCard) -> RenderedNote:
        """A stand-in for the note of a card whose card type failed: the media its own text names, where it is."""
        fields = card.card_type.fields
        texts = [self.markdown_html(text) if fields[name].markdown else text for name, value in card.values.items()
                 for text in (value if isinstance(value, tuple) else (value,))]
        return RenderedNote(card.id, card.card_type.note_type.kind, (), card.tags, card.group, tuple(_media(tuple(texts))),
                            card.path, card.pos.line, card.pos.column, (), "", "")

    def _card_problem(self, card: ValidCard, values: tuple[str, ...], tags: tuple[str, ...]) -> tuple[str, str] | None:
        """What the note's cards would load, rendered as Anki renders them (see `deckgen.anki.name_rules.needs_cards`)."""
        note_type = card.card_type.note_type
        context = NoteContext(tags, note_type.display_name(self.config.deck), self.config.group_deck(card.group))
        try:
            return card_remote_problem(note_type, dict(zip(note_type.fields, values)), context)
        except CardTooLarge as exc:
            return str(exc), "shorten the field, or use it fewer times in the note type's templates"

    def _guid(self, card: ValidCard) -> str:
        """The note's GUID: pinned, or that of the card's first id, so that a renamed card keeps its note."""
        identity = card.identity
        assert identity is not None
        if identity.guid is not None:
            return identity.guid
        return note_guid(self.config.key, identity.former_ids[0][0] if identity.former_ids else card.id)

    def _context(self, card: ValidCard) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: self._field_value(card.card_type, name, value) for name, value in card.values.items()
        }
        data["card"] = types.MappingProxyType({
            "id": card.id, "type": card.card_type.name, "group": card.group,
            "group_title": self.config.group_title(card.group), "tags": card.tags,
        })
        return data

    def _field_value(self, card_type: CardType, name: str, value: FieldValue) -> Any:
        if not card_type.fields[name].markdown:
            return value
        if isinstance(value, tuple):
            return [_markup(self.markdown_html(item)) for item in value]
        return _markup(self.markdown_html(value))

    def _sources_html(self, sources: tuple[SourceRef, ...]) -> str:
        if sources not in self._sources:
            template = self.templates.sources
            items = [
                {"id": s.id, "citation": Markup(self.markdown_html(s.citation)), "ref": s.ref,
                 "references": [(n, Markup(self.markdown_html(t)) if t else None) for n, t in s.references],
                 "untitled": Markup(self.markdown_html(s.untitled)) if s.untitled else None}
                for s in sources
            ]
            self._sources[sources] = template.render(sources=items).strip() if template else ""
        return self._sources[sources]

    @staticmethod
    def _kept_empty(card: ValidCard, ords: tuple[int, ...], problems: list[Problem]) -> tuple[int, ...]:
        """The cards of a note kept as Anki keeps it: with no card of its own, it gets an empty card 1."""
        if ords:
            problems.append(Problem(card.path, card.pos.line, card.pos.column, "'keep_empty: true' on a card that is "
                                    "not empty", card.id, "remove it: Anki makes this note's cards as usual", WARNING))
        return ords or (0,)

    def _usable(self, card: ValidCard, fields: dict[str, str], ords: tuple[int, ...],
                problems: list[Problem]) -> bool:
        """Every card Anki would make of the note has a question worth asking."""
        note_type = card.card_type.note_type
        where = (card.path, card.pos.line, card.pos.column)
        if note_type.is_cloze:
            return self._usable_cloze(card, fields, ords, problems)
        if note_type.path:  # a project's note type: Anki's own rule decides, and any card will do
            if not ords:
                problems.append(Problem(*where, "Anki would make no card of this note: the front of every "
                                        f"card template of note type '{note_type.kind}' would be empty", card.id,
                                        f"card type '{card.card_type.name}' left the fields they show empty; Anki "
                                        "keeps such a note with a single empty card (keep_empty: true keeps one on "
                                        "purpose)"))
            return bool(ords)
        for ord_ in range(len(note_type.templates)):
            side = "Front" if ord_ == 0 else "Back"
            if ord_ not in ords or not (visible_text(fields[side]) or "<img" in fields[side]):
                problems.append(Problem(*where, f"the {side} of this card would be empty", card.id,
                                        f"card type '{card.card_type.name}' rendered nothing for it"))
                return False
        return True

    def _usable_cloze(self, card: ValidCard, fields: dict[str, str], ords: tuple[int, ...],
                      problems: list[Problem]) -> bool:
        note_type = card.card_type.note_type
        clozed = cloze_fields(note_type)
        text = clozed[0]
        others = [name for name in note_type.content_fields if name not in clozed]
        where = (card.path, card.pos.line, card.pos.column)
        numbers = cloze_numbers(" ".join(fields[name] for name in clozed))
        if not numbers or not ords:  # Anki's own reading decides: {{C1::..}}, {{c0::..}} and unclosed ones are text
            problems.append(Problem(*where, f"the {text} field has no cloze marker", card.id,
                                    "mark what to hide with {{c1::...}}: a small c, numbers from 1, closed with }}; "
                                    "without one Anki gives the note a single empty card (keep_empty: true keeps one "
                                    "on purpose)"))
            return False
        if numbers[-1] > MAX_CLOZE:
            problems.append(Problem(*where, f"cloze number c{numbers[-1]} is above Anki's limit of {MAX_CLOZE}",
                                    card.id, "number the gaps from c1"))
            return False
        stray = [name for name in others if cloze_numbers(fields[name])]
        if stray:
            problems.append(Problem(*where, f"cloze marker in the {stray[0]} field", card.id,
                                    f"Anki makes a card for every cloze number in any field; keep them in {text}"))
            return False
        return True

    def _template_problem(self, card: ValidCard, exc: Exception) -> Problem:
        """A card whose template failed, located at the card, naming the template file and line."""
        path, line = self._template_location(exc)
        template = f"template {path}:{line}"
        hint: str | None = None
        name = re.search(r"'([^']+)' is undefined", str(exc))
        if isinstance(exc, jinja2.UndefinedError) and name:
            message = f"{template} uses '{name.group(1)}', which this card does not have"
            hint = f"guard it with {{% if {name.group(1)} %}} in the template, or give the card '{name.group(1)}:'"
        elif isinstance(exc, jinja2.UndefinedError):
            message = f"{template}: {exc}"
        elif isinstance(exc, PrintError):
            message, hint = f"{template} {exc}", exc.hint
        elif isinstance(exc, jinja2.TemplateNotFound):
            message = f"{template} uses template '{exc.name}', which was not found"
        elif isinstance(exc, TemplateLimit):
            message = f"{template} went past a limit: {exc}"
            hint = "deckgen stops templates that would hang or exhaust the machine"
        elif isinstance(exc, RecursionError):
            message, hint = f"{template} calls itself without end", "a macro that calls itself needs a way to stop"
        elif isinstance(exc, jinja2.exceptions.SecurityError):
            message, hint = f"{template} tried something unsafe: {str(exc).rstrip('.')}", "templates run in a sandbox"
        else:
            message = f"{template} failed: {type(exc).__name__}: {exc}"
        return Problem(card.path, card.pos.line, card.pos.column, message, card.id, hint)

    def _template_location(self, exc: Exception) -> tuple[str, int]:
        """The template file and line where rendering failed, from the traceback."""
        env = self.templates.env
        found = ("a template", 0)
        tb = exc.__traceback__
        while tb is not None:
            frame_globals = tb.tb_frame.f_globals
            if frame_globals.get("environment") is env and "name" in frame_globals:
                template = env.get_template(frame_globals["name"])
                shown = display_path(Path(template.filename or ""), self.config.root)
                found = (shown, template.get_corresponding_lineno(tb.tb_lineno))
            tb = tb.tb_next
        return found

    def _source_html(self, source: Source) -> str:
        """A source in the deck description: its citation and the references it lists."""
        listed = "".join(f"<li>[{html.escape(n)}] {self.markdown_html(t)}</li>" for n, t in source.references if t)
        if source.untitled:
            untitled = ", ".join(html.escape(n) for n, t in source.references if not t)
            listed += f"<li>{f'[{untitled}] ' if untitled else ''}<i>{self.markdown_html(source.untitled)}</i></li>"
        return self.markdown_html(source.citation) + (f'<ul class="source-references">{listed}</ul>' if listed else "")

    def group_descriptions(self) -> dict[str, str]:
        """Each group's subdeck description as Anki shows it, by group path (groups without one left out)."""
        config = self.config
        return {path: text if config.description_html else self.markdown_document(text)
                for path in config.group_paths() if (text := config.group_description(path))}

    def deck_description(self) -> str:
        """The root deck's overview in Anki: the description, the sources and the release metadata."""
        config = self.config
        description = config.description if config.description_html else self.markdown_document(config.description)
        parts = [description] if config.description else []
        if config.sources:
            items = "".join(f"<li>{self._source_html(source)}</li>" for source in config.sources.values())
            parts.append(f'<div class="deck-sources"><b>Sources</b><ul>{items}</ul></div>')
        meta = [
            f"{label}: {html.escape(value)}"
            for label, value in (("Version", config.version), ("License", config.license),
                                 ("Authors", ", ".join(config.authors)))
            if value
        ]
        if meta:
            parts.append('<p class="deck-meta">' + " · ".join(meta) + "</p>")
        return "\n".join(parts)
