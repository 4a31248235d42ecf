"""deckgen's own layout: packages import only what their docstrings allow, no module circles, the README maps it all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import deckgen

PACKAGE = Path(deckgen.__file__).parent
REPO = PACKAGE.parent
TOP_MODULES = {"cli", "__main__", "problems", "__init__"}  # the CLI, and what every package may use


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, top_level_only: bool = False) -> set[str]:
    """Every deckgen module `name` imports (a package's name where it imports the package itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{target}.{alias.name}" for alias in node.names} | {target}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    modules = _modules()
    return {target for target in found if target in modules and target.startswith("deckgen")}


def _package_of(module: str) -> str:
    """The top-level package of a deckgen module ('build', 'lint', ...), or the module's own name at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _allowed(package: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """What a package's docstring allows it to import ("May import: ..."), with "everything below it" followed."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))) or ""
    line = next((line for line in doc.splitlines() if line.startswith("May import:")), None)
    assert line is not None, f"deckgen/{package}/__init__.py does not say what it may import ('May import: ...')"
    named = {name.split(".")[1] for name in re.findall(r"`(deckgen\.[a-z_]+)`", line)}
    allowed = set(named)
    if "everything below" in line:
        for below in named - seen - {"problems"}:
            allowed |= _allowed(below, seen | {package})
    return allowed


PACKAGES = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_its_docstring_allows(package: str) -> None:
    allowed = _allowed(package) | {package, "problems", "__init__"}
    wrong = sorted(
        f"{name} imports {target}"
        for name, path in _modules().items() if _package_of(name) == package
        for target in _imports(name, path) if _package_of(target) not in allowed
    )
    assert wrong == []


def test_only_the_cli_and_shared_modules_stand_at_the_top() -> None:
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top == TOP_MODULES


def test_no_module_imports_itself_back() -> None:
    """No circle of module-level imports (a module that needs another lazily says so in a function)."""
    graph = {name: _imports(name, path, top_level_only=True) - {name} for name, path in _modules().items()}
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    circles = []

    def visit(name: str, stack: list[str], done: set[str]) -> None:
        if name in stack:
            circles.append(stack[stack.index(name):] + [name])
            return
        if name in done:
            return
        for target in sorted(graph.get(name, ())):
            visit(target, stack + [name], done)
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [], done)
    assert circles == []


def test_the_readme_code_map_names_every_package_and_module() -> None:
    code = (REPO / "README.md").read_text(encoding="utf-8").split("\n## Code\n", 1)[1]
    stems = {name: name.rpartition(".")[2] for name, path in _modules().items() if path.name != "__init__.py"}
    stems["deckgen.lint.rules"] = "rules"
    missing = [name for name, stem in stems.items()
               if not any(form in code for form in (f"`{stem}`", f"`{stem}.py`", f"`{stem}/`"))]
    assert missing == []
    assert all(f"deckgen/{package}/" in code for package in PACKAGES)
