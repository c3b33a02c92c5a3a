# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The steps of a contract's life, done at once on the database and on the
oracle (``oracle.py``), and the invariants that must hold between the two.
Used by the state machine (``test_contract_lives_machine.py``) and by the regression
tests it found (``test_contract_lives_regressions.py``), which read as the
shrunk sequences Hypothesis printed.

Dates: the simulated today starts on ``FIRST_DAY`` and only moves forward
(``bill``); every step passes its date explicitly, never the clock.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError

from . import oracle
from .common import RecurringBillingCommon
from .lives_checks import LifeChecks

FIRST_DAY = date(2025, 1, 1)
ONE_DAY = timedelta(days=1)


class ContractLivesCommon(RecurringBillingCommon):
    """The fixtures the lives use: a usage product, a tax included in the
    price, a foreign currency and a close reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_calls = cls.env["product.product"].create(
            {
                "name": "API calls",
                "list_price": 0.01,
                "taxes_id": [Command.clear()],
                "recurring_ok": True,
                "recurring_quantity_type": "usage",
            }
        )
        cls.tax_included = cls.env["account.tax"].create(
            {
                "name": "VAT 21% included (lives)",
                "amount": 21.0,
                "price_include_override": "tax_included",
            }
        )
        cls.foreign_currency = cls.setup_other_currency("EUR")
        cls.close_reason = cls.env["recurring.contract.close.reason"].create(
            {"name": "Lives"}
        )


@dataclass(eq=False)  # one life is itself: hashed and compared by identity
class Life:
    contract: object
    model: oracle.Contract
    # usage record id -> (day received, last account.move id then)
    received: dict = field(default_factory=dict)
    refs: dict = field(default_factory=dict)  # odoo usage line id -> [reference]
    # What the customer must have been told, in order: (kind, [partner id]).
    told: list = field(default_factory=list)
    # A close was told and no renewal came since: a later close on or after
    # its end date says nothing new.
    closing: bool = False


class ContractLives(LifeChecks):
    """The steps of contract lives, on the database and the oracle at once;
    the invariants between the two come from ``LifeChecks``."""

    def __init__(self, case):
        self.case = case
        self.env = case.env
        self.savepoint = self.env.cr.savepoint()
        self.today = FIRST_DAY
        self.contracts = []
        self.sequence = 0

    def rollback(self):
        self.savepoint.close(rollback=True)
        self.env.invalidate_all()

    def fail(self, message):
        raise AssertionError(message)

    def pick(self, which):
        return self.contracts[which % len(self.contracts)]

    def editable(self, life):
        return life.contract.state in ("running", "paused")

    def expect_told(self, life, kind):
        """The customer of the day is emailed ``kind``, when they have an
        email address (the customer's data, not the engine's output)."""
        partner = life.contract.partner_id
        if partner.email:
            life.told.append((kind, partner.ids))

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

    def start(
        self,
        offset=0,
        recurrence=("monthly", 1),
        advance=True,
        prorate=False,
        term_days=None,
        auto_renew=False,
        notice=0,
        price=10000,
        quantity=1,
        tax_included=False,
        foreign=False,
        usage=None,
        indexation_rate=0,
    ):
        """A contract started ``offset`` days from today: one fixed line at
        ``price`` cents (tax included or not) and maybe a usage line
        (cents a unit, included units, minimum in cents); with
        ``indexation_rate``, its prices go up by that percentage on each
        anniversary (a fixed yearly price update)."""
        case = self.case
        rule, interval = recurrence
        start = self.today + timedelta(offset)
        end = start + timedelta(term_days) if term_days is not None else None
        auto_renew = bool(auto_renew and end)
        tax = case.tax_included if tax_included else self.env["account.tax"]
        lines = [
            Command.create(
                {
                    "product_id": case.product_a.id,
                    "quantity": quantity,
                    "price_unit": price / 100,
                    "tax_ids": [Command.set(tax.ids)],
                }
            )
        ]
        if usage:
            unit_cents, included, minimum_cents = usage
            lines.append(
                Command.create(
                    {
                        "product_id": case.product_calls.id,
                        "quantity_type": "usage",
                        "quantity": 1,
                        "price_unit": unit_cents / 100,
                        "usage_included": included,
                        "usage_minimum": minimum_cents / 100,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        vals = {
            "partner_id": case.partner_a.id,
            "journal_id": case.journal.id,
            "date_start": start,
            "date_end": end,
            "recurring_rule_type": rule,
            "recurring_interval": interval,
            "invoicing_mode": "advance" if advance else "arrears",
            "prorate": prorate,
            "auto_renew": auto_renew,
            "renewal_months": 1,
            "notice_days": notice,
            "invoice_action": "post",
            "line_ids": lines,
        }
        if foreign:
            vals["currency_id"] = case.foreign_currency.id
        if indexation_rate:
            vals.update(indexation_method="fixed", indexation_rate=indexation_rate)
        contract = self.env["recurring.contract"].create(vals)
        contract.action_start(notify=False)
        model = oracle.Contract(
            date_start=start,
            rule=rule,
            interval=interval,
            advance=advance,
            prorate=prorate,
            date_end=end,
            auto_renew=auto_renew,
            notice_days=notice,
            partners=[(start, case.partner_a.commercial_partner_id.id)],
            indexation_rate=indexation_rate,
        )
        for line in contract.line_ids:
            is_usage = line.quantity_type == "usage"
            model.lines[line.id] = oracle.Line(
                key=line.id,
                price=line.price_unit,
                quantity=line.quantity,
                tax_rate=21.0 if (tax_included and not is_usage) else 0.0,
                usage=is_usage,
                included=line.usage_included,
                minimum=line.usage_minimum,
                chain=line.id,
            )
        life = Life(contract, model)
        self.contracts.append(life)
        return life

    def bill(self, days=0):
        """Move today ``days`` forward and run the billing of every contract
        (automatic renewals first, as the scheduled action does)."""
        self.today += timedelta(days)
        for life in self.contracts:
            model = life.model
            # Rule 14: the run renews a running contract whose term ended.
            paused = any(last is None for _first, last in model.off)
            while model.auto_renew and not paused and model.renewal_due(self.today):
                model.date_end = (
                    model.date_end + ONE_DAY + relativedelta(months=1) - ONE_DAY
                )
        self.env["recurring.billing.engine"]._renew_ended_terms(date_ref=self.today)
        updates, told = {}, {}
        for life in self.contracts:
            if life.contract.state in ("running", "paused"):
                for update, effective in life.model.price_updates_due(self.today):
                    updates.setdefault(life, {}).update(
                        life.model.update_prices(update, effective)
                    )
                    told[life] = told.get(life, 0) + 1
        contracts = self.env["recurring.contract"].browse(
            [life.contract.id for life in self.contracts]
        )
        moves = contracts._generate_invoices(date_ref=self.today)
        self.check_numbering(moves)
        for life in self.contracts:
            model = life.model
            model.last_run = self.today
            for index in model.periods(self.today):
                if model.invoice_date(index) <= self.today:
                    model.billed_prorate.setdefault(index, model.prorate)
        self.env.invalidate_all()
        for life, new_lines in updates.items():
            self.check_price_update(life, new_lines)
        for life, count in told.items():
            # Not announced before (no reminder run here): each update is
            # told to the customer when applied, with the invoice.
            for _update in range(count):
                self.expect_told(life, "price_update")
        for life in self.contracts:
            self.check_no_error(life)
            self.check_money(life)
            self.check_usage_billed(life)

    def line_of(self, life, line, usage=None):
        lines = life.contract.line_ids.filtered(
            lambda ln: not ln.display_type
            and (usage is None or (ln.quantity_type == "usage") == usage)
        ).sorted("id")
        return lines[line % len(lines)] if lines else None

    def change_line(self, which, line, offset, price, quantity):
        """Change a line from a date with the Change dialog (rule 13)."""
        life = self.pick(which)
        if not self.editable(life):
            return None
        line = self.line_of(life, line)
        model_line = life.model.lines[line.id]
        day = self.today + timedelta(offset)
        if (
            day <= (line.date_start or life.contract.date_start)
            or (line.date_end and day > line.date_end)
            or (life.model.end() and day > life.model.end())
        ):
            return None
        if model_line.usage:
            price_unit = (price % 50 + 1) / 100
            quantity = line.quantity
        else:
            price_unit = price / 100
        wizard = (
            self.env["recurring.contract.line.change.wizard"]
            .with_context(active_id=line.id)
            .create(
                {
                    "line_id": line.id,
                    "date_effective": day,
                    "quantity": quantity,
                    "price_unit": price_unit,
                    "discount": 0.0,
                }
            )
        )
        wizard.action_change()
        self.expect_told(life, "changed")
        new_line = (life.contract.line_ids - line).filtered(
            lambda ln: ln.id not in life.model.lines
        )
        new_line.ensure_one()
        life.model.lines[new_line.id] = oracle.Line(
            key=new_line.id,
            price=price_unit,
            quantity=quantity,
            tax_rate=model_line.tax_rate,
            date_start=day,
            date_end=model_line.date_end,
            usage=model_line.usage,
            included=model_line.included,
            minimum=model_line.minimum,
            chain=model_line.chain,
        )
        model_line.date_end = day - ONE_DAY
        return new_line

    def add_line(self, which, offset, price):
        """A fixed line added from a date (rule 13)."""
        life = self.pick(which)
        if not self.editable(life):
            return None
        day = max(self.today + timedelta(offset), life.model.date_start)
        if life.model.end() and day > life.model.end():
            return None
        line = self.env["recurring.contract.line"].create(
            {
                "contract_id": life.contract.id,
                "product_id": self.case.product_a.id,
                "quantity": 1,
                "price_unit": price / 100,
                "date_start": day,
                "tax_ids": [Command.clear()],
            }
        )
        life.model.lines[line.id] = oracle.Line(
            key=line.id, price=price / 100, date_start=day, chain=line.id
        )
        return line

    def end_line(self, which, line, offset):
        """A fixed line ended on a date (its Until, rule 13)."""
        life = self.pick(which)
        if not self.editable(life):
            return None
        line = self.line_of(life, line, usage=False)
        day = self.today + timedelta(offset)
        if day < (line.date_start or life.contract.date_start) or (
            line.date_end and day >= line.date_end
        ):
            return None
        line.date_end = day
        life.model.lines[line.id].date_end = day
        return line

    def rewrite_unit(self, which, line):
        """Write a line's unit again (the same one, as a form or an
        integration saves it): nothing changes, billed or not."""
        life = self.pick(which)
        if not self.editable(life) or not life.contract.period_ids.filtered(
            lambda p: p.state == "invoiced"
        ):
            return None
        line = self.line_of(life, line, usage=False)
        line.write({"product_uom_id": line.product_uom_id.id})
        return line

    def record_usage(self, which, offset, quantity, duplicate=False):
        """A usage record dated ``offset`` days from today (late ones
        included); ``duplicate``: sent again with a reference already used
        on that line (``record_usage`` must ignore it)."""
        life = self.pick(which)
        model = life.model
        day = self.today + timedelta(offset)
        if day < model.date_start or (model.end() and day > model.end()):
            return None
        line = life.contract.line_ids.filtered(
            lambda ln: ln.quantity_type == "usage"
            and (not ln.date_start or ln.date_start <= day)
            and (not ln.date_end or day <= ln.date_end)
        )[:1]
        if not line:
            return None
        Usage = self.env["recurring.contract.usage"]
        refs = life.refs.setdefault(line.id, [])
        if duplicate and refs:
            reference = refs[quantity % len(refs)]
            before = Usage.search_count([("line_id", "=", line.id)])
            Usage.record_usage(
                [
                    {
                        "line_id": line.id,
                        "date": day,
                        "quantity": quantity,
                        "reference": reference,
                    }
                ]
            )
            if Usage.search_count([("line_id", "=", line.id)]) != before:
                self.fail(f"record_usage stored the reference {reference} twice")
            return None
        self.sequence += 1
        reference = f"ev-{self.sequence}"
        last_move = self.env["account.move"].search([], order="id desc", limit=1).id
        try:
            with self.env.cr.savepoint():
                record = Usage.create(
                    {
                        "line_id": line.id,
                        "date": day,
                        "quantity": quantity,
                        "reference": reference,
                    }
                )
        except (UserError, ValidationError):
            if life.contract.state != "closed":
                raise
            return None  # refused on a closed contract: allowed (a clear error)
        refs.append(reference)
        life.received[record.id] = (self.today, last_move)
        model.records.append(
            oracle.Record(model.lines[line.id].chain, day, quantity, reference)
        )
        return record

    def pause(self, which, offset):
        life = self.pick(which)
        model = life.model
        day = self.today + timedelta(offset)
        if (
            life.contract.state != "running"
            or day < model.date_start
            or (model.end() and day > model.end())
            or any(last is None or day <= last for _first, last in model.off)
        ):
            return None
        life.contract.action_pause(date_pause=day)
        model.pause(day)
        self.expect_told(life, "paused")
        return day

    def resume(self, which, offset):
        life = self.pick(which)
        if life.contract.state != "paused":
            return None
        first = next(f for f, last in life.model.off if last is None)
        day = max(first, self.today + timedelta(offset))
        life.contract.action_resume(date_resume=day)
        life.model.resume(day)
        return day

    def close(self, which, offset, respect_terms=False):
        life = self.pick(which)
        if not self.editable(life):
            return None
        day = self.today + timedelta(offset)
        wizard = self.env["recurring.contract.close.wizard"].create(
            {
                "contract_ids": [Command.set(life.contract.ids)],
                "date_close": day,
                "respect_terms": respect_terms,
                "reason_id": self.case.close_reason.id,
            }
        )
        wizard.action_close()
        if respect_terms:
            day += timedelta(life.model.notice_days)
        if not (life.closing and life.model.end() <= day):
            self.expect_told(life, "closed")
        life.closing = True
        life.model.close(day)
        return day

    def renew(self, which, months):
        life = self.pick(which)
        if not life.model.date_end or life.model.auto_renew:
            return None
        life.contract.action_renew(months=months, date_renew=self.today)
        life.model.renew(months, self.today)
        self.expect_told(life, "renewed")
        life.closing = False
        return life.model.date_end

    def cancel_and_void(self, which, pick):
        """A billing manager cancels a period's posted invoice and voids the
        period: the next run bills it again, exactly once (rule 6)."""
        life = self.pick(which)
        moves = life.contract.invoice_ids.filtered(
            lambda m: m.state == "posted"
            and m.move_type == "out_invoice"
            and m.recurring_period_id.kind == "period"
            and m.recurring_period_id.state == "invoiced"
        ).sorted("id")
        if not moves:
            return None
        move = moves[pick % len(moves)]
        move.button_cancel()
        move.recurring_period_id.action_void()
        return move

    def cancel_invoice(self, which, pick):
        """Cancel a posted invoice of the contract (its period stays billed
        until a billing manager voids it, rule 6)."""
        life = self.pick(which)
        moves = life.contract.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
        ).sorted("id")
        if not moves:
            return None
        move = moves[pick % len(moves)]
        move.button_cancel()
        return move

    def void_period(self, which, pick):
        """A billing manager voids a period whose invoice is cancelled."""
        life = self.pick(which)
        rows = life.contract.period_ids.filtered(
            lambda p: p.state == "invoiced" and p.move_id.state == "cancel"
        ).sorted("id")
        if not rows:
            return None
        row = rows[pick % len(rows)]
        row.action_void()
        return row

    def toggle_prorate(self, which):
        """Prorate decides what billed periods owe: it freezes with the
        schedule once a period is in the ledger (rule 9), with a clear
        error and nothing changed."""
        life = self.pick(which)
        if not self.editable(life):
            return None
        if life.contract.period_ids:
            try:
                with self.env.cr.savepoint():
                    life.contract.prorate = not life.contract.prorate
            except UserError:
                self.env.invalidate_all()
                if life.contract.prorate != life.model.prorate:
                    self.fail(f"{life.contract.name}: Prorate refused, yet changed")
                return None
            self.fail(
                f"{life.contract.name}: Prorate changed after a period was billed"
            )
        life.contract.prorate = not life.contract.prorate
        life.model.prorate = life.contract.prorate
        return life.model.prorate

    def change_customer(self, which):
        life = self.pick(which)
        if not self.editable(life):
            return None
        case = self.case
        partner = (
            case.partner_b
            if life.contract.partner_id == case.partner_a
            else case.partner_a
        )
        # A change of customer has no date of its own: it takes effect on
        # the company's today, which the simulation's today stands for.
        with freeze_time(datetime.combine(self.today, time(12))):
            life.contract.partner_id = partner
        # Lines not billed yet take the product's taxes (none included in the
        # price) mapped for the new customer; billed lines keep theirs.
        model = life.model
        billed = [
            model.period(index)[2]
            for index in model.periods(model.last_run or model.date_start)
            if model.last_run and model.invoice_date(index) <= model.last_run
        ]
        for line in model.lines.values():
            if not billed or (line.date_start or model.date_start) > max(billed):
                line.tax_rate = 0.0
        life.model.partners.append((self.today, partner.commercial_partner_id.id))
        return partner


class ContractLivesCase(ContractLivesCommon):
    """A test of one contract life: the steps done on the database and on
    the oracle (``self.lives``), rolled back after the test."""

    def setUp(self):
        super().setUp()
        self.lives = ContractLives(self)
        self.addCleanup(self.lives.rollback)

    def check_all(self):
        self.lives.check_notices()
        self.lives.check_credits()
        self.lives.check_usage_once()
        self.lives.check_forecast()
        self.lives.check_mrr()
