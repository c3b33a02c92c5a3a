# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rating of usage (README, "Usage lines") on the pure core
``core/usage.py``: no database, no Odoo environment. Plain
``unittest.TestCase``, so pytest, Odoo's runner and ``scripts/test_core.py``
all collect it."""

import doctest
import unittest
from datetime import date

from ..core import usage
from ..core.usage import (
    Pricing,
    TierError,
    aggregate,
    charge,
    late_charge,
    late_period_charge,
    parse_tiers,
    period_charge,
    period_index_of,
    raw_amount,
    round_amount,
)

TIERS = ((1000.0, 0.10), (5000.0, 0.08), (None, 0.05))


class TestUsageCore(unittest.TestCase):
    def test_doctests(self):
        result = doctest.testmod(usage)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)

    def test_included_units_and_unit_price(self):
        # The example: 1,500 calls, 1,000 free, 0.01 a call.
        pricing = Pricing(included=1000, price_unit=0.01)
        self.assertEqual(charge(1500, pricing), 5.00)
        self.assertEqual(charge(1000, pricing), 0.00)
        self.assertEqual(charge(0, pricing), 0.00)
        self.assertEqual(charge(1001, pricing), 0.01)

    def test_amount_rounded_once_not_the_unit_price(self):
        # 1,234 units at 0.004: 4.936 -> 4.94 (a rounded unit price, 0.00,
        # would bill nothing).
        self.assertEqual(charge(1234, Pricing(price_unit=0.004)), 4.94)
        # Half up on the decimal value: 0.125 -> 0.13, and in whole units.
        self.assertEqual(charge(1, Pricing(price_unit=0.125)), 0.13)
        self.assertEqual(charge(5, Pricing(price_unit=2.5), rounding=1.0), 13.0)

    def test_graduated_tiers(self):
        pricing = Pricing(mode="graduated", tiers=TIERS)
        # 1,000 x 0.10 + 4,000 x 0.08 + 1,000 x 0.05
        self.assertEqual(charge(6000, pricing), 470.00)
        self.assertEqual(charge(1000, pricing), 100.00)
        self.assertEqual(charge(1500, pricing), 140.00)
        self.assertEqual(charge(0, pricing), 0.00)

    def test_volume_tiers(self):
        pricing = Pricing(mode="volume", tiers=TIERS)
        self.assertEqual(charge(1000, pricing), 100.00)  # all at 0.10
        self.assertEqual(charge(1001, pricing), 80.08)  # all at 0.08
        self.assertEqual(charge(6000, pricing), 300.00)  # all at 0.05

    def test_tiers_count_units_above_the_included_ones(self):
        pricing = Pricing(included=500, mode="graduated", tiers=TIERS)
        # 1,700 used, 500 free: 1,000 x 0.10 + 200 x 0.08
        self.assertEqual(charge(1700, pricing), 116.00)

    def test_minimum_charge(self):
        pricing = Pricing(included=1000, price_unit=0.01, minimum=20.0)
        self.assertEqual(charge(0, pricing), 20.00)
        self.assertEqual(charge(1500, pricing), 20.00)  # 5.00 < 20.00
        self.assertEqual(charge(4000, pricing), 30.00)

    def test_aggregations(self):
        rows = [
            (date(2026, 1, 5), 10, 3.0),
            (date(2026, 1, 20), 11, 7.0),
            (date(2026, 1, 20), 12, 5.0),  # same day, recorded later: last
            (date(2026, 1, 9), 13, 9.0),  # recorded last, dated earlier
        ]
        self.assertEqual(aggregate(rows, "sum"), 24.0)
        self.assertEqual(aggregate(rows, "max"), 9.0)
        self.assertEqual(aggregate(rows, "last"), 5.0)
        self.assertEqual(aggregate([], "max"), 0.0)
        with self.assertRaises(ValueError):
            aggregate(rows, "avg")

    def test_late_charge_keeps_the_period_rules(self):
        pricing = Pricing(included=1000, price_unit=0.01)
        billed = [(date(2026, 1, 10), 1, 1200.0)]  # billed 2.00
        late = [(date(2026, 1, 31), 2, 300.0)]
        # Period now 1,500: 5.00, of which 2.00 billed.
        self.assertEqual(late_charge(billed + late, billed, pricing), 3.00)
        # A peak (max) below the one billed adds nothing, never a credit.
        peak = Pricing(aggregation="max", price_unit=1.0)
        self.assertEqual(late_charge(billed + late, billed, peak), 0.00)
        # The minimum was billed with the period: late data above it only.
        minimum = Pricing(price_unit=0.01, minimum=20.0)
        self.assertEqual(late_charge(billed + late, billed, minimum), 0.00)
        big = [(date(2026, 1, 31), 2, 2000.0)]
        self.assertEqual(late_charge(billed + big, billed, minimum), 12.00)

    def test_parse_tiers(self):
        self.assertEqual(parse_tiers("1000: 0.10\n\n5000:0.08\n*: 0.05"), TIERS)
        self.assertEqual(parse_tiers(""), ())
        for bad, line in (
            ("1000 0.10\n*: 0.05", 1),  # no colon
            ("1000: 0.10", 1),  # no last open tier
            ("*: 0.05\n1000: 0.10", 1),  # open tier not last
            ("1000: 0.10\n500: 0.08\n*: 0.05", 2),  # bounds not ascending
            ("1000: -1\n*: 0.05", 1),  # negative price
            ("abc: 0.1\n*: 0.05", 1),
        ):
            with self.assertRaises(TierError) as caught:
                parse_tiers(bad)
            self.assertEqual(caught.exception.line, line, bad)

    def test_raw_amount_unit_mode_ignores_tiers(self):
        self.assertAlmostEqual(raw_amount(10, Pricing(price_unit=1.5)), 15.0)

    def test_round_amount(self):
        self.assertEqual(round_amount(2.675), 2.68)
        self.assertEqual(round_amount(-2.675), -2.68)
        self.assertEqual(round_amount(0.1 + 0.2), 0.3)

    def test_period_index_of(self):
        anchor = date(2026, 1, 31)
        # Monthly from 31 January: 31 Jan-27 Feb, 28 Feb-30 Mar, 31 Mar-...
        self.assertEqual(period_index_of(anchor, "monthly", 1, date(2026, 1, 30)), -1)
        self.assertEqual(period_index_of(anchor, "monthly", 1, anchor), 0)
        self.assertEqual(period_index_of(anchor, "monthly", 1, date(2026, 2, 27)), 0)
        self.assertEqual(period_index_of(anchor, "monthly", 1, date(2026, 2, 28)), 1)
        self.assertEqual(period_index_of(anchor, "monthly", 1, date(2026, 3, 30)), 1)
        self.assertEqual(period_index_of(anchor, "monthly", 1, date(2026, 3, 31)), 2)
        self.assertEqual(period_index_of(anchor, "monthly", 3, date(2026, 4, 30)), 1)
        leap = date(2028, 2, 29)
        self.assertEqual(period_index_of(leap, "yearly", 1, date(2029, 2, 27)), 0)
        self.assertEqual(period_index_of(leap, "yearly", 1, date(2029, 2, 28)), 1)
        self.assertEqual(period_index_of(leap, "yearly", 1, date(2032, 2, 29)), 4)
        self.assertEqual(period_index_of(anchor, "weekly", 2, date(2026, 2, 13)), 0)
        self.assertEqual(period_index_of(anchor, "weekly", 2, date(2026, 2, 14)), 1)
        self.assertEqual(period_index_of(anchor, "daily", 1, date(2026, 2, 1)), 1)

    # A period priced by several lines (a change from a date inside it)

    def test_period_charge_with_one_pricing_is_charge(self):
        rows = [
            (date(2026, 1, d), d, q) for d, q in ((3, 2500.0), (9, 400.0), (20, 3600.0))
        ]
        for mode, tiers in (("unit", ()), ("graduated", TIERS), ("volume", TIERS)):
            for aggregation in ("sum", "max", "last"):
                pricing = Pricing(
                    aggregation=aggregation,
                    included=700,
                    price_unit=0.01,
                    mode=mode,
                    tiers=tiers,
                    minimum=7.0,
                )
                keyed = [(*row, "k") for row in rows]
                self.assertEqual(
                    period_charge(keyed, {"k": pricing}, pricing),
                    charge(aggregate(rows, aggregation), pricing),
                    (mode, aggregation),
                )

    def test_period_charge_included_units_to_the_first_units_used(self):
        # 0.05 then 0.07 from the 11th, 300 included: 250 free on the 2nd,
        # 50 free of the 12th's 600, 550 x 0.07 = 38.50; a minimum of 40.00
        # applies once.
        old = Pricing(included=300, price_unit=0.05)
        new = Pricing(included=300, price_unit=0.07, minimum=40.0)
        rows = [
            (date(2026, 3, 2), 1, 250.0, "old"),
            (date(2026, 3, 12), 2, 600.0, "new"),
        ]
        pricings = {"old": old, "new": new}
        self.assertEqual(period_charge(rows, pricings, new), 40.00)
        self.assertEqual(
            period_charge(rows, pricings, Pricing(included=300, price_unit=0.07)), 38.50
        )
        # A late record of the 5th at the old price: the 300 included are
        # then 250 of the 2nd and 50 of the 5th; 400 x 0.05 + 600 x 0.07 =
        # 62.00, of which 40.00 billed.
        late = [(date(2026, 3, 5), 3, 450.0, "old")]
        self.assertEqual(late_period_charge(rows + late, rows, pricings, new), 22.00)

    def test_period_charge_graduated_tiers_count_the_period(self):
        # Graduated tiers over the period's units: 800 before the change at
        # the old tiers, 700 after at the new ones, from the 801st unit.
        old = Pricing(mode="graduated", tiers=((1000.0, 0.10), (None, 0.05)))
        new = Pricing(mode="graduated", tiers=((1000.0, 0.12), (None, 0.06)))
        rows = [
            (date(2026, 3, 2), 1, 800.0, "old"),
            (date(2026, 3, 20), 2, 700.0, "new"),
        ]
        # 800 x 0.10 + 200 x 0.12 + 500 x 0.06 = 80 + 24 + 30.
        self.assertEqual(period_charge(rows, {"old": old, "new": new}, new), 134.00)

    def test_period_charge_peak_at_the_price_of_its_date(self):
        old = Pricing(aggregation="max", included=2, price_unit=10.0)
        new = Pricing(aggregation="max", included=2, price_unit=12.0)
        rows = [(date(2026, 3, 2), 1, 9.0, "old"), (date(2026, 3, 20), 2, 6.0, "new")]
        pricings = {"old": old, "new": new}
        self.assertEqual(period_charge(rows, pricings, new), 70.00)  # 7 x 10.00
        last = Pricing(aggregation="last", price_unit=12.0)
        self.assertEqual(
            period_charge(rows, {"old": old, "new": last}, last), 72.00
        )  # 6 x 12.00
