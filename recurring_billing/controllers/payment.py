# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Paying an invoice of a contract in the portal, with Odoo's own payment
form: the customer may tick "charge automatically", which saves the payment
method on the contract once the payment is done ."""

from odoo import _
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request, route

from odoo.addons.account.controllers.portal import PortalAccount
from odoo.addons.account_payment.controllers.payment import PaymentPortal


def _get_autopay_contract(invoice_sudo):
    """The contract an invoice's payment may be saved on: the invoice's
    contract, still billing, when the logged-in user belongs to its customer.
    Payment methods are saved for logged-in customers only (as Odoo's own
    "Save my payment details"), never for a visitor with a link."""
    contract = invoice_sudo.recurring_contract_id
    user = request.env.user
    if (
        not contract
        or user._is_public()
        or contract.state not in ("running", "paused")
        or user.partner_id.commercial_partner_id != contract.commercial_partner_id
    ):
        return contract.browse()
    return contract


class RecurringInvoicePortal(PortalAccount):
    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        # The payment form's "charge automatically" box (see
        # recurring_payment_portal_templates.xml), only where it can work.
        if invoice._has_to_be_paid():
            values["recurring_autopay_contract"] = _get_autopay_contract(
                invoice.sudo()  # the page's own access check passed above
            )
        return values


class RecurringPaymentPortal(PaymentPortal):
    @route()
    def invoice_transaction(self, invoice_id, access_token, **kwargs):
        """Odoo's invoice payment, plus the customer's choice to be charged
        automatically from now on: the transaction is tokenized and remembers
        the contract; once it is done, its token is saved on the contract
        (payment.transaction._post_process)."""
        charge_automatically = kwargs.pop("recurring_charge_automatically", False)
        contract = request.env["recurring.contract"]
        if charge_automatically:
            invoice_sudo = self._document_check_access(
                "account.move", invoice_id, access_token
            )
            contract = _get_autopay_contract(invoice_sudo)
            if not contract:
                raise ValidationError(
                    _(
                        "Only the customer of a running contract, logged in, "
                        "can be charged automatically for it."
                    )
                )
            if kwargs.get("flow") != "token":
                kwargs["tokenization_requested"] = True
        processing_values = super().invoice_transaction(
            invoice_id, access_token, **kwargs
        )
        if contract:
            # sudo: the transaction was just created for this invoice by the
            # route above, and the contract checked against the user.
            request.env["payment.transaction"].sudo().search(
                [("reference", "=", processing_values["reference"])]
            ).recurring_autopay_contract_id = contract
        return processing_values

    @route()
    def payment_method(self, **kwargs):
        """Odoo's page to add a payment method; opened from a contract
        (``contract_id``), it lands back on the contract's payment method
        page once the card is saved, to choose it for the contract."""
        contract_id = kwargs.pop("contract_id", None)
        response = super().payment_method(**kwargs)
        if contract_id and str(contract_id).isdigit():
            try:
                contract_sudo = self._document_check_access(
                    "recurring.contract", int(contract_id)
                )
            except (AccessError, MissingError):
                return response  # not theirs: Odoo's own landing page
            response.qcontext["landing_route"] = contract_sudo.get_portal_url(
                suffix="/payment_method"
            )
        return response
