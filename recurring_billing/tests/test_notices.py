# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer is told of a pause, a close, a renewal and a price change:
an email in their language, on by default (in the dialogs and the methods),
posted as a comment the portal's history shows."""

from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import RecurringBillingCommon
from .payment_common import RecurringPaymentCommon


@tagged("post_install", "-at_install")
class TestNotices(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("recurring_billing.ir_cron_generate_invoices").active = False
        cls.reason = cls.env.ref("recurring_billing.close_reason_customer_request")
        cls.env.company.email = "billing@example.com"

    def notices(self, contract, subject):
        """The messages of ``contract`` whose subject contains ``subject``,
        sent to its customer."""
        return contract.message_ids.filtered(
            lambda m: subject in (m.subject or "")
            and contract.partner_id in m.partner_ids
        )

    def assertToldOnce(self, contract, subject):
        message = self.notices(contract, subject)
        self.assertEqual(len(message), 1, subject)
        self.assertEqual(message.message_type, "comment")
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertFalse(message.subtype_id.internal)
        # The portal's history lists it.
        self.assertIn(message, contract.website_message_ids)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(len(mail), 1)
        self.assertIn(contract.partner_id, mail.recipient_ids)
        return message

    @freeze_time("2026-11-21")
    def test_methods_tell_the_customer_by_default(self):
        contract = self.create_contract(
            start=date(2026, 11, 1), prorate=True, date_end=date(2027, 10, 31)
        )
        self.bill(contract, date(2026, 11, 1))
        contract.action_pause(date_pause=date(2026, 11, 21))
        message = self.assertToldOnce(contract, "is paused")
        self.assertIn("What this means for your invoices", message.body)
        self.assertIn("33.33", message.body)  # the pause's credit, as said
        contract.action_resume(date_resume=date(2026, 11, 25))
        contract.action_renew(months=12)
        message = self.assertToldOnce(contract, "is renewed until")
        self.assertIn("10/31/2028", message.body)
        contract.action_close(date_close=date(2026, 11, 30), reason=self.reason)
        self.assertToldOnce(contract, "ends on 11/30/2026")

    @freeze_time("2026-11-21")
    def test_a_close_already_decided_is_told_once(self):
        """Confirmed again (a second Accept and Close, a cancelled order),
        a close already decided for a later date is not told again."""
        contract = self.create_contract(start=date(2026, 11, 1))
        self.bill(contract, date(2026, 11, 1))
        contract.action_close(date_close=date(2026, 12, 15), reason=self.reason)
        self.assertEqual(contract.state, "running")  # until its last invoice
        contract.action_close(date_close=date(2026, 12, 15), reason=self.reason)
        self.assertToldOnce(contract, "ends on 12/15/2026")

    @freeze_time("2026-11-21")
    def test_only_the_contracts_changed_are_told(self):
        """Closing a draft with a running contract in one call: only the
        running contract's customer is told (a draft closes without a
        word)."""
        running = self.create_contract(start=date(2026, 11, 1))
        draft = self.create_contract(
            start=date(2026, 11, 1), partner_id=self.partner_b.id, start_it=False
        )
        self.partner_b.email = "partner_b@example.com"
        (running | draft).action_close(
            date_close=date(2026, 11, 30), reason=self.reason
        )
        self.assertToldOnce(running, "ends on 11/30/2026")
        self.assertFalse(self.notices(draft, "ends on"))

    @freeze_time("2026-11-21")
    def test_untold_when_asked(self):
        contract = self.create_contract(
            start=date(2026, 11, 1), date_end=date(2027, 10, 31)
        )
        before = len(contract.message_ids)
        contract.action_pause(date_pause=date(2026, 11, 21), notify=False)
        contract.action_resume(date_resume=date(2026, 11, 25))
        contract.action_renew(months=12, notify=False)
        wizard = (
            self.env["recurring.contract.close.wizard"]
            .with_context(active_ids=contract.ids)
            .create(
                {
                    "date_close": date(2026, 11, 30),
                    "respect_terms": False,
                    "reason_id": self.reason.id,
                }
            )
        )
        self.assertTrue(wizard.notify_customer)  # on by default
        wizard.notify_customer = False
        wizard.action_close()
        told = contract.message_ids[: len(contract.message_ids) - before].filtered(
            lambda m: contract.partner_id in m.partner_ids
        )
        self.assertFalse(told)

    @freeze_time("2026-11-21")
    def test_price_change_is_told_from_the_dialog(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        wizard = (
            self.env["recurring.contract.line.change.wizard"]
            .with_context(active_id=contract.line_ids.id)
            .create(
                {
                    "date_effective": date(2026, 11, 16),
                    "quantity": 1,
                    "price_unit": 200.0,
                }
            )
        )
        self.assertTrue(wizard.notify_customer)
        wizard.action_change()
        message = self.assertToldOnce(contract, "bills changes")
        # November: 15 days more at 100 more, 50.00 billed by the next run.
        self.assertIn("50.00", message.body)
        moves = self.bill(contract, date(2026, 11, 21))
        self.assertEqual(moves.amount_untaxed, 50.0)

    @freeze_time("2026-11-21")
    def test_notices_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["recurring_billing"], ["es_ES"], overwrite=True
        )
        self.partner_a.lang = "es_ES"
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        contract.action_pause(date_pause=date(2026, 11, 21))
        message = self.notices(contract, "en pausa")
        self.assertEqual(len(message), 1, contract.message_ids.mapped("subject"))
        self.assertIn("Qué significa para sus facturas", message.body)
        self.assertIn("No se factura nada desde el", message.body)
        self.assertNotIn("Nothing is billed", message.body)


@tagged("post_install", "-at_install")
class TestFailedPaymentNotice(RecurringPaymentCommon):
    def failure_notices(self, contract):
        return contract.message_ids.filtered(
            lambda m: "payment failed for your contract" in (m.subject or "")
        )

    def test_one_email_per_contract_and_run(self):
        """Four invoices of one contract fail in one run: one email lists
        them all, with the link to update the card; the run again sends
        nothing; the next failed retry sends one more."""
        token = self.create_token(self.partner_a, "error", details="0000")
        contract = self.create_contract(
            start=date(2025, 10, 1), payment_token_id=token.id
        )
        invoices = self.bill(contract, date(2026, 1, 1))
        self.assertEqual(len(invoices), 4)
        self.assertEqual(self.charge(date(2026, 1, 1)), 4)
        notice = self.failure_notices(contract)
        self.assertEqual(len(notice), 1)
        self.assertIn(self.partner_a, notice.partner_ids)
        self.assertEqual(notice.message_type, "comment")
        self.assertIn(notice, contract.website_message_ids)
        for invoice in invoices:
            self.assertIn(invoice.name, notice.body)
            self.assertIn(invoice.get_portal_url().replace("&", "&amp;"), notice.body)
        self.assertIn(
            contract.get_portal_url(suffix="/payment_method").replace("&", "&amp;"),
            notice.body,
        )
        self.assertFalse(
            invoices.message_ids.filtered(
                lambda m: "payment of invoice" in (m.subject or "")
            )
        )
        self.assertEqual(
            self.env["mail.mail"].search_count([("mail_message_id", "=", notice.id)]),
            1,
        )
        self.assertFalse(any(invoices.mapped("recurring_failure_to_notify")))
        # Run again: nothing due, nothing told twice.
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        self.assertEqual(len(self.failure_notices(contract)), 1)
        # The retry fails again: one more email, for the four.
        self.assertEqual(self.charge(date(2026, 1, 2)), 4)
        self.assertEqual(len(self.failure_notices(contract)), 2)

    def test_failure_notice_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["recurring_billing"], ["es_ES"], overwrite=True
        )
        self.partner_a.lang = "es_ES"
        token = self.create_token(self.partner_a, "error", details="0001")
        contract, invoice = self.create_charged_contract(token)
        self.charge(date(2026, 1, 1))
        notice = contract.message_ids.filtered(
            lambda m: "pago fallido de su contrato" in (m.subject or "")
        )
        self.assertEqual(len(notice), 1, contract.message_ids.mapped("subject"))
        self.assertIn("No hemos podido cobrar", notice.body)
        self.assertIn(invoice.name, notice.body)
