"""A package's modules and the imports between them, read statically (see tests/test_import_cycles.py).

Every module file is parsed, never imported. Used by the import-cycle check, the emulator's layer
check and the layout check (each module of the provider has its unit-test module).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


def module_files(package: str) -> dict[str, Path]:
    """Every module of ``package`` by dotted name, found from the installed (or editable) sources."""
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"{package} is not importable"
    assert spec.submodule_search_locations, f"{package} is not a package"
    root = Path(next(iter(spec.submodule_search_locations)))
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([package, *parts])] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (only those in ``known``)."""
    is_package = path.name == "__init__.py"
    package_parts = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package_parts[: len(package_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    resolved: set[str] = set()
    for target in found:
        # ``import a.b.c`` names a.b.c; the closest known module is what it loads of ours.
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def import_graph(package: str) -> dict[str, set[str]]:
    modules = module_files(package)
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def room_of(module: str, package: str) -> str:
    """The room ``module`` belongs to: its subpackage right under ``package``, or itself when it sits at the top."""
    parts = module.split(".")
    top = len(package.split("."))
    return ".".join(parts[: top + 1])


def package_graph(package: str) -> dict[str, set[str]]:
    """The imports between rooms (subpackages and top-level modules): one edge for any module importing another."""
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph(package).items():
        room = room_of(module, package)
        edges = graph.setdefault(room, set())
        edges.update(room_of(target, package) for target in targets)
        edges.discard(room)
    for edges in list(graph.values()):
        for target in edges:
            graph.setdefault(target, set())
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan), each as a path back to its start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [cycle_through(graph, group) for group in groups]


def cycle_through(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A readable cycle inside one strongly connected group: start → ... → start."""
    start = group[0]
    members = set(group)
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & members):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                paths.append([*path, target])
    return group
