# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The billing schedule of a contract, as pure functions of a few values.

Nothing here imports Odoo: the rules of the schedule (month ends, leap years,
the cut at the end date, advance and arrears dates, proration) are tested
without a database (``tests/test_schedule.py``), and every amount the engine
bills, credits or forecasts is computed from the periods given here.

Every boundary is computed from the anchor (the contract's start date), never
from the previous period, so month ends do not drift: monthly from 31 January
gives 28 February (29 in leap years), then 31 March, then 30 April.

>>> from datetime import date
>>> for p in iter_periods(date(2026, 1, 31), "monthly", 1, limit=4):
...     print(p.date_start)
2026-01-31
2026-02-28
2026-03-31
2026-04-30
>>> p = period_at(date(2026, 1, 1), "monthly", 1, 2, date_end=date(2026, 3, 15),
...               mode="arrears", prorate=True)
>>> print(p.date_start, p.date_end, p.invoice_date, round(p.factor, 4))
2026-03-01 2026-03-15 2026-03-16 0.4839
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from dateutil.relativedelta import relativedelta

RULE_TYPES = ("daily", "weekly", "monthly", "yearly")
INVOICING_MODES = ("advance", "arrears")

# Average length of one unit in months, to normalise any rule to a month
# (MRR): a year is 12 months, a day 12 / 365.25 of one.
_MONTHS_PER_UNIT = {
    "daily": 12 / 365.25,
    "weekly": 12 * 7 / 365.25,
    "monthly": 1.0,
    "yearly": 12.0,
}
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One billing period of a contract.

    ``full_date_end`` is where the period would end without the contract's
    end date; ``factor`` is the share of the full period billed (1.0 unless
    the period is cut by the end date and the contract prorates).
    """

    index: int
    date_start: date
    date_end: date
    full_date_end: date
    invoice_date: date
    factor: float = 1.0

    @property
    def days(self):
        """Days the period covers, both ends included."""
        return (self.date_end - self.date_start).days + 1

    @property
    def full_days(self):
        """Days of the full period, both ends included."""
        return (self.full_date_end - self.date_start).days + 1

    @property
    def is_prorated(self):
        return self.factor != 1.0


@dataclass(frozen=True)
class ScheduledInvoice:
    """A period and the amounts its invoice will bill (forecasts): before
    taxes and, when known, with them (what the customer pays)."""

    period: Period
    amount_untaxed: float
    amount_total: float | None = None

    @property
    def invoice_date(self):
        return self.period.invoice_date

    @property
    def date_start(self):
        return self.period.date_start

    @property
    def date_end(self):
        return self.period.date_end


def _check_rule(rule, interval):
    if rule not in _MONTHS_PER_UNIT:
        raise ValueError(f"unknown recurrence rule {rule!r}")
    if interval < 1:
        raise ValueError(f"the recurrence interval must be at least 1, not {interval}")


def period_delta(rule, interval, count=1):
    """The length of ``count`` periods of ``interval`` units of ``rule``.

    >>> period_delta("weekly", 2, 3)
    relativedelta(days=+42)
    """
    _check_rule(rule, interval)
    units = interval * count
    if rule == "daily":
        return relativedelta(days=units)
    if rule == "weekly":
        return relativedelta(weeks=units)
    if rule == "monthly":
        return relativedelta(months=units)
    return relativedelta(years=units)


def proration_factor(date_start, date_end, full_date_end):
    """Share of the full period ``date_start``..``full_date_end`` covered by
    ``date_start``..``date_end``, by days (both ends included).

    >>> proration_factor(date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 31))
    0.4838709677419355
    """
    covered = (date_end - date_start).days + 1
    full = (full_date_end - date_start).days + 1
    return covered / full


def period_at(
    anchor, rule, interval, index, date_end=None, mode="advance", prorate=False
):
    """Period ``index`` (0-based) of the schedule anchored on ``anchor``, or
    None when it starts after ``date_end`` (or ``index`` is negative).

    In advance, a period is billed on its first day; in arrears, on the day
    after it ends (its last day being the end date when it is cut by it).

    >>> period_at(date(2026, 1, 1), "monthly", 1, 5, date_end=date(2026, 5, 31))
    """
    if not anchor or index < 0:
        return None
    if mode not in INVOICING_MODES:
        raise ValueError(f"unknown invoicing mode {mode!r}")
    start = anchor + period_delta(rule, interval, index)
    if date_end and start > date_end:
        return None
    full_end = anchor + period_delta(rule, interval, index + 1) - _ONE_DAY
    end = min(full_end, date_end) if date_end else full_end
    factor = (
        proration_factor(start, end, full_end) if prorate and end != full_end else 1.0
    )
    return Period(
        index=index,
        date_start=start,
        date_end=end,
        full_date_end=full_end,
        invoice_date=start if mode == "advance" else end + _ONE_DAY,
        factor=factor,
    )


def iter_periods(
    anchor,
    rule,
    interval,
    date_end=None,
    mode="advance",
    prorate=False,
    start_index=0,
    limit=None,
) -> Iterator[Period]:
    """The periods from ``start_index`` on, oldest first, up to ``date_end``
    (endless without one: stop with ``limit`` or by breaking out)."""
    index = start_index
    while limit is None or index < start_index + limit:
        period = period_at(anchor, rule, interval, index, date_end, mode, prorate)
        if period is None:
            return
        yield period
        index += 1


def extend_term(date_end, months):
    """The new end of a term ending on ``date_end`` extended by ``months``:
    it continues from the next day, so a term ending on a month's last day
    ends on a month's last day (30 April + 1 month = 31 May).

    >>> print(extend_term(date(2026, 4, 30), 1), extend_term(date(2026, 3, 15), 1))
    2026-05-31 2026-04-15
    """
    return date_end + _ONE_DAY + relativedelta(months=months) - _ONE_DAY


def months_per_period(rule, interval):
    """Length of one period in months, to normalise an amount to a month
    (MRR) the same way for every rule.

    >>> months_per_period("yearly", 1), months_per_period("monthly", 3)
    (12.0, 3.0)
    """
    _check_rule(rule, interval)
    return _MONTHS_PER_UNIT[rule] * interval


# Calendar units that convert into each other exactly: months and years
# (a year is always 12 months), days and weeks (a week is always 7 days).
# A month is not a whole number of days or weeks, so a price is never
# converted across the two families.
_CALENDAR_UNITS = {
    "daily": ("days", 1),
    "weekly": ("days", 7),
    "monthly": ("months", 1),
    "yearly": ("months", 12),
}


def price_ratio(from_rule, from_interval, to_rule, to_interval):
    """Factor that turns a price for one period of ``from_rule`` x
    ``from_interval`` into a price for one period of ``to_rule`` x
    ``to_interval``, as an exact :class:`~fractions.Fraction`; ``None`` when
    no exact conversion exists (weeks into months, days into years).

    >>> price_ratio("yearly", 1, "monthly", 1)
    Fraction(1, 12)
    >>> price_ratio("monthly", 1, "monthly", 3)
    Fraction(3, 1)
    >>> price_ratio("weekly", 2, "daily", 7)
    Fraction(1, 2)
    >>> price_ratio("weekly", 1, "monthly", 1) is None
    True
    """
    _check_rule(from_rule, from_interval)
    _check_rule(to_rule, to_interval)
    from_family, from_size = _CALENDAR_UNITS[from_rule]
    to_family, to_size = _CALENDAR_UNITS[to_rule]
    if from_family != to_family:
        return None
    return Fraction(to_size * to_interval, from_size * from_interval)


def convert_price(price, from_rule, from_interval, to_rule, to_interval, digits=2):
    """``price`` for one period of the first recurrence, as a price for one
    period of the second, rounded half-up to ``digits`` (the unit price's
    precision): 480.00 a year is 40.00 a month. ``None`` when the two
    recurrences do not convert exactly (see :func:`price_ratio`).

    >>> convert_price(480.0, "yearly", 1, "monthly", 1)
    40.0
    >>> convert_price(100.0, "yearly", 1, "monthly", 1)
    8.33
    >>> convert_price(10.0, "monthly", 1, "yearly", 1)
    120.0
    """
    ratio = price_ratio(from_rule, from_interval, to_rule, to_interval)
    if ratio is None:
        return None
    exact = Fraction(Decimal(repr(price))) * ratio
    quantum = Decimal(1).scaleb(-digits)
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        quantum, rounding=ROUND_HALF_UP
    )
    return float(value)


def _days_outside(start, end, off_windows):
    """Days of ``start``..``end`` (both included) outside every window of
    ``off_windows`` ((start, end) pairs, end None for open-ended)."""
    days = (end - start).days + 1
    if days <= 0:
        return 0
    off = set()
    for off_start, off_end in off_windows:
        lo = max(start, off_start)
        hi = min(end, off_end) if off_end else end
        off.update(lo + timedelta(days=n) for n in range((hi - lo).days + 1))
    return days - len(off)


def active_days(period, off_windows=(), line_start=None, line_end=None):
    """Days of ``period`` a line bills: within its own dates, outside the
    contract's ``off_windows``."""
    start = max(period.date_start, line_start) if line_start else period.date_start
    end = min(period.date_end, line_end) if line_end else period.date_end
    return _days_outside(start, end, off_windows) if start <= end else 0


