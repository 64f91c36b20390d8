"""The architecture as rules read from the code's own imports: one-way dependencies, a
pure answer core, measurement fenced off from serving, thin adapters, a thin CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR

PACKAGES = {"parley.bot": PROJECT_DIR / "bot", "parley.index": PROJECT_DIR / "index"}
# What serves questions: every surface, the service, the answer core and its renderers.
SERVING_ROOTS = ("parley.bot.adapters", "parley.bot.service", "parley.bot.answer", "parley.bot.render",
                 "parley.bot.wiring", "parley.index.search.served")


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, *, lazy: bool = True) -> set[str]:
    """Modules ``path`` imports (``parley.*`` only); ``lazy=False`` skips imports inside
    functions. Imports under ``if TYPE_CHECKING:`` never run, so they never count."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import) and (lazy or not inside):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and (lazy or not inside):
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child, inside)

    visit(tree, False)
    known = modules()
    return {name for name in found if name in known}


def graph(*, lazy: bool = True) -> dict[str, set[str]]:
    return {name: imports(path, lazy=lazy) - {name} for name, path in modules().items()}


def reachable(start: list[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


def test_there_are_no_import_circles():
    edges = graph()
    # A package's __init__ re-exporting its own modules is not a circle of meaning.
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}
    circles = sorted(name for name in edges if name in reachable(list(edges[name]), edges))
    assert circles == []


def test_the_index_imports_nothing_from_the_bot():
    offenders = {name: sorted(t for t in targets if t.startswith("parley.bot"))
                 for name, targets in graph().items() if name.startswith("parley.index")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_answer_core_sees_the_index_only_through_search_results():
    # Search results and the plain types they carry; the engine also holds the served index.
    allowed = ("parley.index.search.retriever", "parley.index.sources.read", "parley.index.build.chunk", "parley.index.errors",
               "parley.index.search.served")
    core = {name: targets for name, targets in graph().items() if name.startswith("parley.bot.answer")}
    reached = {t for targets in core.values() for t in targets if t.startswith("parley.index")}
    assert sorted(t for t in reached if not t.startswith(allowed)) == []
    composer = imports(modules()["parley.bot.answer.compose"]) | imports(modules()["parley.bot.answer.quotes"])
    assert sorted(t for t in composer if t.startswith("parley.index") and not t.startswith(allowed[:4])) == []


def test_nothing_on_a_serving_path_imports_the_measurement_package():
    edges = graph()
    roots = [name for name in edges if name.startswith(SERVING_ROOTS)]
    assert roots, "the serving modules were not found"
    assert sorted(n for n in reachable(roots, edges) if n.startswith("parley.bot.measure")) == []
    # The CLI reaches measurement only inside the eval and bench commands.
    assert not any(t.startswith("parley.bot.measure") for t in imports(modules()["parley.bot.cli"], lazy=False))


def test_no_test_module_imports_another():
    offenders = []
    for path in sorted((PROJECT_DIR / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("tests") and ".test_" in n]
    assert offenders == []


def test_the_cli_is_thin():
    assert len((PROJECT_DIR / "bot" / "cli.py").read_text().splitlines()) < 300


@pytest.mark.parametrize("path", sorted((PROJECT_DIR / "bot" / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_no_adapter_function_is_longer_than_sixty_lines(path):
    tree = ast.parse(path.read_text())
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60]
    assert long == []
