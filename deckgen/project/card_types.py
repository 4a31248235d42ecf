"""Stage 2: card types, the Jinja templates that turn a card's data into an Anki note's fields.

One sandboxed Jinja environment looks in the project's templates/ first and in deckgen's
built-in templates second, so a project overrides a built-in card type by giving a file its name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
from jinja2 import meta, nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from ..safety.confine import ConfinedLoader, RefusedTemplate, read_inside
from ..safety.limits import LimitedEnvironment
from ..safety.remote import REMOTE_HINT, css_remote_problem
from .note_type_files import ProjectNoteTypes, load_note_types
from ..anki.builtin_note_types import NOTE_TYPES, NoteType, block_name
from ..problems import Problem, did_you_mean
from .yaml_values import Reader, decode, describe, parse_document
from .yaml_reader import Pos, YamlMap

BUILTIN_DIR = Path(__file__).parent / "builtin_card_types"
TEMPLATE_SUFFIX = ".html.j2"
SOURCES_TEMPLATE = "_sources.html.j2"
CSS_FILE = "style.css"
CARD_KEYS = ("id", "type", "group", "tags", "sources", "former_ids", "guid", "restore", "keep_empty",
             "lint_ignore")  # lint_ignore: read by deckgen.lint
CONTEXT_NAMES = ("card", "cloze")
CARD_ATTRIBUTES = ("id", "type", "group", "group_title", "tags")  # what templates read as card.*
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
class PlainBlock:
    """A block that only prints fields between fixed text, perhaps under `{% if field %}`: `{{ front }}`,
    `{% if extra %}{{ extra }}{% endif %}`, as most card types' blocks are. Rendered without Jinja's
    context and generators when every field it names is text; what Jinja would make of it."""

    guard: str | None  # the field of its `{% if %}`
    pieces: tuple[tuple[str, str], ...]  # (fixed text, "") or ("", field name), in order

    def render(self, data: dict[str, Any]) -> str | None:
        """The block's output; None when a field it names is not text (Jinja says what is wrong)."""
        if self.guard is not None and not data.get(self.guard):  # missing or empty: false, as Jinja's test is
            return ""
        out = []
        for text, name in self.pieces:
            if name:
                value = data.get(name)
                if not isinstance(value, str):
                    return None
                text = value if type(value) is Markup else escape(value)  # autoescape: fields' HTML is Markup
            out.append(text)
        return "".join(out)


@dataclass(frozen=True)
class CardType:
    """A named way of turning card data into a note of one of deckgen's Anki note types."""

    name: str
    note_type: NoteType
    fields: dict[str, FieldSpec]
    template: jinja2.Template = field(compare=False)
    blocks: dict[str, list[Callable[..., Iterator[str]]]] = field(compare=False)
    spec_path: str = ""
    globals: dict[str, Any] = field(default_factory=dict, compare=False)  # the template's, flattened once
    straight: bool = False  # no loop, macro or include anywhere: its output is bounded without counting
    passed_through: frozenset[str] = frozenset()  # fields its blocks print with |safe: their HTML reaches Anki
    strip: bool = True  # the blocks' output stripped of white space at its ends (false: an imported deck's spaces kept)
    plain: dict[str, PlainBlock] = field(default_factory=dict, compare=False)  # blocks printed without Jinja

    def render_fields(self, data: dict[str, Any]) -> dict[str, str]:
        """The note's content fields (all but the sources field) for one card's data.

        Each block is rendered on its own, in a context made directly (Template.new_context
        flattens the template's chained globals for every card: half the cost of a card).
        Output is counted piece by piece against the limits, except for straight templates,
        whose few pieces are each bounded: they are counted once joined.
        """
        budget = self.template.environment.budget  # type: ignore[attr-defined]
        if self.straight:  # no clock needed: nothing in it can run long
            fields = self._straight_fields(data)
            if budget.add_straight(sum(map(len, fields.values()))):
                return fields
            # too much: once more, counted, so that the problem names the template line
        context = self._context(data)
        budget.start_card()
        total = [0]
        return {
            name: self._ends(budget.collect(self.blocks[block][0](context), total)) if block in self.blocks else ""
            for block, name in self.note_type.blocks.items()
        }

    def _straight_fields(self, data: dict[str, Any]) -> dict[str, str]:
        """The fields of a straight card type: plain blocks without Jinja, the others with it (one context for them)."""
        fields, context = {}, None
        for block, name in self.note_type.blocks.items():
            plain = self.plain.get(block)
            text = plain.render(data) if plain is not None else None
            if text is None and block in self.blocks:
                context = context or self._context(data)
                text = "".join(self.blocks[block][0](context))
            fields[name] = self._ends(text or "")
        return fields

    def _context(self, data: dict[str, Any]) -> Context:
        context = Context(self.template.environment, {**self.globals, **data}, self.template.name, {})
        context.blocks = self.blocks  # the `{% extends %}` stacks; rendering a block only reads them
        return context

    def _ends(self, text: str) -> str:
        """A block's output as the field gets it: stripped, unless the card type keeps values as they are."""
        return text.strip() if self.strip else text


