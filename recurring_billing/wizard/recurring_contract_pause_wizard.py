# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RecurringContractPauseWizard(models.TransientModel):
    """The Pause and Resume dialogs: the date, and what will and will not be
    billed, said before confirming (as the Close dialog does)."""

    _name = "recurring.contract.pause.wizard"
    _description = "Pause or Resume a Recurring Contract"

    contract_ids = fields.Many2many(
        comodel_name="recurring.contract",
        default=lambda self: self.env.context.get("active_ids"),
        required=True,
    )
    mode = fields.Selection(
        selection=[("pause", "Pause"), ("resume", "Resume")],
        default="pause",
        required=True,
    )
    date = fields.Date(
        string="From",
        required=True,
        default=lambda self: self.env["recurring.contract"]._get_dialog_today(
            self.env.context.get("active_ids")
        ),
        help="Pause: the first day not billed. Resume: the first day billed again.",
    )
    summary = fields.Text(compute="_compute_summary")
    notify_customer = fields.Boolean(
        string="Email the Customer",
        default=True,
        help="Pause: email the customer what the pause does, in their language "
        "(shown in the portal's history).",
    )

    @api.depends("contract_ids", "mode", "date")
    def _compute_summary(self):
        for wizard in self:
            if not wizard.date:
                wizard.summary = False
                continue
            wizard.summary = "\n".join(
                contract._get_pause_summary(wizard.date)
                if wizard.mode == "pause"
                else contract._get_resume_summary(wizard.date)
                for contract in wizard.contract_ids
            )

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "pause":
            self.contract_ids.action_pause(
                date_pause=self.date, notify=self.notify_customer
            )
        else:
            self.contract_ids.action_resume(date_resume=self.date)
        return {"type": "ir.actions.act_window_close"}
