"""The layers hold: the backend knows nothing of HTTP, and the inbox reaches the state through the backend only."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from tests.support.imports import import_graph

PACKAGE = "telnyx_fax_emulator"
# What only the HTTP side may use.
WEB_MODULES = ("fastapi", "starlette", "uvicorn")


def external_imports(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
    return {name.split(".")[0] for name in names}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_backend_and_what_it_imports_know_nothing_of_http() -> None:
    graph = import_graph(PACKAGE)
    below = {f"{PACKAGE}.backend", *reachable(graph, f"{PACKAGE}.backend")}

    assert not {name for name in below if name.startswith((f"{PACKAGE}.routes", f"{PACKAGE}.inbox"))}
    assert f"{PACKAGE}.web" not in below
    web_users = {module: sorted(external_imports(module) & set(WEB_MODULES)) for module in below}
    assert {module: used for module, used in web_users.items() if used} == {}


def test_no_inbox_module_imports_a_route() -> None:
    graph = import_graph(PACKAGE)
    inbox = [name for name in graph if name.startswith(f"{PACKAGE}.inbox")]

    assert len(inbox) >= 4
    routes_used = {name: sorted(t for t in graph[name] if t.startswith(f"{PACKAGE}.routes")) for name in inbox}
    assert {name: used for name, used in routes_used.items() if used} == {}