# The note type of a card type whose own failed: a cloze one, so that no cloze marker in its cards is warned about
_UNKNOWN_NOTE_TYPE = NoteType("?", (), (), is_cloze=True, sources_field=None)


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
    note_types: dict[str, NoteType] = field(default_factory=lambda: dict(NOTE_TYPES))  # built-in and the project's
    unrendered: dict[str, CardType] = field(default_factory=dict)  # of the broken ones, those whose fields are
    # known (only the template or note type failed): their cards' data is checked, never rendered


def display_path(path: Path, root: Path) -> str:
    """A path as messages show it: relative to the project, or inside deckgen."""
    for base, prefix in ((root, ""), (BUILTIN_DIR.parent, "<deckgen>/")):
        for candidate, folder in ((path, base), (path.resolve(), base.resolve())):
            if candidate.is_relative_to(folder):
                return prefix + candidate.relative_to(folder).as_posix()
    return path.as_posix()


class PrintError(Exception):
    """A template printed a value that is not text: a list, a mapping, None or true/false."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(f"prints {what} as text")
        self.hint = hint


def printable(value: Any) -> Any:
    """Jinja's finalize: refuse to put a Python list, mapping, None or boolean on a card."""
    if value is None:
        raise PrintError("None", "print a field that has a value, or guard it with {% if %}")
    if isinstance(value, bool):
        raise PrintError(f"the boolean {value}", "use {% if ... %} to choose what to print")
    if isinstance(value, (list, tuple, set, frozenset)):
        raise PrintError("a list", "loop over it with {% for item in ... %}, or join it: |join(', ')")
    if isinstance(value, Mapping):
        raise PrintError("a mapping", "print one of its values, such as {{ card.id }}")
    return value


