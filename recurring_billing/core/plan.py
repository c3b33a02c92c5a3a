# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The billing plan: what one batch of the engine does for each contract.

Nothing here imports Odoo. The engine builds one ``PlannedItem`` per period
it bills, skips or adjusts, and every later step (ledger rows, invoice
values, usage marks) reads the item instead of deciding again.

>>> item = PlannedItem.for_period("p", {"line": 10.0})
>>> item.kind, item.bills, item.ledger_kind, item.ledger_state
('period', True, 'period', 'invoiced')
>>> PlannedItem.for_period("p", {}).kind
'skip'
>>> PlannedItem.for_final_usage("p", ()).ledger_state
'skipped'
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PERIOD = "period"
SKIP = "skip"
ADJUSTMENT = "adjustment"
USAGE = "usage"
KINDS = (PERIOD, SKIP, ADJUSTMENT, USAGE)


@dataclass(frozen=True)
class PlannedItem:
    """One item of a contract's plan.

    ``kind``: ``period`` bills a due period; ``skip`` writes a period that
    owes nothing (inside a pause, zero usage without a minimum) to the
    ledger; ``adjustment`` bills or credits the difference on a period
    already billed; ``usage`` bills the last usage of an advance contract
    after its end. ``period``: the schedule core's period. ``amounts``: what
    each fixed line bills (for an adjustment: the difference per line);
    ``usage``: the usage charges apart (``core.usage`` ratings; never
    adjusted later). ``bills`` is decided here, once.
    """

    kind: str
    period: Any
    amounts: Mapping = field(default_factory=dict)
    usage: tuple = ()
    bills: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown plan item kind {self.kind!r}")
        # Frozen all the way down: a step must not change what was planned.
        object.__setattr__(self, "amounts", MappingProxyType(dict(self.amounts)))
        object.__setattr__(self, "usage", tuple(self.usage))

    @staticmethod
    def _usage_bills(usage):
        return any(charge.amount for charge in usage)

    @classmethod
    def for_period(cls, period, amounts, usage=()):
        """A due period: billed when a fixed line bills anything or a usage
        charge is above zero, written to the ledger as skipped otherwise."""
        bills = bool(amounts) or cls._usage_bills(usage)
        return cls(PERIOD if bills else SKIP, period, amounts, usage, bills)

    @classmethod
    def for_adjustment(cls, period, differences):
        return cls(ADJUSTMENT, period, differences, (), bool(differences))

    @classmethod
    def for_final_usage(cls, period, usage):
        return cls(USAGE, period, {}, usage, cls._usage_bills(usage))

    @property
    def ledger_kind(self):
        """The kind of the ledger row: skipped periods are period rows."""
        return PERIOD if self.kind == SKIP else self.kind

    @property
    def ledger_state(self):
        return "invoiced" if self.bills else "skipped"

    @property
    def counts_in_batch(self):
        """Items that make an invoice count against the batch size."""
        return self.kind != SKIP
