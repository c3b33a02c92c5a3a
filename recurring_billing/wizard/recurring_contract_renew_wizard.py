# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RecurringContractRenewWizard(models.TransientModel):
    _name = "recurring.contract.renew.wizard"
    _description = "Renew a Recurring Contract"

    contract_ids = fields.Many2many(
        comodel_name="recurring.contract",
        default=lambda self: self.env.context.get("active_ids"),
        required=True,
    )
    months = fields.Integer(string="Extend by (months)", default=12, required=True)
    reopens = fields.Boolean(
        compute="_compute_summary",
        help="A closed contract is among them: renewing reopens it.",
    )
    summary = fields.Text(compute="_compute_summary")
    notify_customer = fields.Boolean(
        string="Email the Customer",
        default=True,
        help="Email the customer the new term and what it bills, in their language "
        "(shown in the portal's history).",
    )

    @api.depends("contract_ids", "months")
    def _compute_summary(self):
        for wizard in self:
            wizard.reopens = any(c.state == "closed" for c in wizard.contract_ids)
            wizard.summary = (
                "\n".join(
                    contract._get_renew_summary(wizard.months)
                    for contract in wizard.contract_ids.filtered("date_end")
                )
                if wizard.months >= 1
                else ""
            )

    def action_renew(self):
        self.ensure_one()
        self.contract_ids.action_renew(months=self.months, notify=self.notify_customer)
        return {"type": "ir.actions.act_window_close"}
