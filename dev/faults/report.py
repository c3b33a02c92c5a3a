"""The report of a fault case: its checks printed as they come, and the
checks every case makes (each period billed once, numbering, the scheduler's
job run to the end without an error). The checks read the tables with plain
SQL (``dev/rbtools/invariants.py``), so they do not trust the engine's ORM
code to describe what the engine did.
"""

import os
import time

from processes import log_problems, parse_cron_log
from rbtools.invariants import exactly_once, numbering


class Case:
    """Collects the checks of one case and prints them as they come."""

    def __init__(self, number, title):
        self.number, self.title = number, title
        self.failed = []
        self.start = time.monotonic()
        print(f"\n== Case {number}: {title}", flush=True)

    def expect(self, text):
        print(f"   expect: {text}", flush=True)

    def info(self, text):
        print(f"   .. {text}", flush=True)

    def check(self, ok, label, detail=""):
        mark = "ok  " if ok else "FAIL"
        print(f"   [{mark}] {label}" + (f": {detail}" if detail else ""), flush=True)
        if not ok:
            self.failed.append(label)
        return ok

    def timing(self, ok, label, detail, load=None):
        """A check against a time limit. When it fails on a machine whose
        CPUs were oversubscribed by other work (load average above 1.5 per
        CPU), the time says more about the machine than about the engine:
        reported as WARN, not counted."""
        load = os.getloadavg()[0] if load is None else load
        cpus = os.cpu_count() or 1
        if ok or load <= 1.5 * cpus:
            return self.check(ok, label, detail)
        print(
            f"   [WARN] {label}: {detail} (not counted: load average {load:.1f} "
            f"on {cpus} CPUs)",
            flush=True,
        )
        return True

    def finish(self):
        seconds = time.monotonic() - self.start
        verdict = "FAIL" if self.failed else "PASS"
        print(f"   {verdict} case {self.number} ({seconds:.1f} s)", flush=True)
        return not self.failed


def check_exactly_once(case, conn, expected, unbilled=(), label="", partial=False):
    """The invariant ``rbtools.invariants.exactly_once`` as three checks of
    ``case``: ledger rows, invoices one per period, all posted."""
    ok = True
    for check in exactly_once(conn, expected, unbilled=unbilled, partial=partial):
        ok &= case.check(check.ok, label + check.label, check.detail)
    return ok


def check_numbering(case, conn, label=""):
    """The invariant ``rbtools.invariants.numbering`` as a check of ``case``."""
    check = numbering(conn)
    return case.check(check.ok, label + check.label, check.detail)


def check_run(case, result, label="cron", limit=None, crons=None):
    """The scheduler ran the job to the end and never counted a failure; no
    error was logged; with ``limit``, every job run (the up to 10 calls one
    scheduler pass makes) took less than limit_time_real_cron."""
    case.check(
        result.get("finished")
        and not result.get("max_failure_count")
        and not result.get("deactivated"),
        f"{label}: job ran to the end, never failed",
        f"{result.get('seconds')} s, {result.get('iterations')} scheduler "
        f"pass(es), max failure_count {result.get('max_failure_count')}"
        + ("" if result.get("finished") else ", DID NOT FINISH"),
    )
    problems = log_problems(result["log"])
    case.check(
        not problems,
        f"{label}: no ERROR logged",
        f"{len(problems)} line(s), first: {problems[0][:230]}" if problems else "",
    )
    if limit:
        runs = []
        for cron in crons or []:
            runs += parse_cron_log(result["log"], cron)[1]
        longest = max(((r[-1][1] - r[0][0]).total_seconds() for r in runs), default=0)
        case.timing(
            longest < limit,
            f"{label}: every job run inside limit_time_real_cron={limit}",
            f"{len(runs)} run(s), longest {longest:.1f} s",
        )
