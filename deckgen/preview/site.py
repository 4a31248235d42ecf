"""The preview: every card of the deck, front and back, as a static site that shows it as Anki does.

The cards come from the rendered notes the package is written from, turned into question and
answer HTML by `deckgen.anki.template_engine` (Anki's own rules), so a reviewer who never opens Anki sees what a
learner will. Each card side is shown in its own document (an iframe), built like Anki's reviewer
page: the deck's CSS and `<body class="card cardN"><div id="qa">...`, untouched by the site's own
styles. The site is plain HTML with a little JavaScript and works offline, from a file:// URL.
"""

from __future__ import annotations

import base64
import filecmp
import hashlib
import html
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

import jinja2

from .. import __version__
from ..anki.template_engine import CardTooLarge, NoteContext, render_cards, typed_answer_sides
from ..build.pipeline import Project
from ..project.config import ProjectConfig
from ..safety.confine import check_output, read_inside, read_regular
from ..safety.limits import COPY_CHUNK, MAX_FILE_BYTES, MAX_MEDIA_BYTES
from ..safety.remote import without_refresh
from ..anki.builtin_note_types import NOTE_TYPES, NoteType
from ..problems import Problem, ProjectError, summary, warnings
from ..build.render import LATEX_IMAGE, RenderedNote, latex_html, visible_text

DEFAULT_DIR = "dist/preview"
ASSETS_DIR = Path(__file__).parent / "assets"
PAGE_TEMPLATE = "index.html.j2"
PROBLEMS_TEMPLATE = "problems.html.j2"
STATIC_ASSETS = ("preview.css", "preview.js", "anki-reviewer.css")
DECK_CSS = "assets/deck.css"
MANIFEST = ".deckgen-preview.json"
DATA_ID = "deckgen-cards"
FRAME_SCRIPT = "frame.js"
CARDS_DIR = "cards"
SITE_FOLDERS = ("assets", "media", CARDS_DIR)
EAGER_CARDS = 500  # up to this many cards, the page draws every card at once (printing, screenshots)


@dataclass(frozen=True)
class PreviewCard:
    """One card of a note as Anki's reviewer shows it, with where it comes from."""

    note: RenderedNote
    ord: int
    template: str
    question: str
    answer: str
    stylesheet: str = "deck.css"  # in assets/: the project's CSS, or a note type's own

    @property
    def body_class(self) -> str:
        """The classes Anki's reviewer puts on <body> for this card (night mode is added live)."""
        return f"card card{self.ord + 1}"

    def search_text(self, config: ProjectConfig) -> str:
        """What the search box matches: the words on both sides, the id, the file and the tags."""
        parts = (visible_text(self.question), visible_text(self.answer), self.note.card_id,
                 self.note.path, " ".join(self.note.tags), config.group_deck(self.note.group))
        return " ".join(" ".join(parts).lower().split())


@dataclass(frozen=True)
class PreviewResult:
    """What a preview wrote."""

    output: Path
    index: Path
    notes: int
    cards: int
    media: int
    files: tuple[str, ...] = ()  # every file written, relative to the output folder


def preview_cards(notes: Iterable[RenderedNote], note_types: dict[str, NoteType] | None = None,
                  config: ProjectConfig | None = None, latex_svg: bool = False) -> list[PreviewCard]:
    """Every card Anki makes of these notes, in learner order, rendered as Anki renders it.

    With the project's `config`, Anki's special fields (``{{Tags}}``, ``{{Deck}}``, ...) show too;
    [latex] shows as the image Anki rendered for it (`latex_svg`: the deck's are SVG images).
    """
    known = note_types or NOTE_TYPES
    cards: list[PreviewCard] = []
    problems = []
    for note in notes:
        try:
            cards += _note_cards(note, known[note.note_type], config, latex_svg)
        except CardTooLarge as exc:
            problems.append(too_large(note, exc))
    if problems:
        raise ProjectError(problems)
    return cards


def too_large(note: RenderedNote, exc: CardTooLarge) -> Problem:
    """The located problem for a note whose card Anki would render past deckgen's output ceiling."""
    return Problem(note.path, note.line, note.column, str(exc), note.card_id,
                   "shorten the field, or use it fewer times in the note type's templates")


