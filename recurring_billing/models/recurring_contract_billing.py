# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import dataclasses
import itertools
from collections import defaultdict
from datetime import date, timedelta

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..core import schedule, usage
from ..tools import changes
from .recurring_contract import SCHEDULE_FIELDS
from .selections import BILLING_STATES


class RecurringContract(models.Model):
    """The contract as the billing engine sees it: its periods (walked
    through the pure core of ``core/schedule.py``), what each line owes,
    what blocks its billing, and the values of its ledger rows and
    invoices. The engine (``recurring.billing.engine``) calls the contract
    only through the hooks listed in the README's architecture section."""

    _inherit = "recurring.contract"

    def _get_changed_fields(self, vals, field_names):
        """Those of ``field_names`` that ``vals`` really changes."""
        return changes.changed_fields(self, vals, field_names)

    def _get_field_labels(self, field_names):
        return ", ".join(
            self._fields[name].get_description(self.env)["string"]
            for name in field_names
        )

    def _check_schedule_frozen(self, vals):
        """Once a period is billed, the schedule that defined it is frozen."""
        for contract in self.filtered("period_ids"):
            changed = contract._get_changed_fields(vals, SCHEDULE_FIELDS)
            if changed:
                raise UserError(
                    _(
                        "Contract %(name)s already has billed periods: its "
                        "schedule (%(fields)s) can no longer change. Close it "
                        "and start a new contract instead.",
                        name=contract.name,
                        fields=contract._get_field_labels(changed),
                    )
                )

    # -------------------------------------------------------------------------
    # SCHEDULE (the periods come from the pure core in core/schedule.py)
    # -------------------------------------------------------------------------

    def _get_schedule_args(self, **overrides):
        """The values the schedule core needs, as its keyword arguments
        (``overrides`` answers "what if": the close wizard's new end date)."""
        self.ensure_one()
        return {
            "anchor": self.date_start,
            "rule": self.recurring_rule_type,
            "interval": self.recurring_interval,
            "date_end": self.date_end,
            "mode": self.invoicing_mode,
            "prorate": self.prorate,
            **overrides,
        }

    def _get_period(self, index, **overrides):
        """Period ``index`` (0-based) of the contract, or None when it starts
        after the end date."""
        self.ensure_one()
        return schedule.period_at(index=index, **self._get_schedule_args(**overrides))

    def _iter_periods(self, from_index=None, renewing=False, until=None):
        """The periods from ``from_index`` on (default: the next one not in
        the ledger), oldest first: the one walk over the schedule that due
        periods, forecasts, skips and "fully billed" all use. ``renewing``
        (forecasts): a contract that renews itself goes on past its end date,
        as the run renews it before billing the period that date would cut.
        ``until``: as if the contract closed that day (a cancellation the
        customer requested)."""
        self.ensure_one()
        if not self.date_start:
            return iter(())
        if from_index is None:
            from_index = self._get_next_period_index()
        args = self._get_schedule_args()
        if renewing and self.auto_renew:
            args["date_end"] = None
        if until and (not args["date_end"] or until < args["date_end"]):
            args["date_end"] = max(until, self.date_start)
        return schedule.iter_periods(start_index=from_index, **args)

    def _get_billed_until(self):
        """Last day of the last period in the ledger (billed or skipped), or
        False: what lies up to it is history that only adjustments change."""
        self.ensure_one()
        rows = self.period_ids.filtered(lambda r: r.kind == "period")
        return max(rows.mapped("date_end"), default=False)

    def _get_next_period_index(self):
        """The ledger is written oldest first and never has holes: the next
        period is the one after the highest index in it."""
        self.ensure_one()
        return max(self.period_ids.mapped("period_index"), default=-1) + 1

    def _get_due_periods(self, date_ref, limit=None):
        """Periods whose scheduled invoice date is on or before ``date_ref``
        and that are not billed yet, oldest first (voided periods first: they
        are older than anything not yet in the ledger). A pause only affects
        the days from its date: the periods that start before it are due as
        usual, those from it on wait for the contract to resume."""
        self.ensure_one()
        periods = [
            self._get_period(row.period_index)
            for row in self.period_ids.sorted("period_index")
            if row.state == "voided" and row.kind == "period"
        ]
        periods = [
            p
            for p in periods
            if p and p.invoice_date <= date_ref and not self._waits_for_resume(p)
        ]
        for period in self._iter_periods():
            if (
                (limit and len(periods) >= limit)
                or period.invoice_date > date_ref
                or self._waits_for_resume(period)
            ):
                break
            periods.append(period)
        return periods[:limit] if limit else periods

    def _get_paused_from(self):
        """First day of the pause still open (the contract is paused until it
        resumes), or None."""
        self.ensure_one()
        return min(
            (s.date_start for s in self.suspension_ids if not s.date_end),
            default=None,
        )

    def _waits_for_resume(self, period):
        """True when ``period`` starts inside the open pause: the days it owes
        are known only when the contract resumes (periods wholly inside the
        pause are then skipped, the one it resumes in billed by days)."""
        paused_from = self._get_paused_from()
        if not paused_from:
            # Paused with no open pause (a state written directly): nothing
            # is billed until it resumes.
            return self.state == "paused"
        return period.date_start >= paused_from

    def _is_billed_now(self, period):
        """True when ``period`` (next in the schedule) is billed by the runs
        now: the contract runs, or is paused from a later day (a pause dated
        in the future stops nothing before its date)."""
        self.ensure_one()
        return self.state in BILLING_STATES and not self._waits_for_resume(period)

    def _get_forecast_periods(self, count=12, until=None):
        """The next ``count`` scheduled invoices with their untaxed amounts,
        computed by the same code that bills them (the billing schedule tab,
        the portal and the contract PDF); ``until``: as if the contract
        closed that day."""
        self.ensure_one()
        if self.state == "closed":
            return []
        # A period wholly inside a pause bills nothing: the engine skips it,
        # so it is no scheduled invoice (a paused contract lists none of
        # 0.00). The horizon bounds the walk when the pause has no end.
        off_windows = self._get_off_windows()
        periods = (
            period
            for period in itertools.islice(
                self._iter_periods(renewing=True, until=until), count + 500
            )
            if schedule.active_days(period, off_windows)
        )
        return [
            schedule.ScheduledInvoice(period, *self._get_period_totals(period))
            for period in itertools.islice(periods, count)
        ]

    def _get_off_windows(self):
        """The spans the contract does not bill (pauses, time closed before a
        renewal), as (first day, last day or None) pairs for the core."""
        self.ensure_one()
        return [(s.date_start, s.date_end) for s in self.suspension_ids]

    def _get_line_amounts(self, period, off_windows=None):
        """{line: amount} due for ``period``, before taxes, at the lines' own
        prices, rounded once in the contract's currency: the one place an
        amount is computed, for invoices, adjustments, credits and forecasts.
        Lines that bill nothing in the period are left out."""
        self.ensure_one()
        if off_windows is None:
            off_windows = self._get_off_windows()
        amounts = {}
        for line in self.line_ids:
            # Usage lines are rated from their records (_get_usage_charges).
            if line.display_type or line.quantity_type == "usage":
                continue
            share = schedule.billing_share(
                period,
                prorate=self.prorate,
                off_windows=off_windows,
                line_start=line.date_start,
                line_end=line.date_end,
            )
            if share:
                amounts[line] = self.currency_id.round(
                    schedule.line_amount(
                        line.price_unit, line.quantity, line.discount, share
                    )
                )
        return amounts

    def _get_usage_billed_until(self):
        """Last day whose usage the ledger billed, or None: usage is billed
        in arrears, so a period row in advance billed the usage up to the day
        before it, one in arrears (and the final usage row) up to its end."""
        self.ensure_one()
        days = [
            row.date_start - timedelta(1)
            if self.invoicing_mode == "advance" and row.kind == "period"
            else row.date_end
            for row in self.period_ids
            if row.state != "voided" and row.kind in ("period", "usage")
        ]
        return max(days, default=None)

    def _get_usage_cutoff(self, period, kind="period"):
        """Last day of usage the invoice of ``period`` carries: the period's
        own in arrears, the previous one's in advance (the final usage row
        of an advance contract: its last period's)."""
        if self.invoicing_mode == "advance" and kind == "period":
            return period.date_start - timedelta(1)
        return period.date_end

    def _get_usage_families(self):
        """{usage line: its family}: the line with the lines that continue
        it or that it continues (``previous_line_id``, set by a change from
        a date), oldest first. A family shares its usage records."""
        self.ensure_one()
        lines = self.line_ids.filtered(
            lambda line: line.quantity_type == "usage" and not line.display_type
        )
        families = defaultdict(lambda: lines.browse())
        for line in lines:
            root, seen = line, {line.id}
            while (
                root.previous_line_id in lines and root.previous_line_id.id not in seen
            ):
                root = root.previous_line_id
                seen.add(root.id)
            families[root] |= line
        result = {}
        for family in families.values():
            family = family.sorted(
                lambda line: (line.date_start or self.date_start or date.min, line.id)
            )
            result.update(dict.fromkeys(family, family))
        return result

    def _get_usage_charges(
        self, period, usage_groups, kind="period", planned_until=None
    ):
        """The usage charges (``core.usage`` ratings) the invoice of
        ``period`` carries: every record not billed yet up to its cutoff,
        late ones included; none when the contract has no usage line.
        ``usage_groups``: the batch's records, read by one grouped query
        (``recurring.contract.usage._read_batch_usage``); ``planned_until``:
        the last day whose usage an earlier item of the same plan bills (a
        catch-up), counted as billed as if the ledger had it already."""
        self.ensure_one()
        if not self.line_ids.filtered(lambda line: line.quantity_type == "usage"):
            return ()
        billed_until = max(
            filter(None, [self._get_usage_billed_until(), planned_until]),
            default=None,
        )
        return tuple(
            self.env["recurring.contract.usage"]._rate_window(
                self, self._get_usage_cutoff(period, kind), billed_until, usage_groups
            )
        )

    def _get_final_usage_period(self):
        """The last period of a contract with a usage line, when usage is
        still to bill once every period is: that of the last period of an
        advance contract (no next period carries it), or late records. A
        final usage invoice bills it, the day after the end date. None
        otherwise."""
        self.ensure_one()
        if (
            not self.date_end
            or not self.date_start
            or not self.line_ids.filtered(lambda line: line.quantity_type == "usage")
            or next(self._iter_periods(), None) is not None
        ):
            return None
        billed_until = self._get_usage_billed_until()
        if (
            self.invoicing_mode != "advance"
            or (billed_until and billed_until >= self.date_end)
        ) and not self._has_pending_usage():
            return None
        index = usage.period_index_of(
            self.date_start,
            self.recurring_rule_type,
            self.recurring_interval,
            self.date_end,
        )
        period = self._get_period(index)
        return period and dataclasses.replace(
            period, invoice_date=self.date_end + timedelta(1)
        )

    def _has_pending_usage(self):
        """True when a usage record dated within the contract is not billed
        yet (a late record arriving after its period was billed)."""
        self.ensure_one()
        # sudo: counted to know whether an invoice is owed, never shown.
        return bool(
            self.env["recurring.contract.usage"]
            .sudo()
            .search_count(
                [
                    ("contract_id", "=", self.id),
                    ("period_id", "=", False),
                    ("date", "<=", self.date_end),
                ],
                limit=1,
            )
        )

    def _get_period_amount(self, period, off_windows=None):
        """Untaxed amount of the invoice of ``period``, as the invoice will
        say it (a price that includes its tax is split)."""
        return self._get_period_totals(period, off_windows)[0]

    def _get_line_tax_details(self, period, off_windows=None):
        """{line: (untaxed, taxes)} of the invoice of ``period``, before
        rounding: the amounts of the schedule core with the lines' taxes,
        computed by Odoo's own tax engine as on the invoice (a price that
        includes its tax is split). The one computation behind every amount
        the customer or a report is told before the invoice exists."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        company = self.company_id or self.env.company
        base_lines = {}
        for line, amount in self._get_line_amounts(period, off_windows).items():
            base_line = AccountTax._prepare_base_line_for_taxes_computation(
                line,
                price_unit=amount,
                quantity=1.0,
                discount=0.0,
                currency_id=self.currency_id,
                product_id=line.product_id,
                tax_ids=line.tax_ids,
            )
            AccountTax._add_tax_details_in_base_line(base_line, company)
            base_lines[line] = base_line
        AccountTax._round_base_lines_tax_details(list(base_lines.values()), company)
        return {
            line: (
                details["total_excluded_currency"]
                + details["delta_total_excluded_currency"],
                sum(tax["tax_amount_currency"] for tax in details["taxes_data"]),
            )
            for line, details in (
                (line, base_line["tax_details"])
                for line, base_line in base_lines.items()
            )
        }

    def _get_line_untaxed_amounts(self, period, off_windows=None):
        """{line: untaxed amount} of the invoice of ``period``, rounded: what
        each invoice line's subtotal will be (the forecast's rows). Without a
        tax included in a price, the schedule core's amounts as they are."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        if not any(lines.tax_ids.mapped("price_include")):
            return self._get_line_amounts(period, off_windows)
        return {
            line: self.currency_id.round(untaxed)
            for line, (untaxed, _taxes) in self._get_line_tax_details(
                period, off_windows
            ).items()
        }

    def _get_period_totals(self, period, off_windows=None):
        """(untaxed, total) of the invoice of ``period``."""
        self.ensure_one()
        details = self._get_line_tax_details(period, off_windows).values()
        untaxed = sum(untaxed for untaxed, _taxes in details)
        total = untaxed + sum(taxes for _untaxed, taxes in details)
        return self.currency_id.round(untaxed), self.currency_id.round(total)

    @api.depends(
        "date_start",
        "date_end",
        "recurring_interval",
        "recurring_rule_type",
        "invoicing_mode",
        "prorate",
        "currency_id",
        "line_ids.price_subtotal",
        "line_ids.price_total",
        "line_ids.tax_ids",
        "line_ids.date_start",
        "line_ids.date_end",
        "line_ids.quantity_type",
        "period_ids.state",
        "period_ids.period_index",
        "suspension_ids.date_start",
        "suspension_ids.date_end",
    )
    def _compute_amounts(self):
        # The next invoice's, not the sum of the lines: a line ended by a
        # change or a price update is not added to the one replacing it.
        for contract in self:
            untaxed, total = contract._get_next_invoice_totals()
            contract.amount_untaxed = untaxed
            contract.amount_total = total
            contract.amount_tax = contract.currency_id.round(total - untaxed)

    def _get_next_invoice_period(self, horizon=36):
        """The period of the customer's next invoice: a voided period first
        (billed again before anything newer), then the next scheduled period
        that bills a fixed line (a period wholly inside a pause bills
        nothing); None when none does within ``horizon`` periods."""
        self.ensure_one()
        if not self.date_start:
            return None
        voided = self.period_ids.filtered(
            lambda row: row.state == "voided" and row.kind == "period"
        )
        candidates = [
            self._get_period(index) for index in sorted(voided.mapped("period_index"))
        ]
        candidates += itertools.islice(self._iter_periods(renewing=True), horizon)
        off_windows = self._get_off_windows()
        return next(
            (
                period
                for period in candidates
                if period and self._get_line_amounts(period, off_windows)
            ),
            None,
        )

    def _get_next_invoice_lines(self):
        """The lines shown with the amounts per period (portal, contract
        PDF): sections, notes and every line still billing at the next
        invoice, never one a change or a price update ended before it."""
        self.ensure_one()
        period = self._get_next_invoice_period()
        day = period.date_start if period else self.date_end
        return self.line_ids.filtered(
            lambda line: line.display_type
            or not line.date_end
            or not day
            or line.date_end >= day
        )

    def _get_next_invoice_totals(self):
        """(untaxed, total) per period as the customer is told them (the
        form, the contract PDF, the portal, the emails): those of the next
        invoice, computed by the code that bills it, so a line ended by a
        change or a price update is never added to the one replacing it.
        With no invoice ahead (closed, or paused with no resume date), what
        one period of the lines still running costs."""
        self.ensure_one()
        period = self._get_next_invoice_period()
        if period:
            return self._get_period_totals(period)
        lines = self.line_ids.filtered(
            lambda line: not line.display_type
            and (
                not line.date_end or (self.date_end and line.date_end >= self.date_end)
            )
        )
        return (
            self.currency_id.round(sum(lines.mapped("price_subtotal"))),
            self.currency_id.round(sum(lines.mapped("price_total"))),
        )

    def _get_adjustments(self, off_windows=None, **overrides):
        """[(period, {line: difference})] for the periods already billed whose
        amount due changed since (a line added or ended in the middle of a
        period, a close or a pause inside a period billed in advance, a
        renewal after a prorated last period): what the schedule core says is
        due now, minus what the ledger billed (rows billed before adjustments
        existed got their amounts from the 18.0.1.1.0 migration)."""
        self.ensure_one()
        rows_by_index = self.period_ids.filtered(
            lambda r: r.state == "invoiced"
        ).grouped("period_index")
        if off_windows is None:
            off_windows = self._get_off_windows()
        adjustments = []
        for index, rows in sorted(rows_by_index.items()):
            if self._is_period_on_hold(index):
                continue
            billed = self._get_billed_by_line(rows)
            period = self._get_period(index, **overrides)
            due = self._get_line_amounts(period, off_windows) if period else {}
            # Keyed by the saved line's id: in an onchange (a dialog's summary
            # computed by the browser) the lines are new records standing
            # for the saved ones.
            lines = self.line_ids.filtered(
                lambda line, billed=billed, due=due: line in due
                or line._origin.id in billed
            )
            diffs = {
                line: self.currency_id.round(
                    due.get(line, 0.0) - billed.get(line._origin.id, 0.0)
                )
                for line in lines
            }
            diffs = {line: diff for line, diff in diffs.items() if diff}
            if diffs:
                row = rows.filtered(lambda r: r.kind == "period")[:1] or rows[:1]
                adjustments.append((period or row._get_as_period(), diffs))
        return adjustments

    def _is_period_on_hold(self, index):
        """True when period ``index`` waits for a billing manager: its invoice
        (or one of its adjustments) is cancelled but not voided yet, or it is
        voided and waits to be billed again. Nothing is credited or billed
        against it meanwhile: a credit note against a cancelled invoice
        credits nothing the customer owes."""
        self.ensure_one()
        return any(
            (row.state == "voided" and row.kind == "period")
            or (row.state == "invoiced" and row.move_id.state == "cancel")
            for row in self.period_ids
            if row.period_index == index
        )

    @api.model
    def _get_billed_by_line(self, rows):
        """{line id: amount} the ledger ``rows`` billed net (invoices minus
        credit notes), before taxes."""
        billed = defaultdict(float)
        for row in rows:
            for line_id, amount in (row.billed_amounts or {}).items():
                billed[int(line_id)] += amount
        return billed

    def _get_amounts_owed(self, period):
        """{line: amount} the invoice of a due ``period`` bills: what the
        schedule core says is due, minus what the ledger still counts for it
        (a voided period billed again keeps the credit notes and invoices
        posted against it since: the period nets what it owes, once)."""
        self.ensure_one()
        due = self._get_line_amounts(period)
        counted = self.period_ids.filtered(
            lambda r: r.period_index == period.index and r.state == "invoiced"
        )
        if not counted:
            return due
        billed = self._get_billed_by_line(counted)
        lines = self.line_ids.filtered(lambda line: line in due or line.id in billed)
        owed = {
            line: self.currency_id.round(due.get(line, 0.0) - billed.get(line.id, 0.0))
            for line in lines
        }
        return {line: amount for line, amount in owed.items() if amount}

    def _flag_adjustments_from(self, day):
        """A change from ``day`` inside periods already billed: the next run
        bills or credits the difference."""
        self.ensure_one()
        billed_until = self._get_billed_until()
        if billed_until and day <= billed_until:
            self._write_privileged({"adjustment_pending": True})

    def _close_if_fully_billed(self):
        """A contract made fully billed by an edit or a resume closes now, as
        the engine closes one after its last period."""
        to_close = self.filtered(
            lambda c: c.state == "running" and not c.auto_renew and c._is_fully_billed()
        )
        if to_close:
            to_close._write_state({"state": "closed"})
            for contract in to_close:
                contract._message_log(
                    body=_("Last period billed: the contract is closed.")
                )

    def _is_fully_billed(self):
        """True when the contract has an end date and every period up to it
        is in the ledger."""
        self.ensure_one()
        return bool(
            self.date_end
            and next(self._iter_periods(), None) is None
            and not self.period_ids.filtered(lambda p: p.state == "voided")
            and not self.adjustment_pending
            and not self._get_final_usage_period()
        )

    @api.depends("billing_error")
    def _compute_has_billing_error(self):
        for contract in self:
            contract.has_billing_error = bool(contract.billing_error)

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
        blockers += self._get_partner_billing_blockers()
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

    def _apply_price_updates(self, periods):
        """Apply the yearly price updates (``recurring.contract.indexation``)
        that fall before ``periods``, the periods about to be billed. Returns
        what blocks billing (a missing index value), as messages."""
        self.ensure_one()
        return self.env["recurring.contract.indexation"]._apply_due(self, periods)

    def _get_partner_billing_blockers(self):
        """What the customer's data lacks for a valid invoice, as messages:
        checked before the contract starts and before each run, rather than
        posting an invoice that will be rejected. Hook for localisations
        (``recurring_billing_l10n_es``: NIF, address, FACe centres); they
        call super()."""
        self.ensure_one()
        blockers = []
        partner = self.partner_id
        if (
            self.invoice_action == "post_send"
            and partner.invoice_sending_method == "email"
            and not partner.email
        ):
            blockers.append(
                _(
                    "The customer %(partner)s has no email address, and the "
                    "invoices are sent by email.",
                    partner=partner.display_name,
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
        """Running contracts due on ``date_ref`` (paused ones too, for the
        periods before their pause) and contracts with an
        adjustment to bill, except those that failed on that day already
        (retried on the next run, or by 'Invoice now')."""
        return [
            "|",
            "&",
            ("state", "in", BILLING_STATES),
            ("next_invoice_date", "<=", date_ref),
            "&",
            ("adjustment_pending", "=", True),
            ("state", "!=", "draft"),
            "|",
            ("billing_error_date", "=", False),
            ("billing_error_date", "<", date_ref),
        ]