def billing_share(
    period, *, prorate=False, off_windows=(), line_start=None, line_end=None
):
    """Share of the full price of a line billed for ``period`` (0.0 to 1.0).

    Two things cut a period short, and they prorate differently:

    - the contract: its end date and the windows when it does not bill
      (``off_windows``: pauses, time closed before a renewal). The days left
      are billed by days when the contract prorates, in full otherwise (a
      period with no day left bills nothing);
    - the line's own dates (``line_start``/``line_end``, a line added or
      ended in the middle of a term): always by days, within what the
      contract bills.

    >>> p = period_at(date(2026, 11, 1), "monthly", 1, 0)
    >>> round(billing_share(p, line_start=date(2026, 11, 16)), 4)
    0.5
    >>> paused = [(date(2026, 11, 11), None)]
    >>> billing_share(p, off_windows=paused)
    1.0
    >>> round(billing_share(p, prorate=True, off_windows=paused), 4)
    0.3333
    """
    contract_days = active_days(period, off_windows)
    line_days = active_days(period, off_windows, line_start, line_end)
    if not line_days:
        return 0.0
    contract_share = contract_days / period.full_days if prorate else 1.0
    return contract_share * line_days / contract_days


def line_amount(price_unit, quantity, discount=0.0, factor=1.0):
    """Untaxed amount of a line for a period, before rounding: proration
    applies to the amount, never to a rounded unit price (1,000 units at 9.99
    for 1 day of 31 is 322.26, not 1,000 x 0.32).

    >>> round(line_amount(9.99, 1000, 0.0, 1 / 31), 2)
    322.26
    """
    return price_unit * quantity * (1 - (discount or 0.0) / 100.0) * factor


