# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import format_date

from ..core import schedule


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

    @api.depends("contract_ids", "months")
    def _compute_summary(self):
        for wizard in self:
            wizard.reopens = any(c.state == "closed" for c in wizard.contract_ids)
            sentences = []
            for contract in wizard.contract_ids.filtered("date_end"):
                if wizard.months < 1:
                    break
                new_end = schedule.extend_term(contract.date_end, wizard.months)
                sentence = _(
                    "%(name)s: the end date moves from %(old)s to %(new)s.",
                    name=contract.name,
                    old=format_date(self.env, contract.date_end),
                    new=format_date(self.env, new_end),
                )
                if contract.state == "closed":
                    resume = max(
                        contract.company_id._get_recurring_today(),
                        contract.date_end + timedelta(1),
                    )
                    sentence += " " + _(
                        "The contract is closed: renewing reopens it and bills "
                        "again from %(date)s.",
                        date=format_date(self.env, resume),
                    )
                    if resume > contract.date_end + timedelta(1):
                        sentence += " " + _(
                            "The time it was closed, %(start)s - %(end)s, is not "
                            "billed.",
                            start=format_date(
                                self.env, contract.date_end + timedelta(1)
                            ),
                            end=format_date(self.env, resume - timedelta(1)),
                        )
                sentences.append(sentence)
            wizard.summary = "\n".join(sentences)

    def action_renew(self):
        self.ensure_one()
        self.contract_ids.action_renew(months=self.months)
        return {"type": "ir.actions.act_window_close"}
