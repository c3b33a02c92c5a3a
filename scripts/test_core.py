"""Run the pure cores' tests without Odoo and without a database.

``recurring_billing/core/`` (schedule.py, usage.py, indexation.py,
dunning.py, plan.py) imports nothing from Odoo, and their tests in ``tests/``
(test_schedule.py, test_mrr_core.py, test_usage_core.py,
test_indexation_core.py, test_payment_dunning.py) use plain unittest.
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
# The pure cores (core/) and their tests (tests/): none imports Odoo.
CORES = ("schedule", "usage", "indexation", "dunning", "plan")
CORE_TESTS = (
    "test_schedule",
    "test_mrr_core",
    "test_usage_core",
    "test_indexation_core",
    "test_payment_dunning",
    "test_house_rules",
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
        ("rb_core.core", ADDON / "core"),
        ("rb_core.tests", ADDON / "tests"),
    ):
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        sys.modules[package] = module
    for core in CORES:
        setattr(
            sys.modules["rb_core.core"],
            core,
            load(f"rb_core.core.{core}", ADDON / "core" / f"{core}.py"),
        )
    suite = unittest.TestSuite(
        unittest.defaultTestLoader.loadTestsFromModule(
            load(f"rb_core.tests.{name}", ADDON / "tests" / f"{name}.py")
        )
        for name in CORE_TESTS
    )
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if "odoo" in sys.modules:
        print("the schedule core imported Odoo", file=sys.stderr)
        return 1
    return 0 if result.wasSuccessful() and result.testsRun else 1


if __name__ == "__main__":
    sys.exit(main())
