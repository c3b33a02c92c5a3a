# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import random
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, config, format_date

from .selections import (
    INVOICE_ACTION_SELECTION,
    INVOICING_MODE_SELECTION,
    RULE_TYPE_SELECTION,
)

_logger = logging.getLogger(__name__)

# PostgreSQL errors that mean "another transaction got there first": they are
# retried, and never reported as a problem of the contract.
CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)
MAX_CONCURRENCY_RETRIES = 3
# Seconds one invoice took to bill in this process, per database (a moving
# average): sizes the batches so that a cron run fits its time limit.
_SECONDS_PER_INVOICE = {}
# Fields that define the billing periods: they freeze once a period is billed.
SCHEDULE_FIELDS = (
    "date_start",
    "recurring_interval",
    "recurring_rule_type",
    "invoicing_mode",
)
RULE_TYPE_TO_DELTA = {
    "daily": lambda n: relativedelta(days=n),
    "weekly": lambda n: relativedelta(weeks=n),
    "monthly": lambda n: relativedelta(months=n),
    "yearly": lambda n: relativedelta(years=n),
}
# Average number of days in one unit, to normalise amounts to a month (MRR).
RULE_TYPE_TO_MONTHS = {
    "daily": 12 / 365.25,
    "weekly": 12 * 7 / 365.25,
    "monthly": 1.0,
    "yearly": 12.0,
}


