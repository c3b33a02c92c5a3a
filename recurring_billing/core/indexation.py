"""Price indexation: the pure arithmetic of a yearly price update.

No Odoo import, like ``schedule.py``: the contract asks this module when its
prices are updated, from which index months, by how much, and what the new
prices are, and tests it without a database (``tests/test_indexation_core.py``,
``make test-core``).

The rules, as a Spanish rent or service contract updates its prices:

- **When:** once a year, on the update month, on the start date's day of the
  month (the last day of a shorter month); by default the update month is the
  start date's, so the update falls on each anniversary. The first update is
  the first such date after the start date.
- **Which index months:** the reference month (by default two months before
  the update month, the latest the statistics office has published by then:
  the CPI of November is published mid-December, in time for a January
  update) against the same month a year earlier.
- **By how much:** ``reference / value a year earlier - 1``, in percent,
  rounded to one decimal as the INE publishes its annual rates (100.0 to
  102.2 is +2.2 %); then the cap (a maximum), the floor (a minimum) and, unless
  the contract lets prices go down, no decrease (a negative rate is 0 %).
- **New prices:** each unit price times ``1 + rate / 100``, rounded half up to
  the currency's decimals, as a rent update reads: 1,000.00 x 1.022 = 1,022.00.
  The unit price is rounded, not the invoice amount: the new price is what
  the contract states from then on.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

# The INE publishes annual variation rates with one decimal.
RATE_DECIMALS = 1
# By default the index month two months before the update: the latest
# published in time to tell the customer before the update.
DEFAULT_REFERENCE_LAG = 2


def month_start(day):
    """The first day of ``day``'s month (index values are monthly)."""
    return day.replace(day=1)


def update_date_in(year, month, anchor):
    """The update day of ``month`` of ``year``: the anchor's day of the month,
    or the month's last day when it is shorter (29 February in common years
    is the 28th)."""
    return date(year, month, 1) + relativedelta(day=anchor.day)


def update_dates(anchor, update_month=None, after=None, until=None):
    """The update dates of a contract started on ``anchor``, oldest first,
    strictly after ``after`` (default: the anchor) and on or before ``until``
    (required: the list is otherwise endless). ``update_month`` (1 to 12,
    default the anchor's month) is the month of each yearly update."""
    month = update_month or anchor.month
    after = max(after or anchor, anchor)
    dates = []
    year = after.year
    while True:
        day = update_date_in(year, month, anchor)
        if day > until:
            return dates
        if day > after:
            dates.append(day)
        year += 1


def reference_month(update_day, reference_month_number=None):
    """The index month a price update on ``update_day`` reads: the latest
    ``reference_month_number`` (1 to 12) strictly before the update's month,
    by default the month two months before it (January update: November)."""
    update_month = month_start(update_day)
    if not reference_month_number:
        return update_month - relativedelta(months=DEFAULT_REFERENCE_LAG)
    candidate = update_month.replace(month=reference_month_number)
    if candidate >= update_month:
        candidate -= relativedelta(years=1)
    return candidate


def base_month(reference):
    """The month the reference month is compared with: a year earlier."""
    return reference - relativedelta(years=1)


def index_variation(reference_value, base_value):
    """The annual variation in percent, ``reference / base - 1``, rounded to
    one decimal as published (a Decimal). ``base_value`` must not be 0."""
    if not base_value:
        raise ValueError("the base value of an index variation cannot be 0")
    rate = (Decimal(str(reference_value)) / Decimal(str(base_value)) - 1) * 100
    return rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS), rounding=ROUND_HALF_UP)


def limit_rate(rate, cap=None, floor=None, allow_decrease=False):
    """The rate applied: at most ``cap``, at least ``floor`` (percent; None or
    0 is no limit), and never below 0 unless ``allow_decrease``."""
    rate = Decimal(str(rate))
    if cap:
        rate = min(rate, Decimal(str(cap)))
    if floor:
        rate = max(rate, Decimal(str(floor)))
    if not allow_decrease:
        rate = max(rate, Decimal(0))
    return rate


def indexed_price(price, rate, digits):
    """``price`` updated by ``rate`` percent, rounded half up to ``digits``
    decimals: 1,000.00 at +2.2 % is 1,022.00. Returns a float."""
    new = Decimal(str(price)) * (1 + Decimal(str(rate)) / 100)
    return float(new.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
