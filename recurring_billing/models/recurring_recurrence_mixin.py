# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .selections import (
    INVOICE_ACTION_SELECTION,
    INVOICING_MODE_SELECTION,
    RULE_TYPE_SELECTION,
)


class RecurringRecurrenceMixin(models.AbstractModel):
    """How often something is billed: shared by contracts, contract templates
    and recurring products, so that the three say it the same way."""

    _name = "recurring.recurrence.mixin"
    _description = "Recurrence (every N days, weeks, months or years)"

    recurring_interval = fields.Integer(string="Repeat Every", default=1)
    recurring_rule_type = fields.Selection(
        selection=RULE_TYPE_SELECTION,
        string="Recurrence",
        default="monthly",
    )

    recurrence_label = fields.Char(
        string="Frequency",
        compute="_compute_recurrence_labels",
        help="How often it is billed, in words: Monthly, Every 3 months.",
    )
    period_label = fields.Char(
        string="Per Period",
        compute="_compute_recurrence_labels",
        help="The period an amount is for, in words: per month, per 3 months.",
    )

    @api.constrains("recurring_interval")
    def _check_recurring_interval(self):
        if any(record.recurring_interval < 1 for record in self):
            raise ValidationError(_("The recurrence interval must be at least 1."))

    @api.depends("recurring_rule_type", "recurring_interval")
    @api.depends_context("lang")
    def _compute_recurrence_labels(self):
        for record in self:
            record.recurrence_label = record._get_recurrence_label()
            record.period_label = record._get_period_unit_label()

    def _get_recurrence_label(self):
        """'Monthly', 'Every 3 months': said the same way on the form, the
        list, the emails, the portal and the PDF (never 'every 1 Months')."""
        self.ensure_one()
        rule, count = self.recurring_rule_type, self.recurring_interval
        if not rule or count < 1:
            return False
        if count == 1:
            return {
                "daily": _("Daily"),
                "weekly": _("Weekly"),
                "monthly": _("Monthly"),
                "yearly": _("Yearly"),
            }[rule]
        return {
            "daily": _("Every %(count)s days", count=count),
            "weekly": _("Every %(count)s weeks", count=count),
            "monthly": _("Every %(count)s months", count=count),
            "yearly": _("Every %(count)s years", count=count),
        }[rule]

    def _get_period_unit_label(self):
        """'per month', 'per 3 months': what an amount of one period is for."""
        self.ensure_one()
        rule, count = self.recurring_rule_type, self.recurring_interval
        if not rule or count < 1:
            return False
        if count == 1:
            return {
                "daily": _("per day"),
                "weekly": _("per week"),
                "monthly": _("per month"),
                "yearly": _("per year"),
            }[rule]
        return {
            "daily": _("per %(count)s days", count=count),
            "weekly": _("per %(count)s weeks", count=count),
            "monthly": _("per %(count)s months", count=count),
            "yearly": _("per %(count)s years", count=count),
        }[rule]


class RecurringBillingTermsMixin(models.AbstractModel):
    """When and how each period is invoiced: shared by contracts and contract
    templates (a template's terms fill a new contract)."""

    _name = "recurring.billing.terms.mixin"
    _inherit = "recurring.recurrence.mixin"
    _description = "Recurring Billing Terms"

    recurring_interval = fields.Integer(required=True)
    recurring_rule_type = fields.Selection(required=True)
    invoicing_mode = fields.Selection(
        selection=INVOICING_MODE_SELECTION,
        string="Invoicing",
        default="advance",
        required=True,
        help="In advance: each period is billed on its first day.\n"
        "In arrears: each period is billed on the day after it ends.",
    )
    invoice_action = fields.Selection(
        selection=INVOICE_ACTION_SELECTION,
        string="Invoice Action",
        default="post",
        required=True,
    )
    prorate = fields.Boolean(
        string="Prorate",
        help="Bill a period cut short by the end date for the days it covers.",
    )
    minimum_term_months = fields.Integer(
        string="Minimum Term (months)",
        help="A close requested earlier takes effect at the end of the minimum "
        "term, counted from the start date. 0: none.",
    )
    notice_days = fields.Integer(
        string="Notice Period (days)",
        help="A close takes effect this many days after it is requested, at "
        "the earliest. 0: none.",
    )
    auto_renew = fields.Boolean(
        string="Renew Automatically",
        help="At the end date, the term is renewed instead of closing.",
    )
    renewal_months = fields.Integer(
        string="Renewal Term (months)",
        default=12,
        help="Length of each automatic renewal.",
    )

    # Contracts and templates both have line_ids (recurring.contract.line.mixin).
    @api.constrains("recurring_rule_type", "recurring_interval")
    def _check_lines_recurrence(self):
        self.line_ids._check_product_recurrence()

    @api.onchange("recurring_rule_type", "recurring_interval")
    def _onchange_recurrence_convert_prices(self):
        """A recurring product's price follows the document's frequency: a
        yearly product is 40.00 on a monthly contract, 480.00 on a yearly one."""
        for line in self.line_ids:
            if line.product_id.recurring_ok and not line.display_type:
                line.price_unit = line._convert_product_price(
                    line._get_base_product_price()
                )

    @api.constrains("minimum_term_months", "notice_days", "renewal_months")
    def _check_term_rules(self):
        for record in self:
            if min(
                record.minimum_term_months, record.notice_days, record.renewal_months
            ) < 0 or (record.auto_renew and record.renewal_months < 1):
                raise ValidationError(
                    _(
                        "Terms, notice and renewals are counted in positive "
                        "numbers, and an automatic renewal lasts at least a month."
                    )
                )
