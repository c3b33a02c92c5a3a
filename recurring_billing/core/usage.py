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


def _cost(units, pricing):
    """Raw amount of the first ``units`` billable units (above the included
    ones) at ``pricing``, per unit or by graduated tiers."""
    if pricing.mode == "unit" or not pricing.tiers:
        return units * pricing.price_unit
    return _graduated(units, pricing.tiers)


def _volume_price(units, tiers):
    for up_to, price in tiers:
        if up_to is None or units <= up_to:
            return price
    return 0.0


def _segment_amount(first, last, total, pricing):
    """Raw amount of the billable units from ``first`` to ``last`` (their
    positions in the period, ``total`` billable units in all) at ``pricing``:
    a graduated tier counts the period's units, not the segment's."""
    if last <= first:
        return 0.0
    if pricing.mode == "volume" and pricing.tiers:
        return (last - first) * _volume_price(total, pricing.tiers)
    return _cost(last, pricing) - _cost(first, pricing)


def period_charge(records, pricings, period_pricing, rounding=0.01):
    """What a period bills when its records were priced by several pricings
    (a line changed from a date inside the period): ``records`` are
    ``(date, order, quantity, key)``, ``pricings`` {key: Pricing} the pricing
    in force on each record's date, ``period_pricing`` gives the period's
    aggregation, included units and minimum, applied once per period.

    Summed usage: the included units go to the first units used (by date),
    each unit above them at the price in force on its record's date, a tier
    counting the period's units. A peak or a last value: at the price in
    force on the date of the record that gives it. Rounded once.

    >>> from datetime import date
    >>> old, new = Pricing(included=500, price_unit=0.02), Pricing(
    ...     included=500, price_unit=0.03, minimum=15.0)
    >>> rows = [(date(2026, 6, 5), 1, 400.0, "old"),
    ...         (date(2026, 6, 25), 2, 900.0, "new")]
    >>> period_charge(rows, {"old": old, "new": new}, new)
    24.0
    >>> period_charge(rows[:1], {"old": old, "new": new}, new)
    15.0
    """
    records = sorted(records, key=lambda r: (r[0], r[1]))
    aggregation = period_pricing.aggregation
    included = period_pricing.included or 0.0
    amount = 0.0
    if records and aggregation == "sum":
        total = billable_units(sum(r[2] for r in records), included)
        used = 0.0
        for _day, _order, quantity, key in records:
            first = billable_units(used, included)
            used += quantity
            last = billable_units(used, included)
            amount += _segment_amount(first, last, total, pricings[key])
    elif records:
        if aggregation == "max":
            peak = max(r[2] for r in records)
            source = [r for r in records if r[2] == peak][-1]
        else:
            source = records[-1]
        units = billable_units(source[2], included)
        amount = _segment_amount(0.0, units, units, pricings[source[3]])
    return round_amount(max(amount, period_pricing.minimum or 0.0), rounding)


def late_period_charge(
    all_records, billed_records, pricings, period_pricing, rounding=0.01
):
    """``late_charge`` for a period priced by several pricings
    (``period_charge``): the period with every record, minus the period with
    the records already billed; never negative."""
    now = period_charge(all_records, pricings, period_pricing, rounding)
    before = period_charge(billed_records, pricings, period_pricing, rounding)
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
