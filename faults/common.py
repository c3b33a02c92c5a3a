"""Shared helpers of the fault suite: Odoo bootstrap, test data, checks.

Odoo is imported from PYTHONPATH (scripts/faults.sh sets it to $ODOO_SRC).
Everything here runs against a real database of the project's own PostgreSQL
cluster and real commits. The checks read the tables with plain SQL, so they
do not trust the engine's ORM code to describe what the engine did.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo18")
PY = sys.executable
CRON_XMLID = "recurring_billing.ir_cron_generate_invoices"
PARAM_PREFIX = "rb_faults."


# --------------------------------------------------------------------- Odoo
def boot(cfg, db=None, log_level="warn", extra=()):
    """Load Odoo's configuration (no server, no HTTP) and, given ``db``, its
    registry."""
    config.parse_config(
        ["-c", cfg, f"--log-level={log_level}", "--no-http", *extra]
        + (["-d", db] if db else [])
    )
    return Registry(db) if db else None


@contextmanager
def odoo_env(db, uid=SUPERUSER_ID, context=None):
    """An environment on a fresh cursor, committed on a clean exit."""
    with Registry(db).cursor() as cr:
        yield api.Environment(cr, uid, dict(context or {}))


def sql_conn(db):
    """A plain autocommit connection, for checks and polling."""
    conn = psycopg2.connect(
        dbname=db,
        host=config["db_host"] or None,
        port=config["db_port"] or None,
        user=config["db_user"] or None,
        application_name=f"rb_faults-driver-{os.getpid()}",
    )
    conn.autocommit = True
    return conn


def q(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


def q1(conn, query, params=None):
    rows = q(conn, query, params)
    return rows[0][0] if rows else None


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


# --------------------------------------------------------------- databases
def create_db_from(template, db):
    conn = sql_conn("postgres")
    q(conn, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    q(conn, f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
    conn.close()
    # The filestore is not in the database: copy it along.
    store = os.path.join(config["data_dir"], "filestore")
    src, dst = os.path.join(store, template), os.path.join(store, db)
    subprocess.run(["rm", "-rf", dst], check=True)
    if os.path.isdir(src):
        subprocess.run(["cp", "-a", src, dst], check=True)


def drop_db(db):
    conn = sql_conn("postgres")
    q(conn, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    conn.close()
    subprocess.run(
        ["rm", "-rf", os.path.join(config["data_dir"], "filestore", db)], check=True
    )


# -------------------------------------------------------------- contracts
def billing_today(env):
    """The date the engine bills for: today as seen by the billing user."""
    bot = env.ref("recurring_billing.user_billing_bot")
    return fields.Date.context_today(env["recurring.contract"].with_user(bot))


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
    """Start ``faults/<script>`` as its own OS process, output to ``log``."""
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
    """Run faults/runner.py to completion; return its summary dict."""
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


def log_problems(path, patterns=(r" (ERROR|CRITICAL) ", r"Traceback")):
    """Lines of an Odoo log that report an error."""
    bad = []
    if not os.path.exists(path):
        return bad
    with open(path, errors="replace") as f:
        for line in f:
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


def ledger_and_moves(conn, contract_ids):
    ledger = q(
        conn,
        "SELECT id, contract_id, date_start, state FROM recurring_contract_period "
        "WHERE contract_id = ANY(%s)",
        [list(contract_ids)],
    )
    moves = q(
        conn,
        "SELECT id, recurring_contract_id, recurring_period_id, state, name, "
        "journal_id, move_type FROM account_move "
        "WHERE recurring_contract_id = ANY(%s)",
        [list(contract_ids)],
    )
    return ledger, moves


def check_exactly_once(case, conn, expected, unbilled=(), label="", partial=False):
    """Every due (contract, period) of ``expected`` is in the ledger once,
    with exactly one invoice that is not cancelled, and that invoice is
    posted; ``unbilled`` contracts have neither ledger row nor invoice.
    ``partial``: the run is not over, only the oldest periods of each
    contract need be there (and nothing else)."""
    unbilled = set(unbilled)
    ledger, moves = ledger_and_moves(conn, expected)
    if partial:
        # Mid-run: a contract may have only its oldest periods billed yet.
        billed = Counter(r[1] for r in ledger)
        expected = {cid: s[: billed[cid]] for cid, s in expected.items()}
    want = {
        (cid, d)
        for cid, starts in expected.items()
        if cid not in unbilled
        for d in starts
    }
    rows = Counter((cid, d) for _id, cid, d, state in ledger if state != "skipped")
    dup_rows = [k for k, n in rows.items() if n > 1]
    missing = want - set(rows)
    extra = set(rows) - want
    not_invoiced = [r for r in ledger if r[3] != "invoiced"]
    ok = case.check(
        not (dup_rows or missing or extra or not_invoiced),
        f"{label}ledger rows == expected",
        f"{len(rows)} rows for {len(want)} due periods"
        + (f"; missing {len(missing)}" if missing else "")
        + (f"; unexpected {len(extra)}" if extra else "")
        + (f"; duplicated {len(dup_rows)}" if dup_rows else "")
        + (f"; {len(not_invoiced)} not in state invoiced" if not_invoiced else ""),
    )
    live = [m for m in moves if m[3] != "cancel"]
    per_period = Counter(m[2] for m in live)
    invoiced_ids = {r[0] for r in ledger if r[3] == "invoiced"}
    twice = [p for p, n in per_period.items() if n > 1]
    without_move = [p for p in invoiced_ids if per_period.get(p, 0) == 0]
    orphan = [m for m in live if m[2] is None or m[2] not in invoiced_ids]
    ok &= case.check(
        not (twice or without_move or orphan) and len(live) == len(want),
        f"{label}invoices == expected, one per period",
        f"{len(live)} invoices not cancelled for {len(want)} due periods"
        + (f"; {len(twice)} period(s) with 2+ invoices" if twice else "")
        + (
            f"; {len(without_move)} ledger row(s) without invoice"
            if without_move
            else ""
        )
        + (f"; {len(orphan)} invoice(s) without ledger row" if orphan else ""),
    )
    states = Counter(m[3] for m in moves)
    ok &= case.check(
        states.get("draft", 0) == 0 and all(m[3] == "posted" for m in live),
        f"{label}all posted, no draft left",
        ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no invoice",
    )
    return ok


def check_numbering(case, conn, label=""):
    """Posted names unique, and the numbers used (posted or cancelled after
    posting) contiguous from 1 in every sales journal: a rolled-back batch
    must give its numbers back."""
    rows = q(
        conn,
        "SELECT m.journal_id, m.name, m.state FROM account_move m "
        "JOIN account_journal j ON j.id = m.journal_id WHERE j.type = 'sale' "
        "AND m.name IS NOT NULL AND m.name != '/'",
    )
    posted = Counter((j, n) for j, n, s in rows if s == "posted")
    dups = [k for k, c in posted.items() if c > 1]
    groups = defaultdict(list)
    bad_format = []
    for journal, name, _state in rows:
        match = re.match(r"^(.*?)(\d+)$", name)
        if not match:
            bad_format.append(name)
            continue
        groups[(journal, match.group(1))].append(int(match.group(2)))
    gaps = []
    spans = []
    for (_journal, prefix), numbers in sorted(groups.items()):
        numbers.sort()
        if numbers != list(range(1, len(numbers) + 1)):
            holes = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
            gaps.append(f"{prefix}: {len(holes)} missing e.g. {holes[:5]}")
        spans.append(f"{prefix}1..{numbers[-1]}")
    return case.check(
        not (dups or gaps or bad_format),
        f"{label}posted names unique and contiguous per journal",
        (", ".join(spans) or "no posted invoice")
        + (f"; DUPLICATES {dups[:5]}" if dups else "")
        + (f"; GAPS {gaps}" if gaps else "")
        + (f"; unparsed {bad_format[:5]}" if bad_format else ""),
    )


def due_count(conn, today):
    """Running contracts due today that did not fail today (what the
    scheduled action still has to do)."""
    return q1(
        conn,
        "SELECT count(*) FROM recurring_contract WHERE state = 'running' AND "
        "next_invoice_date <= %s AND (billing_error_date IS NULL OR "
        "billing_error_date < %s)",
        [today, today],
    )


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
