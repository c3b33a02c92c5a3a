"""The fault cases by number (see ../README.md), one family a module. Each
takes the suite's context (``suite.Ctx``: configuration, template, size,
a new database per case) and returns True when every check passed."""

from cases.charging import (
    case_charge_killed_paid_by_transfer,
    case_token_archived,
    case_two_charging_runs,
)
from cases.cron_limit import case_tight_limit
from cases.kills import case_charge_killed, case_sigkill
from cases.periods import case_cancel_void, case_contract_ends
from cases.queue_job import case_queue_job_kill
from cases.races import case_invoice_now, case_two_runners
from cases.refusals import case_bad_contract, case_hard_lock

CASES = {
    1: case_sigkill,
    2: case_two_runners,
    3: case_invoice_now,
    4: case_bad_contract,
    5: case_hard_lock,
    6: case_cancel_void,
    7: case_tight_limit,
    8: case_contract_ends,
    9: case_charge_killed,
    10: case_queue_job_kill,
    11: case_charge_killed_paid_by_transfer,
    12: case_token_archived,
    13: case_two_charging_runs,
}
