# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, models


class RecurringContract(models.Model):
    """The contract as its customer sees it: the portal page and its link,
    the invoices listed there, the PDF's file name, the email that sends the
    contract, and the scheduled reminders and notices."""

    _inherit = "recurring.contract"

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for contract in self:
            contract.access_url = f"/my/contracts/{contract.id}"
        return res

    def action_contract_send(self):
        """Open the composer with the contract email and its PDF."""
        self.ensure_one()
        template = self.env.ref(
            "recurring_billing.mail_template_contract_send", raise_if_not_found=False
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Send Contract"),
            "view_mode": "form",
            "res_model": "mail.compose.message",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "recurring.contract",
                "default_res_ids": self.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": (
                    "mail.mail_notification_layout_with_responsible_signature"
                ),
                "force_email": True,
            },
        }

    # -------------------------------------------------------------------------
    # PORTAL
    # -------------------------------------------------------------------------

    def _get_portal_invoices(self):
        """Posted invoices of the contract, as shown on the portal. Called on
        a record the portal controller checked (rule or access token)."""
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda m: m.state == "posted"
            and m.move_type in ("out_invoice", "out_refund")
            # An invoice of a former customer of the contract is not theirs.
            and m.commercial_partner_id == self.commercial_partner_id
        ).sorted("invoice_date", reverse=True)

    def _get_report_base_filename(self):
        self.ensure_one()
        return _("Contract %(name)s", name=self.name)

    def _get_portal_return_action(self):
        self.ensure_one()
        return self.env.ref("recurring_billing.action_recurring_contract")

    # -------------------------------------------------------------------------
    # MAIL
    # -------------------------------------------------------------------------

    def _unsubscribe_former_customers(self, old_customers):
        """A contract handed to another customer (``old_customers``:
        {contract: commercial partner before the write}) stops mailing the
        former one: their contacts who follow it (written to from its
        chatter, or answering a notice) would otherwise get the new
        customer's notices and reminders. A contact of the new customer, or
        a change between contacts of the same customer, keeps following."""
        for contract in self:
            former = old_customers[contract]
            if former == contract.commercial_partner_id:
                continue
            leaving = contract.message_partner_ids.filtered(
                lambda partner, former=former: partner.commercial_partner_id == former
            )
            if leaving:
                contract.message_unsubscribe(partner_ids=leaving.ids)

    def _cron_send_reminders(self):
        """The scheduled action ``recurring_billing.ir_cron_send_reminders``."""
        return self.env["recurring.reminder.service"]._run()
