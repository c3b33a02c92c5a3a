# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pure dunning rules (core/dunning.py): plain unittest, no database."""

import doctest
import unittest
from datetime import date

from ..core import dunning


class TestDunningCore(unittest.TestCase):
    def test_parse_days(self):
        self.assertEqual(dunning.parse_days("7, 1,3,3"), (1, 3, 7))
        self.assertEqual(dunning.parse_days(""), ())
        self.assertEqual(dunning.parse_days(False), ())
        for bad in ("0", "-1", "a", "1.5"):
            with self.assertRaises(ValueError):
                dunning.parse_days(bad)

    def test_retry_dates_count_from_the_first_failure(self):
        days = (1, 3, 7)
        first = date(2024, 2, 28)  # leap year: Feb 29 exists
        self.assertEqual(dunning.next_retry_date(first, 1, days), date(2024, 2, 29))
        self.assertEqual(dunning.next_retry_date(first, 2, days), date(2024, 3, 2))
        self.assertEqual(dunning.next_retry_date(first, 3, days), date(2024, 3, 6))
        self.assertIsNone(dunning.next_retry_date(first, 4, days))
        self.assertIsNone(dunning.next_retry_date(first, 1, ()))

    def test_reminders(self):
        due = date(2026, 1, 31)
        self.assertEqual(dunning.reminders_due(due, date(2026, 2, 6), (7, 14), 0), 0)
        self.assertEqual(dunning.reminders_due(due, date(2026, 2, 7), (7, 14), 0), 1)
        self.assertEqual(dunning.reminders_due(due, date(2026, 2, 8), (7, 14), 1), 0)
        # A run missed for weeks sends one reminder, not every missed one.
        self.assertEqual(dunning.reminders_due(due, date(2026, 3, 31), (7, 14), 0), 1)
        self.assertTrue(dunning.overdue_action_due(due, date(2026, 3, 2), 30))
        self.assertFalse(dunning.overdue_action_due(due, date(2026, 3, 1), 30))
        self.assertFalse(dunning.overdue_action_due(due, date(2027, 3, 1), 0))

    def test_doctests(self):
        result = doctest.testmod(dunning)
        self.assertEqual(result.failed, 0)
        self.assertGreater(result.attempted, 0)
