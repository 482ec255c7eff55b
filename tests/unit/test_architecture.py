"""The layout's rules that a linter does not state: no import cycle among qtbot's modules, even
through imports inside functions, and every such import explains why it is lazy.

The layer contract itself (which folder may import which) is `lint-imports` in `make test`;
docs/architecture.md draws it.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("bot", "risk", "exchanges")


@dataclass
class ImportGraph:
    """First-party modules and who imports whom (`lazy`: only from inside a function)."""

    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    lazy: list[tuple[str, int, str]] = field(default_factory=list)  # module, line, source line


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if package else parts), package


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(parent) + (f".{node.module}" if node.module else "")
    # `from package import submodule` imports the submodule; otherwise the module itself.
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph(root: Path, roots: tuple[str, ...] = ROOTS) -> ImportGraph:
    graph = ImportGraph()
    packages: dict[str, bool] = {}
    for top in roots:
        for path in sorted((root / top).rglob("*.py")):
            name, is_package = _module_name(root, path)
            graph.modules[name], packages[name] = path, is_package
    for name, path in graph.modules.items():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        package = name if packages[name] else name.rpartition(".")[0]
        in_function = {
            id(inner)
            for outer in ast.walk(tree)
            if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(outer)
        }
        lines = source.splitlines()
        edges = graph.edges.setdefault(name, set())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if id(node) in in_function:
                graph.lazy.append((name, node.lineno, lines[node.lineno - 1].strip()))
            for target in _targets(node, package):
                resolved = _resolve(target, graph.modules)
                if resolved is not None and resolved != name:
                    edges.add(resolved)
                    # Importing a.b.c runs the package roots a and a.b first.
                    parent = resolved.rpartition(".")[0]
                    while parent:
                        if parent in graph.modules and parent != name:
                            edges.add(parent)
                        parent = parent.rpartition(".")[0]
                    break
    return graph


def cycles(graph: ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.edges.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_even_through_imports_inside_functions() -> None:
    graph = import_graph(REPO)
    assert len(graph.modules) > 100  # the walk found the code
    assert cycles(graph) == []


def test_every_import_inside_a_function_says_why_it_is_lazy() -> None:
    unexplained = [
        f"{module}:{line}: {text}"
        for module, line, text in import_graph(REPO).lazy
        if "noqa: PLC0415" not in text
    ]
    assert unexplained == []
    explained = [text for _, _, text in import_graph(REPO).lazy]
    assert all(text.split("noqa: PLC0415", 1)[1].strip(" -") or "#" in text for text in explained)


def test_risk_and_exchanges_never_import_bot() -> None:
    graph = import_graph(REPO)
    leaks = [
        f"{module} -> {target}"
        for module, targets in graph.edges.items()
        if not module.startswith("bot")
        for target in targets
        if target.startswith("bot")
    ]
    assert leaks == []


def _write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg.b import thing\n",
                "pkg/b.py": "def thing():\n    from pkg import a\n",
            },
            [["pkg.a", "pkg.b"]],
            id="cycle_hidden_in_a_function",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "from pkg.inner.c import C\n",
                "pkg/inner/__init__.py": "",
                "pkg/inner/c.py": "import pkg\nC = 1\n",
            },
            [["pkg", "pkg.inner.c"]],
            id="cycle_through_a_package_root",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from . import b\n",
                "pkg/b.py": "from .c import x\n",
                "pkg/c.py": "x = 1\n",
            },
            [],
            id="relative_imports_one_way",
        ),
    ],
)
def test_the_cycle_finder_finds_what_it_must(
    tmp_path: Path, files: dict[str, str], expected: list[list[str]]
) -> None:
    _write_package(tmp_path, files)
    assert cycles(import_graph(tmp_path, ("pkg",))) == expected
