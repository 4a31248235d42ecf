"""Stage 2: card types, the Jinja templates that turn a card's data into an Anki note's fields.

One sandboxed Jinja environment looks in the project's templates/ first and in deckgen's
built-in templates second, so a project overrides a built-in card type by giving a file its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from .notetypes import NOTE_TYPES, NoteType
from .problems import Problem, did_you_mean
from .schema import Reader, describe, parse_document
from .yamlsource import YamlMap

BUILTIN_DIR = Path(__file__).parent / "templates"
TEMPLATE_SUFFIX = ".html.j2"
SOURCES_TEMPLATE = "_sources.html.j2"
CSS_FILE = "style.css"
CARD_KEYS = ("id", "type", "group", "tags", "sources")
CONTEXT_NAMES = ("card", "cloze")
_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_FIELD_OPTIONS = ("required", "markdown", "choices", "list")


@dataclass(frozen=True)
class FieldSpec:
    """One piece of data a card type takes."""

    name: str
    required: bool = False
    markdown: bool = True
    choices: tuple[str, ...] = ()
    is_list: bool = False


@dataclass(frozen=True)
class CardType:
    """A named way of turning card data into a note of one of deckgen's Anki note types."""

    name: str
    note_type: NoteType
    fields: dict[str, FieldSpec]
    template: jinja2.Template = field(compare=False)
    blocks: dict[str, list[Callable[..., Iterator[str]]]] = field(compare=False)
    spec_path: str = ""

    def render_fields(self, data: dict[str, Any]) -> dict[str, str]:
        """The note's content fields (all but Sources) for one card's data."""
        context = self.template.new_context(data)
        for name, stack in self.blocks.items():
            context.blocks[name] = list(stack)
        return {
            name: "".join(context.blocks[name][0](context)).strip() if name in context.blocks else ""
            for name in self.note_type.content_fields
        }


class MissingField(jinja2.StrictUndefined):
    """An optional field a card does not have: false in `{% if %}`, an error when printed."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False


def cloze(number: int, text: str, hint: str | None = None) -> Markup:
    """An Anki cloze marker, for templates: {{ cloze(1, answer) }} -> {{c1::answer}}."""
    inner = escape(text) + (Markup("::") + escape(hint) if hint else Markup(""))
    return Markup("{{c%d::" % int(number)) + inner + Markup("}}")


@dataclass
class Templates:
    """Everything the template stage produces: the environment, card types and CSS."""

    env: SandboxedEnvironment
    card_types: dict[str, CardType]
    css: str
    sources: jinja2.Template | None
    files: dict[str, bytes]  # every template file that shaped the result, for hashing
    broken: frozenset[str] = frozenset()  # card types that exist but failed to load (already reported)


def display_path(path: Path, root: Path) -> str:
    """A path as messages show it: relative to the project, or inside deckgen."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return "<deckgen>/" + path.resolve().relative_to(BUILTIN_DIR.parent.resolve()).as_posix()


def make_environment(project_templates: Path) -> SandboxedEnvironment:
    """The one Jinja environment: project templates first, built-in ones as fallback."""
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(str(project_templates)),
            jinja2.FileSystemLoader(str(BUILTIN_DIR)),
        ]),
        autoescape=True,
        undefined=MissingField,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["cloze"] = cloze
    return env


def load_templates(root: Path, problems: list[Problem]) -> Templates:
    """Find, read and compile every card type; problems are collected, not raised."""
    project_dir = root / "templates"
    env = make_environment(project_dir)
    files: dict[str, bytes] = {}
    card_types = {}
    specs = _spec_files(project_dir)
    for name, spec_path in sorted(specs.items()):
        files[display_path(spec_path, root)] = spec_path.read_bytes()
        card_type = _load_card_type(name, spec_path, root, env, problems, files)
        if card_type is not None:
            card_types[name] = card_type
    css_path = _first_existing(project_dir / CSS_FILE, BUILTIN_DIR / CSS_FILE)
    css = _read_css(css_path, root, problems)
    files[display_path(css_path, root)] = css.encode()
    sources = _compile(env, SOURCES_TEMPLATE, root, problems, files)
    return Templates(env, card_types, css, sources, files, frozenset(specs) - set(card_types))


def _spec_files(project_dir: Path) -> dict[str, Path]:
    specs = {path.stem: path for path in BUILTIN_DIR.glob("*.yaml")}
    if project_dir.is_dir():
        specs.update({path.stem: path for path in project_dir.glob("*.yaml")})
    return specs


def _first_existing(*paths: Path) -> Path:
    return next(path for path in paths if path.is_file())


def _read_css(path: Path, root: Path, problems: list[Problem]) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(display_path(path, root), message="not UTF-8 text", hint="save it as UTF-8"))
        return ""


def _load_card_type(
    name: str, spec_path: Path, root: Path, env: SandboxedEnvironment,
    problems: list[Problem], files: dict[str, bytes],
) -> CardType | None:
    shown = display_path(spec_path, root)
    before = len(problems)
    spec = parse_document(spec_path.read_bytes(), shown, problems)
    if not isinstance(spec, YamlMap):
        if len(problems) == before:
            problems.append(Problem(shown, 1, 1, f"card type '{name}' must be a mapping with 'note_type' and 'fields'"))
        return None
    read = Reader(shown, problems)
    read.unknown_keys(spec, ("note_type", "fields", "template", "description"), "card type setting")
    note_type = _note_type(spec, read)
    fields = _field_specs(spec, read)
    template_name = read.text(spec, "template") or name + TEMPLATE_SUFFIX
    template = _compile(env, template_name, root, problems, files)
    if note_type is None or template is None or len(problems) > before:
        return None
    blocks = _block_stack(template, env)
    _check_blocks(name, note_type, blocks, template, root, problems)
    _check_variables(name, fields, blocks, env, root, problems)
    if len(problems) > before:
        return None
    return CardType(name, note_type, fields, template, blocks, shown)


