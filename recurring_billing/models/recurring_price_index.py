# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, fields, models

from ..tools import compat


@compat.sql_constraints(
    ("code_unique", "unique(code)", "The code of a price index must be unique."),
)
class RecurringPriceIndex(models.Model):
    """A price index (the Spanish CPI, IPC; the housing rent index, IRAV; or
    any other) and its monthly values, that contracts follow once a year.

    Official statistics are the same for every company: an index has no
    company, and its values are entered by hand or with Odoo's import."""

    _name = "recurring.price.index"
    _description = "Price Index"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    active = fields.Boolean(default=True)
    value_ids = fields.One2many(
        comodel_name="recurring.price.index.value",
        inverse_name="index_id",
        string="Monthly Values",
    )
    note = fields.Text(
        help="Where the values come from (e.g. the INE's monthly release)."
    )

    def _get_value(self, month):
        """The value of ``month`` (its first day), or None when it is not
        entered: never 0, which would be a silent 0 % (or -100 %)."""
        self.ensure_one()
        value = self.value_ids.filtered(lambda v: v.date == month)[:1]
        return value.value if value else None

    def _get_missing_value_message(self, month):
        self.ensure_one()
        return _(
            "The price index %(index)s has no value for %(month)s: enter it "
            "(Configuration > Price Indexes) and the contract is billed on the "
            "next run.",
            index=self.display_name,
            month=month.strftime("%m/%Y"),
        )
