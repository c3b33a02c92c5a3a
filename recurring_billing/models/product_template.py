# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ProductTemplate(models.Model):
    _name = "product.template"
    _inherit = ["product.template", "recurring.recurrence.mixin"]

    recurring_ok = fields.Boolean(
        string="Recurring",
        help="Sold on a recurring contract: confirming a sale order creates "
        "the contract, which bills it every period.",
    )
