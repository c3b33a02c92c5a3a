# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_repr

from ..tools import schedule


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
        if self.display_type or not product.recurring_ok or not document:
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
