"""Stage 1: the project config, deckgen.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..safety.confine import read_inside, setting_inside
from .deck_options import DeckOptions, read_options
from .deck_tree import Group, group_descriptions, group_titles, read_deck, read_groups, tag_word
from ..problems import Problem
from .yaml_values import KEY, Reader, parse_document
from .yaml_reader import YamlMap

CONFIG_FILE = "deckgen.yaml"
CONFIG_KEYS = (  # deckgen.yaml's settings
    "deck", "key", "groups", "description", "sources", "version", "license", "authors",
    "html", "media", "missing_media", "output", "options", "css", "lint",  # lint: read by deckgen.lint
    "group_tags", "description_html", "group_options",
)
CSS_MODES = ("add", "replace")
SOURCE_KEYS = ("citation", "references", "untitled")  # of a source written as a mapping


@dataclass(frozen=True)
class Source:
    """A document cards cite; it may list numbered references of its own, which cards cite by number."""

    citation: str
    references: tuple[tuple[str, str | None], ...] = ()  # title None: cited in its text, missing from its list
    untitled: str = ""  # shown for a cited number with no title here, e.g. "the source's list is unnumbered"

    def lists(self, number: str) -> bool:
        """Whether the source lists (or is known to cite) a reference with this number."""
        return any(listed == number for listed, _ in self.references)

    def reference(self, number: str) -> str | None:
        """The title of the source's reference with this number, or None if it lists none such."""
        return dict(self.references).get(number)


@dataclass(frozen=True)
class ProjectConfig:
    """What deckgen.yaml says about the deck as a whole."""

    root: Path
    deck: str
    key: str
    groups: tuple[Group, ...] = ()  # the tree of groups; none: a flat deck, every note in the root deck
    description: str = ""
    sources: dict[str, Source] = field(default_factory=dict)
    version: str | None = None
    license: str | None = None
    authors: tuple[str, ...] = ()
    html: bool = False
    media: str = "media"
    missing_media: frozenset[str] = frozenset()  # files notes name that the deck has never had: a warning each
    output: str | None = None
    options: DeckOptions | None = None  # the deck-options preset for the deck and its subdecks
    group_options: dict[str, DeckOptions] = field(default_factory=dict)  # a group's own preset (and its subgroups')
    css: str = "add"  # templates/style.css: added after the built-in CSS, or replacing it
    group_tags: bool = True  # every note tagged with its group's deck path (false: an imported deck's tags as they are)
    description_html: bool = False  # the descriptions (the deck's, its groups') are HTML used as they are (an
    # imported deck's), not Markdown
    _titles: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _tags: dict[str, str] = field(init=False, repr=False, compare=False)  # every note carries one

    def __post_init__(self) -> None:
        titles = {"": (), **group_titles(self.groups)}
        deck_words = [tag_word(part) for part in self.deck.split("::")]
        object.__setattr__(self, "_titles", titles)
        object.__setattr__(self, "_tags", {path: "::".join(deck_words + [tag_word(t) for t in group])
                                           for path, group in titles.items()})

    @property
    def slug(self) -> str:
        """The deck name as a file name: 'dystrophic-calcification'."""
        return re.sub(r"[^a-z0-9]+", "-", self.deck.lower()).strip("-") or "deck"

    @property
    def output_path(self) -> Path:
        """Where `build` writes the package unless told otherwise."""
        return self.root / (self.output or f"dist/{self.slug}.apkg")

    @property
    def media_dir(self) -> Path:
        return self.root / self.media

    def group_paths(self) -> list[str]:
        """Every group's path ('treatment/acute'), in config order, parents before children."""
        return [path for path in self._titles if path]

    def has_group(self, path: str) -> bool:
        """Whether a path names one of the groups ('' is the root deck, not a group)."""
        return path in self._titles and path != ""

    def group_title(self, path: str) -> str:
        """A group's full title below the root deck ('Treatment::Acute flare'); '' for the root deck."""
        return "::".join(self._titles[path])

    def group_description(self, path: str) -> str:
        """A group's own description ('' for none); the root deck's is `description`."""
        return group_descriptions(self.groups).get(path, "")

    def group_deck(self, path: str) -> str:
        """The full Anki deck name of a group's subdeck ('' is the root deck)."""
        return "::".join((self.deck, *self._titles[path]))

    def group_tag(self, path: str) -> str:
        """The hierarchical tag that carries a note's group: Dystrophic_Calcification::Causes."""
        return self._tags[path]

    def parent_decks(self) -> list[str]:
        """The decks above the root deck ('Medicine', 'Medicine::Pathology'), outermost first."""
        parts = self.deck.split("::")
        return ["::".join(parts[:end]) for end in range(1, len(parts))]


def load_config(root: Path, problems: list[Problem]) -> ProjectConfig | None:
    """Read deckgen.yaml; None (with problems recorded) if it is missing or unusable."""
    path = root / CONFIG_FILE
    if not path.is_file():
        problems.append(Problem(CONFIG_FILE, message=f"no {CONFIG_FILE} in {root}",
                                hint="is this a deckgen project folder?"))
        return None
    before = len(problems)
    data = read_inside(path, CONFIG_FILE, problems, root)
    document = parse_document(data, CONFIG_FILE, problems) if data is not None else None
    if len(problems) > before:
        return None
    if not isinstance(document, YamlMap):
        problems.append(Problem(CONFIG_FILE, 1, 1, "deckgen.yaml must be a mapping of settings",
                                hint="start with 'deck: My Deck' and 'key: my-deck'"))
        return None
    return _config(root, document, Reader(CONFIG_FILE, problems, noun="setting"), before)


