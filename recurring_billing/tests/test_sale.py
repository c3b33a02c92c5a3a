# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from odoo import Command
from odoo.tests import tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestSaleOrder(RecurringBillingCommon):
    def test_confirmed_order_creates_one_contract_per_recurrence(self):
        monthly = self._create_product(
            name="Hosting", lst_price=30.0, recurring_ok=True
        )
        yearly = self._create_product(
            name="Domain",
            lst_price=12.0,
            recurring_ok=True,
            recurring_rule_type="yearly",
        )
        setup_fee = self._create_product(name="Setup", lst_price=200.0)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner_a.id,
                "commitment_date": datetime(2026, 3, 1, 9, 0),
                "order_line": [
                    Command.create({"product_id": monthly.id, "product_uom_qty": 2}),
                    Command.create({"product_id": yearly.id}),
                    Command.create({"product_id": setup_fee.id}),
                ],
            }
        )
        order.action_confirm()
        contracts = order.recurring_contract_ids
        self.assertEqual(len(contracts), 2)
        self.assertEqual(set(contracts.mapped("state")), {"running"})
        self.assertEqual(set(contracts.mapped("date_start")), {date(2026, 3, 1)})
        monthly_contract = contracts.filtered(
            lambda c: c.recurring_rule_type == "monthly"
        )
        self.assertEqual(monthly_contract.line_ids.product_id, monthly)
        self.assertEqual(monthly_contract.line_ids.quantity, 2)
        self.assertEqual(monthly_contract.sale_order_id, order)
        self.assertEqual(order.recurring_contract_count, 2)
        # The order only invoices the one-off line; the contract bills the rest.
        invoice = order._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.product_id, setup_fee)
        self.assertNotEqual(order.invoice_status, "to invoice")
        self.assertFalse(order._get_invoiceable_lines())
        moves = contracts._generate_invoices(date_ref=date(2026, 3, 1))
        self.assertEqual(len(moves), 2)
        # Each screen links to the other.
        action = order.action_view_recurring_contracts()
        self.assertEqual(self.Contract.search(action["domain"]), contracts)
        self.assertEqual(monthly_contract.action_view_sale_order()["res_id"], order.id)

    def test_order_without_recurring_products(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner_a.id,
                "order_line": [Command.create({"product_id": self.product_a.id})],
            }
        )
        order.action_confirm()
        self.assertFalse(order.recurring_contract_ids)
