# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The activation notice now names the period ("per month") and the day the
first invoice is really issued. Its record is noupdate (users may edit their
templates), so the new wording is loaded with Odoo's own "Reset Template",
which also reloads its translations."""

from odoo import SUPERUSER_ID, api

from odoo.addons.recurring_billing.tools import compat


def migrate(cr, version):
    if not version or compat.ran_before(version, "1.2.0"):
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    template = env.ref(
        "recurring_billing.mail_template_contract_activation", raise_if_not_found=False
    )
    if template:
        template.reset_template()
