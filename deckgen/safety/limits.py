"""Ceilings on what a stranger's project may cost: template time and output, file, field and tag sizes.

A project's templates run in Jinja's sandbox, which stops them from reaching Python's internals
but not from looping for hours or building a string of gigabytes. The environment here adds:

- a clock: every block body the compiled template enters (a loop's body on each iteration, an
  `if`, a macro) checks the card's and the build's deadlines;
- size checks before the operations that can multiply their input in one C call (`*`, `**`,
  `%`/`format` widths, `~` and `+`, `replace`, `join`, padding filters and methods), so that one
  expression cannot allocate gigabytes between two clock checks;
- a running total of each card's and the build's output.

Jinja folds constant expressions while compiling; the intercepted operators are never folded
(Jinja leaves them to `call_binop`), and a checked filter that refuses its constant arguments
makes Jinja leave the expression to run time, where the refusal is a located problem.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any, Callable, Generator, Iterable

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_FILE_BYTES = 8 * 1024 * 1024  # a card file, deckgen.yaml, a template, the CSS, the lock: bigger is refused
MAX_FIELD_CHARS = 100_000  # one value in a card file
MAX_TAGS = 200  # per card (file tags included)
MAX_LIST_ITEMS = 10_000  # items of one list field
MAX_CARD_SECONDS = 2.0  # template time for one card
MAX_BUILD_SECONDS = 300.0  # template time for a whole build, per process
MAX_CARD_OUTPUT = 2_000_000  # characters of one card's rendered fields
MAX_BUILD_OUTPUT = 200_000_000  # characters a build's templates may produce, per process
MAX_TEXT = 1_000_000  # characters of one value a template computes
MAX_ITEMS = 100_000  # items of one list a template computes
MAX_NUMBER = 1_000_000  # a number given to an operation that makes something of that size
MAX_BITS = 100_000  # a whole number a template computes (30,000 decimal digits)

# Budgets of the project's other inputs (issue 23: a project or lock from a stranger)
MAX_ALIAS_CHARS = 1_000_000  # characters YAML aliases may add to a document beyond its own length
MAX_LOCK_BYTES = MAX_FILE_BYTES  # each side of a lock merge, as the lock itself
MAX_LOCK_DEPTH = 32  # nesting of a lock's JSON (the lock itself nests 3 deep)
MAX_MEDIA_BYTES = 256 * 1024 * 1024  # one media file a build or preview copies (checked before reading)
COPY_CHUNK = 1024 * 1024  # media are copied in pieces of this size, never read whole
MAX_WATCHED_FOLDERS = 2_000  # folders the --serve watcher follows (never through a link)

_BIG_WIDTH = re.compile(r"(?:%|\{[^{}]*:)[^a-zA-Z%{}]*?\d{5,}")


class TemplateLimit(SecurityError):
    """A template went past one of the ceilings: a located problem, like any sandbox refusal."""


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _check_size(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise TemplateLimit(f"it makes a text of more than {MAX_TEXT:,} characters")
    if isinstance(value, (list, tuple)) and len(value) > MAX_ITEMS:
        raise TemplateLimit(f"it makes a list of more than {MAX_ITEMS:,} items")
    return value


def _huge_number(operator: str, left: Any, right: Any) -> bool:
    """Whether `left ** right` or `left * right` of whole numbers would be a number too long to compute quickly."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return False
    if operator == "*":
        return left.bit_length() + right.bit_length() > MAX_BITS
    return right > 0 and abs(left) > 1 and abs(left).bit_length() * right > MAX_BITS


def _check_numbers(args: Iterable[Any]) -> None:
    """Refuse a number that would size what an operation makes (a width, a count, a length)."""
    for value in args:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise TemplateLimit(f"the number {value} is above the limit of {MAX_NUMBER:,}")


def _check_format(text: Any) -> None:
    """Refuse a format string ('%9999999d', '{:9999999}') whose width would make a huge text."""
    if isinstance(text, str) and _BIG_WIDTH.search(text):
        raise TemplateLimit("a format width of five or more digits")


def _estimate(name: str, args: tuple[Any, ...]) -> int:
    """The size some operations will make, before they make it."""
    texts = [a for a in args if isinstance(a, str)]
    if name in ("replace", "do_replace") and len(texts) >= 3:
        text, old, new = texts[:3]
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(len(new) - len(old), 0)
    if name in ("join", "do_join"):
        items = next((a for a in args if isinstance(a, (list, tuple))), ())
        joiner = texts[0] if texts else ""
        return sum(len(str(item)) if isinstance(item, str) else 16 for item in items) + len(items) * len(joiner)
    return 0


