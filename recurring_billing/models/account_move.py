# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    recurring_contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Recurring Contract",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
    )
    recurring_period_id = fields.Many2one(
        comodel_name="recurring.contract.period",
        string="Billed Period",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )

    def action_open_recurring_contract(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "recurring.contract",
            "view_mode": "form",
            "res_id": self.recurring_contract_id.id,
        }
