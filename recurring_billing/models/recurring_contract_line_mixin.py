# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_repr

from ..core import schedule, usage


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
        # Recurring products first in the picker (see product.product).
        context={"recurring_products_first": True},
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
    price_note = fields.Char(
        string="Price Conversion",
        compute="_compute_price_note",
        help="Shown when the product is priced for another frequency than "
        "the contract's: its price converted to one period of the contract.",
    )

    def _get_recurrence_document(self):
        """The contract or template whose frequency the line is billed at."""
        raise NotImplementedError()

    def _get_product_recurrence(self):
        """(rule, interval) the product's price is for, or None when the
        product is not recurring or is priced for the document's frequency."""
        self.ensure_one()
        product = self.product_id
        document = self._get_recurrence_document()
        # A usage line's price is per unit used: a frequency does not scale it.
        if (
            self.display_type
            or not product.recurring_ok
            or not document
            or self.quantity_type == "usage"
        ):
            return None
        if not document.recurring_rule_type or document.recurring_interval < 1:
            return None
        recurrence = (product.recurring_rule_type, product.recurring_interval or 1)
        if recurrence == (document.recurring_rule_type, document.recurring_interval):
            return None
        return recurrence

    def _get_base_product_price(self):
        """The product's own price, for one period of its own frequency."""
        self.ensure_one()
        return self.product_id.lst_price

    def _convert_product_price(self, price):
        """``price``, the product's price for one of its own periods, as the
        price of one period of the document: 480.00 a year is 40.00 a month.
        Unchanged when no conversion applies (refused by the constraint)."""
        self.ensure_one()
        recurrence = self._get_product_recurrence()
        if not recurrence:
            return price
        document = self._get_recurrence_document()
        converted = schedule.convert_price(
            price,
            *recurrence,
            document.recurring_rule_type,
            document.recurring_interval,
            digits=self.env["decimal.precision"].precision_get("Product Price"),
        )
        return price if converted is None else converted

    # Usage lines bill what was used in the period (core/usage.py rates it);
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
                line.price_unit = line._convert_product_price(
                    line._get_base_product_price()
                )

    @api.depends("product_id")
    @api.depends_context("lang")
    def _compute_price_note(self):
        digits = self.env["decimal.precision"].precision_get("Product Price")
        for line in self:
            recurrence = line._get_product_recurrence()
            line.price_note = False
            if not recurrence:
                continue
            product = line.product_id
            document = line._get_recurrence_document()
            price = line._get_base_product_price()
            converted = line._convert_product_price(price)
            line.price_note = _(
                "%(price)s %(product_period)s = %(converted)s %(period)s",
                price=float_repr(price, digits),
                product_period=product.product_tmpl_id._get_period_unit_label(),
                converted=float_repr(converted, digits),
                period=document.period_label,
            )

    @api.constrains("product_id")
    def _check_product_recurrence(self):
        for line in self:
            recurrence = line._get_product_recurrence()
            if not recurrence:
                continue
            document = line._get_recurrence_document()
            if (
                schedule.price_ratio(
                    *recurrence,
                    document.recurring_rule_type,
                    document.recurring_interval,
                )
                is None
            ):
                raise ValidationError(
                    _(
                        "%(product)s is priced %(product_period)s, which does not "
                        "convert exactly into a price %(period)s (a month is not "
                        "a whole number of days or weeks). Use a product priced "
                        "in months or years on a monthly or yearly contract, in "
                        "days or weeks on a daily or weekly one.",
                        product=line.product_id.display_name,
                        product_period=(
                            line.product_id.product_tmpl_id._get_period_unit_label()
                        ),
                        period=document.period_label,
                    )
                )
