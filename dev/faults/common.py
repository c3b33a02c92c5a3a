"""Helpers of the fault suite: test data, processes, the case report.

Odoo is imported from PYTHONPATH, and so are the helpers the suite shares
with the benchmark (``dev/rbtools``: databases, Odoo boot, what is due,
the invariants); scripts/faults.sh sets both. Everything here runs against a
real database of the project's own PostgreSQL cluster and real commits. The
checks read the tables with plain SQL, so they do not trust the engine's ORM
code to describe what the engine did.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime

from dateutil.relativedelta import relativedelta
from rbtools import CRON_XMLID
from rbtools.db import connect, q, q1
from rbtools.invariants import exactly_once, numbering
from rbtools.orm import billing_today, odoo_env

from odoo import Command
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo18")
PY = sys.executable
PARAM_PREFIX = "rb_faults."


def sql_conn(db):
    """A plain autocommit connection, for checks and polling."""
    return connect(db, application_name=f"rb_faults-driver-{os.getpid()}")


# ----------------------------------------------------------------- template
def build_template(db):
    """Data shared by every case, on a database with recurring_billing
    installed without demo data."""
    with odoo_env(db) as env:
        company = env.company
        # The install loads the generic chart already when the company has no
        # country; try_loading is a no-op then, and loads it otherwise.
        env["account.chart.template"].try_loading(
            "generic_coa", company, install_demo=False
        )
    with odoo_env(db) as env:
        company = env.company
        tax = company.account_sale_tax_id
        assert tax, "the generic chart gave the company no default sale tax"
        product = env["product.product"].create(
            {
                "name": "RBF Hosting (monthly)",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
        partners = env["res.partner"].create(
            [
                {"name": f"RBF Customer {i:03d}", "is_company": True}
                for i in range(1, 51)
            ]
        )
        users = env["res.users"].with_context(no_reset_password=True)
        invoicer = users.create(
            {
                "name": "RBF Invoicing User",
                "login": "rbf_invoicer",
                "email": "rbf_invoicer@example.com",
                "groups_id": [
                    Command.set(
                        [
                            env.ref("base.group_user").id,
                            env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
        manager = users.create(
            {
                "name": "RBF Billing Manager",
                "login": "rbf_manager",
                "email": "rbf_manager@example.com",
                "groups_id": [
                    Command.set(
                        [
                            env.ref("base.group_user").id,
                            env.ref("account.group_account_manager").id,
                        ]
                    )
                ],
            }
        )
        params = env["ir.config_parameter"]
        params.set_param(PARAM_PREFIX + "product_id", product.id)
        params.set_param(PARAM_PREFIX + "partner_ids", json.dumps(partners.ids))
        params.set_param(PARAM_PREFIX + "invoicer_id", invoicer.id)
        params.set_param(PARAM_PREFIX + "manager_id", manager.id)
        # Only the billing scheduled action may run in the fault databases:
        # the timings and the logs are then ours alone.
        cron = env.ref(CRON_XMLID)
        env.cr.execute("UPDATE ir_cron SET active = false WHERE id != %s", [cron.id])
        env.cr.execute(
            "UPDATE ir_cron SET nextcall = now() at time zone 'UTC' + interval "
            "'30 days' WHERE id = %s",
            [cron.id],
        )
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)]
        )
        assert len(journal) == 1, journal
    print(f"template {db}: product, 50 customers, 2 users, one sales journal")


def param(env, key, default=None):
    return env["ir.config_parameter"].get_param(PARAM_PREFIX + key, default)


# -------------------------------------------------------------- contracts
def expected_starts(date_start, today):
    """Monthly, in advance, no end: period k starts k months after the
    anchor and is due on its first day. Computed here, not by the engine."""
    starts, k = [], 0
    while date_start + relativedelta(months=k) <= today:
        starts.append(date_start + relativedelta(months=k))
        k += 1
    return starts


def make_contracts(db, count, backlog_every=5, product_id=None, chunk=500):
    """``count`` running monthly contracts of one line, due today; one in
    ``backlog_every`` started two months ago and owes three periods (0: no
    backlog). Returns {contract_id: [expected period starts]}."""
    expected = {}
    with odoo_env(db) as env:
        today = billing_today(env)
        partner_ids = json.loads(param(env, "partner_ids"))
        product_id = product_id or int(param(env, "product_id"))
        Contract = env["recurring.contract"].with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )
        for offset in range(0, count, chunk):
            vals_list = []
            for i in range(offset, min(count, offset + chunk)):
                backlog = backlog_every and i % backlog_every == 0
                vals_list.append(
                    {
                        "partner_id": partner_ids[i % len(partner_ids)],
                        "date_start": today - relativedelta(months=2)
                        if backlog
                        else today,
                        "recurring_rule_type": "monthly",
                        "recurring_interval": 1,
                        "invoicing_mode": "advance",
                        "invoice_action": "post",
                        "line_ids": [
                            Command.create({"product_id": product_id, "quantity": 1})
                        ],
                    }
                )
            contracts = Contract.create(vals_list)
            # Started in bulk: action_start's chatter messages and activation
            # mails are not what this suite is about.
            contracts.write({"state": "running"})
            for contract in contracts:
                expected[contract.id] = expected_starts(contract.date_start, today)
            env.cr.commit()
            env.invalidate_all()
    return expected


def set_cron_ready(db, cron_ids=None):
    """Make the billing scheduled action(s) due now."""
    conn = sql_conn(db)
    if cron_ids is None:
        cron_ids = [cron_id(conn)]
    q(
        conn,
        "UPDATE ir_cron SET nextcall = now() at time zone 'UTC' - interval "
        "'1 minute', active = true, failure_count = 0, first_failure_date = NULL "
        "WHERE id = ANY(%s)",
        [list(cron_ids)],
    )
    conn.close()


def cron_id(conn):
    return q1(
        conn,
        "SELECT res_id FROM ir_model_data WHERE module = 'recurring_billing' "
        "AND name = 'ir_cron_generate_invoices'",
    )


def set_batch_size(db, size):
    with odoo_env(db) as env:
        env["ir.config_parameter"].set_param("recurring_billing.batch_size", size)


# ------------------------------------------------------------ processes
def log_path(db, name):
    path = os.path.join(config["data_dir"], "..", "logs", "faults")
    os.makedirs(path, exist_ok=True)
    return os.path.normpath(os.path.join(path, f"{db}-{name}.log"))


def spawn(script, args, log, env_extra=None, stdin=None):
    """Start ``dev/faults/<script>`` as its own OS process, output to ``log``."""
    env = dict(os.environ, **(env_extra or {}))
    out = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [PY, os.path.join(HERE, script), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=stdin,
        env=env,
        text=True,
    )
    proc.log = log
    proc.logfile = out
    return proc


def runner_args(cfg, db, cron_ids, max_seconds, time_limit=40, summary=None):
    args = [
        "--cfg",
        cfg,
        "--db",
        db,
        "--crons",
        ",".join(map(str, cron_ids)),
        "--max-seconds",
        str(max_seconds),
        "--limit-time-real-cron",
        str(time_limit),
    ]
    if summary:
        args += ["--summary", summary]
    return args


def run_runner(cfg, db, cron_ids, max_seconds=600, time_limit=40, tag="runner"):
    """Run dev/faults/runner.py to completion; return its summary dict."""
    summary = log_path(db, tag + ".json")
    if os.path.exists(summary):
        os.unlink(summary)
    proc = spawn(
        "runner.py",
        runner_args(cfg, db, cron_ids, max_seconds, time_limit, summary),
        log_path(db, tag),
    )
    proc.wait()
    proc.logfile.close()
    result = {"returncode": proc.returncode, "log": proc.log}
    if os.path.exists(summary):
        with open(summary) as f:
            result.update(json.load(f))
    return result


def kill9(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.logfile.close()


def wait_backends_gone(conn, pid, timeout=30):
    """After a client process died, wait until PostgreSQL has ended (and
    rolled back) its sessions. Returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not q1(
            conn,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [f"odoo-{pid}"],
        ):
            return time.monotonic() - start
        time.sleep(0.1)
    return None


