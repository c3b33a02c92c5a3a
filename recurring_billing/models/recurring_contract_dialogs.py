# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import itertools
from datetime import timedelta

from odoo import fields, models
from odoo.tools import format_date, formatLang

from ..core import schedule


class RecurringContract(models.Model):
    """What each lifecycle dialog (Start, Pause, Resume, Close, Renew) says
    before confirming. Every amount and date comes from the billing code
    itself (the schedule core through ``_get_line_amounts``, the engine's
    ``_get_adjustments`` and ``_get_due_periods``), asked "what if" with the
    change applied: the words are what the next runs then do, for this
    contract's settings (prorating or not)."""

    _inherit = "recurring.contract"

    # -------------------------------------------------------------------------
    # HELPERS
    # -------------------------------------------------------------------------

    def _money(self, amount):
        return formatLang(self.env, amount, currency_obj=self.currency_id)

    def _date(self, day):
        return format_date(self.env, day)

    def _get_next_run_date(self):
        """The day the billing scheduled action next runs for this contract
        (today when it is inactive or late): when what is due now, and the
        adjustments of periods already billed, are issued."""
        self.ensure_one()
        today = self.company_id._get_recurring_today()
        # sudo: only the date of the scheduled action's next run is read (any
        # user who sees a contract may know when it is billed).
        cron = self.env.ref(
            "recurring_billing.ir_cron_generate_invoices", raise_if_not_found=False
        )
        cron = cron and cron.sudo()
        if not cron or not cron.active:
            return today
        tz = self.company_id.partner_id.tz or "UTC"
        return max(
            today,
            fields.Datetime.context_timestamp(
                cron.with_context(tz=tz), cron.nextcall
            ).date(),
        )

    def _get_billed_change_sentences(
        self, touched_from, off_windows, credit_reason, more_reason, **overrides
    ):
        """What a change from ``touched_from`` does to the periods already
        billed, in words: per period, what the next run credits or bills
        because of it (the engine's ``_get_adjustments`` with the change,
        minus without it), what stands in full when the contract does not
        prorate, and what an earlier change had already left to adjust
        (billed by the same run, in the same document)."""
        self.ensure_one()
        before = {p.index: (p, sum(d.values())) for p, d in self._get_adjustments()}
        after = {
            p.index: (p, sum(d.values()))
            for p, d in self._get_adjustments(off_windows=off_windows, **overrides)
        }
        sentences = []
        for index in sorted(set(before) | set(after)):
            period, total = after.get(index) or (before[index][0], 0.0)
            earlier = before.get(index, (period, 0.0))[1]
            caused = self.currency_id.round(total - earlier)
            span = {
                "start": self._date(period.date_start),
                "end": self._date(period.date_end),
            }
            if caused < 0:
                due = self._get_line_amounts(period, off_windows)
                sentences.append(
                    self.env._(
                        "%(start)s - %(end)s, already billed: %(amount)s credited "
                        "in full, none of its days is billed.",
                        amount=self._money(-caused),
                        **span,
                    )
                    if not due
                    else self.env._(
                        "%(start)s - %(end)s, billed in advance: %(amount)s "
                        "%(reason)s.",
                        amount=self._money(-caused),
                        reason=credit_reason,
                        **span,
                    )
                )
            elif caused > 0:
                sentences.append(
                    self.env._(
                        "%(start)s - %(end)s: %(amount)s more is billed (%(reason)s).",
                        amount=self._money(caused),
                        reason=more_reason,
                        **span,
                    )
                )
            if earlier:
                sentences.append(
                    self.env._(
                        "%(start)s - %(end)s: %(amount)s still to credit for an "
                        "earlier change to the contract.",
                        amount=self._money(-earlier),
                        **span,
                    )
                    if earlier < 0
                    else self.env._(
                        "%(start)s - %(end)s: %(amount)s still to bill for an "
                        "earlier change to the contract.",
                        amount=self._money(earlier),
                        **span,
                    )
                )
                if caused and total:
                    sentences.append(
                        self.env._(
                            "In all, one credit note of %(amount)s for %(start)s "
                            "- %(end)s.",
                            amount=self._money(-total),
                            **span,
                        )
                        if total < 0
                        else self.env._(
                            "In all, one invoice of %(amount)s for %(start)s - "
                            "%(end)s.",
                            amount=self._money(total),
                            **span,
                        )
                    )
        if not self.prorate:
            changed = {i for i in after if after[i][1] != before.get(i, (0, 0.0))[1]}
            standing = self.period_ids.filtered(
                lambda r: r.kind == "period"
                and r.state == "invoiced"
                and r.date_end >= touched_from
                and r.period_index not in changed
            )
            for row in standing.sorted("period_index"):
                sentences.append(
                    self.env._(
                        "%(start)s - %(end)s, already billed, stands in full: "
                        "the contract does not prorate.",
                        start=self._date(row.date_start),
                        end=self._date(row.date_end),
                    )
                )
        if any(total for _period, total in after.values()):
            sentences.append(
                self.env._(
                    "Credit notes and invoices for periods already billed are "
                    "issued by the next billing run, on %(date)s.",
                    date=self._date(self._get_next_run_date()),
                )
            )
        return sentences

    def _get_periods_left_to_bill(self, **overrides):
        """The periods not in the ledger yet up to the end date (``overrides``:
        another one, the close's), except those wholly inside a pause: the
        engine skips them, billing nothing. What keeps a closed contract
        Running until its last invoice."""
        self.ensure_one()
        if not self.date_start:
            return []
        args = self._get_schedule_args(**overrides)
        if not args["date_end"]:
            return []
        off_windows = self._get_off_windows()
        return [
            period
            for period in schedule.iter_periods(
                start_index=self._get_next_period_index(), **args
            )
            if schedule.active_days(period, off_windows)
        ]

    def _get_owed_sentence(self, periods, off_windows=None):
        """One sentence for the periods not billed yet that the runs still
        bill (their number, total and first invoice date)."""
        if not periods:
            return []
        total = sum(self._get_period_amount(p, off_windows) for p in periods)
        values = {
            "count": len(periods),
            "amount": self._money(total),
            "date": self._date(max(periods[0].invoice_date, self._get_next_run_date())),
        }
        if len(periods) == 1:
            return [
                self.env._(
                    "%(start)s - %(end)s, not billed yet, is billed on %(date)s "
                    "(%(amount)s).",
                    start=self._date(periods[0].date_start),
                    end=self._date(periods[0].date_end),
                    **values,
                )
            ]
        return [
            self.env._(
                "%(count)s periods not billed yet are billed from %(date)s "
                "(%(amount)s in all).",
                **values,
            )
        ]

    # -------------------------------------------------------------------------
    # START
    # -------------------------------------------------------------------------

    def _get_start_summary(self):
        """What Start does: the first invoice, or, for a contract that starts
        in the past, the periods already due that the first run bills at once
        (one invoice each)."""
        self.ensure_one()
        period = next(self._iter_periods(), None)
        if not period:
            return self.env._("%(name)s: nothing to bill.", name=self.name)
        issue = self.next_issue_date or period.invoice_date
        due = self._get_due_periods(max(issue, period.invoice_date))
        if len(due) > 1:
            return self.env._(
                "%(name)s: %(amount)s %(per_period)s. It starts in the past: "
                "%(count)s periods are already due and are billed at once on "
                "%(date)s, one invoice each, from %(start)s to %(end)s "
                "(%(total)s in all before taxes).",
                name=self.name,
                amount=self._money(self.amount_total),
                per_period=self.period_label,
                count=len(due),
                date=self._date(issue),
                start=self._date(due[0].date_start),
                end=self._date(due[-1].date_end),
                total=self._money(sum(self._get_period_amount(p) for p in due)),
            )
        return self.env._(
            "%(name)s: %(amount)s %(per_period)s. First invoice issued on "
            "%(date)s, for %(start)s - %(end)s (%(first_amount)s before taxes).",
            name=self.name,
            amount=self._money(self.amount_total),
            per_period=self.period_label,
            date=self._date(issue),
            start=self._date(period.date_start),
            end=self._date(period.date_end),
            first_amount=self._money(self._get_period_amount(period)),
        )

    # -------------------------------------------------------------------------
    # CLOSE
    # -------------------------------------------------------------------------

    def _get_effective_close_date(self, date_request):
        """When a close requested on ``date_request`` takes effect: after the
        notice period, and not before the end of the minimum term."""
        self.ensure_one()
        dates = [date_request + timedelta(days=self.notice_days)]
        if self.minimum_term_months:
            dates.append(
                schedule.extend_term(
                    self.date_start - timedelta(days=1), self.minimum_term_months
                )
            )
        return max(dates)

    def _get_close_summary(self, date_close):
        """What closing on ``date_close`` does to money, in words: said in the
        close wizard before confirming. Computed by the same code as the
        billing itself."""
        self.ensure_one()
        date_end = max(date_close, self.date_start)
        if self.date_end and self.date_end < date_end:
            date_end = self.date_end
        if self.state == "draft":
            return self.env._("%(name)s: never billed, closes at once.", name=self.name)
        sentences = [self.env._("Closes on %(date)s.", date=self._date(date_end))]
        owed = self._get_periods_left_to_bill(date_end=date_end)
        sentences += self._get_owed_sentence(owed)
        sentences += self._get_billed_change_sentences(
            date_end + timedelta(1),
            self._get_off_windows(),
            self.env._("credited for the days after the close"),
            self.env._("the rest of the period up to the close"),
            date_end=date_end,
        )
        if len(sentences) == 1:
            sentences.append(self.env._("Nothing more is billed or credited."))
        sentences.append(
            self.env._(
                "The contract stays Running until its last invoice, on %(date)s, "
                "then closes.",
                date=self._date(max(owed[-1].invoice_date, self._get_next_run_date())),
            )
            if owed
            else self.env._("The contract is closed at once.")
        )
        return "%s: %s" % (self.name, " ".join(sentences))

    # -------------------------------------------------------------------------
    # PAUSE AND RESUME
    # -------------------------------------------------------------------------

    def _get_pause_summary(self, date_pause):
        """What pausing from ``date_pause`` does to money, in words: said in
        the Pause dialog before confirming, computed by the billing code."""
        self.ensure_one()
        off_windows = self._get_off_windows() + [(date_pause, None)]
        sentences = [
            self.env._(
                "Nothing is billed from %(date)s until the contract resumes.",
                date=self._date(date_pause),
            )
        ]
        owed = list(
            itertools.takewhile(
                lambda p: p.date_start < date_pause, self._iter_periods()
            )
        )
        sentences += self._get_owed_sentence(owed, off_windows)
        cut = owed and owed[-1].date_end >= date_pause and owed[-1]
        if cut:
            sentences.append(
                self.env._(
                    "%(start)s - %(end)s is billed for its days before the pause.",
                    start=self._date(cut.date_start),
                    end=self._date(cut.date_end),
                )
                if self.prorate
                else self.env._(
                    "%(start)s - %(end)s is billed in full: the contract does "
                    "not prorate.",
                    start=self._date(cut.date_start),
                    end=self._date(cut.date_end),
                )
            )
        sentences += self._get_billed_change_sentences(
            date_pause,
            off_windows,
            self.env._("credited for the days of the pause"),
            self.env._("the days before the pause"),
        )
        return "%s: %s" % (self.name, " ".join(sentences))

    def _get_resume_off_windows(self, date_resume):
        """(first paused day, the off windows once resumed on
        ``date_resume``), as action_resume writes them."""
        self.ensure_one()
        pause = self.suspension_ids.filtered(lambda s: not s.date_end)
        paused_from = min(pause.mapped("date_start") or [date_resume])
        off_windows = [(s.date_start, s.date_end) for s in self.suspension_ids - pause]
        if date_resume > paused_from:
            off_windows.append((paused_from, date_resume - timedelta(1)))
        return paused_from, off_windows

    def _get_resume_summary(self, date_resume):
        """What resuming on ``date_resume`` does to money, in words: said in
        the Resume dialog before confirming."""
        self.ensure_one()
        paused_from, off_windows = self._get_resume_off_windows(date_resume)
        days = (date_resume - paused_from).days
        if days <= 0:
            sentences = [
                self.env._(
                    "Billing resumes on %(date)s: nothing was paused.",
                    date=self._date(date_resume),
                )
            ]
        elif self.prorate:
            sentences = [
                self.env._(
                    "Billing resumes on %(date)s; the %(days)s days paused from "
                    "%(start)s are not billed.",
                    date=self._date(date_resume),
                    days=days,
                    start=self._date(paused_from),
                )
            ]
        else:
            sentences = [
                self.env._(
                    "Billing resumes on %(date)s after %(days)s days paused from "
                    "%(start)s. The contract does not prorate: a period with at "
                    "least one day outside the pause is billed in full; only the "
                    "periods wholly inside the pause are not billed.",
                    date=self._date(date_resume),
                    days=days,
                    start=self._date(paused_from),
                )
            ]
        sentences += self._get_billed_change_sentences(
            paused_from,
            off_windows,
            self.env._("credited"),
            self.env._("the days outside the pause"),
        )
        # The periods not billed yet: those wholly inside the pause are
        # skipped, the first one that bills something again is the next
        # invoice.
        skipped = []
        for period in itertools.islice(self._iter_periods(), 500):
            if not self._get_line_amounts(period, off_windows):
                skipped.append(period)
                continue
            amount = self._get_period_amount(period, off_windows)
            if skipped:
                values = {
                    "count": len(skipped),
                    "start": self._date(skipped[0].date_start),
                    "end": self._date(skipped[-1].date_end),
                }
                sentences.append(
                    self.env._(
                        "1 period wholly inside the pause, %(start)s - %(end)s, "
                        "is not billed.",
                        **values,
                    )
                    if len(skipped) == 1
                    else self.env._(
                        "%(count)s periods wholly inside the pause, %(start)s - "
                        "%(end)s, are not billed.",
                        **values,
                    )
                )
            sentences.append(
                self.env._(
                    "Next invoice: %(start)s - %(end)s, %(amount)s, "
                    "scheduled for %(date)s.",
                    start=self._date(period.date_start),
                    end=self._date(period.date_end),
                    amount=self._money(amount),
                    date=self._date(period.invoice_date),
                )
            )
            break
        return "%s: %s" % (self.name, " ".join(sentences))

    # -------------------------------------------------------------------------
    # RENEW
    # -------------------------------------------------------------------------

    def _get_renew_off_windows(self, date_renew):
        """The off windows once renewed on ``date_renew``, as action_renew
        writes them (a closed contract does not bill the time it was
        closed)."""
        self.ensure_one()
        old_end = self.date_end
        windows = []
        for suspension in self.suspension_ids:
            end = suspension.date_end
            if not end and self.state == "closed":
                if suspension.date_start > old_end:
                    continue
                end = old_end
            windows.append((suspension.date_start, end))
        gap = self._get_renewal_gap(date_renew)
        if gap:
            windows.append(gap)
        return windows

    def _get_renew_summary(self, months, date_renew=None):
        """What renewing for ``months`` does, in words: the new end date, and
        for a closed contract what is billed again and what no longer
        applies."""
        self.ensure_one()
        date_renew = date_renew or self.company_id._get_recurring_today()
        old_end = self.date_end
        new_end = schedule.extend_term(old_end, months)
        sentences = [
            self.env._(
                "%(name)s: the end date moves from %(old)s to %(new)s.",
                name=self.name,
                old=self._date(old_end),
                new=self._date(new_end),
            )
        ]
        gap = self._get_renewal_gap(date_renew)
        if self.state == "closed":
            sentences.append(
                self.env._(
                    "The contract is closed: renewing reopens it and bills "
                    "again from %(date)s.",
                    date=self._date(max(date_renew, old_end + timedelta(1))),
                )
            )
        if gap:
            sentences.append(
                self.env._(
                    "The days between the end date and the renewal, %(start)s - "
                    "%(end)s, are under no term: not billed.",
                    start=self._date(gap[0]),
                    end=self._date(gap[1]),
                )
            )
        if self.close_reason_id:
            sentences.append(
                self.env._(
                    "The close reason (%(reason)s) is cleared.",
                    reason=self.close_reason_id.name,
                )
            )
        sentences += self._get_billed_change_sentences(
            old_end + timedelta(1),
            self._get_renew_off_windows(date_renew),
            self.env._("credited"),
            self.env._("the days credited at the close are billed again")
            if self.state == "closed"
            else self.env._("the rest of the period, now in the term"),
            date_end=new_end,
        )
        return " ".join(sentences)

    # -------------------------------------------------------------------------
    # A LINE CHANGED FROM A DATE (what the customer is told, once made)
    # -------------------------------------------------------------------------

    def _get_line_change_summary(self, new_line):
        """What a line changed from a date (``new_line``, the line that
        continues it) bills, in words: the new values, what the periods
        already billed get (the adjustments the next run issues) and the
        next invoice."""
        self.ensure_one()
        line = new_line.with_env(self.env)
        sentences = [
            self.env._(
                "From %(date)s, %(line)s: %(quantity)s x %(price)s%(discount)s "
                "per period.",
                date=self._date(line.date_start),
                line=line.name or line.product_id.display_name,
                quantity=formatLang(self.env, line.quantity),
                price=self._money(line.price_unit),
                discount=self.env._(", %(discount)s%% off", discount=line.discount)
                if line.discount
                else "",
            )
        ]
        for period, differences in self._get_adjustments():
            total = sum(differences.values())
            sentences.append(
                self.env._(
                    "%(start)s - %(end)s, already billed: %(amount)s credited.",
                    start=self._date(period.date_start),
                    end=self._date(period.date_end),
                    amount=self._money(-total),
                )
                if total < 0
                else self.env._(
                    "%(start)s - %(end)s, already billed: %(amount)s more is "
                    "billed.",
                    start=self._date(period.date_start),
                    end=self._date(period.date_end),
                    amount=self._money(total),
                )
            )
        period = self._get_next_invoice_period()
        if period:
            sentences.append(
                self.env._(
                    "Next invoice: %(start)s - %(end)s, %(amount)s, scheduled for "
                    "%(date)s.",
                    start=self._date(period.date_start),
                    end=self._date(period.date_end),
                    amount=self._money(self._get_period_amount(period)),
                    date=self._date(period.invoice_date),
                )
            )
        return "%s: %s" % (self.name, " ".join(sentences))
