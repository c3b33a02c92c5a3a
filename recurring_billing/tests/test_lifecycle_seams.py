# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Money at the seams between features of a contract's life: pause x close
x renew, a pause in the future, credits x cancelled invoices, line fields x
billed periods, proration x history, automatic renewal x the period cut by
the end date, sale order cancellation x billing. Each case is the rule, on
its own numbers: the net billed for each period is what the period owes."""

from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestLifecycleSeams(RecurringBillingCommon):
    def _line(self, price, **vals):
        return [
            Command.create(
                {
                    "product_id": self.product_a.id,
                    "quantity": 1,
                    "price_unit": price,
                    **vals,
                }
            )
        ]

    def _net_billed(self, contract, period_start):
        """Posted invoices minus posted credit notes of the period starting on
        ``period_start`` (cancelled ones count nothing)."""
        rows = contract.period_ids.filtered(lambda r: r.date_start == period_start)
        moves = rows.move_ids.filtered(lambda m: m.state == "posted")
        return round(
            sum(
                m.amount_untaxed * (-1 if m.move_type == "out_refund" else 1)
                for m in moves
            ),
            2,
        )

    def _cancel(self, move):
        move.button_draft()
        move.button_cancel()

    # ------------------------------------------------------------------
    # Pause x close x renew
    # ------------------------------------------------------------------

    def test_close_while_paused_then_renew_bills_from_the_renewal(self):
        """Closing ends the open pause at the close date; a renewal after
        the close bills again from the renewal day (only the time paused and
        the time closed are not billed)."""
        contract = self.create_contract(start=date(2026, 2, 1), lines=self._line(80.0))
        self.bill(contract, date(2026, 3, 1))  # February, March
        contract.action_pause(date_pause=date(2026, 3, 20))
        contract.action_close(date_close=date(2026, 4, 10))
        self.bill(contract, date(2026, 4, 10))
        self.assertEqual(contract.state, "closed")
        pause = contract.suspension_ids.filtered(lambda s: s.reason == "pause")
        self.assertEqual(pause.date_end, date(2026, 4, 10))
        contract.action_renew(months=12, date_renew=date(2026, 6, 5))
        self.assertEqual(contract.state, "running")
        moves = self.bill(contract, date(2026, 6, 5))
        self.assertEqual(moves.mapped("amount_untaxed"), [80.0])
        self.assertEqual(moves.recurring_period_id.date_start, date(2026, 6, 1))
        self.assertEqual(contract._get_mrr_on(date(2026, 6, 15)), 80.0)
        self.assertEqual(
            self.bill(contract, date(2026, 7, 1)).mapped("amount_untaxed"), [80.0]
        )

    # ------------------------------------------------------------------
    # A pause in the future
    # ------------------------------------------------------------------

    def test_future_pause_bills_the_periods_before_it(self):
        """A pause dated later stops nothing before its date: the periods
        before it are billed by the run (scheduled or not), the period it
        starts in bills the days used before it, and MRR says the same."""
        contract = self.create_contract(
            start=date(2026, 1, 5), prorate=True, lines=self._line(90.0)
        )
        self.bill(contract, date(2026, 1, 5))
        contract.action_pause(date_pause=date(2026, 4, 20))
        self.assertEqual(contract._get_mrr_on(date(2026, 3, 10)), 90.0)
        self.assertEqual(contract._get_mrr_on(date(2026, 4, 20)), 0.0)
        self.assertEqual(contract.next_invoice_date, date(2026, 2, 5))
        self.Contract._cron_generate_invoices(date_ref=date(2026, 3, 5))
        self.assertEqual(
            contract.invoice_ids.sorted("id").mapped("amount_untaxed"),
            [90.0, 90.0, 90.0],
        )
        # 5 April to 4 May: 15 of 30 days before the pause.
        moves = self.bill(contract, date(2026, 4, 5))
        self.assertEqual(moves.mapped("amount_untaxed"), [45.0])
        self.assertFalse(self.bill(contract, date(2026, 5, 5)))
        self.assertEqual(contract.state, "paused")
        contract.action_resume(date_resume=date(2026, 6, 10))
        moves = self.bill(contract, date(2026, 6, 10))
        # 5 May to 4 June is inside the pause; 25 of 30 days from 10 June.
        self.assertEqual(moves.mapped("amount_untaxed"), [75.0])
        self.assertEqual(
            [
                (p.date_start, p.state)
                for p in contract.period_ids.sorted("period_index")
            ][-2:],
            [(date(2026, 5, 5), "skipped"), (date(2026, 6, 5), "invoiced")],
        )

    # ------------------------------------------------------------------
    # Credits x cancelled invoices
    # ------------------------------------------------------------------

    def test_close_never_credits_a_cancelled_invoice(self):
        contract = self.create_contract(
            start=date(2026, 9, 1), prorate=True, lines=self._line(120.0)
        )
        self.bill(contract, date(2026, 10, 1))  # September, October
        october = contract.invoice_ids.sorted("id")[-1]
        self._cancel(october)
        contract.action_close(date_close=date(2026, 10, 12))
        moves = self.bill(contract, date(2026, 10, 12))
        self.assertFalse(
            moves.filtered(lambda m: m.move_type == "out_refund"),
            "no credit note against a cancelled invoice",
        )
        contract.period_ids.filtered(
            lambda r: r.date_start == date(2026, 10, 1) and r.kind == "period"
        ).action_void()
        self.bill(contract, date(2026, 10, 13))
        # 12 of 31 days of October: 46.45, once.
        self.assertEqual(self._net_billed(contract, date(2026, 10, 1)), 46.45)
        self.assertEqual(self._net_billed(contract, date(2026, 9, 1)), 120.0)
        self.assertEqual(contract.state, "closed")
        self.assertFalse(self.bill(contract, date(2026, 11, 1)))

    def test_voided_period_billed_again_nets_what_it_owes(self):
        """A credit note posted against a period whose invoice is then
        cancelled and voided still counts: billed again, the period nets
        what it owes, never less than nothing."""
        contract = self.create_contract(
            start=date(2026, 9, 1), prorate=True, lines=self._line(120.0)
        )
        self.bill(contract, date(2026, 10, 1))
        october = contract.invoice_ids.sorted("id")[-1]
        contract.action_close(date_close=date(2026, 10, 12))
        credit = self.bill(contract, date(2026, 10, 12))
        self.assertEqual(
            [(m.move_type, m.amount_untaxed) for m in credit], [("out_refund", 73.55)]
        )
        self._cancel(october)
        contract.period_ids.filtered(
            lambda r: r.date_start == date(2026, 10, 1) and r.kind == "period"
        ).action_void()
        self.bill(contract, date(2026, 10, 13))
        self.assertEqual(self._net_billed(contract, date(2026, 10, 1)), 46.45)
        self.assertFalse(self.bill(contract, date(2026, 11, 1)))

    # ------------------------------------------------------------------
    # Fields that feed the amount of a billed line
    # ------------------------------------------------------------------

    def test_line_units_offered_are_those_of_its_product(self):
        """The unit picker of a line offers the product's own unit, never a
        unit of another kind (18.0: another category; 19.0: a unit the
        product does not list)."""
        contract = self.create_contract(start=date(2026, 3, 1), lines=self._line(75.0))
        line = contract.line_ids
        self.assertIn(line.product_id.uom_id, line.allowed_uom_ids)
        self.assertNotIn(self.env.ref("uom.product_uom_kgm"), line.allowed_uom_ids)
        self.assertIn(line.product_uom_id, line.allowed_uom_ids)

    def test_writing_a_billed_lines_unit_keeps_its_price(self):
        contract = self.create_contract(start=date(2026, 3, 1), lines=self._line(75.0))
        self.bill(contract, date(2026, 4, 1))  # March, April
        line = contract.line_ids
        line.write({"product_uom_id": line.product_uom_id.id})  # the same unit
        self.assertEqual(line.price_unit, 75.0)
        self.assertFalse(contract.adjustment_pending)
        with self.assertRaises(UserError):
            line.write({"product_uom_id": self.uom_dozen.id})
        self.assertEqual((line.product_uom_id, line.price_unit), (self.uom_unit, 75.0))
        moves = self.bill(contract, date(2026, 5, 1))
        self.assertEqual(
            [(m.move_type, m.amount_untaxed) for m in moves], [("out_invoice", 75.0)]
        )

    def test_unbilled_line_unit_still_reprices(self):
        """Before anything is billed, the unit is free and prices the line
        as a sale order does (a dozen of product A)."""
        contract = self.create_contract(start=date(2026, 3, 1), start_it=False)
        line = contract.line_ids
        line.product_uom_id = self.uom_dozen
        self.assertEqual(line.price_unit, 12000.0)

    def test_prorate_freezes_once_billed(self):
        """Proration decides what billed periods owe (here February, cut by
        a pause and billed in full): once a period is billed it can no
        longer change, so a later unrelated change re-prices nothing."""
        contract = self.create_contract(start=date(2026, 1, 10), lines=self._line(60.0))
        contract.prorate = True  # nothing billed yet: free
        contract.prorate = False
        self.bill(contract, date(2026, 2, 10))
        contract.action_pause(date_pause=date(2026, 2, 20))
        contract.action_resume(date_resume=date(2026, 3, 2))
        self.bill(contract, date(2026, 3, 10))
        self.assertEqual(
            contract.invoice_ids.mapped("amount_untaxed"), [60.0, 60.0, 60.0]
        )
        contract.write({"prorate": False})  # the same value: nothing changes
        with self.assertRaisesRegex(UserError, "Prorate"):
            contract.write({"prorate": True})
        self.assertFalse(contract.prorate)
        contract.line_ids._action_change(date(2026, 3, 25), {"price_unit": 66.0})
        moves = self.bill(contract, date(2026, 3, 26))
        # Only March changes: 15 of 31 days at 60.00, 16 at 66.00.
        self.assertEqual(
            [(m.move_type, m.amount_untaxed) for m in moves], [("out_invoice", 3.09)]
        )

    # ------------------------------------------------------------------
    # Automatic renewal x the period cut by the end date
    # ------------------------------------------------------------------

    def test_auto_renewal_bills_one_full_period_across_the_end_date(self):
        contract = self.create_contract(
            start=date(2026, 1, 15),
            date_end=date(2026, 4, 30),
            prorate=True,
            auto_renew=True,
            renewal_months=2,
            lines=self._line(62.0),
        )
        forecast = self.env["recurring.forecast.line"]._get_contract_periods(
            contract, date(2026, 5, 1)
        )
        self.Contract._cron_generate_invoices(date_ref=date(2026, 3, 15))
        self.assertEqual(len(contract.invoice_ids), 3)
        self.Contract._cron_generate_invoices(date_ref=date(2026, 4, 15))
        self.assertEqual(contract.date_end, date(2026, 6, 30))
        last = contract.invoice_ids.sorted("id")[-1]
        self.assertEqual(last.amount_untaxed, 62.0)
        self.assertEqual(
            (last.recurring_period_id.date_start, last.recurring_period_id.date_end),
            (date(2026, 4, 15), date(2026, 5, 14)),
        )
        self.Contract._cron_generate_invoices(date_ref=date(2026, 5, 1))
        self.assertEqual(len(contract.invoice_ids), 4, "no top-up invoice")
        # What the forecast said before: these four periods, in full.
        self.assertEqual(
            [(p.date_start, p.date_end) for p in forecast],
            [
                (r.date_start, r.date_end)
                for r in contract.period_ids.sorted("period_index")
            ],
        )
        self.assertEqual(contract.invoice_ids.mapped("amount_untaxed"), [62.0] * 4)

    # ------------------------------------------------------------------
    # Sale order cancelled before anything is billed
    # ------------------------------------------------------------------

    def _order(self, **vals):
        product = self._create_product(name="Backup", lst_price=45.0, recurring_ok=True)
        return self.env["sale.order"].create(
            {
                "partner_id": self.partner_a.id,
                "order_line": [Command.create({"product_id": product.id})],
                **vals,
            }
        )

    def test_order_cancelled_on_its_confirmation_day_bills_nothing(self):
        order = self._order()
        with freeze_time("2026-05-12"):
            order.action_confirm()
            contract = order.recurring_contract_ids
            self.assertEqual(contract.date_start, date(2026, 5, 12))
            order.with_context(disable_cancel_warning=True).action_cancel()
        for day in (date(2026, 5, 12), date(2026, 6, 12), date(2026, 7, 12)):
            self.Contract._cron_generate_invoices(date_ref=day)
        self.assertFalse(
            self.env["account.move"].search(
                [("recurring_contract_id", "=", contract.id)]
            )
        )
        self.assertFalse(contract.exists())

    def test_order_cancelled_before_its_start_bills_nothing(self):
        order = self._order(commitment_date="2026-08-01 09:00:00")
        with freeze_time("2026-07-20"):
            order.action_confirm()
            contract = order.recurring_contract_ids
            order.with_context(disable_cancel_warning=True).action_cancel()
        self.Contract._cron_generate_invoices(date_ref=date(2026, 8, 1))
        self.assertFalse(
            self.env["account.move"].search(
                [("recurring_contract_id", "=", contract.id)]
            )
        )
        self.assertFalse(contract.exists())
