# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Whole contract lives, by machine: a Hypothesis state machine starts
contracts, bills them, changes, pauses, resumes, closes, renews them, records
usage, cancels invoices and changes customers, in any order, against the real
database, and after every step checks the money against an independent
day-by-day model of the README's rules (``oracle.py``).

CI runs a bounded, reproducible set of examples (``RB_FUZZ_EXAMPLES``,
derandomized); ``make fuzz`` runs many more from a seed (``RB_FUZZ_SEED``)
with an example database under ``.local/hypothesis``. A failing example is
printed shrunk, as the steps that break the rule: each one found so far is a
named test in ``test_contract_lives_regressions.py``.
"""

import os

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    invariant,
    precondition,
    rule,
)

from odoo.tests import tagged

from .lives import ContractLives, ContractLivesCommon

MAX_CONTRACTS = 3
# Rules left out of a run (comma-separated names, e.g. "pause,renew"): to look
# past a defect already found while it is not fixed yet (make fuzz --skip).
SKIPPED = set(filter(None, os.environ.get("RB_FUZZ_SKIP_RULES", "").split(",")))


def allowed(name, needs_contract=True):
    """Precondition of a rule: not skipped, and a contract to act on."""
    return lambda self: name not in SKIPPED and (
        not needs_contract or bool(self.lives.contracts)
    )


# A feature of new contracts left out (make fuzz --skip usage): its value off.
FEATURES_OFF = {
    "auto_renew": False,
    "usage": None,
    "tax_included": False,
    "foreign": False,
    "prorate": False,
    "indexation_rate": 0,
}
RULES = [("monthly", 1), ("monthly", 3), ("yearly", 1), ("weekly", 2), ("daily", 10)]


def machine_settings():
    """CI: a fixed, derandomized run; ``make fuzz``: a seed and many examples,
    failures kept in the example database to replay first next time."""
    examples = int(os.environ.get("RB_FUZZ_EXAMPLES") or 8)
    fuzz_seed = os.environ.get("RB_FUZZ_SEED")
    common = {
        "max_examples": examples,
        "stateful_step_count": int(os.environ.get("RB_FUZZ_STEPS") or 20),
        "deadline": None,
        "suppress_health_check": [
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        "report_multiple_bugs": False,
    }
    if fuzz_seed is None:
        return settings(derandomize=True, database=None, **common)
    folder = os.environ.get("RB_FUZZ_DB") or os.path.join(
        os.path.dirname(__file__), "..", "..", ".local", "hypothesis"
    )
    return settings(
        derandomize=False,
        database=DirectoryBasedExampleDatabase(folder),
        **common,
    )


class ContractLivesMachine(RuleBasedStateMachine):
    """The steps of a contract's life; ``lives`` (tests/lives.py) does them
    on the database and on the oracle and checks the invariants."""

    case = None  # the running TransactionCase, set by the test

    def __init__(self):
        super().__init__()
        self.lives = ContractLives(self.case)

    def teardown(self):
        self.lives.rollback()

    # -- rules ---------------------------------------------------------

    @precondition(
        lambda self: "start" not in SKIPPED
        and len(self.lives.contracts) < MAX_CONTRACTS
    )
    @rule(
        offset=st.integers(-40, 20),
        recurrence=st.sampled_from(RULES),
        advance=st.booleans(),
        prorate=st.booleans(),
        term_days=st.one_of(st.none(), st.integers(0, 400)),
        auto_renew=st.booleans(),
        notice=st.sampled_from([0, 0, 30]),
        price=st.integers(1000, 50000),
        quantity=st.integers(1, 3),
        tax_included=st.booleans(),
        foreign=st.booleans(),
        usage=st.one_of(
            st.none(),
            st.tuples(
                st.sampled_from([1, 5, 50]),  # cents a unit
                st.sampled_from([0, 0, 100]),  # included
                st.sampled_from([0, 0, 2000]),  # minimum, cents
            ),
        ),
        indexation_rate=st.sampled_from([0, 0, 3.5, 10]),  # percent a year
    )
    def start(self, **kwargs):
        # Features of a new contract can be left out like rules
        # ("auto_renew", "usage", "tax_included", "foreign", "prorate",
        # "indexation_rate").
        for feature, off in FEATURES_OFF.items():
            if feature in SKIPPED:
                kwargs[feature] = off
        self.lives.start(**kwargs)

    @precondition(allowed("bill", needs_contract=False))
    @rule(days=st.integers(0, 70))
    def bill(self, days):
        self.lives.bill(days)

    @precondition(allowed("change_line"))
    @rule(
        which=st.integers(0, 20),
        line=st.integers(0, 20),
        offset=st.integers(-40, 40),
        price=st.integers(500, 60000),
        quantity=st.integers(1, 3),
    )
    def change_line(self, which, line, offset, price, quantity):
        self.lives.change_line(which, line, offset, price, quantity)

    @precondition(allowed("add_line"))
    @rule(
        which=st.integers(0, 20),
        offset=st.integers(-40, 40),
        price=st.integers(500, 30000),
    )
    def add_line(self, which, offset, price):
        self.lives.add_line(which, offset, price)

    @precondition(allowed("end_line"))
    @rule(
        which=st.integers(0, 20), line=st.integers(0, 20), offset=st.integers(-40, 40)
    )
    def end_line(self, which, line, offset):
        self.lives.end_line(which, line, offset)

    @precondition(allowed("rewrite_unit"))
    @rule(which=st.integers(0, 20), line=st.integers(0, 20))
    def rewrite_unit(self, which, line):
        self.lives.rewrite_unit(which, line)

    @precondition(allowed("record_usage"))
    @rule(
        which=st.integers(0, 20),
        offset=st.integers(-70, 0),
        quantity=st.integers(0, 3000),
        duplicate=st.booleans(),
    )
    def record_usage(self, which, offset, quantity, duplicate):
        self.lives.record_usage(which, offset, quantity, duplicate)

    @precondition(allowed("pause"))
    @rule(which=st.integers(0, 20), offset=st.integers(-30, 30))
    def pause(self, which, offset):
        self.lives.pause(which, offset)

    @precondition(allowed("resume"))
    @rule(which=st.integers(0, 20), offset=st.integers(-10, 40))
    def resume(self, which, offset):
        self.lives.resume(which, offset)

    @precondition(allowed("close"))
    @rule(
        which=st.integers(0, 20), offset=st.integers(0, 40), respect_terms=st.booleans()
    )
    def close(self, which, offset, respect_terms):
        self.lives.close(which, offset, respect_terms)

    @precondition(allowed("renew"))
    @rule(which=st.integers(0, 20), months=st.integers(1, 3))
    def renew(self, which, months):
        self.lives.renew(which, months)

    @precondition(allowed("cancel_and_void"))
    @rule(which=st.integers(0, 20), pick=st.integers(0, 20))
    def cancel_and_void(self, which, pick):
        self.lives.cancel_and_void(which, pick)

    @precondition(allowed("cancel_invoice"))
    @rule(which=st.integers(0, 20), pick=st.integers(0, 20))
    def cancel_invoice(self, which, pick):
        self.lives.cancel_invoice(which, pick)

    @precondition(allowed("void_period"))
    @rule(which=st.integers(0, 20), pick=st.integers(0, 20))
    def void_period(self, which, pick):
        self.lives.void_period(which, pick)

    @precondition(allowed("toggle_prorate"))
    @rule(which=st.integers(0, 20))
    def toggle_prorate(self, which):
        self.lives.toggle_prorate(which)

    @precondition(allowed("change_customer"))
    @rule(which=st.integers(0, 20))
    def change_customer(self, which):
        self.lives.change_customer(which)

    # -- invariants (money after each run is checked by bill) -------------

    @invariant()
    def credits_only_against_billed(self):
        self.lives.check_credits()

    @invariant()
    def usage_billed_once(self):
        self.lives.check_usage_once()

    @invariant()
    def forecast_is_what_is_billed(self):
        self.lives.check_forecast()

    @invariant()
    def mrr_follows_the_rules(self):
        self.lives.check_mrr()

    @invariant()
    def customer_told_once_per_change(self):
        self.lives.check_notices()


@tagged("post_install", "-at_install")
class TestContractLives(ContractLivesCommon):
    def test_contract_lives(self):
        """Any sequence of steps keeps the money right (see the module doc)."""
        ContractLivesMachine.case = self
        test = get_state_machine_test(ContractLivesMachine, settings=machine_settings())
        fuzz_seed = os.environ.get("RB_FUZZ_SEED")
        if fuzz_seed is not None:
            test = seed(int(fuzz_seed))(test)
        test()
