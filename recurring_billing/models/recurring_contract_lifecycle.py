# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..core import schedule
from ..tools.privileged import (
    computed_fields_in,
    is_privileged_write,
    privileged_context,
)

# What only the addon's own steps write on a contract, after their own
# checks: the state (the actions, the billing run), the difference a billed
# period owes (a change inside it flags it, the run clears it), the billing
# error (the run), the failing charge (the charging service), the customer's
# cancellation request (the portal's step) and the customers it had (a
# change of customer). A user never writes them, whatever the value.
ENGINE_FIELDS = (
    "state",
    "adjustment_pending",
    "billing_error",
    "billing_error_date",
    "payment_failing",
    "cancel_request_date",
    "cancel_request_effective_date",
    "cancel_request_reason",
    "customer_history",
)


class RecurringContract(models.Model):
    """The life of a contract: Start, Pause, Resume, Close and Renew, and
    what each of their dialogs says before confirming (computed by the
    billing code itself, so the words match the money). The steps change
    the contract (state, end date, suspensions) and flag the periods
    already billed that the change touches; the engine bills or credits
    the difference at its next run."""

    _inherit = "recurring.contract"

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def _write_state(self, vals):
        """Write ``vals``, a state change among them: for the lifecycle
        actions and the engine only, which checked the transition (the
        record rules still apply: no sudo)."""
        return self._write_privileged(vals)

    def _write_privileged(self, vals):
        """Write ``vals``, fields of ``ENGINE_FIELDS`` among them: for the
        addon's own steps only, after their own checks (the record rules
        still apply: no sudo)."""
        return self.with_context(**privileged_context()).write(vals)

    @api.model
    def _check_engine_fields(self, vals, create=False):
        """Refuse a user's write of the fields only the addon's steps set
        (``ENGINE_FIELDS``) and of those the ORM computes; on create, any
        value but the empty one (a form sends the defaults)."""
        if is_privileged_write(self.env):
            return
        computed = computed_fields_in(self, vals)
        if create:
            computed = [name for name in computed if vals[name]]
        if computed:
            raise UserError(
                _(
                    "%(fields)s of a contract are computed from its terms, "
                    "lines and ledger, never set directly.",
                    fields=self._get_field_labels(computed),
                )
            )
        if create:
            if vals.get("state", "draft") != "draft":
                raise UserError(
                    _("A contract is created as a draft: start it with 'Start'.")
                )
            names = [name for name in ENGINE_FIELDS[1:] if vals.get(name)]
        else:
            if "state" in vals:
                raise UserError(
                    _(
                        "The status of a contract changes only through its "
                        "actions (Start, Pause, Resume, Close, Renew) and the "
                        "billing run."
                    )
                )
            names = [name for name in ENGINE_FIELDS if name in vals]
        if names:
            raise UserError(
                _(
                    "%(fields)s of a contract are set only by the billing run, "
                    "the charging of its invoices and its actions, never "
                    "directly.",
                    fields=self._get_field_labels(names),
                )
            )

    def action_start(self, notify=True):
        """Start billing. ``notify``: email the customer the activation notice
        (what is billed, how often, when the first invoice is issued); the
        Start dialog says so and lets the user untick it."""
        for contract in self:
            if contract.state != "draft":
                raise UserError(
                    _(
                        "Only a draft contract can be started (%(name)s).",
                        name=contract.name,
                    )
                )
            contract._check_billable()
        self._write_state({"state": "running"})
        self._sync_mrr_movements()
        for contract in self:
            contract.message_post(body=_("Contract started."))
        if notify:
            self._send_activation_notice()
        return True

    def action_pause(self, date_pause=None, notify=True):
        """Pause from ``date_pause`` (default: today): nothing is billed from
        that day until the contract resumes; what was used before is billed
        (by days when the contract prorates). ``notify``: email the customer
        what the pause does (the Pause dialog's words, in their language)."""
        self.check_access("write")
        days = {c: date_pause or c.company_id._get_recurring_today() for c in self}
        for contract in self:
            if contract.state != "running":
                raise UserError(
                    _(
                        "Only a running contract can be paused (%(name)s).",
                        name=contract.name,
                    )
                )
            if days[contract] < contract.date_start:
                raise UserError(
                    _(
                        "Contract %(name)s cannot be paused before it starts.",
                        name=contract.name,
                    )
                )
        # Said before the pause is written: what it will do.
        told = notify and self._get_customer_summaries(
            lambda c: c._get_pause_summary(days[c])
        )
        # sudo: suspensions are written only here and by resume/renew, for
        # contracts the user may write (checked above).
        self.env["recurring.contract.suspension"].sudo().create(
            [{"contract_id": c.id, "date_start": days[c]} for c in self]
        )
        self._write_state({"state": "paused"})
        self._sync_mrr_movements()
        for contract in self:
            contract._flag_adjustments_from(days[contract])
            contract.message_post(
                body=_(
                    "Contract paused: nothing is billed from %(date)s on.",
                    date=format_date(self.env, days[contract]),
                )
            )
        if told:
            self._send_customer_notice(
                "recurring_billing.mail_template_contract_paused", told
            )
        return True

    def action_resume(self, date_resume=None):
        """Resume on ``date_resume`` (default: today): the days of the pause
        are not billed; periods wholly inside it are skipped."""
        self.check_access("write")
        for contract in self:
            day = date_resume or contract.company_id._get_recurring_today()
            if contract.state != "paused":
                raise UserError(
                    _(
                        "Only a paused contract can be resumed (%(name)s).",
                        name=contract.name,
                    )
                )
            # sudo: see action_pause (write access checked above).
            pause = contract.sudo().suspension_ids.filtered(lambda s: not s.date_end)
            paused_from = min(pause.mapped("date_start") or [day])
            for suspension in pause:
                if day <= suspension.date_start:
                    suspension.unlink()  # resumed before it started: no pause
                else:
                    suspension.date_end = day - timedelta(1)
            contract._write_state({"state": "running"})
            contract._sync_mrr_movements()
            contract._flag_adjustments_from(paused_from)
            contract._close_if_fully_billed()
            contract.message_post(
                body=_(
                    "Contract resumed on %(date)s: the days of the pause are not "
                    "billed.",
                    date=format_date(self.env, day),
                )
            )
        return True

    def action_close(self, date_close=None, reason=None, notify=True):
        """Close on ``date_close``: nothing after it is billed. Periods up to
        that date still owed are billed first, then the contract closes
        itself; a period billed in advance past that date is credited for
        the unused days when the contract prorates (it stands otherwise).
        ``notify``: email the customer what the close does (a draft, never
        started, is closed without a word)."""
        if isinstance(reason, int):  # over RPC, a record arrives as its id
            reason = self.env["recurring.contract.close.reason"].browse(reason)
        told = {}
        for contract in self:
            if contract.state == "closed":
                continue
            day = date_close or contract.company_id._get_recurring_today()
            # A close already decided on or before that day (a contract
            # running until its last invoice) was told when it was decided.
            decided = (
                contract.close_reason_id
                and contract.date_end
                and contract.date_end <= day
            )
            if notify and contract.state != "draft" and not decided:
                told.update(
                    contract._get_customer_summaries(
                        lambda c, day=day: c._get_close_summary(day)
                    )
                )
            # A closed contract never renews itself again.
            vals = {
                "close_reason_id": reason.id if reason else False,
                "auto_renew": False,
            }
            if (
                contract.state == "draft"
                or not contract.date_end
                or contract.date_end > day
            ):
                vals["date_end"] = max(day, contract.date_start)
            contract.write(vals)
            # A close ends the pause: a renewal later bills again from the
            # renewal, as for any closed contract.
            contract._end_open_pause(contract.date_end)
            owes = contract.state != "draft" and (
                contract._get_periods_left_to_bill()
                or contract.period_ids.filtered(lambda p: p.state == "voided")
                or contract._get_final_usage_period()
            )
            contract._write_state({"state": "running" if owes else "closed"})
            contract._sync_mrr_movements()
            contract.message_post(
                body=_(
                    "Contract closed on %(date)s (%(reason)s).",
                    date=format_date(self.env, contract.date_end),
                    reason=reason.name if reason else _("no reason given"),
                )
            )
        if told:
            self._send_customer_notice(
                "recurring_billing.mail_template_contract_closed", told
            )
        return True

    def action_renew(self, months=12, date_renew=None, notify=True):
        """Extend the term by ``months`` from the current end date, without a
        gap. A closed contract renewed later does not bill the time it was
        closed, and a close decided before (closed or still billing what it
        owes) no longer applies. ``notify``: email
        the customer the new term (the Renew dialog's words)."""
        if months < 1:
            raise UserError(_("A contract is renewed for at least one month."))
        self.check_access("write")
        told = {}
        for contract in self:
            day = date_renew or contract.company_id._get_recurring_today()
            if not contract.date_end:
                raise UserError(
                    _(
                        "Contract %(name)s has no end date to extend.",
                        name=contract.name,
                    )
                )
            if notify and contract.state != "draft":
                told.update(
                    contract._get_customer_summaries(
                        lambda c, day=day: c._get_renew_summary(months, day)
                    )
                )
            old_end = contract.date_end
            if contract.state == "closed":
                # Closed while paused before closes ended pauses.
                contract._end_open_pause(old_end)
            gap = contract._get_renewal_gap(day)
            if gap:
                # sudo: see action_pause (write access checked above).
                self.env["recurring.contract.suspension"].sudo().create(
                    {
                        "contract_id": contract.id,
                        "date_start": gap[0],
                        "date_end": gap[1],
                        "reason": "closed",
                    }
                )
            vals = {
                "date_end": schedule.extend_term(old_end, months),
                "state": "running" if contract.state == "closed" else contract.state,
            }
            if contract.close_reason_id:
                # A new term: the close decided for the old one no longer
                # applies (closing again is news to the customer).
                vals["close_reason_id"] = False
            contract._write_state(vals)
            contract._sync_mrr_movements()
            # A log, not a message_post: automatic renewals run as the billing
            # user, who has no email address to send from.
            contract._message_log(
                body=_(
                    "Contract renewed: end date moved from %(old)s to %(new)s.",
                    old=format_date(self.env, old_end),
                    new=format_date(self.env, contract.date_end),
                )
            )
        if told:
            self._send_customer_notice(
                "recurring_billing.mail_template_contract_renewed", told
            )
        return True

    def _is_never_served(self):
        """True when the contract has billed nothing (no ledger row, no usage
        recorded) and today is not after its first day: stopped now, it
        served nothing, so it owes nothing."""
        self.ensure_one()
        return bool(
            self.state in ("running", "paused")
            and not self.period_ids
            and not self.line_ids.usage_ids
            and self.company_id._get_recurring_today() <= self.date_start
        )

    def _get_renewal_gap(self, date_renew):
        """(first, last) day between the end date and a renewal on
        ``date_renew`` made after the day following it, else None. Those days
        were under no term: not billed, whether the contract was closed or
        still billing what its old term owed (a voided period, arrears)."""
        self.ensure_one()
        first = self.date_end + timedelta(1)
        if date_renew > first:
            return first, date_renew - timedelta(1)
        return None

    def _end_open_pause(self, day):
        """End the open pause on ``day``, its last day not billed (a pause
        that would start after that day never happens). Write access to the
        contract is checked by the caller (close, renew)."""
        self.ensure_one()
        # sudo: suspensions are written only by the lifecycle steps, for a
        # contract the user may write (see action_pause).
        pause = self.sudo().suspension_ids.filtered(lambda s: not s.date_end)
        later = pause.filtered(lambda s: s.date_start > day)
        later.unlink()
        (pause - later).write({"date_end": day})

    def _renew_terms_due(self, day):
        """Renew the running contracts that renew themselves, before the
        run of ``day`` bills them: while their term ended before ``day``, or
        ends inside the period due on ``day``. That period is then billed
        once, in full (as the forecast says), never cut by the old end date
        and topped up after the renewal."""
        for contract in self.filtered(
            lambda c: c.state == "running" and c.auto_renew and c.date_end
        ):
            while contract._is_renewal_due(day):
                # The customer was told before (the renewal notice).
                contract.action_renew(
                    months=contract.renewal_months,
                    date_renew=contract.date_end,
                    notify=False,
                )

    def _is_renewal_due(self, day):
        self.ensure_one()
        if self.date_end < day:
            return True
        # A period due on ``day`` cut by the end date (it ends before its
        # full length): any of them, a catch-up bills several at once.
        for period in self._iter_periods():
            if period.invoice_date > day:
                break
            if period.date_end < period.full_date_end:
                return True
        return False

    @api.model
    def _get_dialog_today(self, contract_ids):
        """The date a dialog opened on ``contract_ids`` proposes: the
        company's today of those contracts (never the user's), the date the
        engine bills on."""
        contracts = self.browse(contract_ids or [])
        return (contracts[:1].company_id or self.env.company)._get_recurring_today()
