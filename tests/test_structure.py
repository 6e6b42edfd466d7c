"""The shape of the code: no import cycles among contest/ modules, and data flowing one way (routes -> service).

Read statically with `ast`, so nothing is imported and a hidden cycle cannot hide behind import order.
What counts as "A imports B" (B a module under contest/):
- every `import contest.x` and `from contest.x import y` anywhere in A: at the top and inside functions alike,
  because an import moved into a function to dodge a cycle still ties the two modules together both ways
  (and a vocabulary in the wrong place is what such an import usually hides);
- `from contest.x import y` counts as importing `contest.x.y` when that is a module (not the package contest.x,
  whose `__init__` holds nothing), else `contest.x`;
- relative imports are resolved against A's package;
- imports under `if TYPE_CHECKING:` do not count: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "contest"
# Only the app factory assembles controllers; any other non-routes module importing a routes module runs data
# flow backwards (a service or job depending on HTTP handlers).
MAY_IMPORT_ROUTES = {"contest.app"}


def _modules(root: Path = ROOT) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (name for child in node.orelse for name in _imported_names(child, module, is_package))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            yield from (f"{base}.{alias.name}" for alias in node.names)
        yield from _imported_names(node, module, is_package)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the contest/ modules it imports (see the module docstring for what counts)."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for imported in _imported_names(tree, name, path.name == "__init__.py"):
            if imported in modules:
                targets.add(imported)
            elif imported.rpartition(".")[0] in modules:
                targets.add(imported.rpartition(".")[0])  # `from contest.x import name`: the module contest.x
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], set[str]]]:
    """Every group of modules that import each other round loops (strongly connected, more than one module):
    the shortest loop through its first module, e.g. ["a", "b", "c", "a"], and every module of the group."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is a few hundred modules, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [(_loop(graph, group), group) for group in groups]


def _loop(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """One loop through the group's first module, found breadth-first (so the shortest)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return sorted(group)  # unreachable for a strongly connected group


def _is_routes(module: str) -> bool:
    return "routes" in module.rpartition(".")[2]


def routes_imported_backwards(graph: dict[str, set[str]]) -> list[str]:
    """ "service -> routes" for every module that is not a routes module (nor the app factory) importing one."""
    return [
        f"{module} -> {target}"
        for module, targets in sorted(graph.items())
        if not _is_routes(module) and module not in MAY_IMPORT_ROUTES
        for target in sorted(targets)
        if _is_routes(target)
    ]


def test_no_contest_module_imports_itself_round_a_loop() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(
        " -> ".join(loop) + (f"\n  (and round other loops: {', '.join(sorted(group))})" if len(group) > len(loop) - 1 else "")
        for loop, group in found
    )


def test_services_and_jobs_never_import_routes() -> None:
    found = routes_imported_backwards(import_graph())
    assert not found, "modules other than routes and the app importing routes:\n" + "\n".join(found)


def test_the_checks_see_a_cycle_hidden_inside_a_function_and_a_service_importing_routes(tmp_path: Path) -> None:
    """The checks themselves: on a made-up package, a cycle through a deferred import and a service importing
    routes are both found, and an import under TYPE_CHECKING is not."""
    package = tmp_path / "contest"
    (package / "shop").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "shop/__init__.py": "",
        "shop/service.py": "from contest.shop.tables import X\nfrom .routes import Controller\n",
        "shop/routes.py": "from contest.shop import service\n",
        "shop/jobs.py": "def run():\n    from contest.shop.builder import build\n",
        "shop/builder.py": "from typing import TYPE_CHECKING\nfrom contest.shop import jobs\n"
        "if TYPE_CHECKING:\n    from contest.shop import routes\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph["contest.shop.builder"] == {"contest.shop.jobs"}
    assert sorted(loop for loop, _ in cycles(graph)) == [
        ["contest.shop.builder", "contest.shop.jobs", "contest.shop.builder"],
        ["contest.shop.routes", "contest.shop.service", "contest.shop.routes"],
    ]
    assert routes_imported_backwards(graph) == ["contest.shop.service -> contest.shop.routes"]
