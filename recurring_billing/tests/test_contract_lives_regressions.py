# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The failing examples the state machine of ``test_contract_lives.py``
found, shrunk by Hypothesis, as plain steps. Each step is done on the
database and on the oracle; the invariants (``lives.py``) say what broke."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .lives import ContractLives, ContractLivesCommon


@tagged("post_install", "-at_install")
class TestContractLivesRegressions(ContractLivesCommon):
    def setUp(self):
        super().setUp()
        self.lives = ContractLives(self)
        self.addCleanup(self.lives.rollback)

    def check_all(self):
        self.lives.check_credits()
        self.lives.check_usage_once()
        self.lives.check_forecast()
        self.lives.check_mrr()

    def test_a_plain_monthly_life_holds(self):
        """The harness itself: a monthly contract billed, paused, resumed and
        closed, every invariant holding (this one passes on the old code)."""
        lives = self.lives
        life = lives.start(offset=0, prorate=True, price=10000)
        lives.bill(0)
        self.assertEqual(life.contract.invoice_ids.mapped("amount_untaxed"), [100.0])
        lives.pause(0, 10)
        lives.bill(31)
        lives.resume(0, 5)
        lives.close(0, 20)
        lives.bill(40)
        self.check_all()
        self.assertEqual(life.contract.state, "closed")

    def test_amount_per_period_after_a_change_is_the_next_invoice(self):
        """Defect: Amount per Period adds up the ended line and its successor
        (form, PDF, portal, reminder: about double the next invoice)."""
        lives = self.lives
        lives.start(offset=0, prorate=True, price=10000)
        lives.bill(0)
        lives.bill(31)
        lives.change_line(0, 0, 10, 20000, 1)
        # Old code: "Amount per Period says 300.00, the next invoice (period
        # from 2025-04-01) bills 200.00".
        self.check_all()

@tagged("post_install", "-at_install")
class TestContractLivesTargeted(ContractLivesCommon):
    """Defects of the same class that the machine does not reach: a sale
    order's life and the yearly price update (its anniversaries lie beyond
    the few months a machine example lives)."""

    def indexed_contract(self, usage=False):
        lines = [
            Command.create(
                {"product_id": self.product_a.id, "quantity": 1, "price_unit": 1000.0}
            )
        ]
        if usage:
            lines.append(
                Command.create(
                    {
                        "product_id": self.product_calls.id,
                        "quantity_type": "usage",
                        "price_unit": 1.0,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        return self.create_contract(
            start=date(2026, 1, 1),
            lines=lines,
            invoicing_mode="arrears",
            indexation_method="fixed",
            indexation_rate=3.0,
        )

    def test_price_update_bills_the_usage_of_its_first_period(self):
        """A yearly price update on a usage line ends it and starts a copy at
        the new price: the records of the first period at that price are
        billed on its invoice (2,000 units at 1.03), none left to bill."""
        contract = self.indexed_contract(usage=True)
        self.bill(contract, date(2027, 1, 1))  # 2026, old prices
        usage_line = contract.line_ids.filtered(
            lambda line: line.quantity_type == "usage"
        )
        record = self.env["recurring.contract.usage"].create(
            {
                "line_id": usage_line.id,
                "date": date(2027, 1, 15),
                "quantity": 2000,
                "reference": "jan-2027",
            }
        )
        self.bill(contract, date(2027, 1, 1))  # applies the update
        february = self.bill(contract, date(2027, 2, 1))
        self.assertTrue(record.move_line_id, "the record must be billed")
        self.assertEqual(february.amount_untaxed, 1030.0 + 2060.0)
        january = contract.period_ids.filtered(
            lambda p: p.date_start == date(2027, 1, 1)
        )
        self.assertEqual(january.mapped("state"), ["invoiced"])

    def test_amount_per_period_after_a_price_update_is_the_new_price(self):
        """After the yearly update the old line is ended: the Amount per
        Period (form, PDF, portal, reminder) is the next invoice's."""
        contract = self.indexed_contract()
        self.bill(contract, date(2027, 1, 1))
        self.bill(contract, date(2027, 2, 1))
        self.assertEqual(contract._get_forecast_periods(1)[0].amount_untaxed, 1030.0)
        self.assertEqual(contract.amount_untaxed, 1030.0)

    def test_order_cancelled_on_its_confirmation_day_bills_nothing(self):
        """A sale order cancelled the day it was confirmed: its contract never
        billed anything and closes; no period is billed."""
        product = self._create_product(
            name="Hosting", lst_price=30.0, recurring_ok=True
        )
        with freeze_time("2026-03-01 10:00:00"):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.partner_a.id,
                    "commitment_date": datetime(2026, 3, 1, 9, 0),
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
            order.action_confirm()
            contract = order.recurring_contract_ids
            order.with_context(disable_cancel_warning=True).action_cancel()
        moves = self.bill(contract, date(2026, 3, 2))
        self.assertFalse(moves, "nothing was used: nothing is billed")
        self.assertFalse(contract.exists() and contract.state == "running")
        self.assertFalse(self.bill(contract.exists(), date(2026, 4, 1)))
