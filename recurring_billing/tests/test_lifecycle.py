# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestLifecycle(RecurringBillingCommon):
    """draft -> running <-> paused -> closed, through the form and buttons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.env["recurring.contract.template"].create(
            {
                "name": "Quarterly maintenance",
                "recurring_interval": 3,
                "invoicing_mode": "arrears",
                "duration_months": 12,
                "line_ids": [
                    Command.create(
                        {"display_type": "line_section", "name": "Maintenance"}
                    ),
                    Command.create({"product_id": cls.product_a.id, "quantity": 2}),
                ],
            }
        )

    def test_form_with_template_then_start(self):
        with Form(self.Contract) as form:
            form.partner_id = self.partner_a
            form.date_start = date(2026, 1, 1)
            form.template_id = self.template
            self.assertEqual(form.recurring_interval, 3)
            self.assertEqual(form.invoicing_mode, "arrears")
            self.assertEqual(form.date_end, date(2026, 12, 31))
            self.assertEqual(len(form.line_ids), 2)
        contract = form.save()
        self.assertEqual(contract.state, "draft")
        self.assertTrue(contract.name.startswith("RC/"))
        self.assertEqual(contract.journal_id, self.journal)
        contract.action_start()
        self.assertEqual(contract.state, "running")
        self.assertEqual(contract.next_invoice_date, date(2026, 4, 1))
        self.assertTrue(
            contract.message_ids.filtered(lambda m: "started" in (m.body or ""))
        )

    @freeze_time("2026-02-10")
    def test_invoice_now_button(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        action = contract.action_generate_invoices()
        self.assertEqual(len(contract.invoice_ids), 2)
        self.assertEqual(action["res_model"], "account.move")
        self.assertEqual(contract.invoice_count, 2)
        view = contract.action_view_invoices()
        self.assertEqual(
            self.env["account.move"].search(view["domain"]), contract.invoice_ids
        )

    @freeze_time("2026-02-10")
    @mute_logger("odoo.addons.recurring_billing.models.recurring_billing_engine")
    def test_invoice_now_reports_a_billing_error(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        self.partner_a.active = False
        action = contract.action_generate_invoices()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("archived", action["params"]["message"])
        # The error is kept on the contract, with its chatter note.
        self.assertIn("archived", contract.billing_error)
        self.assertFalse(contract.invoice_ids)
        self.partner_a.active = True
        contract.action_generate_invoices()
        self.assertEqual(len(contract.invoice_ids), 2)
        self.assertFalse(contract.billing_error)

    def test_pause_skip_and_resume_ledger(self):
        """Rule 10: the periods wholly inside a pause are skipped; the period
        it ends in is billed (in full: this contract does not prorate)."""
        contract = self.create_contract(start=date(2026, 1, 1))
        self.bill(contract, date(2026, 1, 1))
        contract.action_pause(date_pause=date(2026, 2, 1))
        self.assertEqual(contract.state, "paused")
        self.assertFalse(contract.next_invoice_date)
        self.assertFalse(self.bill(contract, date(2026, 3, 15)))
        contract.action_resume(date_resume=date(2026, 3, 20))
        self.assertEqual(contract.state, "running")
        self.assertEqual(contract.next_invoice_date, date(2026, 2, 1))
        moves = self.bill(contract, date(2026, 3, 20))
        self.assertEqual(
            [
                (p.date_start, p.state)
                for p in contract.period_ids.sorted("period_index")
            ],
            [
                (date(2026, 1, 1), "invoiced"),
                (date(2026, 2, 1), "skipped"),
                (date(2026, 3, 1), "invoiced"),
            ],
        )
        self.assertEqual(moves.recurring_period_id.date_start, date(2026, 3, 1))
        self.assertEqual(moves.amount_untaxed, 100.0)
        self.assertEqual(contract.next_invoice_date, date(2026, 4, 1))
        self.assertEqual(len(contract.invoice_ids), 2)

    def test_close_wizard_prorates_and_closes_after_last_invoice(self):
        contract = self.create_contract(start=date(2026, 1, 1), prorate=True)
        self.bill(contract, date(2026, 1, 1))
        reason = self.env.ref("recurring_billing.close_reason_customer_request")
        wizard = Form(
            self.env["recurring.contract.close.wizard"].with_context(
                active_ids=contract.ids
            )
        )
        wizard.date_close = date(2026, 2, 14)
        wizard.reason_id = reason
        wizard.save().action_close()
        self.assertEqual(contract.date_end, date(2026, 2, 14))
        self.assertEqual(contract.close_reason_id, reason)
        self.assertEqual(contract.state, "running")  # February is still owed
        last = self.bill(contract, date(2026, 3, 1))
        self.assertAlmostEqual(last.amount_untaxed, 50.0)  # 14 of 28 days
        self.assertEqual(contract.state, "closed")
        self.assertFalse(self.bill(contract, date(2026, 6, 1)))

    def test_close_when_nothing_owed_closes_at_once(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        self.bill(contract, date(2026, 1, 1))
        contract.action_close(date_close=date(2026, 1, 31))
        self.assertEqual(contract.state, "closed")
        self.assertFalse(contract.next_invoice_date)

    def test_renew_extends_end_date(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 12, 31)
        )
        wizard = Form(
            self.env["recurring.contract.renew.wizard"].with_context(
                active_ids=contract.ids
            )
        )
        wizard.months = 12
        wizard.save().action_renew()
        self.assertEqual(contract.date_end, date(2027, 12, 31))
        self.assertTrue(
            contract.message_ids.filtered(lambda m: "renewed" in (m.body or ""))
        )

    def test_billing_schedule_preview(self):
        contract = self.create_contract(start=date(2026, 1, 31))
        forecast = contract._get_forecast_periods(12)
        self.assertEqual(len(forecast), 12)
        self.assertEqual(forecast[1].date_start, date(2026, 2, 28))
        self.assertEqual(forecast[0].amount_untaxed, 100.0)
        self.assertIn("02/28/2026", contract.schedule_preview_html)

    def test_mrr_and_amounts(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), recurring_rule_type="yearly"
        )
        self.assertEqual(contract.amount_untaxed, 100.0)
        self.assertAlmostEqual(contract.recurring_monthly, 8.33)

    def test_partner_smart_button(self):
        contract = self.create_contract()
        self.assertEqual(self.partner_a.recurring_contract_count, 1)
        action = self.partner_a.action_view_recurring_contracts()
        self.assertEqual(self.Contract.search(action["domain"]), contract)