def _note_cards(note: RenderedNote, note_type: NoteType, config: ProjectConfig | None,
                latex_svg: bool = False) -> list[PreviewCard]:
    """One entry per card: per cloze number for a cloze note, per direction for a reversed one."""
    fields = dict(zip(note_type.fields, note.fields))
    context = None if config is None else NoteContext(
        note.tags, note_type.display_name(config.deck), config.group_deck(note.group))
    return [
        PreviewCard(note, card.ord, _template_label(note_type, card.ord),
                    *(latex_html(side, latex_svg) for side in typed_answer_sides(
                        card.question, card.answer, fields, card.ord)), _stylesheet(note_type))
        for card in render_cards(note_type, fields, context)
    ]


def _template_label(note_type: NoteType, card_ord: int) -> str:
    """How the card is named in Anki's card list: the template name, or the cloze number."""
    return f"Cloze {card_ord + 1}" if note_type.is_cloze else note_type.templates[card_ord].name


def _stylesheet(note_type: NoteType) -> str:
    """The file in assets/ with the CSS Anki shows this note type's cards with."""
    return "deck.css" if note_type.css is None else f"note-type-{note_type.kind}.css"


def write_preview(project: Project, out_dir: Path, live: str | None = None) -> PreviewResult:
    """Write the site for a checked project; `live` is the build token of a serving preview."""
    check_output_dir(project.config.root, out_dir, project.config.media)
    latex = [name.rsplit(".", 1)[1] for name in project.media if LATEX_IMAGE.fullmatch(name)]
    cards = preview_cards(project.notes, project.templates.note_types, project.config,
                          "svg" in latex and "png" not in latex)
    written = _write_assets(out_dir, project.templates.css, project.templates.note_types)
    written += _copy_media(out_dir, project.media)
    written += _write_card_documents(out_dir, cards)
    _write_text(out_dir / "index.html", _render(PAGE_TEMPLATE, _page_context(project, cards, live)))
    written.append("index.html")
    _prune(out_dir, written)
    return PreviewResult(out_dir, out_dir / "index.html", len(project.notes), len(cards), len(project.media),
                         tuple(written))


def write_problems_page(out_dir: Path, problems: list[Problem], title: str, live: str | None = None) -> Path:
    """Replace the page with the project's located problems, so no stale card is mistaken for current."""
    _write_static(out_dir)
    context = {"title": title, "problems": [str(p) for p in problems], "summary": summary(problems),
               "live": live, "version": __version__}
    index = out_dir / "index.html"
    _write_text(index, _render(PROBLEMS_TEMPLATE, context))
    return index


def default_output(root: Path) -> Path:
    """Where the preview goes unless told otherwise."""
    return root / DEFAULT_DIR


def check_output_dir(root: Path, out_dir: Path, media: str = "media") -> None:
    """Refuse a folder whose files the preview would clobber: the project or its sources."""
    target, project = out_dir.resolve(), root.resolve()
    sources = [project / name for name in ("cards", "templates", "note_types", media)]
    if project.is_relative_to(target) or any(target.is_relative_to(s) for s in sources):
        raise ProjectError([Problem(str(out_dir), message="the preview cannot be written into the project's "
                                    "own folder or its sources", hint="name a folder of its own, e.g. -o dist/preview")])
    check_output(root, out_dir, media, "the preview")
    for folder in (out_dir, *(out_dir / name for name in SITE_FOLDERS)):
        if folder.is_symlink():
            raise ProjectError([Problem(str(folder), message="cannot write the preview here: this is a link",
                                        hint="deckgen never writes through a link; remove it")])


# The page
# ----------------------------------------


def _page_context(project: Project, cards: list[PreviewCard], live: str | None) -> dict[str, Any]:
    """Everything the page template shows, grouped by subdeck in the config's order."""
    config = project.config
    entries = [_entry(index, card, config) for index, card in enumerate(cards)]
    groups = [
        {"key": _filter_key(key), "title": config.group_title(key) or config.deck, "deck": config.group_deck(key),
         "notes": sum(1 for n in project.notes if n.group == key),
         "entries": [e for e in entries if e["group"] == _filter_key(key)],
         "cards": sum(1 for e in entries if e["group"] == _filter_key(key) or (key and e["group"].startswith(key + "/")))}
        for key in ("", *config.group_paths())
    ]
    tags = sorted({tag for note in project.notes for tag in note.tags}, key=str.lower)
    data = [_card_data(card, config) for card in cards]
    return {
        "title": config.deck, "version": __version__, "deck_version": config.version,
        "notes": len(project.notes), "cards": len(cards), "groups": [g for g in groups if g["entries"]],
        "filters": [g for g in groups if g["cards"]],  # a group's filter shows its subgroups' cards too
        "subdecks": len(project.subdecks()),  # as build counts them: parents of subdecks with cards too
        "tags": tags, "data": data, "data_id": DATA_ID, "live": live, "eager": EAGER_CARDS,
        "warnings": [str(p) for p in warnings(project.problems)],
    }


