# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models

from ..core import schedule

_logger = logging.getLogger(__name__)


class RecurringContract(models.Model):
    """The MRR of a contract and its movements, from the schedule core
    (``schedule.mrr_on``, ``schedule.mrr_timeline``): what the contract's
    MRR field, the movements, the reports and the dashboard count.

    A contract counts only while it bills: from its start to its end date
    (an automatic renewal never ends it), outside its pauses and the time
    it was closed before a renewal. A draft contract, or one closed before
    it ever billed, counts nothing.
    """

    _inherit = "recurring.contract"

    customer_history = fields.Json(
        copy=False,
        readonly=True,
        help="The customers the contract was handed from and to after it "
        "started, with the day of each change: the MRR history keeps each "
        "day's customer.",
    )

    def _counts_in_mrr(self):
        self.ensure_one()
        if self.state == "draft" or not self.date_start:
            return False
        # Closed without a single ledger row: closed before it ever billed.
        return self.state != "closed" or bool(self.period_ids)

    def _get_mrr_args(self):
        """The values ``schedule.mrr_on``/``mrr_timeline`` need, in the
        contract's currency (untaxed amounts per full period)."""
        self.ensure_one()
        lines = [
            schedule.MrrLine(line.price_subtotal, line.date_start, line.date_end)
            for line in self.line_ids
            if not line.display_type
        ]
        return {
            "lines": lines,
            "rule": self.recurring_rule_type,
            "interval": max(self.recurring_interval, 1),
            "date_start": self.date_start,
            # A contract that renews itself does not end at its end date.
            "date_end": False if self.auto_renew else self.date_end,
            # sudo: suspensions are internal; the MRR of a contract the user
            # may read is computed from them, nothing of them is shown.
            "off_windows": self.sudo()._get_off_windows(),
        }

    def _get_mrr_on(self, day):
        """The contract's MRR on ``day``, in its currency, rounded."""
        self.ensure_one()
        if not self._counts_in_mrr():
            return 0.0
        return self.currency_id.round(schedule.mrr_on(day, **self._get_mrr_args()))

    def _get_mrr_timeline(self):
        """[(day, mrr in the contract's currency)] each day its MRR changes."""
        self.ensure_one()
        if not self._counts_in_mrr():
            return []
        return schedule.mrr_timeline(
            rounding=self.currency_id.round, **self._get_mrr_args()
        )

    def _record_customer_changes(self, old_customers):
        """A started contract handed to another customer (``old_customers``:
        {contract: commercial partner before the write}): from today its
        MRR is the new customer's, the days before stay the old one's (their
        churn and the new customer's new business on that day)."""
        changed = self.filtered(
            lambda c: c.state != "draft" and c.commercial_partner_id != old_customers[c]
        )
        for contract in changed:
            history = [
                *(contract.customer_history or []),
                {
                    "date": fields.Date.to_string(
                        contract.company_id._get_recurring_today()
                    ),
                    "from": old_customers[contract].id,
                    "to": contract.commercial_partner_id.id,
                },
            ]
            contract._write_privileged({"customer_history": history})
        changed._sync_mrr_movements()

    def _get_customer_changes(self):
        """(first customer id, [(day, customer id from that day)])."""
        self.ensure_one()
        history = self.customer_history or []
        first = history[0]["from"] if history else self.commercial_partner_id.id
        return first, [
            (fields.Date.to_date(change["date"]), change["to"]) for change in history
        ]

    def _get_mrr_movement_plan(self):
        """[(day, kind, customer id, MRR after)]: the movements the
        contract's life makes, oldest first. Its MRR timeline, with each
        change of customer cutting it: the old customer churns and the new
        one's MRR starts on the day of the change."""
        self.ensure_one()
        timeline = dict(self._get_mrr_timeline())
        customer, changes = self._get_customer_changes()
        days = sorted(set(timeline) | {day for day, _customer in changes})
        plan, mrr, seen = [], 0.0, set()
        for day in days:
            after = timeline.get(day, mrr)
            new_customer = customer
            for change_day, change_to in changes:
                if change_day <= day:
                    new_customer = change_to
            if new_customer != customer:
                if mrr:
                    plan.append((day, "churn", customer, 0.0))
                if after:
                    kind = schedule.mrr_movement_kind(0.0, after, new_customer in seen)
                    plan.append((day, kind, new_customer, after))
            elif after != mrr:
                kind = schedule.mrr_movement_kind(mrr, after, customer in seen)
                plan.append((day, kind, customer, after))
            if after > 0:
                seen.add(new_customer)
            customer, mrr = new_customer, after
        return plan

    def _sync_mrr_movements(self):
        """Bring the contract's MRR movements in line with its life, dated on
        the days its MRR changes (a close or a pause on a future day writes
        its movement on that day). Idempotent: a second call writes nothing.
        Called by every lifecycle step (start, line change, pause, resume,
        close, renew) and by the migration that builds the history."""
        self.env["recurring.mrr.movement"]._sync_contracts(self)

    @api.model
    def _build_mrr_history(self, batch_size=500):
        """The movements and MRR field of every contract that ever billed,
        from its life (the 18.0.1.2.0 migration; safe to run again: the
        sync is idempotent). Returns the number of contracts synced."""
        contracts = self.with_context(active_test=False).search(
            [("state", "!=", "draft")], order="id"
        )
        for start in range(0, len(contracts), batch_size):
            batch = contracts[start : start + batch_size]
            batch._sync_mrr_movements()
            self.env.add_to_compute(self._fields["recurring_monthly"], batch)
            batch._recompute_recordset(["recurring_monthly"])
            self.env.invalidate_all()
        _logger.info("MRR history built for %s contracts", len(contracts))
        return len(contracts)

    @api.model
    def _cron_refresh_mrr(self):
        """Daily: the MRR field is 'as of today', so contracts whose MRR
        changes with the calendar (a future close, pause or line change that
        has come) get it recomputed."""
        contracts = self.search(
            [
                "|",
                ("state", "in", ("running", "paused")),
                ("recurring_monthly", "!=", 0),
            ]
        )
        self.env.add_to_compute(self._fields["recurring_monthly"], contracts)
        contracts._recompute_recordset(["recurring_monthly"])
