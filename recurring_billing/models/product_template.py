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
    recurring_quantity_type = fields.Selection(
        selection=[("fixed", "Fixed"), ("usage", "Usage")],
        string="Billed On",
        default="fixed",
        help="Default of the contract lines of this product: a fixed quantity "
        "every period, or the quantity used in the period (usage records).",
    )
