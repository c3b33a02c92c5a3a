# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

# Fields that define the billing periods and what a cut period owes: they
# freeze once a period is billed.
SCHEDULE_FIELDS = (
    "date_start",
    "recurring_interval",
    "recurring_rule_type",
    "invoicing_mode",
    "prorate",
)
# What a closed contract keeps as it was billed: renew it (or void a period)
# to reopen it first.
CLOSED_LOCKED_FIELDS = (
    "partner_id",
    "date_start",
    "date_end",
    "prorate",
    "recurring_interval",
    "recurring_rule_type",
    "invoicing_mode",
    "journal_id",
    "currency_id",
    "company_id",
    "fiscal_position_id",
    "line_ids",
)


class RecurringContract(models.Model):
    _name = "recurring.contract"
    _description = "Recurring Contract"
    _inherit = [
        "recurring.billing.terms.mixin",
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "recurring.indexation.mixin",
    ]
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
        default=lambda self: _("New"),
        index="trigram",
    )
    active = fields.Boolean(default=True)
    state = fields.Selection(
        string="Status",
        group_expand="_group_expand_states",
        selection=[
            ("draft", "Draft"),
            ("running", "Running"),
            ("paused", "Paused"),
            ("closed", "Closed"),
        ],
        default="draft",
        required=True,
        readonly=True,
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
        help="Sales journal the invoices are created in: they take its "
        "numbering (INV/2026/00001) when posted.",
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
        # The company's today, the date the engine bills on: a contract
        # created and invoiced at once bills its first period that same day.
        default=lambda self: self.env.company._get_recurring_today(),
        tracking=True,
        help="First day billed. Every period is counted from this date: "
        "monthly from 31 January, periods start on 28 February, 31 March, "
        "30 April.",
    )
    date_end = fields.Date(
        string="End Date",
        tracking=True,
        help="Last day billed. Leave empty for a contract that runs until closed.",
    )
    # The recurrence and invoicing terms come from the mixin; tracked here.
    recurring_interval = fields.Integer(tracking=True)
    recurring_rule_type = fields.Selection(tracking=True)
    invoicing_mode = fields.Selection(tracking=True)
    invoice_action = fields.Selection(
        default=lambda self: self._default_invoice_action(),
        tracking=True,
        help="What the scheduled action does with each invoice: leave it as a "
        "draft to review, post it (it gets the journal's number), or post it "
        "and email it to the customer.",
    )
    note = fields.Html(string="Terms and Conditions")

    # Lines, ledger, invoices
    line_ids = fields.One2many(
        comodel_name="recurring.contract.line",
        inverse_name="contract_id",
        string="Lines",
        copy=True,
    )
    usage_ids = fields.One2many(
        comodel_name="recurring.contract.usage",
        inverse_name="contract_id",
        string="Usage",
        readonly=True,
    )
    usage_line_ids = fields.One2many(
        comodel_name="recurring.contract.line",
        compute="_compute_usage_line_ids",
        string="Usage Lines",
    )
    usage_count = fields.Integer(compute="_compute_usage_line_ids")
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
    suspension_ids = fields.One2many(
        comodel_name="recurring.contract.suspension",
        inverse_name="contract_id",
        string="Suspensions",
        copy=False,
        groups="base.group_user",
    )
    indexation_ids = fields.One2many(
        comodel_name="recurring.contract.indexation",
        inverse_name="contract_id",
        string="Price Updates",
        copy=False,
        groups="base.group_user",
    )
    adjustment_pending = fields.Boolean(
        copy=False,
        readonly=True,
        index=True,
        help="A change touched a period already billed: the next run bills or "
        "credits the difference.",
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
    next_issue_date = fields.Date(
        string="Next Invoice Issued On",
        compute="_compute_next_issue_date",
        help="The day the next invoice is really issued: its scheduled date, "
        "or the next run of the billing scheduled action when that date has "
        "passed.",
    )
    has_due_periods = fields.Boolean(
        string="Invoice Due",
        compute="_compute_next_issue_date",
        help="A period is due today: 'Invoice now' bills it.",
    )
    # Amounts of one period: not summed in lists, pivots and graphs, since
    # contracts of different frequencies do not add up (the MRR does).
    has_price_conversion = fields.Boolean(
        compute="_compute_has_price_conversion",
        help="A line's product is priced for another frequency: its price was "
        "converted to the contract's.",
    )
    amount_untaxed = fields.Monetary(
        string="Amount per Period",
        compute="_compute_amounts",
        store=True,
        aggregator=None,
        help="The untaxed amount of the next invoice, as the engine will bill it.",
    )
    amount_tax = fields.Monetary(
        string="Taxes per Period",
        compute="_compute_amounts",
        store=True,
        aggregator=None,
        help="The taxes of the next invoice.",
    )
    amount_total = fields.Monetary(
        string="Total per Period",
        compute="_compute_amounts",
        store=True,
        aggregator=None,
        help="The total of the next invoice, taxes included, as the customer is "
        "told it.",
    )
    recurring_monthly = fields.Monetary(
        string="MRR",
        compute="_compute_recurring_monthly",
        store=True,
        help="Monthly recurring revenue today: the untaxed amount per period "
        "of the lines billed today, normalised to one month. Zero while the "
        "contract does not bill (draft, paused, closed); a contract closing "
        "on a future date counts until that date.",
    )
    mrr_movement_ids = fields.One2many(
        comodel_name="recurring.mrr.movement",
        inverse_name="contract_id",
        string="MRR Movements",
        copy=False,
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
        # Internal exception text: never for portal users.
        groups="base.group_user",
        help="Why the last billing attempt failed. Empty when all is well.",
    )
    has_billing_error = fields.Boolean(
        compute="_compute_has_billing_error",
        store=True,
        help="Whether the last billing attempt failed (the reason itself is "
        "for internal users only).",
    )
    billing_error_date = fields.Date(
        copy=False,
        readonly=True,
        groups="base.group_user",
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
            if contract.journal_id.company_id in contract.company_id.parent_ids:
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
        "line_ids.quantity_type",
        "suspension_ids.date_start",
        "suspension_ids.date_end",
    )
    def _compute_next_dates(self):
        for contract in self:
            voided = contract.period_ids.filtered(lambda p: p.state == "voided")
            if voided:
                # A voided period is billed again before anything newer.
                first = min(voided, key=lambda p: p.period_index)
                period = contract._get_period(first.period_index)
            else:
                period = next(contract._iter_periods(), None)
            billed_now = period and contract._is_billed_now(period)
            if not period and contract.date_start:
                # An advance contract's last usage, billed after its end.
                period = contract._get_final_usage_period()
                billed_now = period and contract.state == "running"
            contract.next_period_start = period and period.date_start
            contract.next_invoice_date = billed_now and period.invoice_date

    @api.depends("line_ids.price_note")
    def _compute_has_price_conversion(self):
        for contract in self:
            contract.has_price_conversion = any(contract.line_ids.mapped("price_note"))

    def _group_expand_states(self, states, domain):
        # The kanban shows every state, drafts included, even when empty.
        return [key for key, _label in self._fields["state"].selection]

    @api.depends("next_invoice_date", "state", "adjustment_pending")
    @api.depends_context("tz")
    def _compute_next_issue_date(self):
        for contract in self:
            first = contract.next_invoice_date
            if not first and contract.state == "draft":
                # What Start would schedule, said in the Start dialog.
                period = next(contract._iter_periods(), None)
                first = period and period.invoice_date
            today = contract.company_id._get_recurring_today()
            # An adjustment pending (a price change, a pause or a close
            # inside a period already billed) is due at once too.
            contract.has_due_periods = bool(
                contract.id
                and (
                    (
                        contract.state in ("running", "paused")
                        and contract._get_due_periods(today, limit=1)
                    )
                    or (contract.adjustment_pending and contract.state != "draft")
                )
            )
            if not first or first > today:
                contract.next_issue_date = first or False
                continue
            # Already due: issued at the next run of the scheduled action.
            contract.next_issue_date = contract._get_next_run_date()

    @api.depends(
        "state",
        "date_start",
        "date_end",
        "auto_renew",
        "recurring_interval",
        "recurring_rule_type",
        "line_ids.price_subtotal",
        "line_ids.date_start",
        "line_ids.date_end",
        "suspension_ids.date_start",
        "suspension_ids.date_end",
    )
    def _compute_recurring_monthly(self):
        # Not on the ledger (period_ids): the engine writes it for every
        # invoice, and it changes nothing here but a close (the state).
        # As of today: the daily _cron_refresh_mrr recomputes it when the
        # calendar alone changes it (a future close or pause has come).
        for contract in self:
            contract.recurring_monthly = (
                contract._get_mrr_on(contract.company_id._get_recurring_today())
                if contract.id
                else 0.0
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
        "suspension_ids.date_start",
        "suspension_ids.date_end",
    )
    def _compute_schedule_preview_html(self):
        for contract in self:
            # QWeb escapes every value (t-out): the result is safe markup.
            contract.schedule_preview_html = self.env["ir.qweb"]._render(
                "recurring_billing.contract_schedule_table",
                {"contract": contract, "periods": contract._get_forecast_periods(12)},
            )

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
            # A branch bills on its parent's journals, as a branch invoice does.
            if journal.company_id not in contract.company_id.parent_ids:
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

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_engine_fields(vals, create=True)
            if vals.get("name", "/") in ("/", _("New")):
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = self.env["ir.sequence"].with_company(
                    company
                ).next_by_code("recurring.contract") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        """The one write of the contract: what a closed contract and a
        billed schedule keep, then what a new end date changes (the periods
        it touches, closing, the MRR movements)."""
        self._check_engine_fields(vals)
        # Reopening (renew, void) sets the state in the same write.
        if vals.get("state", "closed") == "closed":
            for contract in self.filtered(lambda c: c.state == "closed"):
                changed = contract._get_changed_fields(vals, CLOSED_LOCKED_FIELDS)
                if changed:
                    raise UserError(
                        _(
                            "Contract %(name)s is closed: %(fields)s can no longer "
                            "change. Renew it first to extend or change it.",
                            name=contract.name,
                            fields=contract._get_field_labels(changed),
                        )
                    )
        if any(field in vals for field in SCHEDULE_FIELDS):
            self._check_schedule_frozen(vals)
        old_ends = (
            {record: record.date_end for record in self} if "date_end" in vals else {}
        )
        old_customers = (
            {record: record.commercial_partner_id for record in self}
            if "partner_id" in vals
            else {}
        )
        # A contract handed to another customer: the links sent to the former
        # one (its access token) stop opening it.
        handed_over = (
            self.filtered(
                lambda c: c.access_token and c.partner_id.id != vals["partner_id"]
            )
            if "partner_id" in vals
            else self.browse()
        )
        res = super().write(vals)
        if old_customers:
            # The MRR history keeps each day's customer.
            self._record_customer_changes(old_customers)
            self._unsubscribe_former_customers(old_customers)
        if handed_over:
            super(RecurringContract, handed_over).write({"access_token": False})
        for record, old_end in old_ends.items():
            if record.date_end != old_end:
                # A new end inside or before what is billed changes what those
                # periods owe (a credit, or the rest of a prorated period).
                record._flag_adjustments_from(
                    min(filter(None, [old_end, record.date_end]))
                )
        if old_ends:
            self._close_if_fully_billed()
        if {"date_end", "auto_renew"} & set(vals):
            # An end date edited on the form moves the churn with it.
            self.filtered(lambda c: c.state != "draft")._sync_mrr_movements()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.period_ids:
            raise UserError(
                _("A contract with billed periods cannot be deleted: close it.")
            )

    # -------------------------------------------------------------------------
    # ACTIONS (the lifecycle, Start to Renew, is recurring.lifecycle.mixin's)
    # -------------------------------------------------------------------------

    def action_view_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "view_mode": "form",
            "res_id": self.sale_order_id.id,
        }

    @api.depends("line_ids.quantity_type", "usage_ids")
    def _compute_usage_line_ids(self):
        for contract in self:
            contract.usage_line_ids = contract.line_ids.filtered(
                lambda line: line.quantity_type == "usage"
            )
            contract.usage_count = len(contract.usage_ids)

    def action_view_usage(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "recurring_billing.action_recurring_contract_usage"
        )
        action["domain"] = [("contract_id", "=", self.id)]
        lines = self.usage_line_ids
        action["context"] = {
            "default_line_id": lines[:1].id if len(lines) == 1 else False,
            "usage_contract_id": self.id,
        }
        return action

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

    # -------------------------------------------------------------------------
    # BILLING: ENTRY POINTS (the work is done by recurring.billing.engine)
    # -------------------------------------------------------------------------

    def action_generate_invoices(self):
        """The 'Invoice now' button: bill what is due up to today."""
        return self.env["recurring.billing.engine"]._invoice_now(self)

    def _generate_invoices(self, date_ref=None, retry_failed=True):
        """Bill every period of ``self`` due on ``date_ref`` (default: today),
        in batches, without committing. Returns the invoices created."""
        return self.env["recurring.billing.engine"]._generate_for(
            self, date_ref=date_ref, retry_failed=retry_failed
        )

    @api.model
    def _cron_generate_invoices(self, date_ref=None):
        """The scheduled action ``recurring_billing.ir_cron_generate_invoices``;
        what it posts is charged right after (recurring.payment.mixin)."""
        done = self.env["recurring.billing.engine"]._run_scheduled(date_ref)
        self._charge_after_billing_run(done, date_ref)
        return done
