# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure dunning rules: when a failed charge is retried, which reminder an
unpaid invoice is due for. No Odoo import: tested in milliseconds by
``tests/test_payment_dunning.py``.

>>> next_retry_date(date(2026, 1, 31), 1, parse_days("1,3,7"))
datetime.date(2026, 2, 1)
>>> next_retry_date(date(2026, 1, 31), 4, parse_days("1,3,7")) is None
True
"""

from datetime import date, timedelta  # noqa: F401 - date for the doctest


def parse_days(text):
    """``"1, 3,7"`` -> ``(1, 3, 7)``: a list of days, sorted, without
    duplicates. Raises ``ValueError`` on anything but positive whole numbers
    (the settings turn it into a clear message)."""
    days = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ValueError(part)
        days.add(int(part))
    return tuple(sorted(days))


def next_retry_date(first_failure, failures, retry_days):
    """The day of the next charge after ``failures`` failed attempts, the
    first on ``first_failure``; ``retry_days`` count from that first failure
    (Stripe's and Chargebee's "day 1, 3 and 7"). None: no retry left, the
    outcome after the last retry applies."""
    if failures < 1 or failures > len(retry_days):
        return None
    return first_failure + timedelta(days=retry_days[failures - 1])


def reminders_due(date_due, today, reminder_days, sent):
    """How many reminders an invoice due on ``date_due`` should have had by
    ``today``, minus the ``sent`` ones: a run missed for a few days sends
    one reminder, not every missed one (returns 0 or 1)."""
    overdue = (today - date_due).days
    owed = sum(1 for day in reminder_days if overdue >= day)
    return 1 if owed > sent else 0


def overdue_action_due(date_due, today, action_days):
    """True when an invoice due on ``date_due`` is ``action_days`` or more
    days overdue on ``today`` (``action_days`` 0: never)."""
    return bool(action_days) and (today - date_due).days >= action_days