# -----------------------------------------------------------------------------
# MRR (monthly recurring revenue): one normalisation for every rule
# -----------------------------------------------------------------------------
#
# Convention: an amount billed every period is worth, per month, the amount
# divided by the period's length in months (``months_per_period``): a year is
# 12 months, so 1,200.00 a year is 100.00 a month; a day is 12 / 365.25 of a
# month and a week 7 days of those (4.348 weeks a month), the Gregorian
# average, so that 365.25 days of a daily price are worth exactly a year of
# it over a leap cycle. The contract's MRR field, the movements, the reports
# and the dashboard all use ``monthly_amount`` and ``mrr_on``.

MRR_KINDS = ("new", "expansion", "contraction", "churn", "reactivation")


@dataclass(frozen=True)
class MrrLine:
    """What a contract line bills per full period, and the days it covers
    (``date_start``/``date_end`` None: the contract's own)."""

    amount: float
    date_start: date | None = None
    date_end: date | None = None

    def covers(self, day):
        return (not self.date_start or self.date_start <= day) and (
            not self.date_end or day <= self.date_end
        )


def monthly_amount(amount, rule, interval):
    """``amount`` billed every ``interval`` ``rule`` units, per month.

    >>> monthly_amount(1200.0, "yearly", 1), monthly_amount(300.0, "monthly", 3)
    (100.0, 100.0)
    >>> round(monthly_amount(10.0, "weekly", 1), 4)
    43.4821
    """
    return amount / months_per_period(rule, interval)


