# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models


class RecurringContractStartWizard(models.TransientModel):
    """The Start dialog: says when the first invoice is issued and that the
    customer is told (the seed's first best practice), with a way out."""

    _name = "recurring.contract.start.wizard"
    _description = "Start a Recurring Contract"

    contract_ids = fields.Many2many(
        comodel_name="recurring.contract",
        default=lambda self: self.env.context.get("active_ids"),
        required=True,
    )
    notify_customer = fields.Boolean(
        string="Email the Customer",
        default=True,
        help="Send the customer the activation notice: what is billed, how "
        "often, and when the first invoice is issued.",
    )
    summary = fields.Text(compute="_compute_summary")
    notice_summary = fields.Text(compute="_compute_summary")

    @api.depends("contract_ids", "notify_customer")
    def _compute_summary(self):
        for wizard in self:
            lines, notices = [], []
            for contract in wizard.contract_ids:
                lines.append(wizard._get_contract_summary(contract))
                if not wizard.notify_customer:
                    continue
                notices.append(
                    _(
                        "%(name)s: the activation notice is emailed to %(email)s.",
                        name=contract.name,
                        email=contract.partner_id.email,
                    )
                    if contract.partner_id.email
                    else _(
                        "%(name)s: %(customer)s has no email address, no notice "
                        "is sent.",
                        name=contract.name,
                        customer=contract.partner_id.display_name,
                    )
                )
            wizard.summary = "\n".join(lines)
            wizard.notice_summary = "\n".join(notices)

    def _get_contract_summary(self, contract):
        return contract._get_start_summary()

    def action_start(self):
        self.ensure_one()
        self.contract_ids.action_start(notify=self.notify_customer)
        return {"type": "ir.actions.act_window_close"}
