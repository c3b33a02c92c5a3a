# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Each lifecycle dialog says what the engine then does, for the contract's
settings: its sentences are read, the dialog confirmed, the contract billed,
and what was invoiced or credited compared with what was said."""

from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged
from odoo.tools import formatLang

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestDialogsTold(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The next run is today: what a dialog says is issued "by the next
        # billing run" is issued by the run of the test's day.
        cls.env.ref("recurring_billing.ir_cron_generate_invoices").active = False
        cls.reason = cls.env.ref("recurring_billing.close_reason_customer_request")

    def money(self, amount):
        return formatLang(self.env, amount, currency_obj=self.env.company.currency_id)

    def dialog(self, model, contract, **vals):
        return (
            self.env[model]
            .with_context(active_ids=contract.ids, active_id=contract.id)
            .create(vals)
        )

    def pause(self, contract, day, mode="pause"):
        return self.dialog(
            "recurring.contract.pause.wizard", contract, mode=mode, date=day
        )

    def close(self, contract, day):
        return self.dialog(
            "recurring.contract.close.wizard",
            contract,
            date_close=day,
            respect_terms=False,
            reason_id=self.reason.id,
        )

    def refunds(self, moves):
        return moves.filtered(lambda m: m.move_type == "out_refund")

    # ------------------------------------------------------------------
    # Pause
    # ------------------------------------------------------------------

    @freeze_time("2026-11-21")
    def test_pause_prorating_credits_what_it_says(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        wizard = self.pause(contract, date(2026, 11, 21))
        # 10 of November's 30 days paused: 33.33 back.
        self.assertIn(
            f"11/01/2026 - 11/30/2026, billed in advance: {self.money(33.33)} "
            "credited for the days of the pause.",
            wizard.summary,
        )
        self.assertNotIn("stands", wizard.summary)
        self.assertNotIn("earlier change", wizard.summary)
        wizard.action_confirm()
        moves = self.bill(contract, date(2026, 11, 21))
        self.assertEqual(len(moves), 1)
        self.assertEqual(self.refunds(moves).amount_untaxed, 33.33)

    @freeze_time("2026-11-21")
    def test_pause_not_prorating_says_the_period_stands(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=False)
        self.bill(contract, date(2026, 11, 1))
        wizard = self.pause(contract, date(2026, 11, 21))
        self.assertIn(
            "11/01/2026 - 11/30/2026, already billed, stands in full: the "
            "contract does not prorate.",
            wizard.summary,
        )
        self.assertNotIn("credited", wizard.summary)
        wizard.action_confirm()
        self.assertFalse(self.bill(contract, date(2026, 11, 21)))

    @freeze_time("2026-11-21")
    def test_pause_separates_an_earlier_price_change(self):
        """The credit of the pause is the pause's; what an earlier change
        left to adjust is said apart, and the document the run issues is
        their sum."""
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        self.dialog(
            "recurring.contract.line.change.wizard",
            contract.line_ids,
            date_effective=date(2026, 11, 16),
            quantity=1,
            price_unit=200.0,
            notify_customer=False,
        ).action_change()
        wizard = self.pause(contract, date(2026, 11, 21))
        # Before the pause: 15 days at 100 and 15 at 200, 150.00 for 100.00
        # billed: 50.00 to bill. With it: 15 days at 100 and 5 at 200,
        # 83.33: the pause credits 66.67, one credit note of 16.67 in all.
        self.assertIn(
            f"{self.money(66.67)} credited for the days of the pause", wizard.summary
        )
        self.assertIn(
            f"{self.money(50.0)} still to bill for an earlier change", wizard.summary
        )
        self.assertIn(f"one credit note of {self.money(16.67)}", wizard.summary)
        wizard.action_confirm()
        moves = self.bill(contract, date(2026, 11, 21))
        self.assertEqual(len(moves), 1)
        self.assertEqual(self.refunds(moves).amount_untaxed, 16.67)

    # ------------------------------------------------------------------
    # Resume
    # ------------------------------------------------------------------

    def _paused_contract(self, prorate):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=prorate)
        self.bill(contract, date(2026, 11, 1))
        contract.action_pause(date_pause=date(2026, 11, 21), notify=False)
        self.bill(contract, date(2026, 11, 21))
        return contract

    @freeze_time("2027-01-11")
    def test_resume_not_prorating_bills_the_month_in_full(self):
        contract = self._paused_contract(prorate=False)
        wizard = self.pause(contract, date(2027, 1, 11), mode="resume")
        self.assertIn("The contract does not prorate", wizard.summary)
        self.assertIn(
            "1 period wholly inside the pause, 12/01/2026 - 12/31/2026, is not "
            "billed.",
            wizard.summary,
        )
        self.assertIn(
            f"Next invoice: 01/01/2027 - 01/31/2027, {self.money(100.0)}",
            wizard.summary,
        )
        wizard.action_confirm()
        moves = self.bill(contract, date(2027, 1, 11))
        self.assertEqual(len(moves), 1)
        self.assertEqual(moves.amount_untaxed, 100.0)
        december = contract.period_ids.filtered(lambda p: p.period_index == 1)
        self.assertEqual(december.state, "skipped")

    @freeze_time("2027-01-11")
    def test_resume_prorating_bills_the_days_after(self):
        contract = self._paused_contract(prorate=True)
        wizard = self.pause(contract, date(2027, 1, 11), mode="resume")
        self.assertIn("51 days paused from 11/21/2026 are not billed", wizard.summary)
        # January from the 11th: 21 of 31 days.
        self.assertIn(
            f"Next invoice: 01/01/2027 - 01/31/2027, {self.money(67.74)}",
            wizard.summary,
        )
        wizard.action_confirm()
        moves = self.bill(contract, date(2027, 1, 11))
        self.assertEqual(moves.amount_untaxed, 67.74)

    # ------------------------------------------------------------------
    # Close
    # ------------------------------------------------------------------

    @freeze_time("2026-12-07")
    def test_close_on_a_future_date_inside_a_billed_period(self):
        for prorate, credit in ((True, 35.48), (False, 0.0)):
            contract = self.create_contract(start=date(2026, 11, 1), prorate=prorate)
            self.bill(contract, date(2026, 12, 1))
            wizard = self.close(contract, date(2026, 12, 20))
            summary = wizard.summary
            if credit:
                # 11 of December's 31 days after the close.
                self.assertIn(
                    f"{self.money(credit)} credited for the days after the close",
                    summary,
                )
                self.assertIn("issued by the next billing run, on 12/07/2026", summary)
                self.assertNotIn("stands", summary)
            else:
                self.assertIn(
                    "12/01/2026 - 12/31/2026, already billed, stands", summary
                )
                self.assertNotIn("credited", summary)
            self.assertIn("The contract is closed at once.", summary)
            wizard.action_close()
            self.assertEqual(contract.state, "closed")
            moves = self.bill(contract, date(2026, 12, 7))
            self.assertEqual(sum(self.refunds(moves).mapped("amount_untaxed")), credit)
            self.assertEqual(len(moves), 1 if credit else 0)

    @freeze_time("2026-12-07")
    def test_close_on_a_future_date_in_a_period_not_billed(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        wizard = self.close(contract, date(2026, 12, 20))
        # December 1-20: 20 of 31 days, 64.52, due since 1 December.
        self.assertIn(
            f"12/01/2026 - 12/20/2026, not billed yet, is billed on 12/07/2026 "
            f"({self.money(64.52)})",
            wizard.summary,
        )
        self.assertIn(
            "stays Running until its last invoice, on 12/07/2026", wizard.summary
        )
        wizard.action_close()
        # What the header and the schedule say agree: one invoice, December
        # 1-20, for 64.52.
        self.assertEqual(contract.state, "running")
        self.assertEqual(contract.next_invoice_date, date(2026, 12, 1))
        forecast = contract._get_forecast_periods()
        self.assertEqual(
            [(f.date_start, f.date_end, f.amount_untaxed) for f in forecast],
            [(date(2026, 12, 1), date(2026, 12, 20), 64.52)],
        )
        moves = self.bill(contract, date(2026, 12, 7))
        self.assertEqual(moves.amount_untaxed, 64.52)
        self.assertEqual(contract.state, "closed")

    @freeze_time("2026-12-07")
    def test_close_a_paused_contract_on_a_future_date(self):
        """Paused since 21 November, closed on 20 December: December lies
        wholly inside the pause, so nothing is left to bill; the contract
        closes at once, with no next invoice announced."""
        contract = self._paused_contract(prorate=True)
        wizard = self.close(contract, date(2026, 12, 20))
        self.assertNotIn("not billed yet", wizard.summary)
        self.assertIn("The contract is closed at once.", wizard.summary)
        wizard.action_close()
        self.assertEqual(contract.state, "closed")
        self.assertFalse(contract.next_invoice_date)
        self.assertFalse(contract._get_forecast_periods())
        self.assertFalse(self.bill(contract, date(2026, 12, 7)))

    # ------------------------------------------------------------------
    # Renew after a close
    # ------------------------------------------------------------------

    @freeze_time("2026-11-20")
    def test_renew_after_a_close_says_what_is_billed_again(self):
        contract = self.create_contract(
            start=date(2026, 11, 1), prorate=True, date_end=date(2027, 10, 31)
        )
        self.bill(contract, date(2026, 11, 1))
        contract.action_close(
            date_close=date(2026, 11, 10), reason=self.reason, notify=False
        )
        self.bill(contract, date(2026, 11, 20))  # 20 days credited: 66.67
        self.assertEqual(contract.state, "closed")
        self.assertEqual(contract.close_reason_id, self.reason)
        wizard = self.dialog("recurring.contract.renew.wizard", contract, months=12)
        # Reopened on the 20th: the 9 days closed are not billed, the 11 days
        # from the 20th are billed again (36.67).
        self.assertIn(
            "11/11/2026 - 11/19/2026, are under no term: not billed", wizard.summary
        )
        self.assertIn(
            f"11/01/2026 - 11/30/2026: {self.money(36.67)} more is billed (the "
            "days credited at the close are billed again)",
            wizard.summary,
        )
        self.assertIn(f"close reason ({self.reason.name}) is cleared", wizard.summary)
        wizard.action_renew()
        self.assertFalse(contract.close_reason_id)
        moves = self.bill(contract, date(2026, 11, 20))
        self.assertEqual(moves.move_type, "out_invoice")
        self.assertEqual(moves.amount_untaxed, 36.67)

    # ------------------------------------------------------------------
    # Start in the past, and the schedule of a paused contract
    # ------------------------------------------------------------------

    @freeze_time("2026-12-07")
    def test_start_in_the_past_says_the_catch_up(self):
        contract = self.create_contract(start=date(2026, 9, 1), start_it=False)
        wizard = self.dialog("recurring.contract.start.wizard", contract)
        self.assertIn(
            "4 periods are already due and are billed at once on 12/07/2026, "
            "one invoice each, from 09/01/2026 to 12/31/2026 "
            f"({self.money(400.0)} in all before taxes)",
            wizard.summary,
        )
        wizard.notify_customer = False
        wizard.action_start()
        moves = self.bill(contract, date(2026, 12, 7))
        self.assertEqual(len(moves), 4)
        self.assertEqual(sum(moves.mapped("amount_untaxed")), 400.0)
        # Each names its period, and none is taken for a duplicate.
        self.assertEqual(len(set(moves.mapped("ref"))), 4)
        self.assertIn("2026-09-01 / 2026-09-30", moves.sorted("id")[0].ref)
        moves.invalidate_recordset(["duplicated_ref_ids"])
        self.assertFalse(moves.duplicated_ref_ids)

    @freeze_time("2026-11-21")
    def test_paused_schedule_lists_no_invoice_of_zero(self):
        contract = self._paused_contract(prorate=True)
        self.assertEqual(contract._get_forecast_periods(), [])
        contract.invalidate_recordset(["schedule_preview_html"])
        self.assertIn("No invoice is scheduled", contract.schedule_preview_html)
        self.assertNotIn("0.00", contract.schedule_preview_html)
        # Paused from a later day: the periods before the pause are listed.
        later = self.create_contract(
            start=date(2026, 11, 1),
            lines=[
                Command.create(
                    {"product_id": self.product_a.id, "quantity": 1, "price_unit": 50}
                )
            ],
        )
        later.action_pause(date_pause=date(2027, 2, 1), notify=False)
        self.assertEqual(
            [f.date_start for f in later._get_forecast_periods()],
            [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)],
        )

    # ------------------------------------------------------------------
    # In Spanish
    # ------------------------------------------------------------------

    @freeze_time("2026-11-21")
    def test_dialogs_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["recurring_billing"], ["es_ES"], overwrite=True
        )
        contract = self.create_contract(start=date(2026, 9, 1), prorate=False)
        self.bill(contract, date(2026, 11, 1))
        es = self.env(context=dict(self.env.context, lang="es_ES"))
        pause = (
            es["recurring.contract.pause.wizard"]
            .with_context(active_ids=contract.ids)
            .create({"mode": "pause", "date": date(2026, 11, 21)})
        )
        self.assertIn("No se factura nada desde el", pause.summary)
        self.assertIn("se mantiene completo", pause.summary)
        self.assertNotIn("stands", pause.summary)
        close = (
            es["recurring.contract.close.wizard"]
            .with_context(active_ids=contract.ids)
            .create(
                {
                    "date_close": date(2026, 12, 20),
                    "respect_terms": False,
                    "reason_id": self.reason.id,
                }
            )
        )
        self.assertIn("Se cierra el", close.summary)
        self.assertIn("sigue En curso hasta su última factura", close.summary)
        self.assertNotIn("Closes on", close.summary)
        draft = self.create_contract(start=date(2026, 9, 1), start_it=False)
        start = (
            es["recurring.contract.start.wizard"]
            .with_context(active_ids=draft.ids)
            .create({})
        )
        self.assertIn("periodos ya vencidos", start.summary)

    # ------------------------------------------------------------------
    # Invoice now with an adjustment pending; accepting a cancellation
    # ------------------------------------------------------------------

    @freeze_time("2026-11-21")
    def test_invoice_now_bills_a_pending_adjustment(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        contract.invalidate_recordset(["has_due_periods"])
        self.assertFalse(contract.has_due_periods)
        self.dialog(
            "recurring.contract.line.change.wizard",
            contract.line_ids,
            date_effective=date(2026, 11, 16),
            quantity=1,
            price_unit=200.0,
            notify_customer=False,
        ).action_change()
        contract.invalidate_recordset(["has_due_periods"])
        self.assertTrue(contract.adjustment_pending)
        self.assertTrue(contract.has_due_periods)  # 'Invoice now' is shown
        action = contract.action_generate_invoices()
        move = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(move.amount_untaxed, 50.0)
        self.assertFalse(contract.adjustment_pending)

    @freeze_time("2026-11-21")
    def test_accept_cancellation_from_the_banner(self):
        contract = self.create_contract(start=date(2026, 1, 1), notice_days=30)
        effective = contract._request_cancellation("Too expensive")
        self.assertEqual(effective, date(2026, 12, 21))
        action = contract.action_accept_cancellation()
        wizard = (
            self.env[action["res_model"]].with_context(**action["context"]).create({})
        )
        self.assertEqual(wizard.date_close, date(2026, 12, 21))
        self.assertEqual(wizard.reason_id, self.reason)
        self.assertFalse(wizard.respect_terms)
        self.assertIn("Closes on 12/21/2026.", wizard.summary)
        wizard.action_close()
        self.assertEqual(contract.date_end, date(2026, 12, 21))
        self.assertEqual(contract.close_reason_id, self.reason)