# odoo-bin's first line once it was told to stop (SIGTERM).
SHUTDOWN_LINE = "odoo.service.server: Initiating shutdown"


def log_problems(path, patterns=(r" (ERROR|CRITICAL) ", r"Traceback"), until=None):
    """Lines of an Odoo log that report an error; with ``until``, only those
    before the first line that contains it."""
    bad = []
    if not os.path.exists(path):
        return bad
    with open(path, errors="replace") as f:
        for line in f:
            if until and until in line:
                break
            if any(re.search(p, line) for p in patterns):
                bad.append(line.rstrip())
    return bad


# ------------------------------------------------------------------ checks
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


def ledger_count(conn):
    return q1(conn, "SELECT count(*) FROM recurring_contract_period")


LOG_TS = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \d+ \w+ "


def parse_cron_log(path, cron):
    """Calls of the billing job in an odoo-bin log: (start, end, done) each,
    and the job runs they make (10 calls, or fewer when the job ended)."""
    calls, runs, current, started = [], [], [], None
    pattern_start = re.compile(LOG_TS + rf".*Job '.*' \({cron}\) starting")
    pattern_done = re.compile(
        LOG_TS + rf".*Job '.*' \({cron}\) processed (\d+) records, (\d+)"
    )
    pattern_boot = re.compile(LOG_TS + r".*odoo: Odoo version")
    with open(path, errors="replace") as f:
        for line in f:
            if pattern_boot.match(line):
                if current:
                    runs.append(current)
                current, started = [], None
            elif m := pattern_start.match(line):
                started = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            elif (m := pattern_done.match(line)) and started:
                end = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
                calls.append((started, end, int(m.group(2))))
                current.append(calls[-1])
                if len(current) == 10 or m.group(3) == "0":
                    runs.append(current)
                    current = []
                started = None
    if current:
        runs.append(current)
    return calls, runs
