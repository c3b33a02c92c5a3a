# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

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
    def _set_recurring_billing_user_groups(self):
        """Give the billing user (data/res_users_data.xml) its groups. From
        Python, not XML: the field is ``groups_id`` on 18.0 and ``group_ids``
        on 19.0, and a data file cannot branch."""
        user = self.env.ref("recurring_billing.user_billing_bot")
        groups = self.env["res.groups"]
        for xmlid in BILLING_USER_GROUPS:
            groups |= self.env.ref(xmlid)
        user.write({compat.USER_GROUPS_FIELD: [(6, 0, groups.ids)]})
