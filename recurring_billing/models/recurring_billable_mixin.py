# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import itertools

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from ..tools import schedule

# Fields that define the billing periods: they freeze once a period is billed.
SCHEDULE_FIELDS = (
    "date_start",
    "recurring_interval",
    "recurring_rule_type",
    "invoicing_mode",
)


class RecurringBillableMixin(models.AbstractModel):
    """What the billing engine needs from a document billed every period:
    its schedule (walked through the pure core of ``tools/schedule.py``),
    what blocks its billing, and the values of its ledger rows and invoices.

    ``recurring.contract`` is the document that uses it; the engine
    (``recurring.billing.engine``) calls nothing else on it. The fields it
    reads (dates, recurrence, lines, ledger, partner, journal) are the
    contract's.
    """

    _name = "recurring.billable.mixin"
    _description = "Billed Every Period (engine interface)"

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

    def write(self, vals):
        """Once a period is billed, the schedule that defined it is frozen."""
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

    # -------------------------------------------------------------------------
    # SCHEDULE (the periods come from the pure core in tools/schedule.py)
    # -------------------------------------------------------------------------

    def _get_schedule_args(self):
        """The values the schedule core needs, as its keyword arguments."""
        self.ensure_one()
        return {
            "anchor": self.date_start,
            "rule": self.recurring_rule_type,
            "interval": self.recurring_interval,
            "date_end": self.date_end,
            "mode": self.invoicing_mode,
            "prorate": self.prorate,
        }

    def _get_period(self, index):
        """Period ``index`` (0-based) of the contract, or None when it starts
        after the end date."""
        self.ensure_one()
        return schedule.period_at(index=index, **self._get_schedule_args())

    def _iter_periods(self, from_index=None):
        """The periods from ``from_index`` on (default: the next one not in
        the ledger), oldest first: the one walk over the schedule that due
        periods, forecasts, skips and "fully billed" all use."""
        self.ensure_one()
        if not self.date_start:
            return iter(())
        if from_index is None:
            from_index = self._get_next_period_index()
        return schedule.iter_periods(
            start_index=from_index, **self._get_schedule_args()
        )

    def _get_next_period_index(self):
        """The ledger is written oldest first and never has holes: the next
        period is the one after the highest index in it."""
        self.ensure_one()
        return max(self.period_ids.mapped("period_index"), default=-1) + 1

    def _get_due_periods(self, date_ref, limit=None):
        """Periods whose scheduled invoice date is on or before ``date_ref``
        and that are not billed yet, oldest first (voided periods first: they
        are older than anything not yet in the ledger)."""
        self.ensure_one()
        periods = [
            self._get_period(row.period_index)
            for row in self.period_ids.sorted("period_index")
            if row.state == "voided"
        ]
        periods = [p for p in periods if p and p.invoice_date <= date_ref]
        for period in self._iter_periods():
            if (limit and len(periods) >= limit) or period.invoice_date > date_ref:
                break
            periods.append(period)
        return periods[:limit] if limit else periods

    def _get_forecast_periods(self, count=12):
        """The next ``count`` scheduled invoices with their untaxed amounts,
        computed by the same code that bills them (the billing schedule tab,
        the portal and the contract PDF)."""
        self.ensure_one()
        if self.state == "closed":
            return []
        return [
            schedule.ScheduledInvoice(period, self._get_period_amount(period))
            for period in itertools.islice(self._iter_periods(), count)
        ]

    def _get_period_amount(self, period):
        """Untaxed amount billed for ``period``, as the invoice will."""
        return self.currency_id.round(
            sum(
                line._get_prorated_price_unit(period.factor)
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
            and next(self._iter_periods(), None) is None
            and not self.period_ids.filtered(lambda p: p.state == "voided")
        )

    # -------------------------------------------------------------------------
    # CHECKS
    # -------------------------------------------------------------------------

    def _get_billing_blockers(self, date_ref=None):
        """What stops the contract from being billed on ``date_ref``: problems
        Odoo would not report, or would only report by silently doing
        something else. One list, used by Start (raised) and by the engine
        (recorded on the contract). Without ``date_ref`` (Start), the checks
        that depend on the day billed (lock date, exchange rate) are left to
        the engine: a rate or a lock can change before the first invoice.
        Returns a list of messages."""
        self.ensure_one()
        blockers = []
        partner = self.partner_id
        if not partner.active:
            blockers.append(
                _("The customer %(partner)s is archived.", partner=partner.display_name)
            )
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        if not lines:
            blockers.append(_("The contract has no lines to bill."))
        for line in lines:
            product = line.product_id
            if not product:
                blockers.append(
                    _("The line '%(line)s' has no product.", line=line.name)
                )
            elif not product.active:
                # Odoo would post an archived product without a word.
                blockers.append(
                    _(
                        "The product %(product)s is archived.",
                        product=product.display_name,
                    )
                )
            elif not line._get_income_account():
                blockers.append(
                    _(
                        "There is no income account for the product %(product)s "
                        "(set one on the product, its category or the journal "
                        "%(journal)s).",
                        product=product.display_name,
                        journal=self.journal_id.display_name,
                    )
                )
        if not self.journal_id.active:
            blockers.append(
                _(
                    "The journal %(journal)s is archived.",
                    journal=self.journal_id.display_name,
                )
            )
        if not date_ref:
            return blockers
        if self.invoice_action != "draft" and self.company_id._get_violated_lock_dates(
            date_ref, True, self.journal_id
        ):
            # Odoo moves an invoice out of a locked period, but never past
            # today: with a lock date on or after the invoice date posting
            # must fail. Said up front, rather than found by splitting a batch.
            blockers.append(
                _(
                    "The accounting of %(company)s is locked up to %(date)s: the "
                    "invoice cannot be posted.",
                    company=self.company_id.display_name,
                    date=format_date(self.env, date_ref),
                )
            )
        if self.currency_id != self.company_id.currency_id and not self.env[
            "res.currency.rate"
        ].search_count(
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
        ):
            # Odoo would fall back to the oldest rate, or 1.0, silently.
            blockers.append(
                _(
                    "No exchange rate for %(currency)s on or before %(date)s.",
                    currency=self.currency_id.name,
                    date=format_date(self.env, date_ref),
                )
            )
        return blockers

    def _check_billable(self, date_ref=None):
        """Raise the billing blockers of each contract, if any."""
        for contract in self:
            blockers = contract._get_billing_blockers(date_ref)
            if blockers:
                raise UserError(
                    _(
                        "Contract %(name)s cannot be billed:\n%(reasons)s",
                        name=contract.name,
                        reasons="\n".join(blockers),
                    )
                )

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

    # -------------------------------------------------------------------------
    # VALUES OF THE LEDGER ROWS AND INVOICES
    # -------------------------------------------------------------------------

    def _prepare_period_vals(self, period, state="invoiced"):
        self.ensure_one()
        return {
            "contract_id": self.id,
            "period_index": period.index,
            "date_start": period.date_start,
            "date_end": period.date_end,
            "state": state,
        }

    def _prepare_invoice_vals(self, period, date_ref):
        """Values of the invoice of one period. Hook for extensions."""
        self.ensure_one()
        lines = [
            Command.create(line._prepare_invoice_line_vals(period, period.factor))
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
            start=format_date(env, period.date_start, lang_code=lang_code),
            end=format_date(env, period.date_end, lang_code=lang_code),
        )
        if period.is_prorated:
            label += " " + env._(
                "(prorated: %(days)s of %(full)s days)",
                days=period.days,
                full=period.full_days,
            )
        return label
