"""The architecture as rules read from the code's own imports: one-way dependencies, a
pure answer core, measurement fenced off from serving, thin adapters, a thin CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from parley.index import HOME_OF
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


def imports(path: Path, *, lazy: bool = True, type_only: bool = False) -> set[str]:
    """Modules ``path`` imports (``parley.*`` only); ``lazy=False`` skips imports inside
    functions. Imports under ``if TYPE_CHECKING:`` never run: they count only with
    ``type_only=True``. A name taken from the index's public face (``from parley.index
    import Hit``) counts as an import of the module it lives in."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test) and not type_only:
                continue
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import) and (lazy or not inside):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and (lazy or not inside):
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
                if child.module == "parley.index":
                    found.update(HOME_OF[alias.name] for alias in child.names if alias.name in HOME_OF)
            visit(child, inside)

    visit(tree, False)
    known = modules()
    return {name for name in found if name in known}


def graph(*, lazy: bool = True, type_only: bool = False) -> dict[str, set[str]]:
    return {name: imports(path, lazy=lazy, type_only=type_only) - {name} for name, path in modules().items()}


def reachable(start: list[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


def test_there_are_no_import_circles_type_only_imports_included():
    edges = graph(type_only=True)
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
    allowed = ("parley.index.search.retriever", "parley.index.model", "parley.index.errors",
               "parley.index.search.served")
    core = {name: targets for name, targets in graph().items() if name.startswith("parley.bot.answer")}
    reached = {t for targets in core.values() for t in targets if t.startswith("parley.index.")}
    assert sorted(t for t in reached if not t.startswith(allowed)) == []
    composer = imports(modules()["parley.bot.answer.compose"]) | imports(modules()["parley.bot.answer.quotes"])
    assert sorted(t for t in composer if t.startswith("parley.index.") and not t.startswith(allowed[:3])) == []


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


INDEX_AREAS = {"model", "errors", "sources", "indexing", "store", "search"}
# The one arrow allowed to run from serving back to the build: the served index rebuilds
# (``Reindexer``), importing the build only inside the function that does it.
REBUILD_ARROW = ("parley.index.search.served", ("parley.index.indexing.build", "parley.index.indexing.embed"))


def area(module: str) -> str | None:
    """The index area a module belongs to (``parley.index.store.lexical`` -> ``store``)."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["parley", "index"] else None


def test_the_index_has_at_most_six_areas_on_at_most_four_levels():
    index = {name: targets for name, targets in graph(type_only=True).items() if area(name)}
    assert {area(name) for name in index} <= INDEX_AREAS
    arrows = {(area(a), area(b)) for a, targets in index.items() for b in targets
              if area(b) and area(a) != area(b) and not (a == REBUILD_ARROW[0] and b in REBUILD_ARROW[1])}
    levels: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...] = ()) -> int:
        assert name not in path, f"areas in a circle: {' -> '.join((*path, name))}"
        if name not in levels:
            levels[name] = 1 + max((level(b, (*path, name)) for a, b in arrows if a == name), default=0)
        return levels[name]

    assert max(level(name) for name in INDEX_AREAS) <= 4, levels


def test_the_shared_types_and_errors_are_leaves():
    for leaf in ("parley.index.model", "parley.index.errors"):
        assert imports(modules()[leaf], type_only=True) == set(), leaf
    # Settings may name the one error type for people, and nothing else of Parley.
    assert imports(modules()["parley.bot.settings"], type_only=True) <= {"parley.index", "parley.index.errors"}


def test_the_store_and_the_search_never_import_the_indexing_or_the_sources():
    offenders = sorted(f"{name} -> {target}" for name, targets in graph(type_only=True).items()
                       if area(name) in ("store", "search") for target in targets
                       if area(target) in ("indexing", "sources")
                       and not (name == REBUILD_ARROW[0] and target in REBUILD_ARROW[1]))
    assert offenders == []
    # and the rebuild arrow stays inside the function that rebuilds
    eager = imports(modules()[REBUILD_ARROW[0]], lazy=False)
    assert sorted(t for t in eager if area(t) in ("indexing", "sources")) == []


def test_the_bot_imports_the_index_only_through_its_public_face():
    # measure/ times the index's internals (bench, naive builds): it may reach inside.
    offenders = []
    for name, path in modules().items():
        if name.startswith("parley.bot") and not name.startswith("parley.bot.measure"):
            tree = ast.parse(path.read_text())
            offenders += [f"{name}: {node.module}" for node in ast.walk(tree)
                          if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("parley.index.")]
    assert offenders == []


def test_every_name_of_the_public_face_resolves_to_its_home():
    import importlib

    import parley.index

    for name, home in HOME_OF.items():
        assert getattr(parley.index, name) is getattr(importlib.import_module(home), name)


def test_importing_the_index_loads_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, parley.index; heavy = [m for m in ('numpy', 'faiss', 'torch', 'onnxruntime', "
            "'parley.index.indexing', 'parley.index.store') if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# What a call sends to people or prints: a literal of two or more words passed to one of
# these builds a sentence, and belongs in phrases.py or render/.
SENDING_CALLS = {"print", "write", "send", "send_message", "respond", "say", "reply", "send_modal",
                 "edit_original_response", "chat_postMessage", "chat_postEphemeral", "UsageError"}


def sentences_sent_outside_their_homes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in SENDING_CALLS:
            continue
        arguments = [*node.args, *(k.value for k in node.keywords if k.arg in (None, "content", "text"))]
        found += [f"{path.name}:{node.lineno}: {text!r}" for argument in arguments for text in _literal_texts(argument)
                  if sum(any(ch.isalpha() for ch in word) for word in text.split()) >= 2]
    return found


def _literal_texts(node: ast.AST) -> list[str]:
    """The literal strings in an expression, an f-string read whole with ``{}`` for its values."""
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.Call):  # what a call returns is its own concern (a log context, a phrase)
        return []
    return [text for child in ast.iter_child_nodes(node) for text in _literal_texts(child)]


def test_only_render_and_phrases_build_the_sentences_parley_sends_or_prints():
    # measure/ prints developers' reports (eval and bench tables), not what Parley says.
    homes = ("parley.bot.render", "parley.bot.phrases", "parley.bot.measure")
    offenders = [line for name, path in modules().items()
                 if name.startswith("parley.bot") and not name.startswith(homes)
                 for line in sentences_sent_outside_their_homes(path)]
    assert offenders == []


def test_the_sentence_rule_sees_a_sentence():
    # The rule above must be able to fail: a printed literal sentence is caught.
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".py") as file:
        file.write('print(f"Deleted {n} votes.")\nprint(phrases.DONE)\n')
        file.flush()
        assert len(sentences_sent_outside_their_homes(Path(file.name))) == 1


@pytest.mark.parametrize("path", sorted((PROJECT_DIR / "bot" / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_no_adapter_function_is_longer_than_sixty_lines(path):
    tree = ast.parse(path.read_text())
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60]
    assert long == []