def make_environment(project_templates: Path) -> SandboxedEnvironment:
    """The one Jinja environment: project templates first, built-in ones as fallback."""
    env = LimitedEnvironment(
        loader=jinja2.ChoiceLoader([
            ConfinedLoader(project_templates, project_templates.parent),
            jinja2.FileSystemLoader(str(BUILTIN_DIR)),
        ]),
        autoescape=True,
        undefined=MissingField,
        finalize=printable,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["cloze"] = cloze
    return env


def load_templates(root: Path, problems: list[Problem], css: str = "add") -> Templates:
    """Find, read and compile every card type; problems are collected, not raised.

    `css` is the config's setting: a project's templates/style.css is added after the built-in
    CSS, or ("replace") is the whole CSS.
    """
    project_dir = root / "templates"
    env = make_environment(project_dir)
    files: dict[str, bytes] = {}
    card_types: dict[str, CardType] = {}
    unrendered: dict[str, CardType] = {}
    note_types = load_note_types(root, problems, files)
    specs = _spec_files(project_dir)
    for name, spec_path in sorted(specs.items()):
        data = read_inside(spec_path, display_path(spec_path, root), problems, root, BUILTIN_DIR)
        if data is None:
            continue
        files[display_path(spec_path, root)] = data
        card_type = _load_card_type(name, spec_path, data, root, env, problems, files, note_types, unrendered)
        if card_type is not None:
            card_types[name] = card_type
    style = _deck_css(root, project_dir, css, problems, files)
    sources = _compile(env, SOURCES_TEMPLATE, root, problems, files)
    return Templates(env, card_types, style, sources, files, frozenset(specs) - set(card_types),
                     note_types.note_types, unrendered)


def _spec_files(project_dir: Path) -> dict[str, Path]:
    specs = {path.stem: path for path in BUILTIN_DIR.glob("*.yaml")}
    if project_dir.is_dir():
        specs.update({path.stem: path for path in project_dir.glob("*.yaml") if path.is_file()})
    return specs


def _deck_css(root: Path, project_dir: Path, mode: str, problems: list[Problem], files: dict[str, bytes]) -> str:
    """The deck's CSS: the built-in style sheet, then the project's; or only the project's ("replace")."""
    builtin, own = BUILTIN_DIR / CSS_FILE, project_dir / CSS_FILE
    sheets = [path for path in ((own,) if mode == "replace" and own.is_file() else (builtin, own)) if path.is_file()]
    texts = []
    for path in sheets:
        texts.append(_read_css(path, root, problems))
        files[display_path(path, root)] = texts[-1].encode()
    if len(texts) == 1:
        return texts[0]
    return texts[0].rstrip("\n") + f"\n\n/* {CSS_FILE} of this project */\n" + texts[1]


def _read_css(path: Path, root: Path, problems: list[Problem]) -> str:
    data = read_inside(path, display_path(path, root), problems, root, BUILTIN_DIR)
    css = (decode(data, display_path(path, root), problems, kind="CSS") if data is not None else None) or ""
    remote = css_remote_problem(css)
    if remote:
        line = css.count("\n", 0, remote[0]) + 1
        problems.append(Problem(display_path(path, root), line, remote[0] - css.rfind("\n", 0, remote[0]),
                                f"the CSS {remote[1]}", hint=REMOTE_HINT))
    return css


def _load_card_type(
    name: str, spec_path: Path, data: bytes, root: Path, env: SandboxedEnvironment,
    problems: list[Problem], files: dict[str, bytes], note_types: ProjectNoteTypes, unrendered: dict[str, CardType],
) -> CardType | None:
    """The card type, or None (reported); one whose fields are known but not its template goes into `unrendered`."""
    shown = display_path(spec_path, root)
    before = len(problems)
    spec = parse_document(data, shown, problems)
    if not isinstance(spec, YamlMap):
        if len(problems) == before:
            problems.append(Problem(shown, 1, 1, f"card type '{name}' must be a mapping with 'note_type' and 'fields'"))
        return None
    read = Reader(shown, problems, noun="setting")
    read.unknown_keys(spec, ("note_type", "fields", "template", "description", "strip"), "card type setting")
    note_type = _note_type(spec, read, note_types)
    fields_read = len(problems)
    fields = _field_specs(spec, read)
    fields_known = "fields" in spec and len(problems) == fields_read
    if fields_known:  # whatever fails below, its cards' data can be checked
        unrendered[name] = CardType(name, note_type or _UNKNOWN_NOTE_TYPE, fields, env.from_string(""), {}, shown)
    template_name = read.text(spec, "template") or name + TEMPLATE_SUFFIX
    where = (shown, spec.value_pos.get("template", Pos(1, 1)))
    template = _compile(env, template_name, root, problems, files, where)
    blocks = _block_stack(template, env, root, problems) if template is not None else None
    if template is None or blocks is None:
        return None
    if note_type is not None:  # a broken note type hides no mistake of the template's own
        _check_blocks(name, note_type, blocks, template, env, root, problems)
    if fields_known:
        _check_variables(name, shown, fields, blocks, display_path(Path(template.filename or ""), root), env, root,
                         problems)
    if note_type is None or len(problems) > before:
        return None
    unrendered.pop(name, None)
    return CardType(name, note_type, fields, template, blocks, shown, dict(template.globals),
                    _straight(blocks, env), _passed_through(blocks, env), read.flag(spec, "strip", True),
                    _plain_blocks(blocks, env, fields.keys() - template.globals.keys()))


def _passed_through(blocks: dict[str, list[Any]], env: SandboxedEnvironment) -> frozenset[str]:
    """The fields a card type prints with |safe (an imported deck's HTML kept as it was)."""
    names: set[str] = set()
    for block, stack in blocks.items():
        node = _block_node(_template_of(stack[0], env), block, env)
        names.update(use.node.name for use in node.find_all(nodes.Filter)
                     if use.name == "safe" and isinstance(use.node, nodes.Name))
    return frozenset(names)


_SPECIAL_NAMES = frozenset({"self", "super", "loop", "caller", "varargs", "kwargs"})  # Jinja's own, not a field's


def _plain_blocks(blocks: dict[str, list[Any]], env: SandboxedEnvironment, fields: set[str]) -> dict[str, PlainBlock]:
    """The blocks that only print fields between fixed text (see `PlainBlock`), each as its own template has it.

    `fields`: the card type's fields but those named like a template global ('range'), which Jinja
    finds instead when a card leaves the field out.
    """
    if env.autoescape is not True:  # PlainBlock escapes as an autoescaping template does
        return {}
    names = fields - _SPECIAL_NAMES
    found = {block: _plain_block(_block_node(_template_of(stack[0], env), block, env).body, names)
             for block, stack in blocks.items()}
    return {block: plain for block, plain in found.items() if plain is not None}


def _plain_block(body: list[nodes.Node], fields: set[str]) -> PlainBlock | None:
    """The block as fixed text and fields, if that is all it is: one output, perhaps under `{% if field %}`."""
    guard = None
    if len(body) == 1 and isinstance(body[0], nodes.If) and not body[0].elif_ and not body[0].else_:
        if not isinstance(body[0].test, nodes.Name) or body[0].test.name not in fields:
            return None
        guard, body = body[0].test.name, body[0].body
    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    pieces = []
    for child in body[0].nodes:
        if isinstance(child, nodes.TemplateData):
            pieces.append((child.data, ""))
        elif isinstance(child, nodes.Name) and child.name in fields:
            pieces.append(("", child.name))
        else:
            return None
    return PlainBlock(guard, tuple(pieces))


_UNBOUNDED = (nodes.For, nodes.Macro, nodes.CallBlock, nodes.Include, nodes.Import, nodes.FromImport,
              nodes.FilterBlock)


def _straight(blocks: dict[str, list[Any]], env: SandboxedEnvironment) -> bool:
    """Whether every template the blocks come from is free of loops, macros, includes and calls
    (other than `cloze`): then each output piece is bounded and so is their number."""
    for template in {_template_of(function, env).name: _template_of(function, env)
                     for functions in blocks.values() for function in functions}.values():
        tree = _parse(template, env)
        if next(tree.find_all(_UNBOUNDED), None) is not None:
            return False
        if any(not (isinstance(call.node, nodes.Name) and call.node.name == "cloze") for call in tree.find_all(nodes.Call)):
            return False
    return True


def _note_type(spec: YamlMap, read: Reader, project: ProjectNoteTypes) -> NoteType | None:
    kind = read.text(spec, "note_type", required=True)
    if kind is None or kind in project.broken:  # a note type file with problems: already reported
        return None
    if kind not in project.note_types:
        hint = did_you_mean(kind, project.note_types) or (
            "one of: " + ", ".join(project.note_types) + ", or a note type of your own in note_types/<key>.yaml")
        read.report(spec.value_pos["note_type"], f"unknown note type '{kind}'", hint)
        return None
    return project.note_types[kind]


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
    if name in CONTEXT_NAMES:
        read.report(pos, f"'{name}' is a name templates already use; it cannot be a card type's field")
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
    where: tuple[str, Pos] | None = None, compiling: frozenset[str] = frozenset(),
) -> jinja2.Template | None:
    """A template compiled, and every template it extends, includes or imports; None if any fails (reported)."""
    found: list[Problem] = []
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        shown = display_path(Path(exc.filename), root) if exc.filename else name
        found.append(Problem(shown, exc.lineno or 0, 0, f"template syntax error: {exc.message}"))
    except RefusedTemplate as exc:
        found.append(Problem(display_path(Path(exc.filename), root), message=f"template '{name}' is refused: "
                             f"{exc.reason}", hint="keep every template as a file inside the project"))
    except jinja2.TemplateNotFound:
        path, pos = where or ("templates/" + name, Pos(0, 0))
        found.append(Problem(path, pos.line, pos.column, f"template '{name}' not found",
                             hint="looked in the project's templates/ and deckgen's built-in ones"))
    except UnicodeDecodeError:
        path = _template_path(env, name)
        decode(path.read_bytes(), display_path(path, root), found, kind="template")
    except OSError as exc:  # a file that exists but cannot be read
        path = _template_path(env, name)
        found.append(Problem(display_path(path, root), message=f"cannot read the file: {exc.strerror or exc}"))
    problems.extend(problem for problem in found if problem not in problems)  # card types share templates
    if found:
        return None
    if template.filename:
        files[display_path(Path(template.filename), root)] = Path(template.filename).read_bytes()
    return template if _compile_references(template, env, root, problems, files, compiling | {name}) else None


