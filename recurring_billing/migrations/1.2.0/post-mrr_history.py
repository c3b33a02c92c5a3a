# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.2.0: the MRR history of the contracts that existed before MRR
movements did, built from their life as the database knows it (start date,
line dates, suspensions, end date) by the same code the lifecycle steps
call, ``_sync_mrr_movements``; then the MRR field, which now counts only
contracts that bill, and the forecast."""

import logging

from odoo import SUPERUSER_ID, api

from odoo.addons.recurring_billing.tools import compat

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version or compat.ran_before(version, "1.2.0"):
        return
    env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
    env["recurring.contract"]._build_mrr_history()
    env["recurring.forecast.line"]._refresh(companies=env["res.company"].search([]))