class RecurringContract(models.Model):
    _name = "recurring.contract"
    _description = "Recurring Contract"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    # -------------------------------------------------------------------------
    # FIELDS
    # -------------------------------------------------------------------------

    name = fields.Char(
        string="Reference",
        required=True,
        readonly=True,
        copy=False,
        default="/",
        index="trigram",
    )
    active = fields.Boolean(default=True)
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("running", "Running"),
            ("paused", "Paused"),
            ("closed", "Closed"),
        ],
        default="draft",
        required=True,
        copy=False,
        index=True,
        tracking=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        comodel_name="res.partner",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        string="Commercial Entity",
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Journal",
        required=True,
        check_company=True,
        domain="[('type', '=', 'sale')]",
        compute="_compute_journal_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        string="Currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
    )
    payment_term_id = fields.Many2one(
        comodel_name="account.payment.term",
        string="Payment Terms",
        check_company=True,
        compute="_compute_partner_terms",
        store=True,
        readonly=False,
        precompute=True,
    )
    fiscal_position_id = fields.Many2one(
        comodel_name="account.fiscal.position",
        string="Fiscal Position",
        check_company=True,
        compute="_compute_partner_terms",
        store=True,
        readonly=False,
        precompute=True,
        help="Maps the taxes and accounts of the lines on every invoice.",
    )

    # Schedule
    date_start = fields.Date(
        string="Start Date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Anchor of the schedule: period k starts k intervals after this date.",
    )
    date_end = fields.Date(
        string="End Date",
        tracking=True,
        help="Last day billed. Leave empty for a contract that runs until closed.",
    )
    recurring_interval = fields.Integer(
        string="Repeat Every",
        default=1,
        required=True,
        tracking=True,
    )
    recurring_rule_type = fields.Selection(
        selection=RULE_TYPE_SELECTION,
        string="Recurrence",
        default="monthly",
        required=True,
        tracking=True,
    )
    invoicing_mode = fields.Selection(
        selection=INVOICING_MODE_SELECTION,
        string="Invoicing",
        default="advance",
        required=True,
        tracking=True,
        help="In advance: each period is billed on its first day.\n"
        "In arrears: each period is billed on the day after it ends.",
    )
    invoice_action = fields.Selection(
        selection=INVOICE_ACTION_SELECTION,
        string="Invoice Action",
        default=lambda self: self._default_invoice_action(),
        required=True,
        tracking=True,
    )
    prorate = fields.Boolean(
        string="Prorate",
        help="Bill a period cut short by the end date for the days it covers.",
    )
    note = fields.Html(string="Terms and Conditions")

    # Lines, ledger, invoices
    line_ids = fields.One2many(
        comodel_name="recurring.contract.line",
        inverse_name="contract_id",
        string="Lines",
        copy=True,
    )
    period_ids = fields.One2many(
        comodel_name="recurring.contract.period",
        inverse_name="contract_id",
        string="Billing Ledger",
        copy=False,
    )
    invoice_ids = fields.One2many(
        comodel_name="account.move",
        inverse_name="recurring_contract_id",
        string="Invoices",
        copy=False,
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    next_period_start = fields.Date(
        compute="_compute_next_dates",
        store=True,
        help="First day of the next period to bill.",
    )
    next_invoice_date = fields.Date(
        string="Next Invoice Date",
        compute="_compute_next_dates",
        store=True,
        index=True,
        # Not tracked: it moves with every invoice, and a chatter line per
        # period on the contract would be noise (the ledger has the history).
    )
    amount_untaxed = fields.Monetary(
        string="Amount per Period",
        compute="_compute_amounts",
        store=True,
    )
    amount_tax = fields.Monetary(
        string="Taxes per Period", compute="_compute_amounts", store=True
    )
    amount_total = fields.Monetary(
        string="Total per Period", compute="_compute_amounts", store=True
    )
    recurring_monthly = fields.Monetary(
        string="MRR",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount per period, normalised to one month.",
    )

    close_reason_id = fields.Many2one(
        comodel_name="recurring.contract.close.reason",
        string="Close Reason",
        tracking=True,
        copy=False,
    )
    template_id = fields.Many2one(
        comodel_name="recurring.contract.template",
        string="Template",
        check_company=True,
    )
    sale_order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Sale Order",
        copy=False,
        index="btree_not_null",
        check_company=True,
    )

    # Errors
    billing_error = fields.Text(
        copy=False,
        readonly=True,
        help="Why the last billing attempt failed. Empty when all is well.",
    )
    billing_error_date = fields.Date(
        copy=False,
        readonly=True,
        help="Day of the failed attempt: the scheduled action retries the "
        "contract on its next day's run, and 'Invoice now' retries at once.",
    )
    send_warning = fields.Char(compute="_compute_send_warning")
    schedule_preview_html = fields.Html(
        string="Next Scheduled Invoices",
        compute="_compute_schedule_preview_html",
        sanitize=False,
    )

    # -------------------------------------------------------------------------
    # DEFAULTS
    # -------------------------------------------------------------------------

    def _default_invoice_action(self):
        return (
            self.env["ir.config_parameter"]
            .sudo()  # a setting every contract user may read
            .get_param("recurring_billing.default_invoice_action", "post")
        )

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends("company_id")
    def _compute_journal_id(self):
        for contract in self:
            if contract.journal_id.company_id == contract.company_id:
                continue
            company = contract.company_id or self.env.company
            contract.journal_id = company.recurring_journal_id or self.env[
                "account.journal"
            ].search(
                [
                    *self.env["account.journal"]._check_company_domain(company),
                    ("type", "=", "sale"),
                ],
                limit=1,
            )

    @api.depends("journal_id", "company_id")
    def _compute_currency_id(self):
        for contract in self:
            contract.currency_id = (
                contract.journal_id.currency_id
                or contract.company_id.currency_id
                or self.env.company.currency_id
            )

    @api.depends("partner_id", "company_id")
    def _compute_partner_terms(self):
        for contract in self:
            partner = contract.partner_id.with_company(contract.company_id)
            contract.payment_term_id = partner.property_payment_term_id
            contract.fiscal_position_id = (
                self.env["account.fiscal.position"]
                .with_company(contract.company_id)
                ._get_fiscal_position(partner)
                if partner
                else False
            )

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        counts = dict(
            self.env["account.move"]._read_group(
                [("recurring_contract_id", "in", self.ids)],
                ["recurring_contract_id"],
                ["__count"],
            )
        )
        for contract in self:
            contract.invoice_count = counts.get(contract, 0)

    @api.depends(
        "state",
        "date_start",
        "date_end",
        "recurring_interval",
        "recurring_rule_type",
        "invoicing_mode",
        "period_ids.state",
        "period_ids.period_index",
    )
    def _compute_next_dates(self):
        for contract in self:
            voided = contract.period_ids.filtered(lambda p: p.state == "voided")
            if voided:
                # A voided period is billed again before anything newer.
                first = min(voided, key=lambda p: p.period_index)
                period = contract._get_period(first.period_index)
            else:
                period = contract._get_period(contract._get_next_period_index())
            contract.next_period_start = period and period["date_start"]
            contract.next_invoice_date = (
                period["invoice_date"]
                if period and contract.state == "running"
                else False
            )

    @api.depends(
        "line_ids.price_subtotal",
        "line_ids.price_total",
        "recurring_interval",
        "recurring_rule_type",
    )
    def _compute_amounts(self):
        for contract in self:
            lines = contract.line_ids.filtered(lambda line: not line.display_type)
            contract.amount_untaxed = sum(lines.mapped("price_subtotal"))
            contract.amount_total = sum(lines.mapped("price_total"))
            contract.amount_tax = contract.amount_total - contract.amount_untaxed
            months = (
                RULE_TYPE_TO_MONTHS[contract.recurring_rule_type]
                * contract.recurring_interval
            ) or 1.0
            contract.recurring_monthly = contract.currency_id.round(
                contract.amount_untaxed / months
            )

    def _compute_send_warning(self):
        send_cron = self.env.ref(
            "account.ir_cron_account_move_send", raise_if_not_found=False
        )
        # Reading the cron's state needs no write right: sudo for the flag only.
        cron_active = bool(send_cron and send_cron.sudo().active)
        for contract in self:
            contract.send_warning = (
                _(
                    "The scheduled action that sends invoices is inactive: "
                    "invoices will be posted but not emailed until it is "
                    "activated again."
                )
                if contract.invoice_action == "post_send" and not cron_active
                else False
            )

    @api.depends(
        "state",
        "date_start",
        "date_end",
        "recurring_interval",
        "recurring_rule_type",
        "invoicing_mode",
        "prorate",
        "line_ids.price_unit",
        "line_ids.quantity",
        "line_ids.discount",
        "period_ids",
    )
    def _compute_schedule_preview_html(self):
        for contract in self:
            # QWeb escapes every value (t-out): the result is safe markup.
            contract.schedule_preview_html = self.env["ir.qweb"]._render(
                "recurring_billing.contract_schedule_table",
                {"contract": contract, "periods": contract._get_forecast_periods(12)},
            )

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for contract in self:
            contract.access_url = f"/my/contracts/{contract.id}"
        return res

    @api.depends("name", "partner_id")
    def _compute_display_name(self):
        for contract in self:
            contract.display_name = (
                f"{contract.name} - {contract.partner_id.name}"
                if contract.partner_id and not self.env.context.get("short_name")
                else contract.name
            )

    # -------------------------------------------------------------------------
    # ONCHANGE METHODS
    # -------------------------------------------------------------------------

    @api.onchange("template_id")
    def _onchange_template_id(self):
        template = self.template_id
        if not template:
            return
        self.update(template._prepare_contract_vals())
        self.line_ids = [Command.clear()] + [
            Command.create(line._prepare_contract_line_vals())
            for line in template.line_ids
        ]
        if template.duration_months and self.date_start:
            self.date_end = (
                self.date_start
                + relativedelta(months=template.duration_months)
                - timedelta(1)
            )

    # -------------------------------------------------------------------------
    # CONSTRAINTS
    # -------------------------------------------------------------------------

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for contract in self:
            if contract.date_end and contract.date_end < contract.date_start:
                raise ValidationError(
                    _(
                        "Contract %(name)s: the end date %(end)s is earlier than "
                        "the start date %(start)s.",
                        name=contract.name,
                        end=format_date(self.env, contract.date_end),
                        start=format_date(self.env, contract.date_start),
                    )
                )

    @api.constrains("recurring_interval")
    def _check_recurring_interval(self):
        for contract in self:
            if contract.recurring_interval < 1:
                raise ValidationError(_("The recurrence interval must be at least 1."))

    @api.constrains("journal_id", "company_id")
    def _check_journal(self):
        for contract in self:
            journal = contract.journal_id
            if journal.type != "sale":
                raise ValidationError(
                    _(
                        "The journal %(journal)s is not a sales journal.",
                        journal=journal.display_name,
                    )
                )
            if journal.company_id != contract.company_id:
                raise ValidationError(
                    _(
                        "The journal %(journal)s belongs to %(company)s, not to "
                        "the contract's company %(contract_company)s.",
                        journal=journal.display_name,
                        company=journal.company_id.display_name,
                        contract_company=contract.company_id.display_name,
                    )
                )

    @api.constrains("currency_id", "journal_id", "company_id")
    def _check_currency(self):
        for contract in self:
            currency = contract.currency_id
            if not currency.active:
                raise ValidationError(
                    _(
                        "The currency %(currency)s is not active.",
                        currency=currency.name,
                    )
                )
            journal_currency = contract.journal_id.currency_id
            if journal_currency and journal_currency != currency:
                raise ValidationError(
                    _(
                        "The journal %(journal)s only accepts %(journal_currency)s, "
                        "but the contract is in %(currency)s.",
                        journal=contract.journal_id.display_name,
                        journal_currency=journal_currency.name,
                        currency=currency.name,
                    )
                )

    @api.constrains("date_end")
    def _check_date_end_after_billed(self):
        for contract in self.filtered("date_end"):
            billed = contract.period_ids.filtered(lambda p: p.state != "skipped")
            last_end = max(billed.mapped("date_end"), default=False)
            if last_end and contract.date_end < last_end:
                raise ValidationError(
                    _(
                        "Contract %(name)s is already billed up to %(date)s: the "
                        "end date cannot be earlier.",
                        name=contract.name,
                        date=format_date(self.env, last_end),
                    )
                )

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = self.env["ir.sequence"].with_company(
                    company
                ).next_by_code("recurring.contract") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        if any(field in vals for field in SCHEDULE_FIELDS):
            billed = self.filtered("period_ids")
            for contract in billed:
                changed = [
                    field
                    for field in SCHEDULE_FIELDS
                    if field in vals
                    and contract._fields[field].convert_to_write(
                        contract[field], contract
                    )
                    != contract._fields[field].convert_to_write(
                        contract._fields[field].convert_to_cache(vals[field], contract),
                        contract,
                    )
                ]
                if changed:
                    raise UserError(
                        _(
                            "Contract %(name)s already has billed periods: its "
                            "schedule (%(fields)s) can no longer change. Close it "
                            "and start a new contract instead.",
                            name=contract.name,
                            fields=", ".join(
                                contract._fields[f].get_description(self.env)["string"]
                                for f in changed
                            ),
                        )
                    )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.period_ids:
            raise UserError(
                _("A contract with billed periods cannot be deleted: close it.")
            )

    # -------------------------------------------------------------------------
    # SCHEDULE (periods are always computed from the anchor date_start)
    # -------------------------------------------------------------------------

    def _get_period_delta(self, count):
        self.ensure_one()
        return RULE_TYPE_TO_DELTA[self.recurring_rule_type](
            self.recurring_interval * count
        )

    def _get_period(self, index):
        """Return period ``index`` (0-based) of the contract, or None when it
        starts after the end date.

        Every boundary is computed from ``date_start``, never from the previous
        period, so month ends do not drift: monthly from Jan 31 gives Feb 28
        (29 in leap years), then Mar 31, then Apr 30.
        """
        self.ensure_one()
        if not self.date_start or index < 0:
            return None
        date_start = self.date_start + self._get_period_delta(index)
        if self.date_end and date_start > self.date_end:
            return None
        full_end = self.date_start + self._get_period_delta(index + 1) - timedelta(1)
        date_end = min(full_end, self.date_end) if self.date_end else full_end
        return {
            "index": index,
            "date_start": date_start,
            "date_end": date_end,
            "full_date_end": full_end,
            "invoice_date": date_start
            if self.invoicing_mode == "advance"
            else date_end + timedelta(1),
        }

    def _get_next_period_index(self):
        """The ledger is written oldest first and never has holes: the next
        period is the one after the highest index in it."""
        self.ensure_one()
        return max(self.period_ids.mapped("period_index"), default=-1) + 1

    def _get_due_periods(self, date_ref, limit=None):
        """Periods whose scheduled invoice date is on or before ``date_ref``
        and that are not billed yet, oldest first."""
        self.ensure_one()
        periods = [
            dict(self._get_period(period.period_index), ledger=period)
            for period in self.period_ids.sorted("period_index")
            if period.state == "voided"
        ]
        index = self._get_next_period_index()
        while limit is None or len(periods) < limit:
            period = self._get_period(index)
            if not period or period["invoice_date"] > date_ref:
                break
            periods.append(period)
            index += 1
        periods = [p for p in periods if p["invoice_date"] <= date_ref]
        return periods[:limit] if limit else periods

    def _get_forecast_periods(self, count=12):
        """The next ``count`` scheduled invoices, computed by the same code
        that bills them (used by the billing schedule tab and the portal)."""
        self.ensure_one()
        result = []
        if self.state in ("closed",):
            return result
        index = self._get_next_period_index()
        while len(result) < count:
            period = self._get_period(index)
            if not period:
                break
            period["amount_untaxed"] = self._get_period_amount(period)
            result.append(period)
            index += 1
        return result

    def _get_proration_factor(self, period):
        """Share of the full period covered by a period cut by the end date."""
        if not self.prorate or period["date_end"] == period["full_date_end"]:
            return 1.0
        covered = (period["date_end"] - period["date_start"]).days + 1
        full = (period["full_date_end"] - period["date_start"]).days + 1
        return covered / full

    def _get_period_amount(self, period):
        factor = self._get_proration_factor(period)
        return self.currency_id.round(
            sum(
                line._get_prorated_price_unit(factor)
                * line.quantity
                * (1 - (line.discount or 0.0) / 100.0)
                for line in self.line_ids
                if not line.display_type
            )
        )

    def _is_fully_billed(self):
        """True when the contract has an end date and every period up to it
        is in the ledger."""
        self.ensure_one()
        return bool(
            self.date_end
            and not self._get_period(self._get_next_period_index())
            and not self.period_ids.filtered(lambda p: p.state == "voided")
        )

    # -------------------------------------------------------------------------
    # ACTIONS: LIFECYCLE
    # -------------------------------------------------------------------------

    def action_start(self):
        for contract in self:
            if contract.state != "draft":
                raise UserError(
                    _(
                        "Only a draft contract can be started (%(name)s).",
                        name=contract.name,
                    )
                )
            contract._check_lines_billable()
        self.write({"state": "running"})
        for contract in self:
            contract.message_post(body=_("Contract started."))
        self._send_activation_notice()
        return True

    def action_pause(self):
        for contract in self:
            if contract.state != "running":
                raise UserError(
                    _(
                        "Only a running contract can be paused (%(name)s).",
                        name=contract.name,
                    )
                )
        self.write({"state": "paused"})
        for contract in self:
            contract.message_post(
                body=_(
                    "Contract paused: nothing is billed from %(date)s on.",
                    date=format_date(self.env, contract.next_period_start)
                    if contract.next_period_start
                    else "-",
                )
            )
        return True

    def action_resume(self, date_resume=None):
        date_resume = date_resume or fields.Date.context_today(self)
        for contract in self:
            if contract.state != "paused":
                raise UserError(
                    _(
                        "Only a paused contract can be resumed (%(name)s).",
                        name=contract.name,
                    )
                )
            skipped = contract._skip_periods_before(date_resume)
            contract.state = "running"
            contract.message_post(
                body=_(
                    "Contract resumed on %(date)s; %(count)s period(s) skipped "
                    "and never billed.",
                    date=format_date(self.env, date_resume),
                    count=len(skipped),
                )
            )
        return True

    def _skip_periods_before(self, date_resume):
        """Write the unbilled periods that start before ``date_resume`` to the
        ledger as skipped: the history stays complete and nothing is billed."""
        self.ensure_one()
        vals_list = []
        index = self._get_next_period_index()
        while True:
            period = self._get_period(index)
            if not period or period["date_start"] >= date_resume:
                break
            vals_list.append(self._prepare_period_vals(period, state="skipped"))
            index += 1
        return self.env["recurring.contract.period"].create(vals_list)

    def action_close(self, date_close=None, reason=None):
        """Close on ``date_close``: nothing after it is billed. Periods up to
        that date that are still owed are billed first, then the contract
        closes itself."""
        date_close = date_close or fields.Date.context_today(self)
        for contract in self:
            if contract.state == "closed":
                continue
            vals = {"close_reason_id": reason.id if reason else False}
            if (
                contract.state == "draft"
                or not contract.date_end
                or contract.date_end > date_close
            ):
                vals["date_end"] = max(date_close, contract.date_start)
            contract.write(vals)
            if contract.state in ("draft", "paused") or contract._is_fully_billed():
                contract.state = "closed"
            contract.message_post(
                body=_(
                    "Contract closed on %(date)s (%(reason)s).",
                    date=format_date(self.env, contract.date_end),
                    reason=reason.name if reason else _("no reason given"),
                )
            )
        return True

    def action_renew(self, months=12):
        if months < 1:
            raise UserError(_("A contract is renewed for at least one month."))
        for contract in self:
            if not contract.date_end:
                raise UserError(
                    _(
                        "Contract %(name)s has no end date to extend.",
                        name=contract.name,
                    )
                )
            old_end = contract.date_end
            contract.write(
                {
                    "date_end": old_end + relativedelta(months=months),
                    "state": "running"
                    if contract.state == "closed"
                    else contract.state,
                }
            )
            contract.message_post(
                body=_(
                    "Contract renewed: end date moved from %(old)s to %(new)s.",
                    old=format_date(self.env, old_end),
                    new=format_date(self.env, contract.date_end),
                )
            )
        return True

    def action_view_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "view_mode": "form",
            "res_id": self.sale_order_id.id,
        }

    def action_contract_send(self):
        """Open the composer with the contract email and its PDF."""
        self.ensure_one()
        template = self.env.ref(
            "recurring_billing.mail_template_contract_send", raise_if_not_found=False
        )
        return {
            "type": "ir.actions.act_window",
            "view_mode": "form",
            "res_model": "mail.compose.message",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "recurring.contract",
                "default_res_ids": self.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": (
                    "mail.mail_notification_layout_with_responsible_signature"
                ),
                "force_email": True,
            },
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("recurring_contract_id", "=", self.id)]
        action["context"] = {
            "default_move_type": "out_invoice",
            "create": False,
        }
        return action

    def _check_lines_billable(self):
        """Raise when a line cannot be billed: called when starting."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        if not lines:
            raise UserError(
                _("Contract %(name)s has no lines to bill.", name=self.name)
            )
        for line in lines:
            if not line.product_id:
                raise UserError(
                    _(
                        "Contract %(name)s: the line '%(line)s' has no product.",
                        name=self.name,
                        line=line.name,
                    )
                )
            if not line._get_income_account():
                raise UserError(
                    _(
                        "Contract %(name)s: no income account for the product "
                        "%(product)s (set one on the product, its category or "
                        "the journal %(journal)s).",
                        name=self.name,
                        product=line.product_id.display_name,
                        journal=self.journal_id.display_name,
                    )
                )

    # -------------------------------------------------------------------------
    # BILLING ENGINE: ENTRY POINTS
    # -------------------------------------------------------------------------

    def action_generate_invoices(self):
        """The 'Invoice now' button: bill what is due up to today."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(_("Only invoicing users can invoice contracts."))
        if not self._try_lock_contracts(nowait=True):
            raise UserError(
                _(
                    "This contract is being invoiced right now by another "
                    "process. Try again in a moment."
                )
            )
        for contract in self:
            if contract.state != "running":
                raise UserError(
                    _(
                        "Only a running contract can be invoiced (%(name)s).",
                        name=contract.name,
                    )
                )
        moves = self._generate_invoices(retry_failed=True)
        failed = self.filtered("billing_error")
        if failed:
            # Keep the error on the contract (raising would roll it back, and
            # the invoices of the other contracts with it): show it instead.
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "danger",
                    "title": _("Not invoiced"),
                    "message": failed[0].billing_error,
                    "sticky": True,
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        if not moves:
            raise UserError(_("Nothing is due yet on this contract."))
        if len(moves) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "view_mode": "form",
                "res_id": moves.id,
            }
        return self.action_view_invoices()

    def _generate_invoices(self, date_ref=None, retry_failed=True):
        """Bill every period of ``self`` due on ``date_ref`` (default: today).

        Contracts that another transaction is invoicing are skipped (they are
        being billed there). Works in batches, whatever the number of
        contracts; never commits. Returns the ``account.move`` records created.
        """
        date_ref = date_ref or fields.Date.context_today(self)
        moves = self.env["account.move"]
        contracts = self.filtered(lambda c: c.state == "running")
        if not retry_failed:
            contracts = contracts.filtered(
                lambda c: not c.billing_error_date or c.billing_error_date < date_ref
            )
        batch_size = self._get_batch_size()
        todo = contracts
        while todo:
            batch, todo = todo[:batch_size], todo[batch_size:]
            locked = batch._try_lock_contracts()
            billed = self.env["account.move"]
            for (company, _journal), group in locked.grouped(
                lambda c: (c.company_id, c.journal_id)
            ).items():
                billed |= group.with_company(company)._bill_batch(date_ref)
            moves |= billed
            if not billed:
                continue
            # A batch bills at most batch_size invoices: contracts with more
            # periods due (a backlog) go round again; failed ones do not.
            todo = (
                locked.filtered(
                    lambda c: c.state == "running"
                    and c.next_invoice_date
                    and c.next_invoice_date <= date_ref
                    and c.billing_error_date != date_ref
                )
                | todo
            )
        return moves

    @api.model
    def _cron_generate_invoices(self, date_ref=None):
        """Scheduled action. Under ir.cron each call bills one batch, reports
        its progress and returns: the scheduler commits and calls again, so a
        crash or a timeout only loses the batch in flight."""
        if self.env.is_superuser():
            # ir.cron runs as the superuser (so that "Run manually" works for
            # administrators); billing itself runs as the dedicated billing
            # user, bound by record rules and invoicing rights.
            bot = self.env.ref(
                "recurring_billing.user_billing_bot", raise_if_not_found=False
            )
            if bot:
                self = self.with_user(bot)  # noqa: PLW0642
        date_ref = date_ref or fields.Date.context_today(self)
        # Under ir.cron: one batch per call, committed by the scheduler.
        # Called from code (a shell, a test): every batch, without commit.
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        done = 0
        while contracts := self._claim_contracts_with_retry(date_ref, in_cron):
            contracts.with_company(contracts.company_id)._bill_batch(date_ref)
            done += len(contracts)
            if in_cron:
                break
        remaining = self.search_count(self._get_contracts_to_invoice_domain(date_ref))
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    # -------------------------------------------------------------------------
    # BILLING ENGINE: CLAIMING CONTRACTS
    # -------------------------------------------------------------------------

    @api.model
    def _get_contracts_to_invoice_domain(self, date_ref):
        """Running contracts due on ``date_ref``, except those that failed on
        that day already (retried on the next run, or by 'Invoice now')."""
        return [
            ("state", "=", "running"),
            ("next_invoice_date", "<=", date_ref),
            "|",
            ("billing_error_date", "=", False),
            ("billing_error_date", "<", date_ref),
        ]

    @api.model
    def _get_batch_size(self):
        """Invoices per batch: ``recurring_billing.batch_size`` (default 100),
        lowered so that the 10 calls ir.cron makes per run take at most 40 %
        of ``limit_time_real_cron``, at the speed this process measured on its
        last batches (a loaded machine gets smaller batches, not timeouts)."""
        size = int(
            self.env["ir.config_parameter"]
            .sudo()  # technical setting, read-only use
            .get_param("recurring_billing.batch_size", 100)
        )
        seconds_per_invoice = _SECONDS_PER_INVOICE.get(self.env.cr.dbname, 0.05)
        fitting = self._get_cron_time_limit() * 0.4 / 10 / seconds_per_invoice
        return max(5, min(size, int(fitting)))

    @api.model
    def _record_batch_speed(self, seconds, invoice_count):
        """Keep a moving average of the seconds one invoice takes to bill."""
        if invoice_count:
            dbname = self.env.cr.dbname
            previous = _SECONDS_PER_INVOICE.get(dbname, seconds / invoice_count)
            _SECONDS_PER_INVOICE[dbname] = (
                0.7 * previous + 0.3 * seconds / invoice_count
            )

    @api.model
    def _get_cron_time_limit(self):
        limit = config.get("limit_time_real_cron") or -1
        if limit <= 0:
            limit = config.get("limit_time_real") or 120
        return limit if limit > 0 else 120

    def _try_lock_contracts(self, nowait=False):
        """Lock ``self`` for billing. Returns the contracts locked: with
        ``nowait`` all of them or none, otherwise those no other transaction
        holds (``SKIP LOCKED``)."""
        if not self:
            return self
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM recurring_contract WHERE id IN %s "
                        "ORDER BY id FOR NO KEY UPDATE %s",
                        tuple(self.ids),
                        SQL("NOWAIT") if nowait else SQL("SKIP LOCKED"),
                    )
                )
                locked_ids = {row[0] for row in self.env.cr.fetchall()}
        except pg_errors.LockNotAvailable:
            return self.browse()
        return self.filtered(lambda c: c.id in locked_ids)

    @api.model
    def _claim_contracts(self, date_ref):
        """Lock and return the next batch of due contracts, all of one company
        and journal (posting locks the journal's numbering; one journal per
        transaction cannot deadlock with another worker).

        Rows held by another worker are skipped, so several workers share
        the work without waiting for each other."""
        domain = self._get_contracts_to_invoice_domain(date_ref)
        first = self._search_locked(domain, limit=1)
        if not first:
            return first
        domain += [
            ("company_id", "=", first.company_id.id),
            ("journal_id", "=", first.journal_id.id),
        ]
        return first | self._search_locked(domain, limit=self._get_batch_size())

    @api.model
    def _search_locked(self, domain, limit):
        query = self._search(domain, order="next_invoice_date, id", limit=limit)
        sql = SQL(
            "%s FOR NO KEY UPDATE OF %s SKIP LOCKED",
            query.select(),
            SQL.identifier(self._table),
        )
        self.env.flush_query(sql)
        # A serialization failure here is expected under concurrency and
        # retried by the caller: not an error worth a log line (as ir.cron's
        # own job acquisition).
        self.env.cr.execute(sql, log_exceptions=False)
        return self.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _claim_contracts_with_retry(self, date_ref, in_cron=False):
        """Claim, retrying when another worker committed the same rows since
        our snapshot began (REPEATABLE READ raises a serialization failure).

        Only under ir.cron, where the call starts right after the scheduler's
        commit and nothing of ours is pending, may the transaction be rolled
        back to get a fresh snapshot. Elsewhere the error goes up, to Odoo's
        own retry of HTTP/RPC requests."""
        for attempt in range(MAX_CONCURRENCY_RETRIES + 1):
            try:
                with self.env.cr.savepoint(flush=False):
                    return self._claim_contracts(date_ref)
            except CONCURRENCY_ERRORS:
                if not in_cron or attempt == MAX_CONCURRENCY_RETRIES:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all(flush=False)
                time.sleep(random.uniform(0, 0.1 * 2**attempt))
        return self.browse()

    # -------------------------------------------------------------------------
    # BILLING ENGINE: ONE BATCH
    # -------------------------------------------------------------------------

    def _bill_batch(self, date_ref):
        """Bill the locked contracts ``self`` (one company and journal).

        The happy path is one savepoint, one ``create`` and one ``_post`` for
        the whole batch. When it fails, the batch is split in halves until
        the failing contracts are isolated; they get ``billing_error`` and
        the others are billed normally.
        """
        started = time.monotonic()
        # Cheap checks first: they turn into contract errors, not exceptions.
        plans, errors = self._plan_batch(date_ref)
        moves = self.env["account.move"]
        pending = [plans]
        while pending:
            chunk = pending.pop()
            if not chunk:
                continue
            try:
                with self.env.cr.savepoint():
                    moves |= self._bill_plans(chunk, date_ref)
            except CONCURRENCY_ERRORS:
                raise
            except Exception as error:  # noqa: BLE001 - isolate any failure
                if len(chunk) == 1:
                    errors[chunk[0]["contract"]] = self._format_billing_error(error)
                else:
                    half = len(chunk) // 2
                    pending += [chunk[half:], chunk[:half]]
        billed = self.browse(p["contract"].id for p in plans) - self.browse(
            c.id for c in errors
        )
        billed.filtered("billing_error").write(
            {"billing_error": False, "billing_error_date": False}
        )
        for contract, message in errors.items():
            contract._record_billing_error(message, date_ref)
        self._close_fully_billed()
        self._record_batch_speed(time.monotonic() - started, len(moves))
        return moves

    def _plan_batch(self, date_ref):
        """Return ([plan], {contract: error}) where a plan holds the contract
        and its due periods, capped to the batch size in invoices."""
        budget = self._get_batch_size()
        plans, errors = [], {}
        for contract in self:
            if budget <= 0:
                break
            periods = contract._get_due_periods(date_ref, limit=budget)
            if not periods:
                continue
            error = contract._get_billing_blocker(date_ref)
            if error:
                errors[contract] = error
                continue
            plans.append({"contract": contract, "periods": periods})
            budget -= len(periods)
        return plans, errors

    def _get_billing_blocker(self, date_ref):
        """Problems Odoo would not report, or would only report by silently
        doing something else. Returns a message, or False."""
        self.ensure_one()
        partner = self.partner_id
        if not partner.active:
            return _(
                "The customer %(partner)s is archived.", partner=partner.display_name
            )
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        if not lines:
            return _("The contract has no lines to bill.")
        for line in lines:
            product = line.product_id
            if not product:
                return _("The line '%(line)s' has no product.", line=line.name)
            if not product.active:
                # Odoo would post an archived product without a word.
                return _(
                    "The product %(product)s is archived.",
                    product=product.display_name,
                )
            if not line._get_income_account():
                return _(
                    "No income account for the product %(product)s.",
                    product=product.display_name,
                )
        if self.invoice_action != "draft" and self.company_id._get_violated_lock_dates(
            fields.Date.context_today(self), True, self.journal_id
        ):
            # Odoo moves an invoice out of a locked period, but never past
            # today: with a lock date on or after today posting must fail.
            # Said up front, rather than found by splitting the batch.
            return _(
                "The accounting of %(company)s is locked up to today: the "
                "invoice cannot be posted.",
                company=self.company_id.display_name,
            )
        if not self.journal_id.active:
            return _(
                "The journal %(journal)s is archived.",
                journal=self.journal_id.display_name,
            )
        company_currency = self.company_id.currency_id
        if self.currency_id != company_currency:
            # Odoo would fall back to the oldest rate, or 1.0, silently.
            has_rate = self.env["res.currency.rate"].search_count(
                [
                    ("currency_id", "=", self.currency_id.id),
                    (
                        "company_id",
                        "in",
                        [False, self.company_id.root_id.id, self.company_id.id],
                    ),
                    ("name", "<=", date_ref),
                ],
                limit=1,
            )
            if not has_rate:
                return _(
                    "No exchange rate for %(currency)s on or before %(date)s.",
                    currency=self.currency_id.name,
                    date=format_date(self.env, date_ref),
                )
        return False

    def _bill_plans(self, plans, date_ref):
        """Create the ledger rows and the invoices of ``plans``, and post them
        when the contract says so. Runs inside the caller's savepoint: any
        failure undoes all of it."""
        # The ledger rows come first, in the same transaction as their
        # invoices: UNIQUE(contract_id, date_start) refuses a period twice
        # before any invoice is built for it.
        Period = self.env["recurring.contract.period"]
        new_periods = [
            (plan["contract"], period)
            for plan in plans
            for period in plan["periods"]
            if not period.get("ledger")
        ]
        ledger_rows = iter(
            Period.create(
                [
                    contract._prepare_period_vals(period)
                    for contract, period in new_periods
                ]
            )
        )
        move_vals_list = []
        for plan in plans:
            contract = plan["contract"]
            for period in plan["periods"]:
                ledger = period.get("ledger")
                if ledger:  # a voided period billed again
                    ledger.state = "invoiced"
                else:
                    ledger = next(ledger_rows)
                vals = contract._prepare_invoice_vals(period, date_ref)
                vals["recurring_period_id"] = ledger.id
                move_vals_list.append(vals)
        Move = self.env["account.move"]
        created = Move.with_context(
            # The mail side of create() (creation log, creator subscription,
            # tracking set-up) is the costliest part of it; one short message
            # per invoice follows below instead.
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            default_move_type="out_invoice",
        ).create(move_vals_list)
        # Back to the caller's context: posting and later edits are tracked
        # in the chatter as usual (state changes, the audit trail).
        moves = Move.browse(created.ids)
        body = Markup(_("Invoice generated from contract %(contract)s"))
        moves._message_log_batch(
            bodies={
                move.id: body
                % {"contract": move.recurring_contract_id._get_html_link()}
                for move in moves
            }
        )
        to_post = moves.filtered(
            lambda m: m.recurring_contract_id.invoice_action in ("post", "post_send")
        )
        if to_post:
            to_post._post(soft=False)
        to_send = to_post.filtered(
            lambda m: m.recurring_contract_id.invoice_action == "post_send"
        )
        if to_send:
            self._queue_invoice_sending(to_send)
        return moves

    def _queue_invoice_sending(self, moves):
        """Hand posted invoices to Odoo's own asynchronous sending (the
        account.move.send scheduled action renders the PDF and mails it with
        the customer's language), never inside the billing transaction."""
        moves.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
        }
        send_cron = self.env.ref(
            "account.ir_cron_account_move_send", raise_if_not_found=False
        )
        if send_cron:
            send_cron._trigger()

    def _close_fully_billed(self):
        to_close = self.filtered(
            lambda c: c.state == "running" and c._is_fully_billed()
        )
        if to_close:
            to_close.state = "closed"
            # A log, not a message_post: the billing user has no email
            # address to send from, and nobody needs a notification here.
            body = _("Last period billed: the contract is closed.")
            to_close._message_log_batch(bodies=dict.fromkeys(to_close.ids, body))

    def _format_billing_error(self, error):
        if isinstance(error, UserError | ValidationError):
            return str(error.args[0]) if error.args else str(error)
        return _("Unexpected error: %(error)s", error=str(error) or repr(error))

    def _record_billing_error(self, message, date_ref):
        """Flag the contract, tell its salesperson, and move on: the contract
        is retried on the next run."""
        self.ensure_one()
        _logger.info("Contract %s (id %s) not billed: %s", self.name, self.id, message)
        is_new = self.billing_error != message
        self.write({"billing_error": message, "billing_error_date": date_ref})
        if is_new:
            # A log, not a message_post (the billing user has no email address
            # to send from): the activity below is what warns the salesperson.
            self._message_log(
                body=Markup("%s<br/>%s")
                % (_("The contract could not be invoiced:"), message),
            )
            # The assignment email needs a sender address; the billing user
            # has none, so the activity then only shows in Odoo (systray,
            # the "To review" filter) instead of failing the whole batch.
            self.with_context(
                mail_activity_quick_update=not self.env.user.partner_id.email
            ).activity_schedule(
                "mail.mail_activity_data_warning",
                user_id=(self.user_id or self.env.user).id,
                summary=_("Contract could not be invoiced"),
                note=message,
            )

    # -------------------------------------------------------------------------
    # BILLING ENGINE: VALUES
    # -------------------------------------------------------------------------

    def _prepare_period_vals(self, period, state="invoiced"):
        self.ensure_one()
        return {
            "contract_id": self.id,
            "period_index": period["index"],
            "date_start": period["date_start"],
            "date_end": period["date_end"],
            "state": state,
        }

    def _prepare_invoice_vals(self, period, date_ref):
        """Values of the invoice of one period. Hook for extensions."""
        self.ensure_one()
        factor = self._get_proration_factor(period)
        lines = [
            Command.create(line._prepare_invoice_line_vals(period, factor))
            for line in self.line_ids
        ]
        return {
            "move_type": "out_invoice",
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "journal_id": self.journal_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": date_ref,
            "invoice_payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "invoice_user_id": self.user_id.id,
            "invoice_origin": self.name,
            "narration": self.note if not self.env.context.get("no_note") else False,
            "recurring_contract_id": self.id,
            "invoice_line_ids": lines,
        }

    def _get_period_label(self, period, lang_code=None):
        """'Period: 1 Jan 2026 - 31 Jan 2026', in the customer's language."""
        lang_code = lang_code or self.partner_id.lang
        env = self.with_context(lang=lang_code).env
        label = env._(
            "Period: %(start)s - %(end)s",
            start=format_date(env, period["date_start"], lang_code=lang_code),
            end=format_date(env, period["date_end"], lang_code=lang_code),
        )
        if self._get_proration_factor(period) != 1.0:
            label += " " + env._(
                "(prorated: %(days)s of %(full)s days)",
                days=(period["date_end"] - period["date_start"]).days + 1,
                full=(period["full_date_end"] - period["date_start"]).days + 1,
            )
        return label

    # -------------------------------------------------------------------------
    # MAIL
    # -------------------------------------------------------------------------

    def _send_activation_notice(self):
        """Tell the customer what will be billed, how often and from when
        (the article's first best practice). Queued, never sent inline."""
        template = self.env.ref(
            "recurring_billing.mail_template_contract_activation",
            raise_if_not_found=False,
        )
        if not template:
            return
        for contract in self.filtered(lambda c: c.partner_id.email):
            contract.with_context(
                mail_notify_force_send=False
            ).message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
            )

    def _cron_send_reminders(self):
        """Remind customers N days before an invoice (setting; 0 = off)."""
        days = int(
            self.env["ir.config_parameter"]
            .sudo()  # technical setting, read-only use
            .get_param("recurring_billing.reminder_days", 0)
        )
        template = self.env.ref(
            "recurring_billing.mail_template_contract_reminder",
            raise_if_not_found=False,
        )
        if days <= 0 or not template:
            return
        target = fields.Date.context_today(self) + timedelta(days)
        contracts = self.search(
            [("state", "=", "running"), ("next_invoice_date", "=", target)]
        )
        for contract in contracts.filtered(lambda c: c.partner_id.email):
            contract.message_post_with_source(template, subtype_xmlid="mail.mt_comment")

    # -------------------------------------------------------------------------
    # PORTAL
    # -------------------------------------------------------------------------

    def _get_portal_invoices(self):
        """Posted invoices of the contract, as shown on the portal. Called on
        a record the portal controller checked (rule or access token)."""
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda m: m.state == "posted"
            and m.move_type in ("out_invoice", "out_refund")
        ).sorted("invoice_date", reverse=True)

    def _get_report_base_filename(self):
        self.ensure_one()
        return _("Contract %(name)s", name=self.name)

    def _get_portal_return_action(self):
        self.ensure_one()
        return self.env.ref("recurring_billing.action_recurring_contract")
