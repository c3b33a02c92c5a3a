# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import Command, models

_logger = logging.getLogger(__name__)


class RecurringContract(models.Model):
    """What the customer is told when their contract starts or changes
    (pause, close, renewal, a price change): an email in their language,
    posted on the contract as a comment so that the portal's history shows
    it. Queued, never sent inline."""

    _inherit = "recurring.contract"

    def _get_customer_summaries(self, summary):
        """{contract: ``summary(contract)``} computed in each customer's
        language: the dialog's own words, said before the change is written
        (what it will do), for the contracts whose customer has an email."""
        return {
            contract: summary(contract.with_context(lang=contract.partner_id.lang))
            for contract in self
            if contract.partner_id.email
        }

    def _send_customer_notice(self, template_xmlid, summaries=None):
        """Email the customer of each contract the template ``template_xmlid``
        (``summaries``: {contract: text} the email says, from
        ``_get_customer_summaries``). Posted as a comment with the comment
        subtype: visible to the customer in the portal's history."""
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        contracts = self.filtered(lambda c: c.partner_id.email)
        if summaries is not None:
            # Only the contracts the action changed (a draft closed, or one
            # already closed, is told nothing).
            contracts = contracts.filtered(lambda c: c in summaries)
        summaries = summaries or {}
        for contract in contracts:
            if not template._render_field("email_from", contract.ids)[contract.id]:
                # No salesperson, company or user address to send from:
                # posting would raise and undo the change itself.
                _logger.warning(
                    "No sender address for %s: set the company's email", contract.name
                )
                continue
            contract.with_context(
                mail_notify_force_send=False,
                recurring_notice_summary=summaries.get(contract, ""),
            ).message_post_with_source(
                template,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                # The customer only, as the template says: on 19.0 the
                # composer also made the user posting it a recipient of a
                # contract's first comment.
                partner_ids=[Command.set(contract.partner_id.ids)],
            )

    def _send_activation_notice(self):
        """Tell the customer what will be billed, how often and from when,
        before the first invoice arrives."""
        self._send_customer_notice(
            "recurring_billing.mail_template_contract_activation"
        )
