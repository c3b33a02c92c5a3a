"""Run the pure cores' tests without Odoo and without a database.

``recurring_billing/tools/schedule.py`` and ``tools/indexation.py`` import
nothing from Odoo, and ``tests/test_schedule.py`` and
``tests/test_indexation_core.py`` test them with plain unittest.
Importing them through the addon's package would import Odoo (the addon's
``__init__`` loads its models), so this loads the files by path under a
stand-in package. Usage: ``python scripts/test_core.py`` (needs only
python-dateutil); ``make test-core``.
"""

import importlib.util
import sys
import types
import unittest
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "recurring_billing"
# The pure cores and their tests: (module in tools/, test module in tests/).
CORES = (
    ("schedule", "test_schedule"),
    ("indexation", "test_indexation_core"),
)


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main():
    for package, folder in (
        ("rb_core", ADDON),
        ("rb_core.tools", ADDON / "tools"),
        ("rb_core.tests", ADDON / "tests"),
    ):
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        sys.modules[package] = module
    suite = unittest.TestSuite()
    for core, tests in CORES:
        setattr(
            sys.modules["rb_core.tools"],
            core,
            load(f"rb_core.tools.{core}", ADDON / "tools" / f"{core}.py"),
        )
        module = load(f"rb_core.tests.{tests}", ADDON / "tests" / f"{tests}.py")
        suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(module))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if "odoo" in sys.modules:
        print("the schedule core imported Odoo", file=sys.stderr)
        return 1
    return 0 if result.wasSuccessful() and result.testsRun else 1


if __name__ == "__main__":
    sys.exit(main())