def project_title(root: Path) -> str:
    """The deck's name for a page about a project that cannot be built: deckgen.yaml's 'deck:' if it can be read."""
    from ..project.config import CONFIG_FILE
    from ..project.yaml_values import parse_document
    from ..project.yaml_reader import YamlMap

    problems: list[Problem] = []
    data = read_inside(root / CONFIG_FILE, CONFIG_FILE, problems, root) if (root / CONFIG_FILE).is_file() else None
    document = parse_document(data, CONFIG_FILE, problems) if data is not None else None
    deck = document.get("deck") if isinstance(document, YamlMap) else None
    return deck.strip() if isinstance(deck, str) and deck.strip() else f"the deckgen project {root.resolve().name}"


def frame_script() -> dict[str, str]:
    """deckgen's own script in each card document (it reports the card's height and takes night mode),
    with the hash that the card document's Content-Security-Policy allows: no other script runs there."""
    script = (ASSETS_DIR / FRAME_SCRIPT).read_text(encoding="utf-8")
    hashed = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return {"script": script, "hash": f"sha256-{hashed}"}


def _filter_key(group: str) -> str:
    """A group's key in the page's subdeck filter: '/' for the root deck ('' there means every subdeck)."""
    return group or "/"


def _entry(index: int, card: PreviewCard, config: ProjectConfig) -> dict[str, Any]:
    """The visible facts about one card: which note, where it is written, which card of the note."""
    note = card.note
    return {
        "index": index, "card_id": note.card_id, "group": _filter_key(note.group), "kind": note.note_type,
        "template": card.template, "ord": card.ord, "tags": note.tags,
        "where": f"{note.path}:{note.line}:{note.column}", "deck": config.group_deck(note.group),
    }


def _card_data(card: PreviewCard, config: ProjectConfig) -> dict[str, Any]:
    """What the page's script needs to show a card, with its HTML exactly as Anki renders it."""
    return {"note": card.note.card_id, "ord": card.ord, "body": card.body_class,
            "question": card.question, "answer": card.answer, "text": card.search_text(config)}


def read_preview_data(index: Path) -> list[dict[str, Any]]:
    """The cards embedded in a written page: for tests and tools that check the preview."""
    page = index.read_text(encoding="utf-8")
    start = page.index(f'<script type="application/json" id="{DATA_ID}">')
    body = page[page.index(">", start) + 1 : page.index("</script>", start)]
    return list(json.loads(body))


def _environment() -> jinja2.Environment:
    """deckgen's own trusted page templates; autoescaped, since they show the author's text."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(ASSETS_DIR), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def _render(template: str, context: dict[str, Any]) -> str:
    return _environment().get_template(template).render(context)


# Files
# ----------------------------------------


def _write_static(out_dir: Path) -> list[str]:
    """The page's own script and styles, the same for every deck."""
    for name in STATIC_ASSETS:
        _write_bytes(out_dir / "assets" / name, (ASSETS_DIR / name).read_bytes())
    return [f"assets/{name}" for name in STATIC_ASSETS]


def _write_assets(out_dir: Path, css: str, note_types: dict[str, NoteType] | None = None) -> list[str]:
    """The page's own files, and the deck's CSS as Anki's note types carry it (some carry their own)."""
    _write_bytes(out_dir / DECK_CSS, css.encode("utf-8"))
    own = [(f"assets/{_stylesheet(t)}", t.css) for t in (note_types or {}).values() if t.css is not None]
    for name, text in own:
        _write_bytes(out_dir / name, text.encode("utf-8"))
    return [*_write_static(out_dir), DECK_CSS, *(name for name, _ in own)]