def _checked(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter or function whose arguments and result are checked against the ceilings."""
    value_at = 1 if getattr(function, "jinja_pass_arg", None) else 0  # after the context, the value filtered

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_numbers([*args[value_at + 1:], *kwargs.values()])  # the parameters, not the value itself
        if name == "format":
            _check_format(args[value_at] if len(args) > value_at else None)
        if _estimate(name, args) > MAX_TEXT:
            raise TemplateLimit(f"'{name}' would make a text of more than {MAX_TEXT:,} characters")
        return _check_size(function(*args, **kwargs))

    return checked


def _small_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:  # noqa: A002
    """Jinja's lorem ipsum, in sizes that fit on a card."""
    from jinja2.utils import generate_lorem_ipsum

    if not (0 <= n <= 100 and 0 <= min <= max <= 1000):
        raise TemplateLimit("lipsum() is limited to 100 paragraphs of 1000 words")
    return generate_lorem_ipsum(n, html, min, max)


class Budget:
    """The template time and output a build has left, and the current card's."""

    def __init__(self) -> None:
        self.build_deadline = time.monotonic() + MAX_BUILD_SECONDS
        self.card_deadline = self.build_deadline
        self.build_output = 0

    def start_card(self) -> None:
        """Give the next card its own time."""
        now = time.monotonic()
        if now > self.build_deadline:
            raise TemplateLimit(f"the build's templates ran for more than {MAX_BUILD_SECONDS:.0f} seconds")
        self.card_deadline = min(now + MAX_CARD_SECONDS, self.build_deadline)

    def tick(self) -> None:
        """Stop a template that has run past the card's time."""
        if time.monotonic() > self.card_deadline:
            raise TemplateLimit(f"it ran for more than {MAX_CARD_SECONDS:g} seconds for one card")

    def add_straight(self, size: int) -> bool:
        """Count a card's output made without loops; False when it is past the card's limit."""
        if size > MAX_CARD_OUTPUT:
            return False
        self.build_output += size
        if self.build_output > MAX_BUILD_OUTPUT:
            raise TemplateLimit(f"the build's templates produced more than {MAX_BUILD_OUTPUT:,} characters")
        return True

    def collect(self, pieces: Generator[str, None, None], card_total: list[int]) -> str:
        """A block's output, stopped as soon as the card or the build has produced too much."""
        out: list[str] = []
        append, limit = out.append, MAX_CARD_OUTPUT
        start = size = card_total[0]
        for piece in pieces:
            size += len(piece)
            if size > limit:  # raised inside the template, so that the problem names its line
                pieces.throw(TemplateLimit(f"it produced more than {MAX_CARD_OUTPUT:,} characters for one card"))
            append(piece)
        self.build_output += size - start
        card_total[0] = size
        if self.build_output > MAX_BUILD_OUTPUT:
            raise TemplateLimit(f"the build's templates produced more than {MAX_BUILD_OUTPUT:,} characters")
        return "".join(out)


class _TickingCodeGenerator(CodeGenerator):
    """Each pass through a loop's body and each macro call checks the clock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ticking: set[int] = set()  # ids of the node lists that are loop or macro bodies

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self._ticking.add(id(node.body))
        super().visit_For(node, frame)

    def macro_body(self, node: Any, frame: Frame) -> Any:
        self._ticking.add(id(node.body))
        return super().macro_body(node, frame)

    def blockvisit(self, nodes_: Iterable[nodes.Node], frame: Frame) -> None:
        if id(nodes_) in self._ticking:
            self.writeline("environment.budget.tick()")
        super().blockvisit(nodes_, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_concat(context, ")
        super().visit_Concat(node, frame)
        self.write(")")


class LimitedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with a clock and size ceilings: a template can neither hang nor exhaust the machine."""

    code_generator_class = _TickingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+", "//", "/"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.budget = Budget()
        self.globals["lipsum"] = _small_lipsum
        for name in list(self.filters):
            self.filters[name] = _checked(name, self.filters[name])
        self.globals["range"] = _checked("range", self.globals["range"])

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse the operations whose result would pass a ceiling, before computing it."""
        self.budget.tick()
        if operator in ("**", "*") and _huge_number(operator, left, right):
            raise TemplateLimit(f"the number {operator} would have more than {MAX_BITS:,} bits")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if _size(sequence) and isinstance(count, int) and _size(sequence) * count > (
                        MAX_TEXT if isinstance(sequence, str) else MAX_ITEMS):
                    raise TemplateLimit("repeating it makes something too large")
        if operator == "%":
            _check_format(left)
        if operator == "+" and _size(left) + _size(right) > MAX_TEXT:
            raise TemplateLimit(f"it makes something of more than {MAX_TEXT:,} characters or items")
        return _check_size(super().call_binop(context, operator, left, right))

    def checked_concat(self, context: Context, value: Any) -> Any:
        """`a ~ b`: refused past the text ceiling."""
        return _check_size(value)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Calls from templates: numbers and format widths checked before, sizes after."""
        __self.budget.tick()
        _check_numbers([*args, *kwargs.values()])
        bound = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        name = getattr(getattr(__obj, "__wrapped__", __obj), "__name__", "")
        if isinstance(bound, str):
            if name in ("format", "format_map"):
                _check_format(bound)
            if _estimate(name, (bound, *args)) > MAX_TEXT:
                raise TemplateLimit(f"'{name}' would make a text of more than {MAX_TEXT:,} characters")
        return _check_size(super().call(__context, __obj, *args, **kwargs))

