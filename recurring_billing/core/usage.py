# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rating of usage: what a usage line bills for the quantity used in a period.

Nothing here imports Odoo (tested without a database in
``tests/test_usage_core.py``). The engine feeds it the usage records of a
period, as read by one grouped SQL query per batch, and bills the amount it
returns; the contract form, the portal and the forecasts use the same code.

Order of the rules: the period's records are aggregated (sum, max or the last
value), the included units are taken off, the rest is priced (per unit, or by
tiers, graduated or volume), a minimum charge per period applies, and the
AMOUNT is rounded once in the currency (never a rounded unit price).

>>> pricing = Pricing(included=1000, price_unit=0.01)
>>> charge(1500, pricing)
5.0
>>> charge(800, pricing)
0.0
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

AGGREGATIONS = ("sum", "max", "last")
PRICE_MODES = ("unit", "graduated", "volume")


class TierError(ValueError):
    """Tiers written wrongly; ``line`` is the 1-based line of the text."""

    def __init__(self, line, text):
        super().__init__(f"line {line}: {text!r}")
        self.line = line
        self.text = text


@dataclass(frozen=True)
class Pricing:
    """How a usage line prices the quantity of a period.

    ``tiers``: ((up_to, price), ...) in ascending order, the last ``up_to``
    None (no upper bound); bounds count billable units (after ``included``).
    """

    aggregation: str = "sum"
    included: float = 0.0
    price_unit: float = 0.0
    mode: str = "unit"
    tiers: tuple = field(default=())
    minimum: float = 0.0


def parse_tiers(text):
    """Tiers from the text a user types, one ``UP_TO: PRICE`` per line and a
    last ``*: PRICE`` for everything above (blank lines are ignored).

    >>> parse_tiers("1000: 0.10\\n5000: 0.08\\n*: 0.05")
    ((1000.0, 0.1), (5000.0, 0.08), (None, 0.05))
    """
    tiers = []
    lines = [
        (number, raw.strip())
        for number, raw in enumerate((text or "").splitlines(), 1)
        if raw.strip()
    ]
    for position, (number, raw) in enumerate(lines):
        bound, sep, price = raw.partition(":")
        is_last = position == len(lines) - 1
        try:
            if not sep:
                raise ValueError
            up_to = None if bound.strip() == "*" else float(bound)
            price = float(price)
        except ValueError:
            raise TierError(number, raw) from None
        if (up_to is None) != is_last or price < 0:
            raise TierError(number, raw)
        if up_to is not None and (
            up_to <= 0 or (tiers and tiers[-1][0] is not None and up_to <= tiers[-1][0])
        ):
            raise TierError(number, raw)
        tiers.append((up_to, price))
    return tuple(tiers)