def _note_type(spec: YamlMap, read: Reader) -> NoteType | None:
    kind = read.text(spec, "note_type", required=True)
    if kind is None:
        return None
    if kind not in NOTE_TYPES:
        hint = did_you_mean(kind, NOTE_TYPES) or "one of: " + ", ".join(NOTE_TYPES)
        read.report(spec.value_pos["note_type"], f"unknown note type '{kind}'", hint)
        return None
    return NOTE_TYPES[kind]


def _field_specs(spec: YamlMap, read: Reader) -> dict[str, FieldSpec]:
    mapping = read.mapping(spec, "fields")
    if mapping is None:
        if "fields" not in spec:
            read.report(spec.pos, "missing 'fields': the data a card of this type takes")
        return {}
    return {
        name: field_spec
        for name in mapping
        if (field_spec := _field_spec(name, mapping, read)) is not None
    }


def _field_spec(name: str, mapping: YamlMap, read: Reader) -> FieldSpec | None:
    pos = mapping.key_pos[name]
    if name in CARD_KEYS:
        read.report(pos, f"'{name}' is a key every card has; it cannot be a card type's field")
        return None
    if not _FIELD_NAME.match(name):
        read.report(pos, f"field name '{name}' must be lowercase letters, digits and '_'")
        return None
    options = mapping[name]
    if options is None:
        return FieldSpec(name)
    if not isinstance(options, YamlMap):
        read.report(mapping.value_pos[name], f"field '{name}' must be a mapping of options, not {describe(options)}")
        return None
    read.unknown_keys(options, _FIELD_OPTIONS, "field option")
    choices = tuple(text for text, _ in read.text_list(options, "choices"))
    return FieldSpec(
        name,
        required=read.flag(options, "required", False),
        markdown=read.flag(options, "markdown", not choices),
        choices=choices,
        is_list=read.flag(options, "list", False),
    )


def _compile(
    env: SandboxedEnvironment, name: str, root: Path, problems: list[Problem], files: dict[str, bytes],
) -> jinja2.Template | None:
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        shown = display_path(Path(exc.filename), root) if exc.filename else name
        problems.append(Problem(shown, exc.lineno or 0, 0, f"template syntax error: {exc.message}"))
        return None
    except jinja2.TemplateNotFound as exc:
        problems.append(Problem("templates/" + name, message=f"template '{exc.name}' not found",
                                hint="looked in the project's templates/ and deckgen's built-in ones"))
        return None
    if template.filename:
        files[display_path(Path(template.filename), root)] = Path(template.filename).read_bytes()
    return template


def _block_stack(template: jinja2.Template, env: SandboxedEnvironment) -> dict[str, list[Any]]:
    """Each block's implementations, child first, as `{% extends %}` would stack them."""
    stack: dict[str, list[Any]] = {}
    current: jinja2.Template | None = template
    while current is not None:
        for name, function in current.blocks.items():
            stack.setdefault(name, []).append(function)
        current = _parent(current, env)
    return stack


def _parent(template: jinja2.Template, env: SandboxedEnvironment) -> jinja2.Template | None:
    extends = next(_parse(template, env).find_all(nodes.Extends), None)
    if extends is None or not isinstance(extends.template, nodes.Const):
        return None
    return env.get_template(extends.template.value)


def _parse(template: jinja2.Template, env: SandboxedEnvironment) -> nodes.Template:
    source, _, _ = env.loader.get_source(env, template.name)  # type: ignore[union-attr]
    return env.parse(source, template.name, template.filename)


def _check_blocks(
    name: str, note_type: NoteType, blocks: dict[str, list[Any]], template: jinja2.Template,
    root: Path, problems: list[Problem],
) -> None:
    shown = display_path(Path(template.filename or name), root)
    first = note_type.content_fields[0]
    if first not in blocks:
        problems.append(Problem(shown, 1, 0, f"card type '{name}' has no {{% block {first} %}}",
                                hint=f"the {note_type.kind} note type needs it: it is the question"))
    for block in blocks:
        if block not in note_type.content_fields:
            problems.append(Problem(
                shown, 1, 0,
                f"block '{block}' is not a field of the {note_type.kind} note type",
                did_you_mean(block, note_type.content_fields) or "fields: " + ", ".join(note_type.content_fields),
            ))


def _check_variables(
    name: str, fields: dict[str, FieldSpec], blocks: dict[str, list[Any]],
    env: SandboxedEnvironment, root: Path, problems: list[Problem],
) -> None:
    """Every variable a used block reads must be a declared field (no silent empty output)."""
    known = set(fields) | set(CONTEXT_NAMES) | set(env.globals)
    for block_name, stack in blocks.items():
        template = _template_of(stack[0], env)
        block = next(b for b in _parse(template, env).find_all(nodes.Block) if b.name == block_name)
        body = nodes.Template(block.body)
        body.set_environment(env)
        unknown = meta.find_undeclared_variables(body) - known
        for variable in sorted(unknown):
            line = next(n.lineno for n in block.find_all(nodes.Name) if n.name == variable)
            problems.append(Problem(
                display_path(Path(template.filename or ""), root), line, 0,
                f"template uses '{variable}', which card type '{name}' does not declare",
                did_you_mean(variable, fields) or f"declare it under 'fields:' in {name}.yaml",
            ))


def _template_of(block_function: Any, env: SandboxedEnvironment) -> jinja2.Template:
    """The template a compiled block function came from."""
    return env.get_template(block_function.__globals__["name"])
