# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

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

    def _recurring_order(self, **vals):
        """An order of one monthly recurring product from 1 March 2026,
        confirmed by its salesperson (``vals['user_id']``, default: the
        current user)."""
        product = self._create_product(
            name="Hosting", lst_price=30.0, recurring_ok=True
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.partner_a.id,
                "commitment_date": datetime(2026, 3, 1, 9, 0),
                "order_line": [Command.create({"product_id": product.id})],
                **vals,
            }
        )
        order.with_user(order.user_id).action_confirm()
        return order

    def test_cancelled_order_closes_its_contracts(self):
        """Cancelling the order (here by its salesperson) deletes its draft
        contracts and closes the running ones on the cancel date: March,
        billed in advance, stands; the contract closes at once and bills
        nothing more."""
        salesman = new_test_user(
            self.env,
            login="rb_cancel_sales",
            groups="sales_team.group_sale_salesman",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        order = self._recurring_order(user_id=salesman.id)
        running = order.recurring_contract_ids
        self.assertEqual(running.state, "running")
        self.bill(running, date(2026, 3, 1))
        draft = self.create_contract(
            start=date(2026, 4, 1),
            start_it=False,
            sale_order_id=order.id,
            user_id=salesman.id,
        )
        with freeze_time("2026-03-15"):
            order.with_user(salesman).with_context(
                disable_cancel_warning=True
            ).action_cancel()
        self.assertEqual(order.state, "cancel")
        self.assertFalse(draft.exists())
        self.assertRecordValues(
            running,
            [
                {
                    "state": "closed",
                    "date_end": date(2026, 3, 15),
                    "close_reason_id": self.env.ref(
                        "recurring_billing.close_reason_sale_order_cancelled"
                    ).id,
                }
            ],
        )
        self.assertFalse(self.bill(running, date(2026, 4, 1)))
        self.assertEqual(len(running.invoice_ids), 1)

    def test_cancelled_order_bills_what_is_owed_up_to_the_cancel_date(self):
        """In arrears: the days up to the cancel date are billed once, then
        the contract is closed. A contract of the order paused since its
        start bills nothing and is closed too."""
        order = self._recurring_order()
        running = order.recurring_contract_ids
        running.write({"invoicing_mode": "arrears", "prorate": True})
        paused = self.create_contract(start=date(2026, 3, 1), sale_order_id=order.id)
        with freeze_time("2026-03-01"):
            paused.action_pause()
        with freeze_time("2026-03-15"):
            order.with_context(disable_cancel_warning=True).action_cancel()
        reason = self.env.ref("recurring_billing.close_reason_sale_order_cancelled")
        self.assertRecordValues(
            running | paused,
            [
                {"date_end": date(2026, 3, 15), "close_reason_id": reason.id},
                {"date_end": date(2026, 3, 15), "close_reason_id": reason.id},
            ],
        )
        moves = self.bill(running | paused, date(2026, 3, 16))
        self.assertEqual(moves.recurring_contract_id, running)
        self.assertEqual(len(moves), 1)
        self.assertEqual(moves.amount_untaxed, 14.52)  # 15/31 of 30.00
        self.assertPeriods(running, [(date(2026, 3, 1), date(2026, 3, 15))])
        self.assertFalse(paused.invoice_ids)
        self.assertEqual((running | paused).mapped("state"), ["closed", "closed"])
        self.assertFalse(self.bill(running | paused, date(2026, 4, 1)))


@tagged("post_install", "-at_install")
class TestSaleOrderBranch(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parent = cls.env.company
        cls.parent.write({"child_ids": [Command.create({"name": "RB Sale Branch"})]})
        cls.cr.precommit.run()  # load the chart of accounts of the branch
        cls.branch = cls.parent.child_ids
        cls.env.user.company_ids = [Command.link(cls.branch.id)]

    def test_branch_order_creates_its_contract(self):
        """An order of a branch: its contract is the branch's, on the
        parent's sales journal, and bills the branch's invoices."""
        product = self._create_product(
            name="Hosting", lst_price=30.0, recurring_ok=True
        )
        order = (
            self.env["sale.order"]
            .with_company(self.branch)
            .create(
                {
                    "partner_id": self.partner_a.id,
                    "company_id": self.branch.id,
                    "commitment_date": datetime(2026, 3, 1, 9, 0),
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
        )
        order.action_confirm()
        contract = order.recurring_contract_ids
        self.assertRecordValues(
            contract,
            [
                {
                    "state": "running",
                    "company_id": self.branch.id,
                    "journal_id": self.journal.id,
                    "date_start": date(2026, 3, 1),
                }
            ],
        )
        move = self.bill(contract, date(2026, 3, 1))
        self.assertRecordValues(
            move,
            [
                {
                    "state": "posted",
                    "company_id": self.branch.id,
                    "journal_id": self.journal.id,
                    "amount_untaxed": 30.0,
                }
            ],
        )
