# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rules 1 (periods), 2 (invoice dates), 3 (proration), 10 to 13 (shares of
a period around pauses, closes, renewals and line changes) of the README, on the pure
schedule core: no database, no Odoo environment; the whole module runs in
milliseconds. Plain ``unittest.TestCase``, so both pytest and Odoo's runner
collect it, and neither opens a transaction for it."""

import doctest
import unittest
from datetime import date

from ..core import schedule
from ..core.schedule import (
    active_days,
    billing_share,
    convert_price,
    extend_term,
    iter_periods,
    line_amount,
    months_per_period,
    period_at,
    price_ratio,
    proration_factor,
)


def spans(periods):
    return [(p.date_start, p.date_end) for p in periods]


class TestScheduleCore(unittest.TestCase):
    def test_doctests(self):
        result = doctest.testmod(schedule)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)

    def test_month_end_clamped_without_drift(self):
        periods = iter_periods(date(2026, 1, 31), "monthly", 1, limit=5)
        self.assertEqual(
            spans(periods),
            [
                (date(2026, 1, 31), date(2026, 2, 27)),
                (date(2026, 2, 28), date(2026, 3, 30)),
                (date(2026, 3, 31), date(2026, 4, 29)),
                (date(2026, 4, 30), date(2026, 5, 30)),
                (date(2026, 5, 31), date(2026, 6, 29)),
            ],
        )

    def test_leap_year_february(self):
        starts = [
            p.date_start for p in iter_periods(date(2028, 1, 31), "monthly", 1, limit=3)
        ]
        self.assertEqual(
            starts, [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]
        )
        # Yearly from Feb 29 lands on Feb 28 in common years, back on 29 in
        # leap years.
        yearly = list(iter_periods(date(2028, 2, 29), "yearly", 1, limit=5))
        self.assertEqual(
            [p.date_start for p in yearly],
            [
                date(2028, 2, 29),
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29),
            ],
        )
        self.assertEqual(yearly[0].date_end, date(2029, 2, 27))
        self.assertEqual(yearly[0].days, 365)

    def test_daily_rule_with_interval(self):
        self.assertEqual(
            spans(iter_periods(date(2026, 12, 30), "daily", 3, limit=3)),
            [
                (date(2026, 12, 30), date(2027, 1, 1)),
                (date(2027, 1, 2), date(2027, 1, 4)),
                (date(2027, 1, 5), date(2027, 1, 7)),
            ],
        )

    def test_weekly_rule_with_interval(self):
        self.assertEqual(
            spans(iter_periods(date(2026, 2, 23), "weekly", 2, limit=2)),
            [
                (date(2026, 2, 23), date(2026, 3, 8)),
                (date(2026, 3, 9), date(2026, 3, 22)),
            ],
        )

    def test_quarterly_from_month_end(self):
        periods = list(iter_periods(date(2026, 11, 30), "monthly", 3, limit=4))
        self.assertEqual(
            [p.date_start for p in periods],
            [
                date(2026, 11, 30),
                date(2027, 2, 28),
                date(2027, 5, 30),
                date(2027, 8, 30),
            ],
        )
        self.assertEqual(periods[0].date_end, date(2027, 2, 27))

    def test_yearly_rule_with_interval(self):
        self.assertEqual(
            spans(iter_periods(date(2026, 7, 1), "yearly", 2, limit=2)),
            [
                (date(2026, 7, 1), date(2028, 6, 30)),
                (date(2028, 7, 1), date(2030, 6, 30)),
            ],
        )

    def test_invoice_date_advance_and_arrears(self):
        advance = period_at(date(2026, 1, 1), "monthly", 1, 0)
        arrears = period_at(date(2026, 1, 1), "monthly", 1, 0, mode="arrears")
        self.assertEqual(advance.invoice_date, date(2026, 1, 1))
        self.assertEqual(arrears.invoice_date, date(2026, 2, 1))

    def test_end_date_cuts_last_period(self):
        end = date(2026, 3, 15)
        periods = list(iter_periods(date(2026, 1, 1), "monthly", 1, date_end=end))
        self.assertEqual(
            spans(periods),
            [
                (date(2026, 1, 1), date(2026, 1, 31)),
                (date(2026, 2, 1), date(2026, 2, 28)),
                (date(2026, 3, 1), date(2026, 3, 15)),
            ],
        )
        self.assertEqual(periods[-1].full_date_end, date(2026, 3, 31))
        arrears = list(
            iter_periods(date(2026, 1, 1), "monthly", 1, date_end=end, mode="arrears")
        )
        self.assertEqual(arrears[-1].invoice_date, date(2026, 3, 16))
        # A period starting on the end date is the last one, one day long.
        last = period_at(date(2026, 1, 1), "monthly", 1, 2, date_end=date(2026, 3, 1))
        self.assertEqual((last.date_start, last.date_end), (date(2026, 3, 1),) * 2)
        self.assertIsNone(period_at(date(2026, 1, 1), "monthly", 1, 3, date_end=end))

    def test_iteration_from_an_index(self):
        periods = list(
            iter_periods(date(2026, 1, 1), "monthly", 1, start_index=10, limit=2)
        )
        self.assertEqual([p.index for p in periods], [10, 11])
        self.assertEqual(periods[0].date_start, date(2026, 11, 1))
        self.assertIsNone(period_at(date(2026, 1, 1), "monthly", 1, -1))

    def test_proration_factor(self):
        end = date(2026, 3, 15)
        prorated = list(
            iter_periods(date(2026, 1, 1), "monthly", 1, date_end=end, prorate=True)
        )
        self.assertEqual([p.factor for p in prorated[:2]], [1.0, 1.0])
        self.assertAlmostEqual(prorated[2].factor, 15 / 31)
        self.assertTrue(prorated[2].is_prorated)
        self.assertEqual((prorated[2].days, prorated[2].full_days), (15, 31))
        full = list(iter_periods(date(2026, 1, 1), "monthly", 1, date_end=end))
        self.assertEqual(full[2].factor, 1.0)
        # By days, leap years included: 1 day of a 29-day February.
        self.assertEqual(
            proration_factor(date(2028, 2, 1), date(2028, 2, 1), date(2028, 2, 29)),
            1 / 29,
        )

    def test_amount_rounded_not_unit_price(self):
        self.assertEqual(round(line_amount(9.99, 1000, factor=1 / 31), 2), 322.26)
        self.assertEqual(round(line_amount(100.0, 2, discount=10.0), 2), 180.0)

    def test_months_per_period_normalises_every_rule(self):
        self.assertEqual(months_per_period("monthly", 1), 1.0)
        self.assertEqual(months_per_period("monthly", 3), 3.0)
        self.assertEqual(months_per_period("yearly", 2), 24.0)
        self.assertAlmostEqual(months_per_period("daily", 365.25 / 12), 1.0)
        self.assertAlmostEqual(months_per_period("weekly", 1) * 52.178571, 12.0, 5)

    def test_bad_rule_refused(self):
        with self.assertRaises(ValueError):
            period_at(date(2026, 1, 1), "hourly", 1, 0)
        with self.assertRaises(ValueError):
            period_at(date(2026, 1, 1), "monthly", 0, 0)

    def test_billing_share_of_a_line_added_mid_period(self):
        november = period_at(date(2026, 11, 1), "monthly", 1, 0)
        self.assertEqual(billing_share(november, line_start=date(2026, 11, 16)), 0.5)
        self.assertEqual(billing_share(november, line_end=date(2026, 10, 31)), 0.0)
        # The line's own dates prorate whether or not the contract does.
        self.assertEqual(
            billing_share(november, prorate=True, line_end=date(2026, 11, 6)), 0.2
        )

    def test_billing_share_around_a_pause(self):
        march = period_at(date(2026, 1, 1), "monthly", 1, 2)
        pause = [(date(2026, 2, 1), date(2026, 3, 19))]
        self.assertAlmostEqual(
            billing_share(march, prorate=True, off_windows=pause), 12 / 31
        )
        self.assertEqual(billing_share(march, off_windows=pause), 1.0)
        february = period_at(date(2026, 1, 1), "monthly", 1, 1)
        self.assertEqual(billing_share(february, off_windows=pause), 0.0)
        self.assertEqual(active_days(march, pause), 12)
        # An open pause (not resumed yet) covers everything after it.
        self.assertEqual(
            billing_share(march, off_windows=[(date(2026, 3, 1), None)]), 0.0
        )

    def test_billing_share_with_the_contract_cut_and_a_line_cut(self):
        # Contract ends on the 20th without proration, line starts on the 16th:
        # the line bills 5 of the 20 days the contract bills in full.
        cut = period_at(date(2026, 11, 1), "monthly", 1, 0, date_end=date(2026, 11, 20))
        self.assertEqual(billing_share(cut, line_start=date(2026, 11, 16)), 5 / 20)
        self.assertEqual(
            billing_share(cut, prorate=True, line_start=date(2026, 11, 16)), 5 / 30
        )

    def test_renewal_continues_from_the_day_after_the_end(self):
        self.assertEqual(extend_term(date(2026, 4, 30), 1), date(2026, 5, 31))
        self.assertEqual(extend_term(date(2026, 3, 15), 1), date(2026, 4, 15))
        self.assertEqual(extend_term(date(2027, 1, 31), 1), date(2027, 2, 28))
        self.assertEqual(extend_term(date(2028, 2, 29), 12), date(2029, 2, 28))

    def test_price_converted_between_recurrences(self):
        # A yearly product on a monthly contract: 480 a year is 40 a month,
        # and back; the rounding is done once, on the converted price.
        self.assertEqual(convert_price(480.0, "yearly", 1, "monthly", 1), 40.0)
        self.assertEqual(convert_price(40.0, "monthly", 1, "yearly", 1), 480.0)
        self.assertEqual(convert_price(100.0, "yearly", 1, "monthly", 1), 8.33)
        self.assertEqual(convert_price(100.0, "yearly", 1, "monthly", 3), 25.0)
        self.assertEqual(convert_price(90.0, "monthly", 3, "monthly", 1), 30.0)
        self.assertEqual(convert_price(0.005, "monthly", 1, "monthly", 1), 0.01)
        self.assertEqual(convert_price(14.0, "weekly", 1, "daily", 1), 2.0)
        self.assertEqual(convert_price(2.0, "daily", 1, "weekly", 2), 28.0)
        self.assertEqual(
            convert_price(1.0, "yearly", 1, "monthly", 1, digits=4), 0.0833
        )

    def test_price_not_converted_between_weeks_and_months(self):
        # A month is not a whole number of weeks: no exact conversion.
        self.assertIsNone(price_ratio("weekly", 1, "monthly", 1))
        self.assertIsNone(convert_price(10.0, "yearly", 1, "daily", 1))
        self.assertEqual(price_ratio("monthly", 1, "monthly", 1), 1)