# A card document may load the deck's CSS and media from the site and nothing from elsewhere, and
# run no script but deckgen's own (allowed by its hash); the page also frames it with `sandbox`
# without allow-same-origin (served) and without allow-top-navigation, so a card's HTML cannot
# reach the page or the site's origin, nor move the page. No `file:` source: it would allow any
# host. A `<meta http-equiv=refresh>` is taken out of the card (CSP cannot stop it), so the frame
# stays on its card.
_CARD_POLICY = ("default-src 'none'; img-src 'self' data:; media-src 'self'; "
                "style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src '{hash}'; "
                "form-action 'none'; base-uri 'self'; frame-src 'none'; object-src 'none'")
_PLAY = re.compile(r"\[anki:play:[qa]:\d+\]")
_REPLAY = '<span class="replay-button" title="Sound: plays in Anki">&#9654;</span>'
_NO_SCRIPT = ('<div class="deckgen-no-script" style="font: 13px sans-serif; background: #fff3cd; color: #664d03; '
              'padding: 4px 8px; margin-bottom: 8px; border-radius: 4px">This card\'s template runs a script, which '
              "the preview does not run: what the script draws shows only in Anki.</div>")


def card_document(card: PreviewCard, side: str, frame: dict[str, str]) -> str:
    """One card side as its own document, built like Anki's reviewer page: the deck's CSS, then
    `<body class="card cardN">` with the card's HTML inside `<div id="qa">`; media resolve from media/."""
    content = without_refresh(_PLAY.sub(_REPLAY, card.question if side == "question" else card.answer))
    if "<script" in content.lower():  # the card frame runs deckgen's script only: say so, plainly
        content = _NO_SCRIPT + content
    policy = html.escape(_CARD_POLICY.format(hash=frame["hash"]))
    return ('<!doctype html><html><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
            '<base href="../media/" target="_blank">'
            '<link rel="stylesheet" href="../assets/anki-reviewer.css">'
            f'<link rel="stylesheet" href="../assets/{card.stylesheet}">'
            f'</head><body class="{card.body_class}"><div id="qa">{content}</div>'
            f'<script>{frame["script"]}</script></body></html>')


def _write_card_documents(out_dir: Path, cards: list[PreviewCard]) -> list[str]:
    """Each card side as a file of its own, which the page shows in a sandboxed frame."""
    frame = frame_script()
    written = []
    for index, card in enumerate(cards):
        for side in ("question", "answer"):
            name = f"{CARDS_DIR}/{index}-{side}.html"
            _write_text(out_dir / name, card_document(card, side, frame))
            written.append(name)
    return written


def _copy_media(out_dir: Path, media: dict[str, Path]) -> list[str]:
    """The images and sounds the cards use, flat in media/ as in Anki's media folder."""
    for name, source in media.items():
        _copy_file(source, out_dir / "media" / name)
    return [f"media/{name}" for name in media]


def _copy_file(source: Path, path: Path) -> None:
    """Copy a media file in pieces (never whole in memory), only when it changed, atomically;
    a source that is no longer a regular file of at most the media limit is a located problem."""
    handle = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MEDIA_BYTES:
            raise ProjectError([Problem(str(source), message="this media file is not a regular file of at most "
                                        f"{MAX_MEDIA_BYTES // 2**20} MiB")])
        if path.is_file() and not path.is_symlink() and path.stat().st_size == info.st_size and filecmp.cmp(
                source, path, shallow=False):
            return
        _replace(path, lambda target: shutil.copyfileobj(stream, target, COPY_CHUNK))


def _write_bytes(path: Path, payload: bytes) -> None:
    """Write only what changed, and atomically, so a serving browser never reads half a file."""
    if (path.is_file() and not path.is_symlink() and path.stat().st_size == len(payload)
            and path.read_bytes() == payload):
        return
    _replace(path, lambda target: target.write(payload))


def _replace(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """Write a file through a temporary beside it, moved into place at once (a browser never reads half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as target:
            fill(target)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _write_text(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _prune(out_dir: Path, written: list[str]) -> None:
    """Remove what an earlier preview wrote and this one did not (a media file no card uses now)."""
    manifest = out_dir / MANIFEST
    data = read_regular(manifest, MAX_FILE_BYTES)  # never waits on a FIFO left in the output
    try:
        before = set(json.loads(data)) if isinstance(data, bytes) else set()
    except (ValueError, TypeError):
        before = set()
    root = out_dir.resolve()
    for name in sorted(before - set(written)):
        stale = (out_dir / name).resolve()
        if stale.is_relative_to(root) and stale.is_file():
            stale.unlink()
    _write_text(manifest, json.dumps(sorted(written), indent=1) + "\n")

