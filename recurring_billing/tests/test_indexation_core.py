"""The price indexation core (``core/indexation.py``), without Odoo: plain
unittest, also run by ``make test-core``."""

import unittest
from datetime import date
from decimal import Decimal

from ..core import indexation as ix


class TestUpdateDates(unittest.TestCase):
    def test_anniversaries_by_default(self):
        self.assertEqual(
            ix.update_dates(date(2026, 1, 1), until=date(2028, 1, 1)),
            [date(2027, 1, 1), date(2028, 1, 1)],
        )

    def test_the_start_date_itself_is_no_update(self):
        self.assertEqual(
            ix.update_dates(date(2026, 3, 15), until=date(2027, 3, 14)), []
        )

    def test_update_month_of_the_contract(self):
        # Started in November, updated every January: the first one after two
        # months, as calendar-year service contracts do.
        self.assertEqual(
            ix.update_dates(date(2026, 11, 1), update_month=1, until=date(2028, 6, 1)),
            [date(2027, 1, 1), date(2028, 1, 1)],
        )

    def test_month_end_and_leap_years(self):
        self.assertEqual(
            ix.update_dates(date(2028, 2, 29), until=date(2032, 3, 1)),
            [
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29),
            ],
        )
        self.assertEqual(
            ix.update_dates(
                date(2026, 1, 31), update_month=4, until=date(2026, 12, 31)
            ),
            [date(2026, 4, 30)],
        )

    def test_after_excludes_updates_already_passed(self):
        self.assertEqual(
            ix.update_dates(
                date(2026, 1, 1), after=date(2027, 1, 1), until=date(2029, 1, 1)
            ),
            [date(2028, 1, 1), date(2029, 1, 1)],
        )


class TestReferenceMonth(unittest.TestCase):
    def test_two_months_before_by_default(self):
        self.assertEqual(ix.reference_month(date(2027, 1, 1)), date(2026, 11, 1))
        self.assertEqual(ix.reference_month(date(2027, 3, 31)), date(2027, 1, 1))

    def test_named_month_latest_before_the_update(self):
        self.assertEqual(ix.reference_month(date(2027, 1, 15), 12), date(2026, 12, 1))
        self.assertEqual(ix.reference_month(date(2027, 6, 1), 3), date(2027, 3, 1))
        # The update month itself is not yet published: a year earlier.
        self.assertEqual(ix.reference_month(date(2027, 6, 1), 6), date(2026, 6, 1))

    def test_base_month_a_year_earlier(self):
        self.assertEqual(ix.base_month(date(2026, 11, 1)), date(2025, 11, 1))


class TestVariation(unittest.TestCase):
    def test_rounded_to_one_decimal_as_published(self):
        self.assertEqual(ix.index_variation(102.2, 100.0), Decimal("2.2"))
        self.assertEqual(ix.index_variation(115.432, 112.95), Decimal("2.2"))
        self.assertEqual(ix.index_variation(98.5, 100), Decimal("-1.5"))
        # Half up: 1.25 % is 1.3 %.
        self.assertEqual(ix.index_variation(101.25, 100), Decimal("1.3"))

    def test_zero_base_refused(self):
        with self.assertRaises(ValueError):
            ix.index_variation(100, 0)

    def test_cap_floor_and_decreases(self):
        self.assertEqual(ix.limit_rate(Decimal("5.8"), cap=3), Decimal(3))
        self.assertEqual(ix.limit_rate(Decimal("2.2"), cap=3), Decimal("2.2"))
        self.assertEqual(ix.limit_rate(Decimal("-1.5")), Decimal(0))
        self.assertEqual(
            ix.limit_rate(Decimal("-1.5"), allow_decrease=True), Decimal("-1.5")
        )
        self.assertEqual(
            ix.limit_rate(Decimal("-1.5"), floor=-1, allow_decrease=True), Decimal(-1)
        )
        self.assertEqual(ix.limit_rate(Decimal("0.4"), floor=1), Decimal(1))
        # No limit at all: 0 and None are "none".
        self.assertEqual(
            ix.limit_rate(Decimal("7.1"), cap=0, floor=None), Decimal("7.1")
        )


class TestIndexedPrice(unittest.TestCase):
    def test_rent_update(self):
        self.assertEqual(ix.indexed_price(1000.0, Decimal("2.2"), 2), 1022.0)
        self.assertEqual(ix.indexed_price(1000.0, Decimal(3), 2), 1030.0)
        self.assertEqual(ix.indexed_price(1000.0, Decimal(0), 2), 1000.0)

    def test_rounded_half_up_to_the_currency(self):
        # 845.50 x 1.022 = 864.101 -> 864.10; 12.25 x 1.03 = 12.6175 -> 12.62
        self.assertEqual(ix.indexed_price(845.5, Decimal("2.2"), 2), 864.1)
        self.assertEqual(ix.indexed_price(12.25, Decimal(3), 2), 12.62)
        self.assertEqual(ix.indexed_price(1000, Decimal("2.2"), 0), 1022.0)
        self.assertEqual(ix.indexed_price(999, Decimal("-1.5"), 2), 984.02)