def aggregate(records, aggregation="sum"):
    """The quantity of a period from its records, ``(date, order, quantity)``
    triples (``order`` breaks ties on a date: the record id). ``last`` is the
    value of the latest record (a meter reading), ``max`` the peak (seats).

    >>> from datetime import date
    >>> rows = [(date(2026, 1, 5), 1, 3.0), (date(2026, 1, 20), 2, 7.0),
    ...         (date(2026, 1, 9), 3, 9.0)]
    >>> aggregate(rows, "sum"), aggregate(rows, "max"), aggregate(rows, "last")
    (19.0, 9.0, 7.0)
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}")
    records = list(records)
    if not records:
        return 0.0
    if aggregation == "sum":
        return float(sum(quantity for _day, _order, quantity in records))
    if aggregation == "max":
        return float(max(quantity for _day, _order, quantity in records))
    return float(max(records, key=lambda r: (r[0], r[1]))[2])


def billable_units(quantity, included=0.0):
    """Units above the included ones (never negative).

    >>> billable_units(1500, 1000), billable_units(800, 1000)
    (500.0, 0.0)
    """
    return float(max(quantity - (included or 0.0), 0.0))


def _graduated(units, tiers):
    amount, floor = 0.0, 0.0
    for up_to, price in tiers:
        top = units if up_to is None else min(units, up_to)
        if top > floor:
            amount += (top - floor) * price
        if up_to is None or units <= up_to:
            break
        floor = up_to
    return amount


def _volume(units, tiers):
    for up_to, price in tiers:
        if up_to is None or units <= up_to:
            return units * price
    return 0.0


def raw_amount(quantity, pricing):
    """Amount of ``quantity`` (aggregated) before the minimum and rounding.

    Graduated tiers price each unit at its own tier's price; volume tiers
    price every unit at the price of the tier the total falls in.

    >>> tiers = ((1000, 0.10), (5000, 0.08), (None, 0.05))
    >>> round(raw_amount(6000, Pricing(mode="graduated", tiers=tiers)), 2)
    470.0
    >>> round(raw_amount(6000, Pricing(mode="volume", tiers=tiers)), 2)
    300.0
    """
    units = billable_units(quantity, pricing.included)
    if pricing.mode == "unit" or not pricing.tiers:
        return units * pricing.price_unit
    if pricing.mode == "graduated":
        return _graduated(units, pricing.tiers)
    if pricing.mode == "volume":
        return _volume(units, pricing.tiers)
    raise ValueError(f"unknown price mode {pricing.mode!r}")


def round_amount(amount, rounding=0.01):
    """Round half up to a multiple of ``rounding`` (the currency's), as Odoo's
    ``float_round`` does, from the decimal repr of ``amount`` (so 2.675 is
    2.68, not the binary 2.67).

    >>> round_amount(2.675), round_amount(1.005), round_amount(12.5, 1.0)
    (2.68, 1.01, 13.0)
    """
    step = Decimal(repr(rounding))
    value = Decimal(repr(amount)) / step
    return float(value.quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def charge(quantity, pricing, rounding=0.01):
    """What a period with ``quantity`` (aggregated) bills, minimum included,
    rounded once in the currency. Zero usage with no minimum bills 0.0.

    >>> charge(0, Pricing(price_unit=0.01, minimum=10.0))
    10.0
    >>> charge(3000, Pricing(price_unit=0.01, minimum=10.0))
    30.0
    """
    amount = raw_amount(quantity, pricing)
    return round_amount(max(amount, pricing.minimum or 0.0), rounding)


def late_charge(all_records, billed_records, pricing, rounding=0.01):
    """What records arriving after their period was billed add to it: the
    period rated with every record, minus the period rated with the records
    already billed (the included units and the tiers are the period's, never
    given twice). Never negative: late data never credits by itself.

    >>> from datetime import date
    >>> billed = [(date(2026, 1, 10), 1, 800.0)]
    >>> late = [(date(2026, 1, 30), 2, 700.0)]
    >>> late_charge(billed + late, billed, Pricing(included=1000, price_unit=0.01))
    5.0
    """
    now = charge(aggregate(all_records, pricing.aggregation), pricing, rounding)
    before = charge(aggregate(billed_records, pricing.aggregation), pricing, rounding)
    return max(round_amount(now - before, rounding), 0.0)


def period_index_of(anchor, rule, interval, day):
    """Index (0-based) of the period of the schedule anchored on ``anchor``
    that contains ``day`` (-1 before the anchor). Boundaries as in
    ``core/schedule.py``: always from the anchor.

    >>> from datetime import date
    >>> period_index_of(date(2026, 1, 31), "monthly", 1, date(2026, 3, 30))
    1
    >>> period_index_of(date(2026, 1, 31), "monthly", 1, date(2026, 3, 31))
    2
    """
    if day < anchor:
        return -1
    if rule in ("daily", "weekly"):
        days = interval * (7 if rule == "weekly" else 1)
        return (day - anchor).days // days
    months = interval * (12 if rule == "yearly" else 1)
    delta = relativedelta(day, anchor)
    index = (delta.years * 12 + delta.months) // months
    # relativedelta counts whole months from the anchor; a month end anchor
    # (31st) can put the boundary a day off: step to the right period.
    while index > 0 and anchor + relativedelta(months=months * index) > day:
        index -= 1
    while anchor + relativedelta(months=months * (index + 1)) <= day:
        index += 1
    return index