def _config(root: Path, doc: YamlMap, read: Reader, before: int) -> ProjectConfig | None:
    read.unknown_keys(doc, CONFIG_KEYS, "setting")
    deck = read_deck(doc, read)
    key = read.text(doc, "key", required=True)
    if key is not None and not KEY.match(key):
        read.report(doc.value_pos["key"], f"key '{key}' must be letters, digits, '-', '_' or '.'")
    sources = _sources(doc, read)
    config = ProjectConfig(
        root=root,
        deck=deck or "",
        key=key or "",
        groups=read_groups(doc, read),
        description=read.text(doc, "description") or "",
        sources=sources,
        version=read.text(doc, "version"),
        license=read.text(doc, "license"),
        authors=tuple(text for text, _ in read.text_list(doc, "authors")),
        html=read.flag(doc, "html", False),
        media=_media(root, doc, read),
        missing_media=frozenset(name for name, _ in read.text_list(doc, "missing_media")),
        output=_output(root, doc, read),
        options=read_options(doc, read, deck or ""),
        css=_css(doc, read),
        group_options=_group_options(doc, read),
        group_tags=read.flag(doc, "group_tags", True),
        description_html=read.flag(doc, "description_html", False),
    )
    _check_group_options(config, doc, read)
    return None if len(read.problems) > before else config


def _group_options(doc: YamlMap, read: Reader) -> dict[str, DeckOptions]:
    """`group_options:`: a group path -> the preset its subdeck and theirs use instead of `options:`."""
    mapping = read.mapping(doc, "group_options")
    if mapping is None:
        return {}
    found = {}
    for path in mapping:
        options = read_options(mapping, read, str(path).rsplit("/", 1)[-1], key=path)
        if options is not None:
            found[str(path)] = options
    return found


def _check_group_options(config: ProjectConfig, doc: YamlMap, read: Reader) -> None:
    """Every group `group_options:` names is a group of the deck."""
    mapping = doc.get("group_options")
    for path in config.group_options:
        if path not in config.group_paths():
            read.report(mapping.key_pos[path], f"group_options names '{path}', which is not a group",
                        "use a group's path as groups: gives it, such as 'drugs/acute'")


def _css(doc: YamlMap, read: Reader) -> str:
    """How templates/style.css relates to the built-in CSS: added after it (default) or replacing it."""
    mode = read.text(doc, "css", required="css" in doc)
    if mode is None:
        return "add"
    if mode not in CSS_MODES:
        read.report(doc.value_pos["css"], f"'css' is '{mode}', not add or replace",
                    "add: templates/style.css comes after the built-in CSS; replace: it is the whole CSS")
        return "add"
    return mode


def _media(root: Path, doc: YamlMap, read: Reader) -> str:
    """The media folder; it must be inside the project, so that nothing else goes into a package."""
    media = read.text(doc, "media", required="media" in doc)
    if media is None:
        return "media"
    if Path(media).is_absolute() or not (root / media).resolve().is_relative_to(root.resolve()):
        read.report(doc.value_pos["media"], f"the media folder '{media}' is outside the project",
                    "name a folder inside the project, such as 'media'")
    return media


def _output(root: Path, doc: YamlMap, read: Reader) -> str | None:
    """Where the package goes by default: a path inside the project, never one a stranger picks elsewhere."""
    output = read.text(doc, "output")
    if output is not None and not setting_inside(root, output):
        read.report(doc.value_pos["output"], f"the output '{output}' is outside the project",
                    "name a file inside the project, such as 'dist/deck.apkg'; 'build -o' writes elsewhere")
        return None
    return output


def _sources(doc: YamlMap, read: Reader) -> dict[str, Source]:
    mapping = read.mapping(doc, "sources")
    if mapping is None:
        return {}
    sources = {}
    for source_id in mapping:
        source = _source(source_id, mapping, read)
        if source is not None:
            sources[source_id] = source
    return sources


def _source(source_id: str, mapping: YamlMap, read: Reader) -> Source | None:
    """A source: its citation as text, or a mapping with 'citation', numbered 'references' and 'untitled'."""
    value = mapping[source_id]
    if not isinstance(value, YamlMap):
        citation = read.text_value(value, mapping.value_pos[source_id], source_id,
                                   label=f"the citation of source '{source_id}'")
        return Source(citation.strip()) if citation is not None else None
    read.unknown_keys(value, SOURCE_KEYS, f"key of source '{source_id}'")
    citation = read.text(value, "citation", required=True)
    references = read.mapping(value, "references")
    listed = []
    for number in references or ():
        if references[number] is None:  # type: ignore[index]
            listed.append((str(number), None))  # cited in the source's text, missing from its list
            continue
        title = read.text_value(references[number], references.value_pos[number], str(number),  # type: ignore[index]
                                label=f"reference {number} of source '{source_id}'")
        if title is not None:
            listed.append((str(number), title.strip()))
    untitled = (read.text(value, "untitled") or "").strip()
    return Source(citation.strip(), tuple(listed), untitled) if citation is not None else None

