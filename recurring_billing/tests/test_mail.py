# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta

from odoo import fields
from odoo.tests import tagged

from .common import RecurringBillingCommon, run_invoice_sending


@tagged("post_install", "-at_install")
class TestMail(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Mails are queued as in production (the test base class mutes them).
        cls.env = cls.env(context={**cls.env.context, "mail_notify_force_send": False})
        cls.Contract = cls.env["recurring.contract"]

    def queued_mails(self, record):
        return self.env["mail.mail"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)]
        )

    def test_activation_notice_queued_on_start(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        template = self.env.ref("recurring_billing.mail_template_contract_activation")
        message = contract.message_ids.filtered(
            lambda m: m.subject and contract.name in m.subject
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.partner_a)
        self.assertIn("/my/contracts/", message.body)
        mail = self.queued_mails(contract)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(mail.recipient_ids, self.partner_a)
        self.assertTrue(template.subject)

    def test_activation_notice_in_customer_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["recurring_billing"], ["es_ES"], overwrite=True
        )
        self.partner_a.lang = "es_ES"
        contract = self.create_contract(start=date(2026, 1, 1))
        mail = self.queued_mails(contract)
        self.assertIn("Estimado", mail.body_html)
        self.assertIn("contrato", mail.subject)

    def test_reminder_before_invoice(self):
        self.env["ir.config_parameter"].set_param("recurring_billing.reminder_days", 3)
        today = fields.Date.today()
        contract = self.create_contract(start=today + timedelta(days=3))
        other = self.create_contract(start=today + timedelta(days=4))
        self.Contract._cron_send_reminders()
        reminder = self.env.ref("recurring_billing.mail_template_contract_reminder")
        subject = reminder._render_field("subject", contract.ids)[contract.id]
        self.assertTrue(contract.message_ids.filtered(lambda m: m.subject == subject))
        self.assertFalse(
            other.message_ids.filtered(lambda m: m.subject and "upcoming" in m.subject)
        )

    def test_reminder_off_by_default(self):
        contract = self.create_contract(start=fields.Date.today() + timedelta(days=3))
        count = len(contract.message_ids)
        self.Contract._cron_send_reminders()
        self.assertEqual(len(contract.message_ids), count)

    def test_invoice_email_through_odoo_sending(self):
        # Odoo's sending follows the customer's preference (email by default;
        # the test company's fixtures leave it on "manual").
        self.partner_a.invoice_sending_method = "email"
        contract = self.create_contract(
            start=date(2026, 1, 1), invoice_action="post_send"
        )
        move = self.bill(contract, date(2026, 1, 1))
        self.assertTrue(move.sending_data)
        run_invoice_sending(self)
        self.assertFalse(move.sending_data)
        move.invalidate_recordset()
        message = move.message_ids.filtered(
            lambda m: m.message_type == "comment" and m.partner_ids
        )
        self.assertEqual(message.partner_ids, self.partner_a)
        self.assertTrue(
            message.attachment_ids.filtered(
                lambda a: move.name.replace("/", "_") in a.name
            )
        )
        self.assertTrue(move.is_move_sent)
