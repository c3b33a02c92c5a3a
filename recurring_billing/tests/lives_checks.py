# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invariants of contract lives: after each step (``lives.py``), what
the database shows must be what the oracle (``oracle.py``) says the rules
give: money billed and credited per period, usage billed once, forecasts,
the Amount per Period, MRR movements and price updates."""

import os
from collections import defaultdict
from datetime import timedelta

from . import oracle
from .oracle import ONE_DAY

# Invariants left out of a run (comma-separated: money, usage, credits,
# usage_once, forecast, amount_per_period, mrr), to look past a defect found
# and not fixed yet (make fuzz ARGS="--skip-checks mrr").
SKIPPED_CHECKS = set(filter(None, os.environ.get("RB_FUZZ_SKIP_CHECKS", "").split(",")))


class LifeChecks:
    """Needs ``self.env``, ``self.today``, ``self.contracts`` (lives.Life)
    and ``self.fail``."""

    def posted_lines(self, life):
        """(move, line, sign) of the product lines of the contract's posted
        invoices and credit notes."""
        for move in life.contract.invoice_ids.filtered(lambda m: m.state == "posted"):
            sign = -1 if move.move_type == "out_refund" else 1
            for line in move.invoice_line_ids:
                if line.display_type == "product":
                    yield move, line, sign

    def check_price_update(self, life, new_lines):
        """The run applied each price update the rules say: a new line from
        the first period after the anniversary, at the new price, that the
        oracle then follows by its id."""
        for old_key, model_line in new_lines.items():
            line = life.contract.line_ids.filtered(
                lambda ln, k=old_key: ln.previous_line_id.id == k
                and ln.id not in life.model.lines
            )
            if len(line) != 1 or line.date_start != model_line.date_start:
                self.fail(
                    f"{life.contract.name} on {self.today}: no price update of "
                    f"line {old_key} from {model_line.date_start}"
                )
            if abs(line.price_unit - model_line.price) > 1e-6:
                self.fail(
                    f"{life.contract.name}: price update to {line.price_unit}, "
                    f"the rules say {model_line.price}"
                )
            model_line.key = line.id
            life.model.lines[line.id] = model_line

    def check_numbering(self, moves):
        """The invoices of one run are numbered, per contract, in the order
        of their periods (a catch-up reads as the periods it bills)."""
        if "numbering" in SKIPPED_CHECKS:
            return
        invoices = moves.filtered(
            lambda m: m.state == "posted"
            and m.move_type == "out_invoice"
            and m.recurring_period_id.kind == "period"
        )
        for contract, own in invoices.grouped("recurring_contract_id").items():
            by_number = own.sorted("sequence_number").mapped(
                "recurring_period_id.date_start"
            )
            if by_number != sorted(by_number):
                self.fail(
                    f"{contract.name} on {self.today}: invoices numbered in the "
                    f"order {by_number}, not the periods'"
                )

    def check_no_error(self, life):
        if life.contract.billing_error:
            self.fail(
                f"{life.contract.name}: billing error {life.contract.billing_error}"
            )

    def check_money(self, life):
        """After a run on today: per period, posted invoices minus credit
        notes = what the oracle says is owed when its invoice date has
        passed, nothing before (fixed lines)."""
        if "money" in SKIPPED_CHECKS:
            return
        model = life.model
        billed = defaultdict(float)
        count = defaultdict(int)
        for _move, line, sign in self.posted_lines(life):
            if line.recurring_line_id:
                continue
            billed[line.recurring_date_start] += sign * line.price_subtotal
            count[line.recurring_date_start] += 1
        # A period whose invoice is cancelled stays billed until a billing
        # manager voids it (rule 6): its money is not settled meanwhile.
        waiting = set(
            life.contract.period_ids.filtered(
                lambda p: p.state == "invoiced" and p.move_id.state == "cancel"
            ).mapped("date_start")
        )
        expected = {}
        for index in model.periods(self.today):
            start = model.period_start(index)
            expected[start] = (
                model.fixed_owed_untaxed(index)
                if model.invoice_date(index) <= self.today
                else 0.0
            )
        for start in sorted((set(billed) | set(expected)) - waiting):
            got, want = billed.get(start, 0.0), expected.get(start, 0.0)
            tolerance = 0.01 * max(1, count[start], len(model.lines)) + 1e-6
            if abs(got - want) > tolerance:
                self.fail(
                    f"{life.contract.name} on {self.today}: period from {start} "
                    f"billed {got:.2f}, the rules say {want:.2f} is owed"
                )

    def check_usage_billed(self, life):
        """After a run: the usage of each period is billed once, never more
        than the rules say, all of it once its invoice is out; no record is
        left pending once a later invoice carried its period."""
        if "usage" in SKIPPED_CHECKS:
            return
        model = life.model
        if not model.usage_chains():
            return
        contract = life.contract
        chain_of = {key: line.chain for key, line in model.lines.items()}
        billed = defaultdict(float)
        for _move, line, sign in self.posted_lines(life):
            if line.recurring_line_id:
                billed[
                    (chain_of[line.recurring_line_id.id], line.recurring_date_start)
                ] += sign * line.price_subtotal
        # Usage carried by an invoice that is cancelled and waits for a
        # billing manager to void its period (rule 6): not settled meanwhile.
        waiting = {
            (chain_of[line.recurring_line_id.id], line.recurring_date_start)
            for period in contract.period_ids.filtered(
                lambda p: p.state == "invoiced" and p.move_id.state == "cancel"
            )
            for line in period.move_id.invoice_line_ids
            if line.recurring_line_id.id in chain_of
        }
        usage = contract.usage_ids
        # Billed: a ledger row billed it (a record of a period whose usage
        # bills nothing has no invoice line of its own).
        pending = usage.filtered(lambda u: not u.period_id)
        billed_until = contract._get_usage_billed_until()
        for chain in model.usage_chains():
            for index in model.periods(self.today):
                start, _full_end, cut_end = model.period(index)
                if (chain, start) in waiting:
                    continue
                want = model.usage_owed(index, chain)
                got = billed.get((chain, start), 0.0)
                if want is None:
                    want = 0.0
                if got > want + 0.01:
                    self.fail(
                        f"{contract.name} on {self.today}: usage of the period from "
                        f"{start} billed {got:.2f}, more than the {want:.2f} it owes"
                    )
                complete = (
                    model.usage_cutoff_passed(index, self.today)
                    and billed_until
                    and billed_until >= cut_end
                    and not pending.filtered(
                        lambda u, s=start, e=cut_end, c=chain: s <= u.date <= e
                        and chain_of[u.line_id.id] == c
                    )
                )
                if complete and abs(got - want) > 0.01:
                    self.fail(
                        f"{contract.name} on {self.today}: usage of the period from "
                        f"{start} billed {got:.2f}, the rules say {want:.2f}"
                    )
        for record in pending:
            received, last_move = life.received.get(record.id, (None, 0))
            index = model.index_of(record.date)
            if not model.usage_cutoff_passed(index, self.today):
                continue
            if contract.state == "closed":
                self.fail(
                    f"{contract.name}: usage record {record.reference} of "
                    f"{record.date} still to bill on a closed contract"
                )
            carried = contract.invoice_ids.filtered(
                lambda m, r=record, lm=last_move: m.id > lm
                and m.state == "posted"
                and m.move_type == "out_invoice"
                and m.recurring_period_id.kind in ("period", "usage")
                and contract._get_usage_cutoff(
                    m.recurring_period_id, m.recurring_period_id.kind
                )
                >= r.date
            )
            if carried:
                self.fail(
                    f"{contract.name}: usage record {record.reference} of "
                    f"{record.date} still to bill after invoice "
                    f"{carried[:1].name} carried its period"
                )

    # The customer emails of the lives' steps, by the words of their subject.
    NOTICE_KINDS = (
        (" is paused", "paused"),
        (" ends on ", "closed"),
        (" is renewed until ", "renewed"),
        (" bills changes", "changed"),
        (": price update of your contract ", "price_update"),
    )

    def check_notices(self):
        """One email to the customer per change they must hear of, none for a
        step that changed nothing for them (a close already told), to the
        customer of the day, never to a former one."""
        if "notices" in SKIPPED_CHECKS:
            return
        comment = self.env.ref("mail.mt_comment")
        for life in self.contracts:
            messages = self.env["mail.message"].search(
                [
                    ("model", "=", "recurring.contract"),
                    ("res_id", "=", life.contract.id),
                    ("message_type", "=", "comment"),
                    ("subtype_id", "=", comment.id),
                ],
                order="id",
            )
            sent = []
            for message in messages:
                kind = next(
                    (k for words, k in self.NOTICE_KINDS if words in message.subject),
                    message.subject,
                )
                sent.append((kind, message.partner_ids.ids))
            if sent != life.told:
                self.fail(
                    f"{life.contract.name}: customer emails {sent}, expected "
                    f"{life.told}"
                )

    def check_credits(self):
        """A credit note only against a posted invoice of the same period,
        never more than it billed; except while the period's invoice is
        cancelled or its period voided, waiting for the next run to bill it
        again net of the credit notes still posted (rule 6)."""
        if "credits" in SKIPPED_CHECKS:
            return
        for life in self.contracts:
            waiting = set(
                life.contract.period_ids.filtered(
                    lambda p: p.state == "voided"
                    or (p.state == "invoiced" and p.move_id.state == "cancel")
                ).mapped("date_start")
            )
            invoiced = defaultdict(float)
            credited = defaultdict(float)
            for move in life.contract.invoice_ids.filtered(
                lambda m: m.state == "posted"
            ):
                start = move.recurring_period_id.date_start
                if move.move_type == "out_refund":
                    credited[start] += move.amount_untaxed
                else:
                    invoiced[start] += move.amount_untaxed
            for start, amount in credited.items():
                if start not in waiting and amount > invoiced.get(start, 0.0) + 0.01:
                    self.fail(
                        f"{life.contract.name}: {amount:.2f} credited for the period "
                        f"from {start}, which has {invoiced.get(start, 0.0):.2f} "
                        "of posted invoices"
                    )

    def check_usage_once(self):
        """Each usage record is billed by at most one live invoice line."""
        if "usage_once" in SKIPPED_CHECKS:
            return
        for life in self.contracts:
            for record in life.contract.usage_ids.filtered("move_line_id"):
                move = record.move_line_id.move_id
                if move.state == "cancel" and record.period_id.state == "voided":
                    self.fail(f"usage record {record.reference}: voided, still billed")

    def check_forecast(self):
        """The forecast of the next periods is what the rules bill for them,
        untaxed; the Amount per Period is the next full period's."""
        if "forecast" in SKIPPED_CHECKS:
            return
        for life in self.contracts:
            contract, model = life.contract, life.model
            if contract.state == "closed":
                continue
            forecast = contract._get_forecast_periods(count=3)
            for item in forecast:
                start = item.period.date_start
                index = model.index_of(start)
                if model.period(index) is None or model.period_start(index) != start:
                    self.fail(
                        f"{contract.name}: forecast shows a period from {start} "
                        "that the rules do not have"
                    )
                want = model.fixed_owed_untaxed(index)
                if abs(item.amount_untaxed - want) > 0.01 * len(model.lines) + 1e-6:
                    self.fail(
                        f"{contract.name}: forecast for the period from {start} "
                        f"says {item.amount_untaxed:.2f}, the rules bill {want:.2f}"
                    )
            self.check_forecast_report(life)
            # The next invoice: a voided period's, billed again before any
            # newer one (rule 6), else the first scheduled.
            voided = contract.period_ids.filtered(
                lambda p: p.state == "voided" and p.kind == "period"
            )
            if voided:
                self.check_amount_per_period(
                    life, model.index_of(min(voided.mapped("date_start")))
                )
            elif forecast:
                self.check_amount_per_period(
                    life, model.index_of(forecast[0].period.date_start)
                )

    def check_forecast_report(self, life):
        """The revenue forecast (report and dashboard) says, per period, the
        untaxed amount the rules bill for it, in the contract's currency."""
        if "forecast" in SKIPPED_CHECKS:
            return
        contract, model = life.contract, life.model
        rows = self.env["recurring.forecast.line"]._prepare_contract_rows(
            contract, self.today, self.today + timedelta(days=120)
        )
        amounts = defaultdict(float)
        for row in rows:
            amounts[row["period_start"]] += row["amount_currency"]
        for start, got in amounts.items():
            index = model.index_of(start)
            want = (
                model.fixed_owed_untaxed(index)
                if model.period(index) and model.period_start(index) == start
                else 0.0
            )
            if abs(got - want) > 0.01 * len(model.lines) + 1e-6:
                self.fail(
                    f"{contract.name}: the revenue forecast for the period from "
                    f"{start} says {got:.2f}, the rules bill {want:.2f} untaxed"
                )

    def check_amount_per_period(self, life, index):
        """What the customer is told per period (form, portal, PDF, reminder)
        = the next invoice, when that one is a full period of whole lines."""
        if "amount_per_period" in SKIPPED_CHECKS:
            return
        model = life.model
        start, full_end, cut_end = model.period(index)
        fixed = [line for line in model.lines.values() if not line.usage]
        whole = all(
            (line.covers(start) and line.covers(full_end))
            or (line.date_start and line.date_start > full_end)
            or (line.date_end and line.date_end < start)
            for line in fixed
        )
        if (
            cut_end != full_end
            or model.active_days(start, full_end)
            != oracle.days_between(start, full_end)
            or not whole
        ):
            return
        want = model.fixed_owed_untaxed(index)
        got = life.contract.amount_untaxed
        if abs(got - want) > 0.01 * len(model.lines) + 1e-6:
            self.fail(
                f"{life.contract.name}: Amount per Period says {got:.2f}, the next "
                f"invoice (period from {start}) bills {want:.2f}"
            )

    def check_mrr(self):
        """Each MRR movement says the MRR the rules give on its day, for the
        customer of that day, and the movements follow every change."""
        if "mrr" in SKIPPED_CHECKS:
            return
        for life in self.contracts:
            model = life.model
            movements = life.contract.mrr_movement_ids.sorted(lambda m: (m.date, m.id))
            tolerance = 0.01 * (1 + len(model.lines))
            for movement in movements:
                former = model.partner_on(movement.date - ONE_DAY)
                if (
                    movement.kind == "churn"
                    and movement.partner_id.commercial_partner_id.id == former
                    and model.partner_on(movement.date) != former
                ):
                    # A change of customer: the former customer's churn on
                    # that day (then the new customer's MRR, if any: none
                    # when the contract is paused the same day).
                    if abs(movement.mrr_after_currency) > tolerance:
                        self.fail(
                            f"{life.contract.name}: the former customer's churn "
                            f"of {movement.date} leaves "
                            f"{movement.mrr_after_currency:.2f}"
                        )
                    continue
                want = model.mrr_on(movement.date)
                if abs(movement.mrr_after_currency - want) > tolerance:
                    self.fail(
                        f"{life.contract.name}: MRR movement of {movement.date} "
                        f"says {movement.mrr_after_currency:.2f}, the rules "
                        f"{want:.2f}"
                    )
                partner = model.partner_on(movement.date)
                if movement.partner_id.commercial_partner_id.id != partner:
                    self.fail(
                        f"{life.contract.name}: MRR movement of {movement.date} "
                        f"moved to customer {movement.partner_id.display_name}"
                    )
            for day in model.mrr_change_days():
                before = movements.filtered(lambda m, d=day: m.date <= d)
                got = before[-1:].mrr_after_currency if before else 0.0
                want = model.mrr_on(day)
                if abs(got - want) > tolerance:
                    self.fail(
                        f"{life.contract.name}: MRR on {day} from the movements "
                        f"{got:.2f}, the rules {want:.2f}"
                    )
