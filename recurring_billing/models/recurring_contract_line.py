# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import dataclasses
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date, formatLang

from ..core import schedule, usage
from ..tools import changes, compat
from ..tools.privileged import (
    computed_fields_in,
    is_privileged_write,
    privileged_context,
)

# What a line's price is computed from (the product's price in the unit).
PRICE_SOURCE_FIELDS = {"product_id", "product_uom_id"}
# Fields that make up what a line bills: frozen once a period billed it
# (change them from a date with _action_change, which ends the line).
BILLED_LINE_FIELDS = {
    "product_id",
    "product_uom_id",
    "quantity",
    "price_unit",
    "discount",
    "date_start",
    # What a usage line charges: a period billed is rated again with its
    # late records, so its pricing must stay what it billed.
    "quantity_type",
    "usage_aggregation",
    "usage_included",
    "usage_price_mode",
    "usage_tiers",
    "usage_minimum",
}
# Fields that make up a line's share of the contract's MRR.
MRR_LINE_FIELDS = BILLED_LINE_FIELDS | {"date_end", "tax_ids", "display_type"}


class RecurringContractLine(models.Model):
    _name = "recurring.contract.line"
    _inherit = "recurring.contract.line.mixin"
    _description = "Recurring Contract Line"
    _order = "contract_id, sequence, id"
    _check_company_auto = True

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="contract_id.company_id", store=True)
    currency_id = fields.Many2one(related="contract_id.currency_id")
    product_id = fields.Many2one(check_company=True)
    name = fields.Text(required=True)
    quantity = fields.Float(required=True)
    product_uom_id = fields.Many2one(
        comodel_name="uom.uom",
        string="Unit",
        compute="_compute_product_uom_id",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('id', 'in', allowed_uom_ids)]",
    )
    allowed_uom_ids = fields.Many2many(
        comodel_name="uom.uom",
        string="Allowed Units",
        compute="_compute_allowed_uom_ids",
    )
    tax_ids = fields.Many2many(
        comodel_name="account.tax",
        string="Taxes",
        compute="_compute_tax_ids",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    analytic_distribution = fields.Json(string="Analytic")
    date_start = fields.Date(
        string="From",
        help="First day the line is billed, when it starts after the contract "
        "(a line added in the middle of a term). Empty: from the contract's "
        "start. A period it covers in part is billed by days.",
    )
    date_end = fields.Date(
        string="Until",
        help="Last day the line is billed, when it ends before the contract. "
        "A period it covers in part is billed by days; a period already "
        "billed is credited for the days after it.",
    )
    usage_ids = fields.One2many(
        comodel_name="recurring.contract.usage",
        inverse_name="line_id",
        string="Usage",
    )
    previous_line_id = fields.Many2one(
        comodel_name="recurring.contract.line",
        string="Continues",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The line this one continues from its start (a change from a "
        "date, a yearly price update). A usage line and the lines continuing "
        "it share their usage records: each is rated at the price in force on "
        "its date, and a period gets its included units and minimum once.",
    )
    usage_current_quantity = fields.Float(
        string="Used this Period",
        compute="_compute_usage_current",
        digits="Product Unit of Measure",
        help="Quantity used in the current period so far (its records).",
    )
    usage_current_amount = fields.Monetary(
        string="Cost so Far",
        compute="_compute_usage_current",
        help="What the usage of the current period bills so far (included "
        "units, tiers and minimum applied), before taxes.",
    )
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_amounts", store=True
    )
    price_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    def _get_description_lang(self):
        return self.contract_id.partner_id.lang or super()._get_description_lang()

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            line.product_uom_id = line.product_id.uom_id

    @api.depends("product_id.uom_id")
    def _compute_allowed_uom_ids(self):
        for line in self:
            line.allowed_uom_ids = compat.allowed_uoms(line.product_id)

    @api.depends("product_id", "company_id", "contract_id.fiscal_position_id")
    def _compute_tax_ids(self):
        # A billed line keeps the taxes it billed with, whatever the customer
        # becomes (a new fiscal position re-taxes only what is not billed
        # yet; end a billed line and add it again from a date instead).
        for line in self:
            if line._origin.id and not line.display_type and line._origin._is_billed():
                # Assigned, not left out: a form's new records would
                # otherwise lose the taxes.
                line.tax_ids = line._origin.tax_ids
                continue
            company = line.company_id or self.env.company
            taxes = line.product_id.taxes_id._filter_taxes_by_company(company)
            # Mapped as a sale order line maps them: the amounts shown to the
            # customer (form, portal, PDF, emails) are those of the invoice.
            line.tax_ids = line.contract_id.fiscal_position_id.map_tax(taxes)

    def _get_recurrence_document(self):
        return self.contract_id

    def _get_base_product_price(self):
        """The product's price as Odoo's own sale order line and invoice line
        compute it: in the line's unit and the contract's currency, without
        the included taxes that the fiscal position maps away (121.00 with
        21 % included is 100.00 for a customer exempt of it)."""
        self.ensure_one()
        contract = self.contract_id
        company = self.company_id or self.env.company
        return self.product_id._get_tax_included_unit_price(
            company,
            contract.currency_id or company.currency_id,
            contract.date_start or company._get_recurring_today(),
            "sale",
            product_uom=self.product_uom_id or self.product_id.uom_id,
            fiscal_position=contract.fiscal_position_id,
        )

    @api.depends("product_id", "product_uom_id")
    def _compute_price_unit(self):
        # The mixin's: the base price above, converted to the contract's
        # frequency for a recurring product priced for another one. A billed
        # line keeps the price it billed (change it from a date instead).
        billed = self.filtered(
            lambda line: line._origin.id
            and not line.display_type
            and line._origin._is_billed()
        )
        return super(RecurringContractLine, self - billed)._compute_price_unit()

    def _get_changed_fields(self, vals, field_names):
        """Those of ``field_names`` that ``vals`` really changes."""
        return changes.changed_fields(self, vals, field_names)

    @api.depends(
        "usage_ids.quantity",
        "usage_ids.date",
        "quantity_type",
        "price_unit",
        "usage_included",
        "usage_price_mode",
        "usage_tiers",
        "usage_minimum",
        "usage_aggregation",
        "previous_line_id",
        "date_start",
        "date_end",
    )
    @api.depends_context("date_usage")
    def _compute_usage_current(self):
        """The current period's usage and its cost so far, rated by the same
        core as the invoice (``date_usage`` in the context: another day):
        shown on the line of its family that the invoice will name."""
        for line in self:
            line.usage_current_quantity = line.usage_current_amount = 0.0
            if line.quantity_type != "usage" or not line.contract_id.date_start:
                continue
            period = line._get_usage_period_of(
                self.env.context.get("date_usage")
                or line.contract_id.company_id._get_recurring_today()
            )
            family = line._get_usage_family()
            if not period or family._get_usage_line_of(period) != line:
                continue
            records = family.usage_ids.filtered(
                lambda u, p=period: p.date_start <= u.date <= p.date_end
            )
            rows = [(u.date, u.id, u.quantity, u.line_id.id) for u in records]
            line.usage_current_quantity = usage.aggregate(
                [row[:3] for row in rows], line.usage_aggregation
            )
            line.usage_current_amount = family._rate_usage_rows(
                rows, period, line.contract_id.currency_id.rounding
            )

    @api.depends(
        "quantity", "price_unit", "discount", "tax_ids", "currency_id", "quantity_type"
    )
    def _compute_amounts(self):
        AccountTax = self.env["account.tax"]
        for line in self:
            # A usage line has no fixed amount per period: its cost is in
            # usage_current_amount.
            if line.display_type or line.quantity_type == "usage":
                line.price_subtotal = line.price_total = 0.0
                continue
            base_line = AccountTax._prepare_base_line_for_taxes_computation(
                line,
                price_unit=line.price_unit,
                quantity=line.quantity,
                discount=line.discount,
                currency_id=line.currency_id or line.contract_id.currency_id,
                product_id=line.product_id,
                tax_ids=line.tax_ids,
            )
            AccountTax._add_tax_details_in_base_line(
                base_line, line.company_id or self.env.company
            )
            line.price_subtotal = base_line["tax_details"][
                "raw_total_excluded_currency"
            ]
            line.price_total = base_line["tax_details"]["raw_total_included_currency"]
            if line.currency_id:
                line.price_subtotal = line.currency_id.round(line.price_subtotal)
                line.price_total = line.currency_id.round(line.price_total)

    # -------------------------------------------------------------------------
    # CONSTRAINTS AND CRUD
    # -------------------------------------------------------------------------

    @api.constrains("date_start", "date_end")
    def _check_line_dates(self):
        for line in self:
            contract = line.contract_id
            start = line.date_start or contract.date_start
            # A contract that renews itself has no end (its end date is the
            # current term's): a line may start in a term to come.
            end = line.date_end or (not contract.auto_renew and contract.date_end)
            if start and end and end < start:
                raise ValidationError(
                    _(
                        "The line '%(line)s' ends before it starts.",
                        line=line.name,
                    )
                )
            if line.date_start and line.date_start < contract.date_start:
                raise ValidationError(
                    _(
                        "The line '%(line)s' cannot start before its contract.",
                        line=line.name,
                    )
                )

    @api.model
    def _check_contract_open(self, contracts=None):
        """A closed contract's lines stay as they were billed."""
        contracts = self.contract_id if contracts is None else contracts
        closed = contracts.filtered(lambda c: c.state == "closed")
        if closed:
            raise UserError(
                _(
                    "Contract %(name)s is closed: its lines can no longer change. "
                    "Renew it first to extend or change it.",
                    name=closed[0].name,
                )
            )

    @api.model
    def _check_engine_fields(self, vals_list, create=False):
        """What a user never sets on a line: the line it continues (it shares
        its usage records and included units: set by 'Change' and the price
        update only) and what the ORM computes (amounts, company). On
        create, an empty value is accepted (a form sends the defaults)."""
        if is_privileged_write(self.env):
            return
        for vals in vals_list:
            if create:
                vals = {name: value for name, value in vals.items() if value}
            if "previous_line_id" in vals:
                raise UserError(
                    _(
                        "A line continues another only through 'Change' from a "
                        "date or a price update, never set directly."
                    )
                )
            computed = computed_fields_in(self, vals)
            if computed:
                raise UserError(
                    _(
                        "%(fields)s of a contract line are computed, never set "
                        "directly.",
                        fields=", ".join(
                            self._fields[name].get_description(self.env)["string"]
                            for name in computed
                        ),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_engine_fields(vals_list, create=True)
        Contract = self.env["recurring.contract"]
        self._check_target_contracts(
            Contract.browse({vals.get("contract_id") for vals in vals_list} - {None})
        )
        for vals in vals_list:
            contract = Contract.browse(vals.get("contract_id"))
            self._check_contract_open(contract)
            if (
                not vals.get("display_type")
                and not vals.get("date_start")
                and contract._get_billed_until()
            ):
                # A line added to a contract already billed starts with the
                # next period, unless it says from when: never in the past
                # by mistake.
                vals["date_start"] = contract._get_billed_until() + timedelta(1)
        lines = super().create(vals_list)
        lines._flag_billed_contracts()
        lines._sync_contract_mrr()
        return lines

    def write(self, vals):
        self._check_engine_fields([vals])
        self._check_contract_open()
        if vals.get("contract_id"):
            self._check_line_move(
                self.env["recurring.contract"].browse(vals["contract_id"])
            )
        # The shortcuts below may write nothing: the rights are checked here,
        # as Odoo's write would (a user who may not write the line is refused
        # even a write that changes nothing).
        self.check_access("write")
        sources = PRICE_SOURCE_FIELDS & set(vals)
        if sources:
            # A form or an integration saves unchanged values too: a product
            # or unit written again must not price the line again from the
            # product (a price entered by hand stays), billed or not.
            same = self.filtered(
                lambda line: not line._get_changed_fields(vals, sources)
            )
            if same:
                if same != self:
                    (self - same).write(vals)
                rest = {k: v for k, v in vals.items() if k not in sources}
                if rest:
                    same.write(rest)
                return True
        frozen = BILLED_LINE_FIELDS & set(vals)
        billed = (
            self.filtered(lambda line: not line.display_type and line._is_billed())
            if frozen
            else self.browse()
        )
        if billed:
            for line in billed:
                if line._get_changed_fields(vals, frozen):
                    raise UserError(
                        _(
                            "The line '%(line)s' is already billed: change its "
                            "price, quantity, unit or product from a date with "
                            "'Change', or end it on a date.",
                            line=line.name,
                        )
                    )
            # A form saves unchanged values too: on a billed line they are
            # left out, so that nothing computed from them (the price from
            # the unit) is computed again.
            (self - billed).write(vals)
            rest = {name: value for name, value in vals.items() if name not in frozen}
            if rest:
                billed.write(rest)
            return True
        res = super().write(vals)
        if {"date_start", "date_end"} & set(vals):
            self._flag_billed_contracts()
        if MRR_LINE_FIELDS & set(vals):
            self._sync_contract_mrr()
        return res

    def _check_target_contracts(self, contracts):
        """Lines are attached only to contracts the user may write: the
        record rules of the target, not only of the line, decide (a
        salesperson limited to their own documents, another company)."""
        if not self.env.su:
            contracts.check_access("write")

    def _check_line_move(self, target):
        """A line moves to another contract only if the user may write that
        contract, of the same company, and only while nothing billed it (its
        billed amounts are on its contract's ledger)."""
        moving = self.filtered(lambda line: line.contract_id != target)
        if not moving:
            return
        self._check_target_contracts(target)
        self._check_contract_open(target)
        for line in moving:
            if line.contract_id.company_id != target.company_id:
                raise UserError(
                    _(
                        "The line '%(line)s' cannot move to a contract of another "
                        "company (%(contract)s).",
                        line=line.name,
                        contract=target.name,
                    )
                )
            if not line.display_type and line._is_billed():
                raise UserError(
                    _(
                        "The line '%(line)s' is already billed on %(contract)s: "
                        "end it there and add a new line to the other contract.",
                        line=line.name,
                        contract=line.contract_id.name,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        self._check_contract_open()
        for line in self.filtered(lambda line: not line.display_type):
            if line._is_billed():
                raise UserError(
                    _(
                        "The line '%(line)s' is already billed: end it on a date "
                        "instead of deleting it.",
                        line=line.name,
                    )
                )

    def unlink(self):
        contracts = self.contract_id
        res = super().unlink()
        contracts.exists().filtered(lambda c: c.state != "draft")._sync_mrr_movements()
        return res

    def _sync_contract_mrr(self):
        """What a started contract's lines bill is its MRR: its movements
        follow (a line added or changed from a date, ``_action_change``)."""
        self.contract_id.filtered(lambda c: c.state != "draft")._sync_mrr_movements()

    def _is_billed(self):
        """True when a period billed (or being billed) covers the line."""
        self.ensure_one()
        billed_until = self.contract_id._get_billed_until()
        return bool(
            billed_until
            and (self.date_start or self.contract_id.date_start) <= billed_until
        )

    def _flag_billed_contracts(self):
        """A line added or ended inside a period already billed changes what
        that period owes: the next run bills or credits the difference."""
        contracts = self.contract_id.filtered(
            lambda c: c._get_billed_until() and c.state != "draft"
        )
        for line in self:
            billed_until = line.contract_id._get_billed_until()
            if line.contract_id in contracts and (
                (line.date_start and line.date_start <= billed_until)
                or (line.date_end and line.date_end < billed_until)
            ):
                line.contract_id._write_privileged({"adjustment_pending": True})

    def _action_change(self, date_effective, vals):
        """Change price, quantity, discount or product from ``date_effective``:
        the line ends the day before, a copy with ``vals`` starts that day.
        Returns the new line."""
        self.ensure_one()
        if self.display_type:
            raise UserError(
                _("Sections and notes bill nothing: there is nothing to change.")
            )
        # The continuation link is this step's own: privileged after the
        # checks above (the record rules still apply: no sudo).
        new_line = self.with_context(**privileged_context()).copy(
            {
                # Computed fields are not copied: the copy keeps what the line
                # bills unless ``vals`` changes it.
                "name": self.name,
                "quantity_type": self.quantity_type,
                "price_unit": self.price_unit,
                "product_uom_id": self.product_uom_id.id,
                "tax_ids": [Command.set(self.tax_ids.ids)],
                **vals,
                "contract_id": self.contract_id.id,
                "date_start": date_effective,
                "date_end": self.date_end,
                "sequence": self.sequence,
                "previous_line_id": self.id,
            }
        )
        self.date_end = date_effective - timedelta(1)
        return new_line.with_env(self.env)

    # -------------------------------------------------------------------------
    # BILLING
    # -------------------------------------------------------------------------

    def _get_income_account(self):
        """The income account Odoo will book the line on, after the contract's
        fiscal position: the product's (or its category's), else the
        journal's default account."""
        self.ensure_one()
        contract = self.contract_id
        accounts = self.product_id.product_tmpl_id.with_company(
            contract.company_id
        ).get_product_accounts(fiscal_pos=contract.fiscal_position_id)
        return accounts["income"] or contract.journal_id.default_account_id

    def _prepare_invoice_line_vals(self, period, amount, off_windows=()):
        """Values of the invoice line billing ``amount`` (from the schedule
        core) for one period. A line billed in full keeps its quantity, unit
        price and discount; a line billed for part of the period is one
        amount, rounded once (never a rounded unit price times a quantity).
        Hook for extensions."""
        self.ensure_one()
        contract = self.contract_id
        if self.display_type:
            return {
                "display_type": self.display_type,
                "name": self.name,
                "sequence": self.sequence,
            }
        full = contract.currency_id.round(
            schedule.line_amount(self.price_unit, self.quantity, self.discount)
        )
        if contract.currency_id.compare_amounts(amount, full) == 0:
            return self._prepare_base_invoice_line_vals(
                period, contract._get_period_label(period)
            )
        days = schedule.active_days(period, off_windows, self.date_start, self.date_end)
        contract_days = schedule.active_days(period, off_windows)
        label = contract._get_period_label(
            period,
            days=days,
            full=period.full_days if contract.prorate else contract_days,
        )
        return self._prepare_base_invoice_line_vals(period, label, amount)

    def _get_usage_period_of(self, day):
        """The contract's period that contains ``day`` (None outside it)."""
        self.ensure_one()
        contract = self.contract_id
        index = usage.period_index_of(
            contract.date_start,
            contract.recurring_rule_type,
            contract.recurring_interval,
            day,
        )
        return contract._get_period(index)

    def _get_usage_family(self):
        """The usage line ``self`` and the lines of its contract that
        continue it or that it continues (``previous_line_id``), oldest
        first: they share their usage records."""
        self.ensure_one()
        return self.contract_id._get_usage_families().get(self, self)

    def _get_usage_line_of(self, period):
        """The line of the family ``self`` in force at the end of ``period``
        (the latest one covering it), or an empty recordset: it names the
        period's invoice line and gives its included units and minimum."""
        covering = self.filtered(lambda line: line._covers(period))
        return covering[-1:] if covering else covering

    def _get_usage_line_on(self, day):
        """The line of the family ``self`` in force on ``day`` (the nearest
        earlier one between two lines, the first one before them all)."""
        contract = self[:1].contract_id
        earlier = self.filtered(
            lambda line: (line.date_start or contract.date_start) <= day
        )
        return earlier[-1:] or self[:1]

    def _rate_usage_rows(self, rows, period, rounding, billed_rows=None, minimum=True):
        """What the family ``self`` bills for ``period`` from ``rows``
        ``(date, order, quantity, line id)``: each record at the pricing of
        the line in force on its date, the period's included units and
        minimum (those of the line in force at its end) once; no minimum
        with ``minimum=False`` (a period wholly paused). With
        ``billed_rows``: what the rows add to those already billed."""
        period_line = self._get_usage_line_of(period) or self[-1:]
        pricings = {line.id: line._get_usage_pricing() for line in self}
        if not minimum:
            pricings = {
                key: dataclasses.replace(pricing, minimum=0.0)
                for key, pricing in pricings.items()
            }
        by_day = {}

        def keyed(selected):
            result = []
            for day, order, quantity, _line_id in selected:
                if day not in by_day:
                    by_day[day] = self._get_usage_line_on(day).id
                result.append((day, order, quantity, by_day[day]))
            return result

        period_pricing = pricings[period_line.id]
        if billed_rows is None:
            return usage.period_charge(keyed(rows), pricings, period_pricing, rounding)
        return usage.late_period_charge(
            keyed(rows), keyed(billed_rows), pricings, period_pricing, rounding
        )

    def _covers(self, period):
        """True when the line bills (part of) ``period``: within its dates."""
        self.ensure_one()
        return (not self.date_start or self.date_start <= period.date_end) and (
            not self.date_end or self.date_end >= period.date_start
        )

    def _prepare_usage_invoice_line_vals(self, charge):
        """Values of the invoice line of a usage charge (core/usage.py): the
        quantity is the billable units, the label says the usage period and
        what was used. Priced per unit, it is units x unit price; with tiers,
        a minimum or records received late, one amount (quantity 1), rounded
        once by the core. Hook for extensions."""
        self.ensure_one()
        contract = self.contract_id
        env = self.with_context(lang=contract.partner_id.lang).env
        digits = "Product Unit of Measure"
        label = env._(
            "Usage %(start)s - %(end)s: %(used)s used, %(included)s included",
            start=format_date(env, charge.period.date_start),
            end=format_date(env, charge.period.date_end),
            used=formatLang(env, charge.used, dp=digits),
            included=formatLang(env, self.usage_included, dp=digits),
        )
        if charge.late:
            label += " " + env._("(records received after the period was billed)")
        per_unit = contract.currency_id.round(charge.units * self.price_unit)
        vals = self._prepare_base_invoice_line_vals(charge.period, label, charge.amount)
        if (
            self.usage_price_mode == "unit"
            and charge.units
            and contract.currency_id.compare_amounts(per_unit, charge.amount) == 0
        ):
            vals.update(quantity=charge.units, price_unit=self.price_unit)
        vals["recurring_line_id"] = self.id
        return vals

    def _prepare_adjustment_line_vals(self, period, amount):
        """Values of a line of an adjustment: ``amount`` more (an invoice) or
        less (a credit note) for a period already billed. Hook for extensions."""
        self.ensure_one()
        contract = self.contract_id
        label = "{}\n{}".format(
            self.with_context(lang=contract.partner_id.lang).env._(
                "Adjustment of a billed period"
            ),
            contract._get_period_label(period),
        )
        return self._prepare_base_invoice_line_vals(period, label, amount)

    def _prepare_base_invoice_line_vals(self, period, label, amount=None):
        """The invoice line of this contract line for ``period``: at its own
        quantity, price and discount, or as one ``amount`` (quantity 1)
        already computed and rounded by the schedule core."""
        self.ensure_one()
        contract = self.contract_id
        if amount is None:
            billed = {
                "quantity": self.quantity,
                "price_unit": self.price_unit,
                "discount": self.discount,
            }
        else:
            billed = {"quantity": 1.0, "price_unit": amount, "discount": 0.0}
        return {
            **billed,
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": f"{self.name}\n{label}",
            "product_uom_id": self.product_uom_id.id,
            "account_id": self._get_income_account().id,
            "tax_ids": [
                Command.set(contract.fiscal_position_id.map_tax(self.tax_ids).ids)
            ],
            "analytic_distribution": self.analytic_distribution,
            "recurring_date_start": period.date_start,
            "recurring_date_end": period.date_end,
        }
