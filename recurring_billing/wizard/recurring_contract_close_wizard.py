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
        default=lambda self: self.env["recurring.contract"]._get_dialog_today(
            self.env.context.get("active_ids")
        ),
        help="Last day billed (the day the close is requested, when the "
        "contract's notice period and minimum term apply). Periods still owed "
        "up to it are billed; a period billed in advance past it is credited "
        "for the unused days when the contract prorates.",
    )
    respect_terms = fields.Boolean(
        string="Apply Notice and Minimum Term",
        default=True,
        help="The close takes effect after the contract's notice period and "
        "not before the end of its minimum term. Untick to close on the date "
        "above whatever the terms say.",
    )
    reason_id = fields.Many2one(
        comodel_name="recurring.contract.close.reason",
        string="Reason",
        required=True,
    )
    notify_customer = fields.Boolean(
        string="Email the Customer",
        default=True,
        help="Email the customer the close and what it does to their invoices, in "
        "their language (shown in the portal's history).",
    )
    summary = fields.Text(
        compute="_compute_summary",
        help="What closing on this date does to money, said before confirming.",
    )

    def _get_close_date(self, contract):
        """The day ``contract`` closes: the date asked, or the first day the
        contract's terms allow."""
        self.ensure_one()
        if self.respect_terms:
            return contract._get_effective_close_date(self.date_close)
        return self.date_close

    @api.depends("contract_ids", "date_close", "respect_terms")
    def _compute_summary(self):
        for wizard in self:
            wizard.summary = (
                "\n".join(
                    contract._get_close_summary(wizard._get_close_date(contract))
                    for contract in wizard.contract_ids
                )
                if wizard.date_close
                else False
            )

    def action_close(self):
        self.ensure_one()
        for contract in self.contract_ids:
            contract.action_close(
                date_close=self._get_close_date(contract),
                reason=self.reason_id,
                notify=self.notify_customer,
            )
        return {"type": "ir.actions.act_window_close"}
