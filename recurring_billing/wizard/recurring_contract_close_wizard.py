# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RecurringContractCloseWizard(models.TransientModel):
    _name = "recurring.contract.close.wizard"
    _description = "Close a Recurring Contract"

    contract_ids = fields.Many2many(
        comodel_name="recurring.contract",
        default=lambda self: self.env.context.get("active_ids"),
        required=True,
    )
    date_close = fields.Date(
        string="Close On",
        required=True,
        default=fields.Date.context_today,
        help="Last day billed. Periods still owed up to this day are billed "
        "(prorated when the contract says so) before the contract closes.",
    )
    reason_id = fields.Many2one(
        comodel_name="recurring.contract.close.reason",
        string="Reason",
        required=True,
    )

    def action_close(self):
        self.ensure_one()
        self.contract_ids.action_close(
            date_close=self.date_close, reason=self.reason_id
        )
        return {"type": "ir.actions.act_window_close"}