def _template_path(env: SandboxedEnvironment, name: str) -> Path:
    """The file a template name stands for: the project's first, then deckgen's."""
    loaders = env.loader.loaders  # type: ignore[union-attr]
    folders = [Path(folder) for loader in loaders for folder in loader.searchpath]
    return next((folder / name for folder in folders if (folder / name).is_file()), folders[0] / name)


def _compile_references(
    template: jinja2.Template, env: SandboxedEnvironment, root: Path, problems: list[Problem],
    files: dict[str, bytes], compiling: frozenset[str],
) -> bool:
    """Compile the templates this one names, so that their mistakes show before any card renders."""
    shown = display_path(Path(template.filename or template.name or ""), root)
    ok = True
    for node in _parse(template, env).find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        target = node.template
        if not isinstance(target, nodes.Const) or not isinstance(target.value, str):
            continue
        if isinstance(node, nodes.Include) and node.ignore_missing:
            continue
        if target.value not in compiling:
            where = (shown, Pos(node.lineno, 0))
            ok &= _compile(env, target.value, root, problems, files, where, compiling) is not None
    return ok


def _block_stack(
    template: jinja2.Template, env: SandboxedEnvironment, root: Path, problems: list[Problem],
) -> dict[str, list[Any]] | None:
    """Each block's implementations, child first, as `{% extends %}` would stack them; None for a loop."""
    stack: dict[str, list[Any]] = {}
    chain: list[str] = []
    current: jinja2.Template | None = template
    while current is not None:
        if current.name in chain:
            shown = display_path(Path(template.filename or ""), root)
            problems.append(Problem(shown, 1, 0, "templates extend each other in a loop: "
                                    + " -> ".join([*chain, str(current.name)])))
            return None
        chain.append(str(current.name))
        for name, function in current.blocks.items():
            stack.setdefault(name, []).append(function)
        current = _parent(current, env)
    return stack


