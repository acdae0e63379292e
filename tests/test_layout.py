"""The tests mirror the source: each module of the provider has its unit-test module at the mirrored path.

``airflow_provider_telnyx_fax/hooks/fax.py`` is tested in ``tests/unit/hooks/test_fax.py``; more
files for one module sit beside it as ``test_fax_<aspect>.py``. Package ``__init__`` files need none.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.imports import module_files

PACKAGE = "airflow_provider_telnyx_fax"
UNIT_TESTS = Path(__file__).resolve().parent / "unit"


def mirrored_test(module: str) -> Path:
    *folders, name = module.split(".")[1:]
    return UNIT_TESTS.joinpath(*folders, f"test_{name}.py")


def test_every_module_has_its_unit_test_module():
    modules = [name for name, path in module_files(PACKAGE).items() if path.name != "__init__.py"]
    assert len(modules) > 20, modules

    missing = [
        f"{module}: {mirrored_test(module).relative_to(UNIT_TESTS.parent.parent)}"
        for module in modules
        if not mirrored_test(module).is_file()
    ]

    assert missing == [], "modules without their unit-test module:\n" + "\n".join(missing)


def test_every_unit_test_module_belongs_to_a_module():
    known = {mirrored_test(name) for name, path in module_files(PACKAGE).items() if path.name != "__init__.py"}
    stray = []
    for path in sorted(UNIT_TESTS.rglob("test_*.py")):
        # test_fax_contract.py belongs to fax.py: the module's name, then an aspect.
        words = path.stem.removeprefix("test_").split("_")
        candidates = {path.with_name(f"test_{'_'.join(words[:count])}.py") for count in range(1, len(words) + 1)}
        if not candidates & known:
            stray.append(str(path.relative_to(UNIT_TESTS.parent.parent)))

    assert stray == [], "unit-test modules that mirror no module of the package:\n" + "\n".join(stray)
