# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


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

    summary = fields.Text(
        compute="_compute_summary",
        help="What closing on this date does to money, said before confirming.",
    )

    @api.depends("contract_ids", "date_close")
    def _compute_summary(self):
        for wizard in self:
            wizard.summary = (
                "\n".join(
                    contract._get_close_summary(wizard.date_close)
                    for contract in wizard.contract_ids
                )
                if wizard.date_close
                else False
            )

    def action_close(self):
        self.ensure_one()
        self.contract_ids.action_close(
            date_close=self.date_close, reason=self.reason_id
        )
        return {"type": "ir.actions.act_window_close"}
