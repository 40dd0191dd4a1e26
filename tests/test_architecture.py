"""The shape of the code, as docs/architecture.md draws it: imports run one way and in no circle,
and every module, function and view stays small enough to hold in one's head.

The import graph is grimp's (the engine of import-linter): it reads every import, the ones inside
functions too, so a circle hidden behind a late import is still a circle. Imports made only for
type checking don't run, and don't count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dashboard", "orgadmin")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
MAX_VIEW_LINES = 30
# Decorators that make a function a view: every view is guarded by one of them.
VIEW_DECORATORS = {"requires", "signed_in"}


def _sources() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import circles between modules: strongly connected components of more than one
    module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_no_import_circle(graph: grimp.ImportGraph) -> None:
    assert _circles(graph) == []


def test_circle_finder_finds_a_circle() -> None:
    """The check above can fail: a late import that closes a circle is found."""
    small = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        small.add_import(importer=importer, imported=imported)
    assert _circles(small) == [["p.a", "p.b", "p.c"]]


def test_orgadmin_never_imports_dashboard(graph: grimp.ImportGraph) -> None:
    chains = graph.find_shortest_chains(importer="orgadmin", imported="dashboard", as_packages=True)
    assert chains == set()


def test_no_module_is_too_long() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _sources()
        if (lines := path.read_text().count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


def _functions(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            yield node, node.end_lineno - first + 1


def _is_view(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name) and target.id in VIEW_DECORATORS:
            return True
    return False


def test_no_function_is_too_long() -> None:
    long = {
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}": length
        for path in _sources()
        for node, length in _functions(path)
        if length > MAX_FUNCTION_LINES
    }
    assert long == {}


def test_no_view_is_too_long() -> None:
    views = {
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}": length
        for path in _sources()
        for node, length in _functions(path)
        if _is_view(node)
    }
    assert len(views) > 50  # the decorators are how views are found: they were found
    assert {name: n for name, n in views.items() if n > MAX_VIEW_LINES} == {}
