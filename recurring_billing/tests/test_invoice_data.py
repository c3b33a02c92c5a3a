# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestInvoiceData(RecurringBillingCommon):
    """What e-invoicing formats read from the engine's invoices, and the
    customer data checked before billing (README, "Using it in Spain")."""

    def test_operation_date_is_the_end_of_a_period_over(self):
        # In arrears: January invoiced on 1 February, operation date 31 January.
        arrears = self.create_contract(start=date(2026, 1, 1), invoicing_mode="arrears")
        move = self.bill(arrears, date(2026, 2, 1))
        self.assertRecordValues(
            move,
            [
                {
                    "invoice_date": date(2026, 2, 1),
                    "delivery_date": date(2026, 1, 31),
                    "invoice_origin": arrears.name,
                }
            ],
        )
        # In advance: invoiced before its period ends, no operation date; a
        # period billed late (the catch-up of January) has one.
        advance = self.create_contract(start=date(2026, 1, 1))
        moves = self.bill(advance, date(2026, 2, 1)).sorted(
            lambda m: m.recurring_period_id.date_start
        )
        self.assertEqual(moves.mapped("delivery_date"), [date(2026, 1, 31), False])

    def test_email_needed_when_invoices_are_emailed(self):
        self.partner_b.write({"email": False, "invoice_sending_method": "email"})
        with self.assertRaisesRegex(UserError, "has no email address"):
            self.create_contract(
                partner_id=self.partner_b.id, invoice_action="post_send"
            )
        # Running, then the address removed: that contract is not billed.
        self.partner_a.invoice_sending_method = "email"
        contract = self.create_contract(
            start=date(2026, 1, 1), invoice_action="post_send"
        )
        other = self.create_contract(start=date(2026, 1, 1))
        self.partner_a.email = False
        moves = self.bill(contract | other, date(2026, 1, 1))
        self.assertEqual(moves.recurring_contract_id, other)
        self.assertIn("has no email address", contract.billing_error)
