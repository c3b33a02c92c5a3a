# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.1.0: the ledger holds adjustment rows beside the period rows. The
unique constraint on (contract_id, date_start) becomes a partial unique index
on the period rows (created by the model's init())."""

from odoo.tools import SQL

from odoo.addons.recurring_billing.tools import compat


def migrate(cr, version):
    if compat.ran_before(version, "1.1.0"):
        return
    cr.execute(
        SQL(
            "ALTER TABLE recurring_contract_period DROP CONSTRAINT IF EXISTS %s",
            SQL.identifier("recurring_contract_period_contract_period_unique"),
        )
    )
