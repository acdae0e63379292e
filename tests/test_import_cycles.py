"""No module of a package imports another module that (directly or through others) imports it back.

The check is static: every module file of the package is parsed (never imported), and every
``import`` / ``from ... import`` statement anywhere in it counts, relative ones resolved against the
module's package. That includes imports under ``if TYPE_CHECKING:`` and imports inside functions:
a type-only or deferred import back is still a cycle in the design, just one hidden from the
interpreter. ``from package import name`` counts as importing the submodule ``package.name`` when such
a module exists, and otherwise as importing ``package`` itself.
"""

from __future__ import annotations

import pytest

from tests.support.imports import find_cycles, import_graph

PACKAGES = ["telnyx_fax_emulator", "airflow_provider_telnyx_fax"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_one_that_imports_it_back(package: str) -> None:
    graph = import_graph(package)
    assert len(graph) > 1, f"found no modules in {package}"

    cycles = find_cycles(graph)

    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


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
