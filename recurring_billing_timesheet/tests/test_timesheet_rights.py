# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The timesheet link of a usage line is checked against the company of the
contract: another company's timesheets are neither read nor billed."""

from datetime import date

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.recurring_billing.tests.common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestTimesheetRights(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test user also runs the projects and their timesheets.
        cls.grant_groups("project.group_project_manager", "hr.group_hr_user")
        cls.other_company = cls.setup_other_company(name="RB Timesheet Other")[
            "company"
        ]
        cls.env.user.company_ids = [Command.link(cls.other_company.id)]
        Project = cls.env["project.project"].with_company(cls.other_company)
        cls.foreign_project = Project.create(
            {
                "name": "Other company's work",
                "allow_timesheets": True,
                "company_id": cls.other_company.id,
            }
        )
        cls.foreign_account = cls.foreign_project.account_id
        cls.foreign_employee = cls.env["hr.employee"].create(
            {"name": "Other technician", "company_id": cls.other_company.id}
        )
        cls.hours = cls.env["product.product"].create(
            {"name": "Maintenance hours", "list_price": 50.0, "taxes_id": []}
        )

    def test_other_company_analytic_account_is_refused(self):
        self.assertEqual(self.foreign_account.company_id, self.other_company)
        timesheet = (
            self.env["account.analytic.line"]
            .with_company(self.other_company)
            .create(
                {
                    "name": "Secret work",
                    "project_id": self.foreign_project.id,
                    "employee_id": self.foreign_employee.id,
                    "date": date(2026, 1, 5),
                    "unit_amount": 7.0,
                }
            )
        )
        self.assertEqual(timesheet.account_id, self.foreign_account)
        line_vals = {
            "product_id": self.hours.id,
            "quantity_type": "usage",
            "price_unit": 50.0,
            "timesheet_account_id": self.foreign_account.id,
        }
        with self.assertRaises(UserError):
            self.create_contract(
                lines=[Command.create(line_vals)], invoicing_mode="arrears"
            )
        contract = self.create_contract(
            lines=[Command.create({**line_vals, "timesheet_account_id": False})],
            invoicing_mode="arrears",
        )
        line = contract.line_ids
        with self.assertRaises(UserError):
            line.write({"timesheet_account_id": self.foreign_account.id})
        self.assertFalse(line.usage_ids)
        # Even when the link exists (written before this rule), nothing of
        # the other company is read nor billed.
        self.env.cr.execute(
            SQL(
                "UPDATE recurring_contract_line SET timesheet_account_id = %s "
                "WHERE id = %s",
                self.foreign_account.id,
                line.id,
            )
        )
        line.invalidate_recordset(["timesheet_account_id"])
        line._sync_timesheet_usage()
        timesheet.unit_amount = 8.0
        self.assertFalse(line.usage_ids)
        move = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(move.amount_untaxed, 0.0)
