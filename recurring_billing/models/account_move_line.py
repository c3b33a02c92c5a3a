# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # The period a contract line bills, printed under the line on the invoice.
    recurring_date_start = fields.Date(string="Period Start", copy=False)
    recurring_date_end = fields.Date(string="Period End", copy=False)
    # The usage line a line bills (the usage records point at the line).
    recurring_line_id = fields.Many2one(
        comodel_name="recurring.contract.line",
        string="Contract Line",
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
