# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .selections import INDEXATION_METHOD_SELECTION, MONTH_SELECTION

INDEXATION_FIELDS = (
    "indexation_method",
    "price_index_id",
    "indexation_rate",
    "indexation_month",
    "indexation_reference_month",
    "indexation_cap",
    "indexation_floor",
    "indexation_allow_decrease",
    "indexation_notice_days",
)


class RecurringIndexationMixin(models.AbstractModel):
    """The price update clause, shared by contracts and templates: once a
    year the prices follow an index (IPC, IRAV) or a fixed percentage. The
    arithmetic is ``core/indexation.py``; the contract's updates are
    ``recurring.contract.indexation``."""

    _name = "recurring.indexation.mixin"
    _description = "Recurring Price Indexation Clause"

    indexation_method = fields.Selection(
        selection=INDEXATION_METHOD_SELECTION,
        string="Price Update",
        default="none",
        required=True,
        help="Once a year, update the prices by the variation of a price "
        "index or by a fixed percentage.",
    )
    price_index_id = fields.Many2one(
        comodel_name="recurring.price.index",
        string="Price Index",
        help="Its variation over twelve months, from the reference month, "
        "updates the prices.",
    )
    indexation_rate = fields.Float(
        string="Fixed Percentage",
        digits=(16, 2),
        help="The yearly price update, in percent.",
    )
    indexation_month = fields.Selection(
        selection=MONTH_SELECTION,
        string="Update Month",
        help="The month of each yearly update, on the start date's day. "
        "Empty: on each anniversary of the start date.",
    )
    indexation_reference_month = fields.Selection(
        selection=MONTH_SELECTION,
        string="Reference Month",
        help="The index month compared with the same month a year earlier. "
        "Empty: two months before the update (the latest published by then).",
    )
    indexation_cap = fields.Float(
        string="Update Cap (%)",
        digits=(16, 2),
        help="The highest yearly update, in percent. 0: none.",
    )
    indexation_floor = fields.Float(
        string="Update Floor (%)",
        digits=(16, 2),
        help="The lowest yearly update, in percent. 0: none.",
    )
    indexation_allow_decrease = fields.Boolean(
        string="Decreases Apply",
        help="When the index goes down, lower the prices. Otherwise a "
        "negative variation leaves them unchanged.",
    )
    indexation_notice_days = fields.Integer(
        string="Update Notice (days)",
        default=30,
        help="The customer is emailed the old and new amounts this many days "
        "before each update. 0: no email.",
    )

    @api.constrains(*INDEXATION_FIELDS)
    def _check_indexation_clause(self):
        for record in self:
            if record.indexation_method == "index" and not record.price_index_id:
                raise ValidationError(
                    _("A price update by index needs the price index it follows.")
                )
            if record.indexation_notice_days < 0:
                raise ValidationError(
                    _("The price update notice is counted in positive days.")
                )
            if (
                record.indexation_cap
                and record.indexation_floor
                and record.indexation_cap < record.indexation_floor
            ):
                raise ValidationError(
                    _("The cap of the price update cannot be below its floor.")
                )

    def _prepare_indexation_vals(self):
        """The clause's values, for a contract made from a template."""
        self.ensure_one()
        return {
            name: self[name].id if name == "price_index_id" else self[name]
            for name in INDEXATION_FIELDS
        }
