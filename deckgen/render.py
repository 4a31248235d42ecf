"""Stage 5: render valid cards into the fields of Anki notes.

Card text is Markdown; raw HTML in it is escaped unless the project opts in with `html: true`, and
then it passes through nh3's allowlist sanitizer. The result of this stage is a compact, picklable
`RenderedNote` that the package stage, the preview and the build cache share.
"""

from __future__ import annotations

import html
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from .anki_render import MAX_CARD_ORD, generated_ords
from .cardtypes import CardType, Templates, display_path
from .config import ProjectConfig
from .problems import Problem
from .validate import FieldValue, SourceRef, ValidCard

_CLOZE = re.compile(r"\{\{c(\d+)::")
MAX_CLOZE = MAX_CARD_ORD + 1
_IMG_SRC = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"", re.IGNORECASE)
_SOUND = re.compile(r"\[sound:([^\]]+)\]")
_TAGS = re.compile(r"<[^>]*>")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {"*": {"class", "title"}, "a": {"href"}, "img": {"src", "alt", "width", "height"}}


@dataclass(frozen=True)
class RenderedNote:
    """One card rendered into an Anki note: compact enough to cache and send between processes."""

    card_id: str
    note_type: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    group: str
    media: tuple[str, ...]
    path: str
    line: int
    column: int


def cloze_numbers(text: str) -> list[int]:
    """The distinct cloze numbers of a text, in ascending order."""
    return sorted({int(n) for n in _CLOZE.findall(text)})


def visible_text(fragment: str) -> str:
    """What a learner would read in an HTML fragment, roughly: tags removed, entities decoded."""
    return html.unescape(_TAGS.sub("", fragment)).strip()


def media_references(fragment: str) -> list[str]:
    """Local media a field refers to: image sources and [sound:...] tags."""
    found = [unquote(html.unescape(src)) for src in _IMG_SRC.findall(fragment)]
    found += [html.unescape(name) for name in _SOUND.findall(fragment)]
    return [name for name in found if not _URL.match(name)]


class Renderer:
    """Renders valid cards of one project; holds the Markdown parser and the sources cache."""

    def __init__(self, config: ProjectConfig, templates: Templates) -> None:
        self.config = config
        self.templates = templates
        self.markdown = MarkdownIt("commonmark", {"html": config.html, "breaks": True})
        self.markdown.enable(["table", "strikethrough"])
        self._sources: dict[tuple[SourceRef, ...], str] = {}

    def markdown_html(self, text: str) -> str:
        """Markdown to HTML; a single paragraph is unwrapped so that short text stays inline."""
        rendered = self.markdown.render(text).strip()
        if self.config.html:
            rendered = nh3.clean(rendered, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES)
        if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
            rendered = rendered[3:-4]
        return rendered

    def render(self, card: ValidCard, problems: list[Problem]) -> RenderedNote | None:
        """The card's note, or None with a located problem."""
        try:
            fields = card.card_type.render_fields(self._context(card))
            fields["Sources"] = self._sources_html(card.sources)
        except Exception as exc:  # a user's template may fail in any way: report it, located
            problems.append(self._template_problem(card, exc))
            return None
        values = tuple(fields[name] for name in card.card_type.note_type.fields)
        if not self._usable(card, fields, problems):
            return None
        media = sorted({name for value in values for name in media_references(value)})
        tags = (*card.tags, self.config.group_tag(card.group))
        return RenderedNote(card.id, card.card_type.note_type.kind, values, tags, card.group,
                            tuple(media), card.path, card.pos.line, card.pos.column)

    def _context(self, card: ValidCard) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: self._field_value(card.card_type, name, value) for name, value in card.values.items()
        }
        data["card"] = types.MappingProxyType({
            "id": card.id, "type": card.card_type.name, "group": card.group,
            "group_title": self.config.groups[card.group], "tags": card.tags,
        })
        return data

    def _field_value(self, card_type: CardType, name: str, value: FieldValue) -> Any:
        if not card_type.fields[name].markdown:
            return value
        if isinstance(value, tuple):
            return [Markup(self.markdown_html(item)) for item in value]
        return Markup(self.markdown_html(value))

    def _sources_html(self, sources: tuple[SourceRef, ...]) -> str:
        if sources not in self._sources:
            template = self.templates.sources
            items = [
                {"id": s.id, "citation": Markup(self.markdown_html(s.citation)), "ref": s.ref} for s in sources
            ]
            self._sources[sources] = template.render(sources=items).strip() if template else ""
        return self._sources[sources]

    def _usable(self, card: ValidCard, fields: dict[str, str], problems: list[Problem]) -> bool:
        """Every card Anki would make of the note has a question worth asking."""
        note_type = card.card_type.note_type
        where = (card.path, card.pos.line, card.pos.column)
        if note_type.is_cloze:
            return self._usable_cloze(card, fields, problems)
        made = generated_ords(note_type, fields)
        for ord_, template in enumerate(note_type.templates):
            side = "Front" if ord_ == 0 else "Back"
            if ord_ not in made or not (visible_text(fields[side]) or "<img" in fields[side]):
                problems.append(Problem(*where, f"the {side} of this card would be empty", card.id,
                                        f"card type '{card.card_type.name}' rendered nothing for it"))
                return False
        return True

    def _usable_cloze(self, card: ValidCard, fields: dict[str, str], problems: list[Problem]) -> bool:
        text, *others = card.card_type.note_type.content_fields
        where = (card.path, card.pos.line, card.pos.column)
        numbers = cloze_numbers(fields[text])
        if not numbers:
            problems.append(Problem(*where, f"the {text} field has no cloze marker", card.id,
                                    "mark what to hide with {{c1::...}}; without one Anki makes no card"))
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
        path, line = self._template_location(exc)
        if isinstance(exc, jinja2.UndefinedError):
            name = re.search(r"'([^']+)' is undefined", str(exc))
            missing = name.group(1) if name else "a field"
            message = f"template {path}:{line} uses '{missing}', which this card does not have"
            hint = f"guard it with {{% if {missing} %}} in the template, or give the card '{missing}:'"
        elif isinstance(exc, jinja2.exceptions.SecurityError):
            message, hint = f"template {path}:{line} tried something unsafe: {exc}", "templates run in a sandbox"
        else:
            message, hint = f"template {path}:{line} failed: {type(exc).__name__}: {exc}", None
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

    def deck_description(self) -> str:
        """The root deck's overview in Anki: the description, the sources and the release metadata."""
        config = self.config
        parts = [self.markdown.render(config.description).strip()] if config.description else []
        if config.sources:
            items = "".join(f"<li>{self.markdown_html(c)}</li>" for c in config.sources.values())
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
