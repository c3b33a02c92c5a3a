# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, formatLang

from ..core import indexation
from .recurring_indexation_mixin import INDEXATION_FIELDS

# How far ahead the Price Update tab looks for the next update (the
# anniversary is at most a year away; two years cover an update month).
PREVIEW_HORIZON_DAYS = 2 * 366


class RecurringContract(models.Model):
    """The Price Update tab's preview of the next update: its date, the
    period it takes effect from, its index month, and its rate and amounts
    once known, computed by the code that applies it (``_prepare_update``)."""

    _inherit = "recurring.contract"

    indexation_next_summary = fields.Text(
        string="Next Price Update",
        compute="_compute_indexation_next_summary",
        help="The next update this contract's clause makes, as the billing "
        "run will apply it.",
    )

    @api.depends(
        "state",
        "date_start",
        "date_end",
        *INDEXATION_FIELDS,
        "indexation_ids.date",
        "line_ids.price_unit",
        "line_ids.quantity",
        "line_ids.date_start",
        "line_ids.date_end",
    )
    @api.depends_context("company")
    def _compute_indexation_next_summary(self):
        for contract in self:
            contract.indexation_next_summary = contract._get_next_update_summary()

    def _get_next_update(self):
        """(update day, first period start it applies to) of the next update
        not made yet, or None."""
        self.ensure_one()
        if (
            self.indexation_method == "none"
            or self.state == "closed"
            or not self.date_start
        ):
            return None
        Indexation = self.env["recurring.contract.indexation"]
        today = self.company_id._get_recurring_today()
        made = set(self.indexation_ids.mapped("date"))
        after = max([*made, today - timedelta(1)])
        for day in Indexation._get_update_dates(
            self, after, today + timedelta(PREVIEW_HORIZON_DAYS)
        ):
            effective = Indexation._get_first_period_start(self, day)
            if effective:
                return day, effective
        return None

    def _get_next_update_summary(self):
        """The preview's sentences, in the user's language."""
        self.ensure_one()
        update = self._get_next_update()
        if not update:
            return False
        day, effective = update
        Indexation = self.env["recurring.contract.indexation"]
        when = _(
            "Next update on %(day)s, from the period starting %(effective)s.",
            day=format_date(self.env, day),
            effective=format_date(self.env, effective),
        )
        if self.indexation_method == "index":
            reference = indexation.reference_month(
                day, int(self.indexation_reference_month or 0) or None
            )
            when += " " + _(
                "%(index)s of %(month)s against %(base)s.",
                index=self.price_index_id.display_name,
                month=format_date(self.env, reference, date_format="MMMM y"),
                base=format_date(
                    self.env, indexation.base_month(reference), date_format="MMMM y"
                ),
            )
        try:
            vals, _prices = Indexation._prepare_update(self, day, effective)
        except UserError:
            missing = _(
                "The rate is known once the index value is published "
                "(Configuration > Price Indexes)."
            )
            return f"{when} {missing}"
        rate = formatLang(self.env, vals["rate"], digits=2)
        amounts = {
            "before": self._money(vals["amount_before"]),
            "after": self._money(vals["amount_after"]),
        }
        if self.indexation_method == "index":
            said = _(
                "Expected rate %(rate)s %% (the index moved %(index_rate)s %%): "
                "%(before)s becomes %(after)s per period, untaxed.",
                rate=rate,
                index_rate=formatLang(self.env, vals["index_rate"], digits=2),
                **amounts,
            )
        else:
            said = _(
                "Rate %(rate)s %%: %(before)s becomes %(after)s per period, untaxed.",
                rate=rate,
                **amounts,
            )
        return f"{when} {said}"
