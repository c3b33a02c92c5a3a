# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon
from odoo.addons.recurring_billing.tools import compat


@tagged("post_install", "-at_install")
class TestRevenueDashboardTour(AccountTestInvoicingHttpCommon):
    def test_revenue_dashboard_tour(self):
        # The tour runs as admin: give him the test company's accounting.
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "company_ids": [Command.link(self.env.company.id)],
                "company_id": self.env.company.id,
                compat.USER_GROUPS_FIELD: [
                    Command.link(self.env.ref("account.group_account_manager").id)
                ],
            }
        )
        partner = self.env["res.partner"].create({"name": "Dashboard Customer"})
        today = fields.Date.today()
        start = today.replace(day=1) - relativedelta(months=2)
        contract = self.env["recurring.contract"].create(
            {
                "partner_id": partner.id,
                "journal_id": self.company_data["default_journal_sale"].id,
                "date_start": start,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "quantity": 1,
                            "price_unit": 123.45,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        contract.action_start()
        self.start_tour("/odoo", "recurring_billing_revenue_tour", login="admin")
        # The dashboard's refresh rebuilt the forecast of the company.
        forecast = self.env["recurring.forecast.line"].search(
            [("contract_id", "=", contract.id)]
        )
        # The 3 periods due (billed by the next run, today), then those of
        # the next 12 months.
        horizon = today + relativedelta(months=12)
        upcoming = [
            start + relativedelta(months=k)
            for k in range(3, 16)
            if start + relativedelta(months=k) < horizon
        ]
        self.assertEqual(len(forecast), 3 + len(upcoming))
        self.assertEqual(
            round(sum(forecast.mapped("amount")), 2),
            round(123.45 * (3 + len(upcoming)), 2),
        )
