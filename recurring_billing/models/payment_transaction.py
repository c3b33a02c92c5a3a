# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    recurring_autopay_contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Charge Contract Automatically",
        readonly=True,
        index="btree_not_null",
        help="The customer paid this invoice of the contract and asked to be "
        "charged automatically from now on: once done, the transaction's "
        "payment method is saved on the contract.",
    )

    def _post_process(self):
        """A charge of a contract invoice answered later (a provider that
        said ``pending``, then confirmed or refused through its webhook):
        Odoo's post-processing reconciles the payment, then the attempt
        follows the transaction (paid, or a retry scheduled). A payment made
        in the portal with "charge automatically" saves its payment method
        on the contract."""
        result = super()._post_process()
        attempts = (
            self.env["recurring.payment.attempt"]
            .sudo()  # technical follow-up of the transactions being processed
            .search([("transaction_id", "in", self.ids), ("state", "=", "pending")])
        )
        if attempts:
            service = self.env["recurring.payment.service"]
            service._apply_transaction_state(attempts)
            service._send_failure_notices(attempts.invoice_id)
        for tx in self.filtered(
            lambda t: t.state == "done" and t.recurring_autopay_contract_id
        ):
            tx.recurring_autopay_contract_id._save_payment_token_from_transaction(tx)
        return result
