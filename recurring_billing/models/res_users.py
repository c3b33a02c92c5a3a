# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, models

from ..tools import compat

# What the billing scheduled action's user may do: invoice and sell, bound by
# record rules (unlike the superuser).
BILLING_USER_GROUPS = (
    "base.group_user",
    "account.group_account_invoice",
    "sales_team.group_sale_salesman",
)


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _setup_recurring_billing_user(self):
        """Give the billing user (data/res_users_data.xml) its groups and
        every company of the database (it bills them all; companies made
        later are added as they are created, see res.company). From Python,
        not XML: the groups field is ``groups_id`` on 18.0 and ``group_ids``
        on 19.0, and a data file cannot branch. At install, so that no
        billing run has to add a company to it: two runs at once would wait
        for each other on that row."""
        user = self.env.ref("recurring_billing.user_billing_bot")
        groups = self.env["res.groups"]
        for xmlid in BILLING_USER_GROUPS:
            groups |= self.env.ref(xmlid)
        user.write(
            {
                compat.USER_GROUPS_FIELD: [Command.set(groups.ids)],
                "company_ids": [
                    Command.link(company.id)
                    for company in self.env["res.company"].search([])
                ],
            }
        )
