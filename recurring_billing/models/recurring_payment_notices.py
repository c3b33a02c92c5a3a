# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import Command, api, models

_logger = logging.getLogger(__name__)


class RecurringPaymentService(models.AbstractModel):
    """What the customer is told of failed charges: one email per contract
    and run listing every invoice whose charge failed (and that they were
    not told of yet), never one per invoice."""

    _inherit = "recurring.payment.service"

    @api.model
    def _send_failure_email(self, invoice):
        self._post_template(invoice, "recurring_billing.mail_template_payment_failed")

    @api.model
    def _send_failure_notices(self, invoices=None):
        """Tell each customer of the charges that failed and that they were
        not told of yet (all of them, or those of ``invoices``): one email
        per contract listing every such invoice, with the links to pay and
        to update the payment method, posted on the contract (its portal
        history shows it). An invoice of a former customer of the contract
        is told to that customer on the invoice itself. The flags are
        cleared in the same transaction as the emails are queued: a run
        again sends nothing twice."""
        domain = [("recurring_failure_to_notify", "=", True)]
        if invoices is not None:
            domain.append(("id", "in", invoices.ids))
        pending = self.env["account.move"].search(domain, order="id")
        if invoices is not None and pending:
            # Every untold failure of those contracts, in the same email.
            pending = self.env["account.move"].search(
                [
                    ("recurring_failure_to_notify", "=", True),
                    ("recurring_contract_id", "in", pending.recurring_contract_id.ids),
                ],
                order="id",
            )
        template = self.env.ref(
            "recurring_billing.mail_template_payment_failed_contract",
            raise_if_not_found=False,
        )
        for contract, group in pending.grouped("recurring_contract_id").items():
            current = group.filtered(self._is_current_customer_invoice)
            for invoice in group - current:
                self._send_failure_email(invoice)
            if current and template and contract.partner_id.email:
                if template._render_field("email_from", contract.ids)[contract.id]:
                    # The template lists the contract's flagged invoices.
                    contract.with_context(
                        mail_notify_force_send=False
                    ).message_post_with_source(
                        template,
                        message_type="comment",
                        subtype_xmlid="mail.mt_comment",
                        # The customer only, as the template says (see
                        # _send_customer_notice).
                        partner_ids=[Command.set(contract.partner_id.ids)],
                    )
                else:
                    _logger.warning(
                        "No sender address for %s: set the company's email",
                        contract.name,
                    )
            group._write_recurring_state({"recurring_failure_to_notify": False})
