# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""An independent reference model of what a contract owes, for the
model-based test of contract lives (``test_contract_lives_machine.py``).

Written from the README's rules ("How it bills" 1-3 and 10-13, "Usage
lines"), day by day, in plain Python: it imports neither Odoo nor the
addon's own schedule code, so that when the two disagree one of them is
wrong and the rule decides which. Amounts are at the lines' own prices
(a tax-included price includes its tax); ``untaxed`` takes the tax out.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from dateutil.relativedelta import relativedelta

ONE_DAY = timedelta(days=1)
UNITS = {"daily": "days", "weekly": "weeks", "monthly": "months", "yearly": "years"}
# Months in one period of each unit (README "Revenue analytics": a day is
# 12 / 365.25 of a month, a week 7 such days).
MONTHS_PER_UNIT = {
    "daily": Fraction(12 * 100, 36525),
    "weekly": Fraction(7 * 12 * 100, 36525),
    "monthly": Fraction(1),
    "yearly": Fraction(12),
}


def money(value):
    """Round once, half up, to cents (the currencies used here)."""
    return float(Decimal(str(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP))


def days_between(first, last):
    """Number of days from ``first`` to ``last`` included (0 if empty)."""
    return max(0, (last - first).days + 1)


@dataclass
class Line:
    """One contract line as the customer agreed it."""

    key: int
    price: float
    quantity: float = 1.0
    tax_rate: float = 0.0  # a tax included in the price, in percent
    date_start: date | None = None
    date_end: date | None = None
    usage: bool = False
    included: float = 0.0
    minimum: float = 0.0
    # Lines made by Change from one another share a chain: for usage, one
    # period is rated once over the chain (included units and minimum once).
    chain: int = 0

    def covers(self, day):
        return (self.date_start is None or self.date_start <= day) and (
            self.date_end is None or day <= self.date_end
        )


@dataclass
class Record:
    chain: int
    day: date
    quantity: float
    reference: str


@dataclass
class Contract:
    """What a contract owes, from its history (the steps the test made)."""

    date_start: date
    rule: str
    interval: int
    advance: bool
    prorate: bool
    date_end: date | None = None
    auto_renew: bool = False
    notice_days: int = 0
    lines: dict = field(default_factory=dict)
    # Days not billed: pauses and the time closed before a renewal, as
    # (first day, last day or None while open).
    off: list = field(default_factory=list)
    records: list = field(default_factory=list)
    # The proration a billed period was billed with: ticking Prorate later
    # does not re-price history (README rule 3 prices a period when billed).
    billed_prorate: dict = field(default_factory=dict)
    partners: list = field(default_factory=list)  # [(from day, partner id)]
    last_run: date | None = None
    # The yearly price update by a fixed percentage (0: none), and the
    # update days already applied.
    indexation_rate: float = 0.0
    updated: set = field(default_factory=set)

    # ------------------------------------------------------------------
    # Rule 1: periods
    # ------------------------------------------------------------------

    def period_start(self, index):
        unit = UNITS[self.rule]
        return self.date_start + relativedelta(**{unit: index * self.interval})

    def end(self):
        """The last day billed: none while the contract renews itself (rule
        14: it never closes at its end date)."""
        return None if self.auto_renew else self.date_end

    def period(self, index):
        """(start, full end, cut end) of period ``index``, None past the end."""
        start = self.period_start(index)
        end = self.end()
        if end is not None and start > end:
            return None
        full_end = self.period_start(index + 1) - ONE_DAY
        return start, full_end, min(full_end, end) if end else full_end

    def periods(self, until):
        """Indexes of the periods starting on or before ``until``."""
        index = 0
        while True:
            period = self.period(index)
            if period is None or period[0] > until:
                return
            yield index
            index += 1

    def index_of(self, day):
        """The index of the period containing ``day`` (ignoring the end)."""
        index = 0
        while self.period_start(index + 1) <= day:
            index += 1
        return index

    # ------------------------------------------------------------------
    # Rule 2: when a period is billed
    # ------------------------------------------------------------------

    def invoice_date(self, index):
        start, _full_end, cut_end = self.period(index)
        return start if self.advance else cut_end + ONE_DAY

    def is_off(self, day):
        return any(
            first <= day and (last is None or day <= last) for first, last in self.off
        )

    def active_days(self, first, last, line=None):
        return sum(
            1
            for offset in range(days_between(first, last))
            if not self.is_off(first + timedelta(offset))
            and (line is None or line.covers(first + timedelta(offset)))
        )

    # ------------------------------------------------------------------
    # Rules 3, 10, 11, 12, 13: what a period owes for its fixed lines
    # ------------------------------------------------------------------

    def fixed_owed(self, index):
        """{line key: amount at the line's price} owed for period ``index``."""
        period = self.period(index)
        if period is None:
            return {}
        start, full_end, cut_end = period
        prorate = self.billed_prorate.get(index, self.prorate)
        full_days = days_between(start, full_end)
        contract_days = self.active_days(start, cut_end)
        owed = {}
        for line in self.lines.values():
            if line.usage:
                continue
            line_days = self.active_days(start, cut_end, line)
            if not line_days:
                continue
            # With Prorate a period counts its days out of the full period;
            # without, the days the contract bills count as the whole period
            # and a line cut by its own dates bills its share of them.
            share = Fraction(line_days, full_days if prorate else contract_days)
            owed[line.key] = money(
                Fraction(str(line.price)) * Fraction(str(line.quantity)) * share
            )
        return owed

    def untaxed(self, key, amount):
        rate = self.lines[key].tax_rate
        return money(Fraction(str(amount)) / (1 + Fraction(str(rate)) / 100))

    def fixed_owed_untaxed(self, index):
        return sum(
            self.untaxed(key, amount) for key, amount in self.fixed_owed(index).items()
        )

    # ------------------------------------------------------------------
    # Usage lines: rated per period, once, in arrears
    # ------------------------------------------------------------------

    def usage_chains(self):
        return {line.chain for line in self.lines.values() if line.usage}

    def usage_owed(self, index, chain):
        """What the usage of ``chain`` owes for period ``index``: the records
        summed, the included units given once (to the earliest records),
        each unit above them at the price of the line that covers its day,
        at least the minimum. None when the line bills nothing then."""
        period = self.period(index)
        if period is None:
            return None
        start, _full_end, cut_end = period
        lines = [
            line
            for line in self.lines.values()
            if line.chain == chain
            and any(
                line.covers(start + timedelta(d))
                for d in range(days_between(start, cut_end))
            )
        ]
        if not lines:
            return None
        records = sorted(
            (r for r in self.records if r.chain == chain and start <= r.day <= cut_end),
            key=lambda r: r.day,
        )
        free = Fraction(str(lines[0].included))
        amount = Fraction(0)
        for record in records:
            quantity = Fraction(str(record.quantity))
            taken = min(free, quantity)
            free -= taken
            line = next((ln for ln in lines if ln.covers(record.day)), lines[-1])
            amount += (quantity - taken) * Fraction(str(line.price))
        minimum = Fraction(str(lines[-1].minimum))
        if minimum and self.active_days(start, cut_end):
            amount = max(amount, minimum)
        return money(amount)

    def usage_cutoff_passed(self, index, day):
        """True when the invoice carrying the usage of period ``index`` is
        due on ``day``: the day after the period ends, in advance (the next
        period's invoice, or the final usage invoice) and in arrears alike."""
        period = self.period(index)
        return period is not None and period[2] < day

    # ------------------------------------------------------------------
    # Close, renew, pause
    # ------------------------------------------------------------------

    def closed(self):
        """Closed once every period is billed (rule 3): the last period's
        invoice date, and the final usage invoice of an advance contract with
        a usage line, are on or before the last run."""
        end = self.end()
        if end is None or self.last_run is None:
            return False
        last = max(self.periods(end), default=None)
        if last is not None and self.invoice_date(last) > self.last_run:
            return False
        if self.advance and self.usage_chains() and end + ONE_DAY > self.last_run:
            return False
        return True

    def close(self, day):
        """Rule 11: nothing after ``day`` is billed; an open pause ends there
        (a closed contract is no longer paused: a renewal bills again)."""
        self.auto_renew = False
        if self.date_end is None or self.date_end > day:
            self.date_end = max(day, self.date_start)
        self.off = [
            (first, last if last is not None else self.date_end)
            for first, last in self.off
            if last is not None or first <= self.date_end
        ]

    def renew(self, months, day):
        """Rule 12: the term continues the day after the end date; renewed
        later, the days in between are under no term and not billed."""
        old_end = self.date_end
        if day > old_end + ONE_DAY:
            self.off.append((old_end + ONE_DAY, day - ONE_DAY))
        self.date_end = old_end + ONE_DAY + relativedelta(months=months) - ONE_DAY

    def renewal_due(self, day):
        """Rule 14: the run of ``day`` renews a self-renewing contract whose
        term ended before ``day``, or whose end date cuts the next period
        not billed yet when that period is due (billed once, in full)."""
        if self.date_end < day:
            return True
        index = 0
        while self.last_run is not None and self.invoice_date(index) <= self.last_run:
            index += 1
        start = self.period_start(index)
        full_end = self.period_start(index + 1) - ONE_DAY
        if start > self.date_end or self.date_end >= full_end:
            return False
        invoice_day = start if self.advance else self.date_end + ONE_DAY
        return invoice_day <= day

    def pause(self, day):
        self.off.append((day, None))

    def resume(self, day):
        first = next(f for f, last in self.off if last is None)
        self.off = [(f, last) for f, last in self.off if last is not None]
        if day > first:
            self.off.append((first, day - ONE_DAY))

    # ------------------------------------------------------------------
    # Yearly price update (README "Price updates")
    # ------------------------------------------------------------------

    def price_updates_due(self, day):
        """The price updates the run of ``day`` applies, as [(update day,
        first day of the new prices)]: each anniversary of the start date,
        taking effect with the first period starting on or after it, once
        that period is billed (the prices of periods billed stand)."""
        due = []
        if not self.indexation_rate:
            return due
        years = 1
        while True:
            update = self.date_start + relativedelta(years=years)
            years += 1
            index = self.index_of(update)
            if self.period_start(index) < update:
                index += 1
            if self.period(index) is None or self.invoice_date(index) > day:
                return due
            if update not in self.updated:
                due.append((update, self.period_start(index)))

    def update_prices(self, update, effective):
        """Apply one price update: every line billing on ``effective`` that
        started before it continues at its price times 1 + rate, rounded
        half up to cents, from ``effective`` (as the Change dialog does).
        Returns {old line key: new line (key 0 until the test knows it)}."""
        self.updated.add(update)
        rate = 1 + Fraction(str(self.indexation_rate)) / 100
        new_lines = {}
        for line in list(self.lines.values()):
            starts_before = (line.date_start or self.date_start) < effective
            if not starts_before or (line.date_end and line.date_end < effective):
                continue
            price = money(Fraction(str(line.price)) * rate)
            if price == line.price:
                continue
            new_lines[line.key] = Line(
                key=0,
                price=price,
                quantity=line.quantity,
                tax_rate=line.tax_rate,
                date_start=effective,
                date_end=line.date_end,
                usage=line.usage,
                included=line.included,
                minimum=line.minimum,
                chain=line.chain,
            )
            line.date_end = effective - ONE_DAY
        return new_lines

    # ------------------------------------------------------------------
    # MRR (README "Revenue analytics")
    # ------------------------------------------------------------------

    def mrr_on(self, day):
        """Untaxed amount per full period of the fixed lines covering ``day``,
        per month; 0 outside the days the contract bills."""
        end = self.end()
        if day < self.date_start or (end and day > end) or self.is_off(day):
            return 0.0
        months = MONTHS_PER_UNIT[self.rule] * self.interval
        total = sum(
            self.untaxed(
                line.key,
                money(Fraction(str(line.price)) * Fraction(str(line.quantity))),
            )
            for line in self.lines.values()
            if not line.usage and line.covers(day)
        )
        return money(Fraction(str(total)) / months)

    def mrr_change_days(self):
        """The days the MRR may change on."""
        days = {self.date_start}
        for line in self.lines.values():
            if line.date_start:
                days.add(line.date_start)
            if line.date_end:
                days.add(line.date_end + ONE_DAY)
        for first, last in self.off:
            days.add(first)
            if last:
                days.add(last + ONE_DAY)
        if self.end():
            days.add(self.end() + ONE_DAY)
        return sorted(days)

    def partner_on(self, day):
        partner = self.partners[0][1]
        for first, partner_id in self.partners:
            if first <= day:
                partner = partner_id
        return partner
