# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo.tests import tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestSchedule(RecurringBillingCommon):
    """Rule 1 and 2: periods come from the anchor, never from the previous
    period; a period ends the day before the next starts; arrears bill the
    day after the end."""

    def periods(self, count, **vals):
        contract = self.Contract.new(
            {
                "date_start": vals.pop("date_start"),
                "recurring_rule_type": vals.pop("rule", "monthly"),
                "recurring_interval": vals.pop("interval", 1),
                "invoicing_mode": vals.pop("mode", "advance"),
                **vals,
            }
        )
        result = []
        for index in range(count):
            period = contract._get_period(index)
            if not period:
                break
            result.append(period)
        return result

    def test_month_end_clamped_without_drift(self):
        periods = self.periods(5, date_start=date(2026, 1, 31))
        self.assertEqual(
            [(p["date_start"], p["date_end"]) for p in periods],
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
            p["date_start"] for p in self.periods(3, date_start=date(2028, 1, 31))
        ]
        self.assertEqual(
            starts, [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]
        )
        # Yearly from Feb 29 lands on Feb 28 in common years, back on 29 in leap years.
        yearly = self.periods(5, date_start=date(2028, 2, 29), rule="yearly")
        self.assertEqual(
            [p["date_start"] for p in yearly],
            [
                date(2028, 2, 29),
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29),
            ],
        )
        self.assertEqual(yearly[0]["date_end"], date(2029, 2, 27))

    def test_daily_rule_with_interval(self):
        periods = self.periods(
            3, date_start=date(2026, 12, 30), rule="daily", interval=3
        )
        self.assertEqual(
            [(p["date_start"], p["date_end"]) for p in periods],
            [
                (date(2026, 12, 30), date(2027, 1, 1)),
                (date(2027, 1, 2), date(2027, 1, 4)),
                (date(2027, 1, 5), date(2027, 1, 7)),
            ],
        )

    def test_weekly_rule_with_interval(self):
        periods = self.periods(
            2, date_start=date(2026, 2, 23), rule="weekly", interval=2
        )
        self.assertEqual(
            [(p["date_start"], p["date_end"]) for p in periods],
            [
                (date(2026, 2, 23), date(2026, 3, 8)),
                (date(2026, 3, 9), date(2026, 3, 22)),
            ],
        )

    def test_quarterly_from_month_end(self):
        periods = self.periods(4, date_start=date(2026, 11, 30), interval=3)
        self.assertEqual(
            [p["date_start"] for p in periods],
            [
                date(2026, 11, 30),
                date(2027, 2, 28),
                date(2027, 5, 30),
                date(2027, 8, 30),
            ],
        )
        self.assertEqual(periods[0]["date_end"], date(2027, 2, 27))

    def test_yearly_rule_with_interval(self):
        periods = self.periods(
            2, date_start=date(2026, 7, 1), rule="yearly", interval=2
        )
        self.assertEqual(
            [(p["date_start"], p["date_end"]) for p in periods],
            [
                (date(2026, 7, 1), date(2028, 6, 30)),
                (date(2028, 7, 1), date(2030, 6, 30)),
            ],
        )

    def test_invoice_date_advance_and_arrears(self):
        advance = self.periods(1, date_start=date(2026, 1, 1))[0]
        arrears = self.periods(1, date_start=date(2026, 1, 1), mode="arrears")[0]
        self.assertEqual(advance["invoice_date"], date(2026, 1, 1))
        self.assertEqual(arrears["invoice_date"], date(2026, 2, 1))

    def test_end_date_cuts_last_period(self):
        periods = self.periods(
            10, date_start=date(2026, 1, 1), date_end=date(2026, 3, 15)
        )
        self.assertEqual(
            [(p["date_start"], p["date_end"]) for p in periods],
            [
                (date(2026, 1, 1), date(2026, 1, 31)),
                (date(2026, 2, 1), date(2026, 2, 28)),
                (date(2026, 3, 1), date(2026, 3, 15)),
            ],
        )
        self.assertEqual(periods[-1]["full_date_end"], date(2026, 3, 31))
        arrears = self.periods(
            10, date_start=date(2026, 1, 1), date_end=date(2026, 3, 15), mode="arrears"
        )
        self.assertEqual(arrears[-1]["invoice_date"], date(2026, 3, 16))

    def test_proration_factor(self):
        contract = self.Contract.new(
            {
                "date_start": date(2026, 1, 1),
                "date_end": date(2026, 3, 15),
                "prorate": True,
            }
        )
        self.assertEqual(contract._get_proration_factor(contract._get_period(0)), 1.0)
        self.assertAlmostEqual(
            contract._get_proration_factor(contract._get_period(2)), 15 / 31
        )
        contract.prorate = False
        self.assertEqual(contract._get_proration_factor(contract._get_period(2)), 1.0)
