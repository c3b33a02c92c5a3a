# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .selections import RULE_TYPE_SELECTION


class ProductTemplate(models.Model):
    _inherit = "product.template"

    recurring_ok = fields.Boolean(
        string="Recurring",
        help="Sold on a recurring contract: confirming a sale order creates "
        "the contract, which bills it every period.",
    )
    recurring_rule_type = fields.Selection(
        selection=RULE_TYPE_SELECTION,
        string="Recurrence",
        default="monthly",
    )
    recurring_interval = fields.Integer(string="Repeat Every", default=1)