def _parent(template: jinja2.Template, env: SandboxedEnvironment) -> jinja2.Template | None:
    """The template this one extends (already compiled and checked by _compile)."""
    extends = next(_parse(template, env).find_all(nodes.Extends), None)
    if extends is None or not isinstance(extends.template, nodes.Const) or not isinstance(extends.template.value, str):
        return None
    return env.get_template(extends.template.value)


def _source(template: jinja2.Template, env: SandboxedEnvironment) -> str:
    source, _, _ = env.loader.get_source(env, template.name)  # type: ignore[union-attr]
    return source


def _parse(template: jinja2.Template, env: SandboxedEnvironment) -> nodes.Template:
    return env.parse(_source(template, env), template.name, template.filename)


def _check_blocks(
    name: str, note_type: NoteType, blocks: dict[str, list[Any]], template: jinja2.Template,
    env: SandboxedEnvironment, root: Path, problems: list[Problem],
) -> None:
    shown = display_path(Path(template.filename or name), root)
    first = block_name(note_type.content_fields[0])
    if not note_type.path and first not in blocks:  # a built-in's question
        problems.append(Problem(shown, 1, 0, f"card type '{name}' has no {{% block {first} %}}",
                                hint=f"the {note_type.kind} note type needs it: it is the question"))
    elif not set(blocks) & set(note_type.blocks):
        problems.append(Problem(shown, 1, 0, f"card type '{name}' fills none of the fields of note type "
                                f"'{note_type.kind}'", hint="blocks: " + ", ".join(note_type.blocks)))
    for block in blocks:
        if block not in note_type.blocks:
            owner = _template_of(blocks[block][0], env)
            problems.append(Problem(
                display_path(Path(owner.filename or ""), root), _block_node(owner, block, env).lineno, 0,
                f"block '{block}' is not a field of the {note_type.kind} note type",
                hint=did_you_mean(block, note_type.blocks)
                or "fields: " + ", ".join(note_type.blocks),
            ))


def _check_variables(
    name: str, spec_shown: str, fields: dict[str, FieldSpec], blocks: dict[str, list[Any]],
    own_file: str, env: SandboxedEnvironment, root: Path, problems: list[Problem],
) -> None:
    """Every variable a used block reads must be a declared field (no silent empty output)."""
    known = set(fields) | set(CONTEXT_NAMES) | set(env.globals)
    for block_key, stack in blocks.items():
        template = _template_of(stack[0], env)
        shown = display_path(Path(template.filename or ""), root)
        block = _block_node(template, block_key, env)
        body = nodes.Template(block.body)
        body.set_environment(env)
        lines = _source(template, env).split("\n")
        outside = _names_outside_blocks(template, env)
        for variable in sorted(meta.find_undeclared_variables(body) - known):
            line = next((n.lineno for n in block.find_all(nodes.Name) if n.name == variable),
                        block.lineno)  # no name node: a macro defined under an {% if %}, say
            where = (shown, line, _name_column(lines[line - 1], variable, _block_start(block, lines, line)))
            problems.append(_variable_problem(name, spec_shown, variable, block_key, fields, outside, where, own_file))
        problems.extend(_card_attribute_problems(block, shown, lines))
        problems.extend(_constant_print_problems(block, shown, lines))


