# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    recurring_journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Default Contract Journal",
        domain="[('type', '=', 'sale'), ('company_id', '=', id)]",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # The billing scheduled action runs as a dedicated user: it must see
        # every company to bill its contracts. Only this module's own bot is
        # touched, and only to add the new companies (sudo: writing users'
        # companies needs settings rights the creator may not have).
        bot = self.env.ref(
            "recurring_billing.user_billing_bot", raise_if_not_found=False
        )
        if bot:
            bot.sudo().company_ids = [fields.Command.link(c.id) for c in companies]
        return companies
