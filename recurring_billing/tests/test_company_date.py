# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime, timedelta

import pytz

from odoo import Command, fields
from odoo.tests import tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestCompanyDate(RecurringBillingCommon):
    """Today is the company's date, everywhere the addon dates something by
    itself: billing, a pause, a close, a renewal, a cancellation request, the
    usage of the current period. The company here lives in a zone where the
    date differs from the server's (UTC) one whenever the test runs; the
    user lives in the other extreme zone, on yet another date, which must not
    count."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = datetime.now(pytz.utc)
        # UTC+14 is already tomorrow after 10:00 UTC, UTC-12 still yesterday
        # before 12:00 UTC: one of them always differs from the server's date.
        zones = ["Pacific/Kiritimati", "Etc/GMT+12"]
        if now.hour < 12:
            zones.reverse()
        cls.env.company.partner_id.tz, cls.env.user.tz = zones
        cls.today = now.astimezone(pytz.timezone(zones[0])).date()
        cls.user_today = now.astimezone(pytz.timezone(zones[1])).date()
        assert cls.today not in (fields.Date.today(), cls.user_today)

    def test_engine_and_contract_use_the_company_date(self):
        self.assertEqual(self.env.company._get_recurring_today(), self.today)
        contract = self.create_contract(start=self.today)
        self.assertEqual(contract.company_id._get_recurring_today(), self.today)
        self.assertEqual(self.Contract.new({}).date_start, self.today)
        contract.action_generate_invoices()
        self.assertEqual(contract.invoice_ids.invoice_date, self.today)

    def test_lifecycle_defaults_to_the_company_date(self):
        contract = self.create_contract(start=self.today - timedelta(days=40))
        contract.action_pause()
        self.assertEqual(contract.suspension_ids.date_start, self.today)
        contract.action_resume()
        self.assertFalse(contract.suspension_ids)  # resumed the day it paused
        contract.action_close()
        self.assertEqual(contract.date_end, self.today)

    def test_renewal_of_a_closed_contract_skips_until_the_company_date(self):
        contract = self.create_contract(
            start=self.today - timedelta(days=60),
            date_end=self.today - timedelta(days=10),
        )
        self.bill(contract, contract.date_end)  # every period of the term
        contract.action_close(date_close=contract.date_end)
        self.assertEqual(contract.state, "closed")
        contract.action_renew(months=1)
        self.assertEqual(
            contract.suspension_ids.mapped("date_end"), [self.today - timedelta(1)]
        )

    def test_cancellation_request_is_dated_on_the_company_date(self):
        contract = self.create_contract(start=self.today, notice_days=30)
        effective = contract._request_cancellation("Moving abroad")
        self.assertEqual(contract.cancel_request_date, self.today)
        self.assertEqual(effective, self.today + timedelta(days=30))

    def test_current_usage_is_of_the_company_period(self):
        # Daily periods: the current one is exactly the company's today, so
        # usage of the user's today (another day) must not be counted.
        contract = self.create_contract(
            start=self.today - timedelta(days=3),
            recurring_rule_type="daily",
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity_type": "usage",
                        "price_unit": 2.0,
                    }
                )
            ],
        )
        self.env["recurring.contract.usage"].create(
            [
                {
                    "line_id": contract.line_ids.id,
                    "date": day,
                    "quantity": quantity,
                    "reference": f"company-date-{quantity}",
                }
                for day, quantity in ((self.today, 3), (self.user_today, 5))
            ]
        )
        self.assertEqual(contract.line_ids.usage_current_quantity, 3)
        self.assertEqual(contract.line_ids.usage_current_amount, 6.0)
