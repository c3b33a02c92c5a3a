# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rules of the house checked on the source itself, without a database:
every test module is imported (Odoo's own runner sees only those), the pure
cores import nothing from Odoo, and nothing dates itself with the user's or
the server's day (one "today": ``res.company._get_recurring_today``). Plain
``unittest``, run by ``make test-core`` and by both test runners."""

import ast
import doctest
import re
import unittest
from pathlib import Path

from ..core import plan

ADDON = Path(__file__).resolve().parent.parent
# The one place allowed to read the clock for a date: the company's today.
TODAY_DOOR = ADDON / "models" / "res_company.py"


def _python_files(*folders):
    for folder in folders:
        yield from sorted((ADDON / folder).rglob("*.py"))


class TestHouseRules(unittest.TestCase):
    def test_plan_doctests(self):
        result = doctest.testmod(plan)
        self.assertTrue(result.attempted)
        self.assertFalse(result.failed)

    def test_every_test_module_is_imported(self):
        init = (ADDON / "tests" / "__init__.py").read_text()
        imported = set(re.findall(r"^from \. import (\w+)$", init, re.M))
        modules = {path.stem for path in (ADDON / "tests").glob("test_*.py")}
        self.assertEqual(
            modules - imported,
            set(),
            "test modules missing from tests/__init__.py (Odoo's runner "
            "would never run them)",
        )

    def test_pure_cores_import_no_odoo(self):
        for path in _python_files("core"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                    if node.level:
                        # Relative imports stay inside core/.
                        self.assertEqual(
                            node.level, 1, f"{path.name} imports outside core/"
                        )
                for name in names:
                    self.assertFalse(
                        name == "odoo" or name.startswith("odoo."),
                        f"{path.name} imports {name}",
                    )

    def test_one_today(self):
        pattern = re.compile(r"context_today|Date\.today\(|date\.today\(")
        offenders = [
            f"{path.relative_to(ADDON)}:{number}"
            for path in _python_files("models", "wizard", "controllers", "core")
            if path != TODAY_DOOR
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)
        ]
        self.assertEqual(
            offenders,
            [],
            "date things with company._get_recurring_today(), never the "
            "user's or the server's day",
        )
