# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    recurring_contract_count = fields.Integer(
        string="Contracts", compute="_compute_recurring_contract_count"
    )

    def _compute_recurring_contract_count(self):
        counts = dict(
            self.env["recurring.contract"]._read_group(
                [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.recurring_contract_count = counts.get(
                partner.commercial_partner_id, 0
            )

    def action_view_recurring_contracts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "recurring_billing.action_recurring_contract"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id)
        ]
        action["context"] = {"default_partner_id": self.id}
        return action
