# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

_logger = logging.getLogger(__name__)


class RecurringContract(models.Model):
    """Getting paid, the contract's side: its saved payment method, the
    "payment failing" flag, and the customer's cancellation request. The
    charging itself is done by ``recurring.payment.service``."""

    _inherit = "recurring.contract"

    payment_token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Payment Method",
        copy=False,
        tracking=True,
        ondelete="set null",
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        help="Saved payment method of the customer: each posted invoice of "
        "the contract is charged on it automatically.",
    )
    payment_failing = fields.Boolean(
        string="Payment Failing",
        copy=False,
        readonly=True,
        tracking=True,
        help="An automatic charge of one of the contract's invoices failed and "
        "the invoice is still unpaid.",
    )
    payment_badge = fields.Char(
        string="Payment Status", compute="_compute_payment_badge"
    )
    cancel_request_date = fields.Date(
        string="Cancellation Requested On", copy=False, readonly=True
    )
    cancel_request_effective_date = fields.Date(
        string="Requested Cancellation Date",
        copy=False,
        readonly=True,
        help="The earliest date the contract can close on, after the notice "
        "period and the minimum term.",
    )
    cancel_request_reason = fields.Text(
        string="Cancellation Reason", copy=False, readonly=True
    )

    @api.depends("payment_failing")
    def _compute_payment_badge(self):
        for contract in self:
            contract.payment_badge = (
                _("Payment failing") if contract.payment_failing else False
            )

    @api.constrains("payment_token_id", "partner_id", "company_id")
    def _check_payment_token(self):
        for contract in self.filtered("payment_token_id"):
            token = contract.payment_token_id
            # sudo: providers are readable by administrators only; only the
            # token's own provider is read, to check it.
            provider = token.sudo().provider_id
            if token.partner_id.commercial_partner_id != contract.commercial_partner_id:
                raise ValidationError(
                    _(
                        "The payment method %(token)s belongs to %(owner)s, not to "
                        "the customer of contract %(name)s.",
                        token=token.display_name,
                        owner=token.partner_id.commercial_partner_id.display_name,
                        name=contract.name,
                    )
                )
            if not token.active or provider.state not in ("enabled", "test"):
                raise ValidationError(
                    _(
                        "The payment method %(token)s can no longer be charged "
                        "(archived, or its payment provider is disabled).",
                        token=token.display_name,
                    )
                )
            if provider.company_id != contract.company_id:
                raise ValidationError(
                    _(
                        "The payment method %(token)s is of a payment provider "
                        "of %(company)s, not of the contract's company "
                        "%(contract_company)s.",
                        token=token.display_name,
                        company=provider.company_id.display_name,
                        contract_company=contract.company_id.display_name,
                    )
                )

    @api.model
    def _cron_charge_invoices(self, date_ref=None):
        """The charging step: first charges and due retries of the posted
        invoices of contracts with a saved payment method, and the unpaid
        invoice policy of those without. Triggered by the billing scheduled
        action with each batch it posts (it runs once the batch committed),
        and run daily by its own scheduled action
        ``recurring_billing.ir_cron_charge_invoices``. Calling it again
        charges nothing already charged or pending."""
        return self.env["recurring.payment.service"]._run_scheduled(date_ref)

    @api.model
    def _charge_after_billing_run(self, done, date_ref=None):
        """Charge what a billing run posted. Under ir.cron, the charging
        scheduled action is only triggered, to run once this batch commits:
        never in the posting transaction, so a slow or failing payment
        provider never rolls back a posted invoice. Called from code (a
        shell, a server action, a test), nothing commits in between anyway:
        the charging step runs here, once every batch is billed (a provider
        error is still a failed charge of that invoice only)."""
        if self.env.context.get("ir_cron_progress_id"):
            if done:
                self.env["recurring.payment.service"]._trigger_charging()
            return
        try:
            with self.env.cr.savepoint():
                self._cron_charge_invoices(date_ref)
        except Exception:  # noqa: BLE001 - charging never undoes the billing
            # What was billed stands; the daily charging run tries again.
            _logger.exception("Charging after the billing run failed")

    def _get_failed_invoices_to_notify(self):
        """The invoices of the contract's customer whose charge failed and
        that the customer was not told of yet: what the failure notice
        lists (``recurring.payment.service._send_failure_notices``)."""
        self.ensure_one()
        return self.env["account.move"].search(
            [
                ("recurring_contract_id", "=", self.id),
                ("recurring_failure_to_notify", "=", True),
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ],
            order="invoice_date, id",
        )

    def _save_payment_token_from_transaction(self, transaction):
        """The customer paid an invoice of the contract and asked to be
        charged automatically: the transaction's payment method becomes the
        contract's, from the next charge on (open invoices included). A token
        the contract cannot use (another company's provider, say) is logged
        on the contract, never raised: the payment itself is done and must
        stay so."""
        self.ensure_one()
        token = transaction.token_id
        if not token:
            # The provider saved no payment method (tokenization refused).
            self._message_log(
                body=_(
                    "Payment %(reference)s is done, but the provider saved no "
                    "payment method: the contract is not charged automatically.",
                    reference=transaction.reference,
                )
            )
            return False
        if self.payment_token_id == token:
            return True
        try:
            with self.env.cr.savepoint():
                # sudo: called from the transaction's post-processing, for the
                # contract the portal route checked against the paying user.
                self.sudo().payment_token_id = token
        except ValidationError as error:
            self._message_log(body=error.args[0])
            return False
        self.message_post(
            body=_(
                "The customer chose to be charged automatically on %(token)s "
                "when paying %(reference)s.",
                token=token.display_name,
                reference=transaction.reference,
            ),
            author_id=transaction.partner_id.id,
        )
        return True

    def action_accept_cancellation(self):
        """The banner's 'Accept and Close': the Close dialog on the date the
        customer's request takes effect (their notice period and minimum
        term already counted), for the customer's request."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Close Contract"),
            "res_model": "recurring.contract.close.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_ids": self.ids,
                "active_id": self.id,
                "default_date_close": self.cancel_request_effective_date,
                "default_respect_terms": False,
                "default_reason_id": self.env["ir.model.data"]._xmlid_to_res_id(
                    "recurring_billing.close_reason_customer_request"
                ),
            },
        }

    def _request_cancellation(self, reason, date_request=None):
        """The customer asks to cancel (portal): record the request with the
        earliest date it can take effect (notice period, minimum term), and
        ask the salesperson to close it. Nothing closes here: the salesperson
        (or the contract's own term) does."""
        self.ensure_one()
        if self.state not in ("running", "paused"):
            raise UserError(_("Only a running or paused contract can be cancelled."))
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Please tell us why you want to cancel."))
        date_request = date_request or self.company_id._get_recurring_today()
        effective = self._get_effective_close_date(date_request)
        self._write_privileged(
            {
                "cancel_request_date": date_request,
                "cancel_request_effective_date": effective,
                "cancel_request_reason": reason,
            }
        )
        self.message_post(
            body=_(
                "The customer requested the cancellation of the contract, "
                "effective %(date)s at the earliest. Reason: %(reason)s",
                date=format_date(self.env, effective),
                reason=reason,
            )
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=(self.user_id or self.env.ref("base.user_admin")).id,
            summary=_("Cancellation requested by the customer"),
            # The reason is the customer's own text: shown as text, never as
            # HTML, not even a link (the note is an HTML field).
            note=escape(
                _(
                    "Close the contract on %(date)s or later. Reason: %(reason)s",
                    date=format_date(self.env, effective),
                    reason=reason,
                )
            ),
        )
        return effective
