# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import Command, api, models


class RecurringReminderService(models.AbstractModel):
    """Tells customers before money moves: some days before an invoice, and
    some days before a term renews itself (both settings; 0 is off). Run by
    the scheduled action ``recurring_billing.ir_cron_send_reminders``."""

    _name = "recurring.reminder.service"
    _description = "Recurring Billing Reminders"

    @api.model
    def _run(self):
        """Each company's reminders on its own date (its address's time
        zone), as the billing run: a reminder "3 days before" must count
        from the day the invoice will be dated, not the server's."""
        for company in self.env["res.company"].search([]):
            today = company._get_recurring_today()
            self._send_invoice_reminders(today, company)
            self._send_renewal_notices(today, company)
            self._send_indexation_notices(today, company)

    @api.model
    def _company_domain(self, company):
        return [("company_id", "=", company.id)] if company else []

    @api.model
    def _get_days_setting(self, key):
        return int(
            self.env["ir.config_parameter"]
            .sudo()  # technical setting, read-only use
            .get_param(key, 0)
        )

    @api.model
    def _send(self, template_xmlid, domain):
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        contracts = self.env["recurring.contract"].search(domain)
        for contract in contracts.filtered(lambda c: c.partner_id.email):
            contract.message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                # The customer only, as the template says (see
                # recurring.contract._send_customer_notice).
                partner_ids=[Command.set(contract.partner_id.ids)],
            )

    @api.model
    def _send_invoice_reminders(self, today, company=None):
        days = self._get_days_setting("recurring_billing.reminder_days")
        if days > 0:
            self._send(
                "recurring_billing.mail_template_contract_reminder",
                [
                    *self._company_domain(company),
                    ("state", "=", "running"),
                    ("next_invoice_date", "=", today + timedelta(days)),
                ],
            )

    @api.model
    def _send_renewal_notices(self, today, company=None):
        days = self._get_days_setting("recurring_billing.renewal_reminder_days")
        if days > 0:
            self._send(
                "recurring_billing.mail_template_contract_renewal",
                [
                    *self._company_domain(company),
                    ("state", "=", "running"),
                    ("auto_renew", "=", True),
                    ("date_end", "=", today + timedelta(days)),
                ],
            )

    @api.model
    def _send_indexation_notices(self, today, company=None):
        """The customer is told the old and new amounts before each yearly
        price update (the contract's own notice days)."""
        contracts = self.env["recurring.contract"].search(
            [
                *self._company_domain(company),
                ("state", "=", "running"),
                ("indexation_method", "!=", "none"),
                ("indexation_notice_days", ">", 0),
            ]
        )
        self.env["recurring.contract.indexation"]._send_notices(contracts, today)
