# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RecurringContractRenewWizard(models.TransientModel):
    _name = "recurring.contract.renew.wizard"
    _description = "Renew a Recurring Contract"

    contract_ids = fields.Many2many(
        comodel_name="recurring.contract",
        default=lambda self: self.env.context.get("active_ids"),
        required=True,
    )
    months = fields.Integer(string="Extend by (months)", default=12, required=True)

    def action_renew(self):
        self.ensure_one()
        self.contract_ids.action_renew(months=self.months)
        return {"type": "ir.actions.act_window_close"}
