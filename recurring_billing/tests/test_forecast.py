# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The forecast (``recurring.forecast.line``) is what the engine then bills:
same periods, same amounts, same invoice dates."""

from collections import defaultdict
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import RecurringBillingCommon

D = date


@tagged("post_install", "-at_install")
class TestForecast(RecurringBillingCommon):
    def line(self, price, quantity=1, product=None, **vals):
        return Command.create(
            {
                "product_id": (product or self.product_a).id,
                "quantity": quantity,
                "price_unit": price,
                "tax_ids": [Command.clear()],
                **vals,
            }
        )

    def test_forecast_matches_what_the_engine_bills(self):
        day = D(2026, 1, 1)
        contracts = (
            # Monthly in advance, a second product from April.
            self.create_contract(
                start=D(2025, 12, 1),
                lines=[
                    self.line(100.0),
                    self.line(40.0, product=self.product_b, date_start=D(2026, 4, 15)),
                ],
            )
            # Quarterly in arrears, ending (prorated) in the middle of a term.
            | self.create_contract(
                start=D(2026, 1, 10),
                recurring_interval=3,
                invoicing_mode="arrears",
                prorate=True,
                date_end=D(2026, 8, 20),
                lines=[self.line(300.0)],
            )
            # Yearly, renewing itself past its end date.
            | self.create_contract(
                start=D(2026, 2, 1),
                recurring_rule_type="yearly",
                date_end=D(2026, 12, 31),
                auto_renew=True,
                renewal_months=12,
                lines=[self.line(1200.0, quantity=2)],
            )
        )
        paused = self.create_contract(start=D(2026, 1, 1), lines=[self.line(90.0)])
        paused.action_pause(D(2026, 6, 16))
        paused.action_resume(D(2026, 9, 1))  # resumes on a known day
        contracts |= paused
        # December 2025 is billed: the forecast starts from what is left.
        self.bill(contracts, D(2025, 12, 1))

        forecast = self.env["recurring.forecast.line"]._refresh(date_from=day)
        expected = defaultdict(float)
        for row in forecast:
            expected[row.contract_id, row.date] += row.amount
        self.assertEqual(
            sorted(
                (c.name, d.isoformat(), a)
                for (c, d), a in expected.items()
                if c == contracts[0]
            )[:5],
            [
                (contracts[0].name, "2026-01-01", 100.0),
                (contracts[0].name, "2026-02-01", 100.0),
                (contracts[0].name, "2026-03-01", 100.0),
                # 40.00 from 15 April: 16 of 30 days.
                (contracts[0].name, "2026-04-01", 121.33),
                (contracts[0].name, "2026-05-01", 140.0),
            ],
        )

        # Runs on every forecast date, and on the first and last day of each
        # month: a period the forecast missed would be billed on one of them.
        runs = set(forecast.mapped("date")) | {
            day + relativedelta(months=n, days=d) for n in range(12) for d in (0, -1)
        }
        billed = defaultdict(float)
        for run in sorted(r for r in runs if day <= r < day + relativedelta(years=1)):
            for invoice in self.bill(contracts, run):
                billed[invoice.recurring_contract_id, invoice.invoice_date] += (
                    invoice.amount_untaxed_signed
                )
        self.assertEqual(
            {k: round(v, 2) for k, v in billed.items()},
            {k: round(v, 2) for k, v in expected.items()},
        )
        # 1,541.33 (12 x 100.00 + 21.33 + 8 x 40.00) + 736.96 (300.00, 300.00,
        # 42 of 92 days of 300.00) + 2,400.00 + 900.00 (June in full, July and
        # August paused): every invoice of the year, nothing else.
        self.assertEqual(round(sum(billed.values()), 2), 5578.29)

    def test_refresh_replaces_and_skips_draft_and_closed(self):
        running = self.create_contract(start=D(2026, 1, 1))
        self.create_contract(start=D(2026, 1, 1), start_it=False)
        closed = self.create_contract(start=D(2026, 1, 1), date_end=D(2026, 1, 31))
        self.bill(closed, D(2026, 1, 1))
        self.assertEqual(closed.state, "closed")
        Forecast = self.env["recurring.forecast.line"]
        Forecast._refresh(date_from=D(2026, 6, 1))
        rows = Forecast._refresh(date_from=D(2026, 6, 1))
        self.assertEqual(Forecast.search_count([]), len(rows))
        self.assertEqual(rows.contract_id, running)
        # January to May are due: billed by the next run, dated 1 June.
        self.assertEqual(
            sum(rows.filtered(lambda r: r.date == D(2026, 6, 1)).mapped("amount")),
            600.0,
        )
        self.assertEqual(len(rows), 17)  # 5 overdue + June .. May 2027

    @freeze_time("2026-06-15")
    def test_refresh_action_and_cron(self):
        self.create_contract(start=D(2026, 1, 1))
        Forecast = self.env["recurring.forecast.line"]
        action = Forecast.action_refresh()
        self.assertEqual(action["res_model"], "recurring.forecast.line")
        # January to June due today, then July 2026 to June 2027.
        self.assertEqual(Forecast.search_count([]), 18)
        Forecast._cron_refresh()
        self.assertEqual(sum(Forecast.search([]).mapped("amount")), 1800.0)
