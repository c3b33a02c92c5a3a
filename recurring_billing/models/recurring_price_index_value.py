# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from ..tools import compat


@compat.sql_constraints(
    (
        "index_month_unique",
        "unique(index_id, date)",
        "A price index has one value per month.",
    ),
)
class RecurringPriceIndexValue(models.Model):
    """The value of a price index for one month (the month's first day)."""

    _name = "recurring.price.index.value"
    _description = "Price Index Value"
    _order = "index_id, date desc"
    _rec_name = "date"

    index_id = fields.Many2one(
        comodel_name="recurring.price.index",
        string="Index",
        required=True,
        ondelete="cascade",
        index=True,
    )
    date = fields.Date(
        string="Month",
        required=True,
        help="The first day of the month the value is for.",
    )
    value = fields.Float(required=True, digits=(16, 4))
    month_name = fields.Char(
        string="Month Name",
        compute="_compute_month_name",
        help="The month, in the user's language (the date is its first day).",
    )

    @api.depends("date")
    @api.depends_context("lang")
    def _compute_month_name(self):
        for record in self:
            record.month_name = (
                format_date(self.env, record.date, date_format="MMMM y")
                if record.date
                else False
            )

    @api.constrains("date", "value")
    def _check_month(self):
        for record in self:
            if record.date.day != 1:
                raise ValidationError(
                    _(
                        "A price index value is for a month: its date must be "
                        "the first day of the month (%(date)s is not).",
                        date=record.date.strftime("%d/%m/%Y"),
                    )
                )
            if record.value <= 0:
                raise ValidationError(
                    _("A price index value must be greater than zero.")
                )

    @api.onchange("date")
    def _onchange_date_published(self):
        """A month's value is published after the month: one for this month
        or later is most likely a typo (it would price next year's update)."""
        if not self.date:
            return None
        today = self.env.company._get_recurring_today()
        if self.date >= today.replace(day=1):
            return {
                "warning": {
                    "title": _("A month not over yet"),
                    "message": _(
                        "%(month)s is not over: its index value is usually "
                        "published in the following weeks. Check the month "
                        "before saving: price updates use this value.",
                        month=self.date.strftime("%m/%Y"),
                    ),
                }
            }
        return None
