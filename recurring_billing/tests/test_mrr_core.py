# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The MRR part of the schedule core, without Odoo: one normalisation for
every rule, the MRR on a day, its timeline and the kind of each movement.
Plain ``unittest.TestCase`` (``make test-core`` runs it too)."""

import unittest
from datetime import date

from ..core.schedule import (
    MrrLine,
    bills_on,
    monthly_amount,
    mrr_change_days,
    mrr_movement_kind,
    mrr_on,
    mrr_timeline,
    safe_rate,
)

D = date


class TestMrrCore(unittest.TestCase):
    def test_normalisation_of_every_rule(self):
        self.assertEqual(monthly_amount(1200.0, "yearly", 1), 100.0)
        self.assertEqual(monthly_amount(2400.0, "yearly", 2), 100.0)
        self.assertEqual(monthly_amount(300.0, "monthly", 3), 100.0)
        # A week is 7 days of 365.25 / 12 a month; a day 12 / 365.25 months.
        self.assertEqual(round(monthly_amount(100.0, "weekly", 2), 2), 217.41)
        self.assertEqual(round(monthly_amount(100.0, "daily", 1), 2), 3043.75)
        # 365.25 days of a daily price are a year of the yearly price.
        self.assertAlmostEqual(monthly_amount(1.0, "daily", 1) * 12, 365.25, places=9)
        with self.assertRaises(ValueError):
            monthly_amount(1.0, "hourly", 1)

    def test_bills_on(self):
        off = [(D(2026, 7, 1), D(2026, 8, 31)), (D(2026, 11, 1), None)]
        self.assertFalse(bills_on(D(2025, 12, 31), D(2026, 1, 1)))
        self.assertTrue(bills_on(D(2026, 6, 30), D(2026, 1, 1), None, off))
        self.assertFalse(bills_on(D(2026, 7, 1), D(2026, 1, 1), None, off))
        self.assertTrue(bills_on(D(2026, 9, 1), D(2026, 1, 1), None, off))
        self.assertFalse(bills_on(D(2027, 1, 1), D(2026, 1, 1), None, off))
        self.assertTrue(bills_on(D(2026, 12, 15), D(2026, 1, 1), D(2026, 12, 15)))
        self.assertFalse(bills_on(D(2026, 12, 16), D(2026, 1, 1), D(2026, 12, 15)))

    def scripted(self, price, rule):
        lines = [
            MrrLine(price, None, D(2026, 2, 28)),
            MrrLine(price * 1.5, D(2026, 3, 1), D(2026, 4, 30)),
            MrrLine(price * 1.3, D(2026, 5, 1)),
        ]
        return mrr_timeline(
            lines,
            rule,
            1,
            D(2026, 1, 1),
            D(2026, 12, 15),
            [(D(2026, 7, 1), D(2026, 8, 31))],
            rounding=lambda v: round(v, 2),
        )

    def test_scripted_timeline_monthly_and_yearly(self):
        expected = [
            (D(2026, 1, 1), 100.0),
            (D(2026, 3, 1), 150.0),
            (D(2026, 5, 1), 130.0),
            (D(2026, 7, 1), 0.0),
            (D(2026, 9, 1), 130.0),
            (D(2026, 12, 16), 0.0),
        ]
        self.assertEqual(self.scripted(100.0, "monthly"), expected)
        self.assertEqual(self.scripted(1200.0, "yearly"), expected)

    def test_mrr_on_line_dates(self):
        lines = [MrrLine(100.0), MrrLine(60.0, D(2026, 11, 16), D(2026, 11, 30))]
        args = ("monthly", 1, D(2026, 1, 1))
        self.assertEqual(mrr_on(D(2026, 11, 15), lines, *args), 100.0)
        self.assertEqual(mrr_on(D(2026, 11, 16), lines, *args), 160.0)
        self.assertEqual(mrr_on(D(2026, 12, 1), lines, *args), 100.0)
        self.assertEqual(
            mrr_change_days(lines, D(2026, 1, 1)),
            [D(2026, 1, 1), D(2026, 11, 16), D(2026, 12, 1)],
        )

    def test_change_days_ignore_days_before_the_start(self):
        self.assertEqual(
            mrr_change_days([MrrLine(1.0, None, D(2025, 5, 1))], D(2026, 1, 1)),
            [D(2026, 1, 1)],
        )
        self.assertEqual(mrr_change_days([], None), [])

    def test_a_change_below_rounding_is_no_movement(self):
        lines = [MrrLine(100.0, None, D(2026, 2, 28)), MrrLine(100.001, D(2026, 3, 1))]
        self.assertEqual(
            mrr_timeline(
                lines, "monthly", 1, D(2026, 1, 1), rounding=lambda v: round(v, 2)
            ),
            [(D(2026, 1, 1), 100.0)],
        )

    def test_movement_kinds(self):
        self.assertEqual(mrr_movement_kind(0.0, 100.0, False), "new")
        self.assertEqual(mrr_movement_kind(0.0, 100.0, True), "reactivation")
        self.assertEqual(mrr_movement_kind(100.0, 150.0, True), "expansion")
        self.assertEqual(mrr_movement_kind(150.0, 130.0, True), "contraction")
        self.assertEqual(mrr_movement_kind(130.0, 0.0, True), "churn")
        self.assertIsNone(mrr_movement_kind(130.0, 130.0, True))

    def test_safe_rate(self):
        self.assertEqual(round(safe_rate(220.0, 350.0), 2), 62.86)
        self.assertEqual(safe_rate(1, 0), 0.0)
