# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RecurringContractLineMixin(models.AbstractModel):
    """What a contract line and a template line share: a product, or a
    section/note, with its description, quantity, price and discount."""

    _name = "recurring.contract.line.mixin"
    _description = "Recurring Contract Line (shared fields)"

    sequence = fields.Integer(default=10)
    display_type = fields.Selection(
        selection=[("line_section", "Section"), ("line_note", "Note")],
        default=False,
    )
    product_id = fields.Many2one(
        comodel_name="product.product",
        string="Product",
        domain="[('sale_ok', '=', True)]",
        ondelete="restrict",
    )
    name = fields.Text(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    price_unit = fields.Float(
        string="Unit Price",
        digits="Product Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    discount = fields.Float(string="Discount (%)", digits="Discount")

    def _get_description_lang(self):
        """Language of the product description (the customer's, when known)."""
        return self.env.lang

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.display_type:
                line.name = line.name or ""
            elif line.product_id:
                line.name = line.product_id.with_context(
                    lang=line._get_description_lang()
                ).get_product_multiline_description_sale()
            elif not line.name:
                line.name = ""

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            if line.product_id:
                line.price_unit = line.product_id.lst_price