def _block_start(block: nodes.Block, lines: list[str], line: int) -> int:
    """Where a block's body starts on `line`: after its {% block %} tag if the tag is on that line."""
    if line != block.lineno:
        return 0
    tag = re.search(rf"\{{%-?\s*block\s+{re.escape(block.name)}\b.*?%\}}", lines[line - 1])
    return tag.end() if tag else 0


def _name_column(line: str, name: str, start: int = 0) -> int:
    """The 1-based column of a name inside a line's {{ }} or {% %} tags from `start`, or 0 if not found."""
    for tag in re.finditer(r"\{[{%].*?[}%]\}|\{[{%].*", line[start:]):
        found = re.search(rf"(?<![\w.]){re.escape(name)}\b", tag.group())
        if found:
            return start + tag.start() + found.start() + 1
    return 0


def _variable_problem(
    name: str, spec_shown: str, variable: str, block: str, fields: dict[str, FieldSpec], outside: set[str],
    where: tuple[str, int, int], own_file: str,
) -> Problem:
    if variable in outside:
        return Problem(*where, f"'{variable}' is defined outside the blocks, where block '{block}' cannot see it",
                       hint="deckgen renders only the blocks: define or import it inside the block")
    hint = did_you_mean(variable, fields) or f"declare it under 'fields:' in {spec_shown}"
    if where[0] != own_file:
        hint += f", or override {{% block {block} %}} in {own_file}"
    return Problem(*where, f"template uses '{variable}', which card type '{name}' does not declare", hint=hint)


def _card_attribute_problems(block: nodes.Block, shown: str, lines: list[str]) -> list[Problem]:
    """`card.x` must be one of the attributes every card has."""
    return [
        Problem(shown, node.lineno, _name_column(lines[node.lineno - 1], f"card.{node.attr}"),
                f"template uses 'card.{node.attr}', which no card has",
                hint=did_you_mean(node.attr, CARD_ATTRIBUTES) or "a card has: " + ", ".join(CARD_ATTRIBUTES))
        for node in block.find_all(nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name == "card" and node.attr not in CARD_ATTRIBUTES
    ]


def _constant_print_problems(block: nodes.Block, shown: str, lines: list[str]) -> list[Problem]:
    """`{{ none }}`, `{{ true }}` or `{{ [1] }}`: Jinja prints such constants without calling `printable`."""
    problems = []
    for output in block.find_all(nodes.Output):
        for child in output.nodes:
            value = child.value if isinstance(child, nodes.Const) else None
            if isinstance(child, (nodes.List, nodes.Tuple, nodes.Dict)) or (
                    isinstance(child, nodes.Const) and (value is None or isinstance(value, bool))):
                what = "a list or mapping" if not isinstance(child, nodes.Const) else str(value)
                column = _name_column(lines[child.lineno - 1], str(value).lower()) if what == str(value) else 0
                problems.append(Problem(shown, child.lineno, column, f"template prints {what} as text",
                                        hint="print a field, or text in quotes"))
    return problems


def _names_outside_blocks(template: jinja2.Template, env: SandboxedEnvironment) -> set[str]:
    """Names a template sets, defines or imports outside its blocks (invisible to the blocks)."""
    names: set[str] = set()
    todo: list[nodes.Node] = list(_parse(template, env).body)
    while todo:
        node = todo.pop()
        if isinstance(node, nodes.Block):
            continue
        if isinstance(node, (nodes.Assign, nodes.AssignBlock)):
            names |= {n.name for n in node.target.find_all(nodes.Name)} | (
                {node.target.name} if isinstance(node.target, nodes.Name) else set())
        elif isinstance(node, (nodes.Macro, nodes.Import)):
            names.add(node.name if isinstance(node, nodes.Macro) else node.target)
        elif isinstance(node, nodes.FromImport):
            names |= {item if isinstance(item, str) else item[1] for item in node.names}
        todo.extend(node.iter_child_nodes())
    return names


def _block_node(template: jinja2.Template, block_name: str, env: SandboxedEnvironment) -> nodes.Block:
    return next(b for b in _parse(template, env).find_all(nodes.Block) if b.name == block_name)


def _template_of(block_function: Any, env: SandboxedEnvironment) -> jinja2.Template:
    """The template a compiled block function came from."""
    return env.get_template(block_function.__globals__["name"])
