# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _post_process(self):
        """A charge of a contract invoice answered later (a provider that
        said ``pending``, then confirmed or refused through its webhook):
        Odoo's post-processing reconciles the payment, then the attempt
        follows the transaction (paid, or a retry scheduled)."""
        result = super()._post_process()
        attempts = (
            self.env["recurring.payment.attempt"]
            .sudo()  # technical follow-up of the transactions being processed
            .search([("transaction_id", "in", self.ids), ("state", "=", "pending")])
        )
        if attempts:
            self.env["recurring.payment.service"]._apply_transaction_state(attempts)
        return result
