# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.recurring_billing.tools.concurrency import CONCURRENCY_ERRORS


class RecurringBillingEngine(models.AbstractModel):
    _inherit = "recurring.billing.engine"

    @api.model
    def _is_retryable_error(self, error):
        """A Spanish tax agency module may take the company's document chain
        without waiting and report a chain held by another transaction as a
        UserError raised from the lock error (OCA's VERI*FACTU module: "Could
        not obtain last document sent to VERI*FACTU for chaining"). Another
        worker or a user posting by hand holds it until they commit: the
        batch is billed again, never marked as a problem of its contracts.
        Read from the error's cause, so that no module is imported here."""
        return super()._is_retryable_error(error) or (
            isinstance(error, UserError)
            and isinstance(error.__cause__, CONCURRENCY_ERRORS)
        )
