# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools import usage


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
    # Usage lines bill what was used in the period (tools/usage.py rates it);
    # the unit price above is then the price of a unit above the included ones.
    quantity_type = fields.Selection(
        selection=[("fixed", "Fixed"), ("usage", "Usage")],
        string="Billed On",
        compute="_compute_quantity_type",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        help="Fixed: the quantity of the line every period. Usage: the quantity "
        "used in the period (usage records), billed in arrears.",
    )
    usage_aggregation = fields.Selection(
        selection=[("sum", "Sum"), ("max", "Maximum"), ("last", "Last Value")],
        string="Aggregation",
        default="sum",
        help="How the usage records of a period make its quantity: their sum "
        "(calls, hours), their maximum (seats) or the last value (a meter).",
    )
    usage_included = fields.Float(
        string="Included Units",
        digits="Product Unit of Measure",
        help="Units free every period; the units above them are billed.",
    )
    usage_price_mode = fields.Selection(
        selection=[
            ("unit", "Per Unit"),
            ("graduated", "Graduated Tiers"),
            ("volume", "Volume Tiers"),
        ],
        string="Usage Price",
        default="unit",
        help="Per unit: the unit price. Graduated: each unit at the price of "
        "its tier. Volume: every unit at the price of the tier the total "
        "falls in.",
    )
    usage_tiers = fields.Text(
        string="Tiers",
        help="One tier per line, 'UP_TO: PRICE', the last one '*: PRICE', in "
        "units above the included ones. Example:\n1000: 0.10\n5000: 0.08\n"
        "*: 0.05",
    )
    usage_minimum = fields.Float(
        string="Minimum per Period",
        digits="Product Price",
        help="The least a period bills, whatever the usage.",
    )

    @api.depends("product_id")
    def _compute_quantity_type(self):
        for line in self:
            if line.product_id:
                line.quantity_type = line.product_id.recurring_quantity_type or "fixed"
            elif not line.quantity_type:
                line.quantity_type = "fixed"

    @api.constrains("usage_tiers", "usage_price_mode", "quantity_type")
    def _check_usage_tiers(self):
        for line in self.filtered(lambda line: line.quantity_type == "usage"):
            try:
                tiers = usage.parse_tiers(line.usage_tiers)
            except usage.TierError as error:
                raise ValidationError(
                    _(
                        "The tiers of the line '%(line)s' are not valid at line "
                        "%(number)s ('%(text)s'): write one 'UP_TO: PRICE' per "
                        "line, bounds ascending, and a last '*: PRICE'.",
                        line=line.name,
                        number=error.line,
                        text=error.text,
                    )
                ) from None
            if line.usage_price_mode != "unit" and not tiers:
                raise ValidationError(
                    _(
                        "The line '%(line)s' is priced by tiers: give its tiers.",
                        line=line.name,
                    )
                )

    def _get_usage_pricing(self):
        """The line's pricing for the usage core."""
        self.ensure_one()
        return usage.Pricing(
            aggregation=self.usage_aggregation or "sum",
            included=self.usage_included,
            price_unit=self.price_unit,
            mode=self.usage_price_mode or "unit",
            tiers=usage.parse_tiers(self.usage_tiers),
            minimum=self.usage_minimum,
        )

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
