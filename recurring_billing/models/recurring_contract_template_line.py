# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RecurringContractTemplateLine(models.Model):
    _name = "recurring.contract.template.line"
    _description = "Recurring Contract Template Line"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one(
        comodel_name="recurring.contract.template",
        required=True,
        ondelete="cascade",
        index=True,
    )
    sequence = fields.Integer(default=10)
    display_type = fields.Selection(
        selection=[("line_section", "Section"), ("line_note", "Note")],
        default=False,
    )
    product_id = fields.Many2one(
        comodel_name="product.product",
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

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id and not line.display_type:
                line.name = line.product_id.get_product_multiline_description_sale()
            elif not line.name:
                line.name = ""

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            if line.product_id:
                line.price_unit = line.product_id.lst_price

    def _prepare_contract_line_vals(self):
        self.ensure_one()
        vals = {
            "sequence": self.sequence,
            "display_type": self.display_type,
            "name": self.name,
        }
        if not self.display_type:
            vals.update(
                product_id=self.product_id.id,
                quantity=self.quantity,
                price_unit=self.price_unit,
                discount=self.discount,
            )
        return vals
