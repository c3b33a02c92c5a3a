# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hours timesheeted on a project feed a usage line (README, "Usage lines",
timesheets): one usage record per timesheet line, billed in arrears with
exact amounts, never twice."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from odoo.addons.recurring_billing.tests.common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestTimesheetUsage(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test user also runs the projects and their timesheets.
        cls.grant_groups("project.group_project_manager", "hr.group_hr_user")
        cls.project = cls.env["project.project"].create(
            {"name": "Maintenance Deco", "allow_timesheets": True}
        )
        cls.other_project = cls.env["project.project"].create(
            {"name": "Internal", "allow_timesheets": True}
        )
        cls.employee = cls.env["hr.employee"].create(
            {"name": "Technician", "company_id": cls.env.company.id}
        )
        cls.hours = cls.env["product.product"].create(
            {"name": "Maintenance hours", "list_price": 50.0, "taxes_id": []}
        )

    def timesheet(self, day, hours, project=None):
        return self.env["account.analytic.line"].create(
            {
                "name": "Work",
                "project_id": (project or self.project).id,
                "employee_id": self.employee.id,
                "date": day,
                "unit_amount": hours,
            }
        )

    def maintenance_contract(self):
        return self.create_contract(
            lines=[
                Command.create(
                    {
                        "product_id": self.hours.id,
                        "quantity_type": "usage",
                        "price_unit": 50.0,
                        "usage_included": 2.0,
                        "timesheet_project_id": self.project.id,
                    }
                )
            ],
            invoicing_mode="arrears",
        )

    def test_hours_billed_in_arrears(self):
        earlier = self.timesheet(date(2026, 1, 5), 3.0)  # before the link
        contract = self.maintenance_contract()
        line = contract.line_ids
        self.assertEqual(line.usage_ids.reference, f"timesheet-{earlier.id}")
        self.timesheet(date(2026, 1, 20), 1.5)
        self.timesheet(date(2026, 1, 21), 8.0, project=self.other_project)
        self.timesheet(date(2025, 12, 31), 4.0)  # before the contract
        self.assertEqual(sorted(line.usage_ids.mapped("quantity")), [1.5, 3.0])
        move = self.bill(contract, date(2026, 2, 1))
        # 4.5 hours, 2 included: 2.5 x 50.00
        self.assertEqual(move.amount_untaxed, 125.00)
        self.assertEqual(move.invoice_line_ids.quantity, 2.5)
        self.assertIn("4.50 used, 2.00 included", move.invoice_line_ids.name)

    def test_idempotent_edits_and_late_hours(self):
        contract = self.maintenance_contract()
        line = contract.line_ids
        timesheet = self.timesheet(date(2026, 1, 10), 4.0)
        # Linking again, or pushing again, stores nothing twice.
        line._sync_timesheet_usage()
        timesheet._push_to_usage_lines()
        self.assertEqual(len(line.usage_ids), 1)
        timesheet.unit_amount = 5.0  # corrected before billing
        self.assertEqual(line.usage_ids.quantity, 5.0)
        gone = self.timesheet(date(2026, 1, 11), 1.0)
        gone.unlink()
        self.assertEqual(len(line.usage_ids), 1)
        january = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(january.amount_untaxed, 150.00)  # 3 x 50
        # A billed timesheet edited afterwards: the invoice stands.
        timesheet.unit_amount = 9.0
        self.assertEqual(line.usage_ids.quantity, 5.0)
        # Hours of January entered in February: on February's invoice.
        self.timesheet(date(2026, 1, 30), 2.0)
        self.timesheet(date(2026, 2, 3), 3.0)
        february = self.bill(contract, date(2026, 3, 1))
        self.assertEqual(
            sorted(february.invoice_line_ids.mapped("price_subtotal")),
            [50.00, 100.00],  # February 3 - 2 free; January's late 2 hours
        )
