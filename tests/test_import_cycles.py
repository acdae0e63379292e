"""No module of a package imports another module that (directly or through others) imports it back.

The check is static: every module file of the package is parsed (never imported), and every
``import`` / ``from ... import`` statement anywhere in it counts, relative ones resolved against the
module's package. That includes imports under ``if TYPE_CHECKING:`` and imports inside functions:
a type-only or deferred import back is still a cycle in the design, just one hidden from the
interpreter. ``from package import name`` counts as importing the submodule ``package.name`` when such
a module exists, and otherwise as importing ``package`` itself.

The same holds one level up, between rooms (the subpackages and the top-level modules): when any
module of ``triggers/`` imports ``batch/`` and any module of ``batch/`` imports ``triggers/``, the two
rooms form a cycle even if no single module does.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.imports import find_cycles, import_graph, package_graph

PACKAGES = ["telnyx_fax_emulator", "airflow_provider_telnyx_fax"]


@pytest.mark.parametrize("graph_of", [import_graph, package_graph], ids=["modules", "rooms"])
@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_or_room_imports_one_that_imports_it_back(package: str, graph_of: Any) -> None:
    graph = graph_of(package)
    assert len(graph) > 1, f"found nothing to check in {package}"

    cycles = find_cycles(graph)

    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_room_check_finds_a_cycle_no_single_module_has(tmp_path, monkeypatch) -> None:
    # The provider's shape before polling had a room of its own: triggers/ -> batch/ -> triggers/.
    package = tmp_path / "rooms_example"
    for room in ("triggers", "batch"):
        (package / room).mkdir(parents=True)
        (package / room / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "triggers" / "polling.py").write_text("")
    (package / "triggers" / "batch.py").write_text("from rooms_example.batch import watch\n")
    (package / "batch" / "watch.py").write_text("from rooms_example.triggers.polling import poll\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert find_cycles(import_graph("rooms_example")) == []
    assert find_cycles(package_graph("rooms_example")) == [
        ["rooms_example.batch", "rooms_example.triggers", "rooms_example.batch"]
    ]


def test_the_check_finds_a_cycle_through_a_relative_type_only_import(tmp_path, monkeypatch) -> None:
    package = tmp_path / "cyclic_example"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("from cyclic_example import routes\n")
    (package / "routes.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .app import Runtime\n"
    )
    (package / "leaf.py").write_text("import cyclic_example.routes\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    cycles = find_cycles(import_graph("cyclic_example"))

    assert cycles == [["cyclic_example.app", "cyclic_example.routes", "cyclic_example.app"]]
