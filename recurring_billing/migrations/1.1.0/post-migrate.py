# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.1.0: ledger rows billed before adjustments existed get the amounts
their period owes now, computed by the schedule core, as what they billed.
From the upgrade on, a billed line no longer changes except from a date, so
later changes are adjusted against this starting point."""

from odoo import SUPERUSER_ID, api

from odoo.addons.recurring_billing.tools import compat


def migrate(cr, version):
    if compat.ran_before(version, "1.1.0"):
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    rows = env["recurring.contract.period"].search(
        [("kind", "=", "period"), ("state", "=", "invoiced")]
    )
    for contract, contract_rows in rows.grouped("contract_id").items():
        for row in contract_rows.filtered(lambda r: not r.billed_amounts):
            period = contract._get_period(row.period_index)
            amounts = contract._get_line_amounts(period) if period else {}
            row._set_ledger_state(
                "invoiced",
                {str(line.id): amount for line, amount in amounts.items()},
            )