def bills_on(day, date_start, date_end=None, off_windows=()):
    """True when a contract running from ``date_start`` to ``date_end``
    (None: open-ended) bills ``day``: inside its term, outside every window
    of ``off_windows`` (pauses, time closed before a renewal)."""
    if not date_start or day < date_start or (date_end and day > date_end):
        return False
    return not any(
        start <= day and (not end or day <= end) for start, end in off_windows
    )


def mrr_on(day, lines, rule, interval, date_start, date_end=None, off_windows=()):
    """The MRR of a contract on ``day`` (before rounding): the lines that
    cover that day, normalised to a month; 0.0 on a day it does not bill.

    >>> lines = [MrrLine(100.0), MrrLine(50.0, date(2026, 3, 1))]
    >>> mrr_on(date(2026, 2, 28), lines, "monthly", 1, date(2026, 1, 1))
    100.0
    >>> mrr_on(date(2026, 3, 1), lines, "monthly", 1, date(2026, 1, 1))
    150.0
    >>> mrr_on(date(2026, 3, 1), lines, "monthly", 1, date(2026, 1, 1),
    ...        off_windows=[(date(2026, 3, 1), None)])
    0.0
    """
    if not bills_on(day, date_start, date_end, off_windows):
        return 0.0
    total = sum(line.amount for line in lines if line.covers(day))
    return monthly_amount(total, rule, interval)


def mrr_change_days(lines, date_start, date_end=None, off_windows=()):
    """The days the MRR may change, sorted: the start, each line's first day
    and the day after its last, each window's first day and the day after
    its last, the day after the end."""
    if not date_start:
        return []
    days = {date_start}
    for line in lines:
        days.update(d for d in (line.date_start,) if d)
        days.update(d + _ONE_DAY for d in (line.date_end,) if d)
    for start, end in off_windows:
        days.add(start)
        if end:
            days.add(end + _ONE_DAY)
    if date_end:
        days.add(date_end + _ONE_DAY)
    return sorted(d for d in days if d >= date_start)


def mrr_timeline(
    lines, rule, interval, date_start, date_end=None, off_windows=(), rounding=None
):
    """[(day, mrr)] each day the MRR of a contract changes, oldest first,
    from 0.0 before its start. ``rounding`` (a function) rounds each value
    the way the currency does, so a change below a cent is no change.

    >>> lines = [MrrLine(100.0, None, date(2026, 2, 28)),
    ...          MrrLine(150.0, date(2026, 3, 1))]
    >>> for day, mrr in mrr_timeline(lines, "monthly", 1, date(2026, 1, 1),
    ...                              date(2026, 6, 30)):
    ...     print(day, mrr)
    2026-01-01 100.0
    2026-03-01 150.0
    2026-07-01 0.0
    """
    rounding = rounding or (lambda value: value)
    timeline = []
    current = 0.0
    for day in mrr_change_days(lines, date_start, date_end, off_windows):
        value = rounding(
            mrr_on(day, lines, rule, interval, date_start, date_end, off_windows)
        )
        if value != current:
            timeline.append((day, value))
            current = value
    return timeline


def mrr_movement_kind(before, after, seen_before):
    """The kind of a movement of the MRR from ``before`` to ``after``:
    ``new`` the first time it rises from zero, ``reactivation`` when it rises
    from zero again later (``seen_before``), ``churn`` when it falls to
    zero, ``expansion`` up, ``contraction`` down; None when it is unchanged.

    >>> mrr_movement_kind(0.0, 100.0, False), mrr_movement_kind(0.0, 100.0, True)
    ('new', 'reactivation')
    >>> mrr_movement_kind(100.0, 0.0, True), mrr_movement_kind(100.0, 150.0, True)
    ('churn', 'expansion')
    >>> mrr_movement_kind(150.0, 130.0, True), mrr_movement_kind(1.0, 1.0, True)
    ('contraction', None)
    """
    if after == before:
        return None
    if not before:
        return "reactivation" if seen_before else "new"
    if not after:
        return "churn"
    return "expansion" if after > before else "contraction"


def safe_rate(part, whole):
    """``part`` / ``whole`` as a percentage, 0.0 when there is no base.

    >>> safe_rate(1, 4), safe_rate(5, 0)
    (25.0, 0.0)
    """
    return 100.0 * part / whole if whole else 0.0
