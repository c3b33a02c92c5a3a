"""Benchmark of recurring_billing against Odoo's own floor (issue "Proof at scale").

Run it through ``scripts/bench.sh`` (``make bench``), which prepares the
virtualenv and the project's PostgreSQL cluster and then calls ``all``.

Every measured step runs in a process of its own, so that the peak RSS of a
scenario is that scenario's only:

``all``      orchestrates (never imports Odoo): template, clones, runs, checks,
             report.
``prepare``  fills the template database (chart, tax, product, customers,
             contracts).
``setup``    scenario set-up of a clone (extra cron workers, second journal).
``floor``    Odoo's ``account.move.create(vals_list)`` + ``action_post()`` +
             commit, for the invoices the contracts would bill.
``worker``   one cron worker: Odoo's real runner ``ir.cron._process_jobs(db)``,
             called until no contract is due.
"""

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STATE = ROOT / ".local"
TMP = STATE / "bench-tmp"
SNAPSHOT = STATE / "bench-addons"  # the addon as it was when the run started
RAW = RESULTS / "raw.jsonl.log"  # raw figures of the last run (git-ignored)
TEMPLATE_DB = "rb_bench_tpl"
RUN_DB = "rb_bench_run"
TEMPLATE_VERSION = "3"  # bump when the template content changes
CRON_XMLID = "recurring_billing.ir_cron_generate_invoices"
BOT_XMLID = "recurring_billing.user_billing_bot"
CRON_TIME_LIMIT = 120  # limit_time_real_cron of every measured process
PRODUCT_PRICE = 50.0
SECOND_JOURNAL_CODE = "BNV2"
TEMPLATE_VARIANTS = (1, 5)  # lines per contract; the template holds both

# Targets of the issue.
TARGET_TIME_RATIO = 0.9
TARGET_EXTRA_QUERIES = 3
TARGET_RSS_GROWTH = 1.10  # peak RSS at 10,000 <= 1.10 x peak RSS at 1,000


def say(msg):
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def maxrss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s():
    """CPU time (user + system) of this process: far less sensitive than
    wall time to other work sharing the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------
# PostgreSQL helpers (orchestrator side: plain psycopg2, no Odoo)
# ---------------------------------------------------------------------------


def pg_connect(db):
    import psycopg2

    cnx = psycopg2.connect(dbname=db)  # PGHOST/PGPORT/PGUSER from lib.sh
    cnx.autocommit = True
    return cnx


def sql_all(db, query, params=None):
    cnx = pg_connect(db)
    try:
        with cnx.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else []
    finally:
        cnx.close()


def sql_one(db, query, params=None):
    rows = sql_all(db, query, params)
    return rows[0] if rows else None


def check_db_name(name):
    if not name.startswith("rb_bench"):
        raise SystemExit(f"refusing to touch database {name!r}: not rb_bench*")


def db_exists(name):
    return bool(
        sql_one("postgres", "SELECT 1 FROM pg_database WHERE datname=%s", [name])
    )


def drop_db(name):
    check_db_name(name)
    sql_all("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    filestore = STATE / "filestore" / "filestore" / name
    if filestore.is_dir():
        subprocess.run(["rm", "-rf", str(filestore)], check=True)


def clone_db(template, name):
    check_db_name(name)
    drop_db(name)
    subprocess.run(["createdb", "-T", template, name], check=True)


# ---------------------------------------------------------------------------
# Odoo side
# ---------------------------------------------------------------------------


def addons_path_args():
    addons = os.environ.get("RB_BENCH_ADDONS")
    return [f"--addons-path={addons}"] if addons else []


def snapshot_addon():
    """Copy recurring_billing as it is now and load it from there: one run
    measures one version of the code, even when the working tree changes
    while it runs. Returns a digest of the copy."""
    import hashlib
    import shutil

    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    shutil.copytree(
        ROOT / "recurring_billing",
        SNAPSHOT / "recurring_billing",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    digest = hashlib.sha1()
    for path in sorted((SNAPSHOT / "recurring_billing").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(SNAPSHOT)).encode())
            digest.update(path.read_bytes())
    base = Path(os.environ["ODOO_SRC"]) / "odoo" / "addons"
    os.environ["RB_BENCH_ADDONS"] = f"{base},{SNAPSHOT}"
    return digest.hexdigest()[:10]


def bootstrap(db):
    """Load Odoo with the bench configuration and return the registry."""
    sys.path.insert(0, os.environ["ODOO_SRC"])
    import odoo
    from odoo.tools import config

    config.parse_config(
        [
            "-c",
            os.environ["RB_BENCH_CFG"],
            "-d",
            db,
            "--no-http",
            "--log-level=warn",
            f"--limit-time-real-cron={CRON_TIME_LIMIT}",
            *addons_path_args(),
        ],
        setup_logging=True,
    )
    odoo.service.server.load_server_wide_modules()
    from odoo.modules.registry import Registry

    return Registry(db)


class LogCounter:
    """Counts WARNING+ log records (the cron runner logs its failures).

    A serialization failure that the engine catches and retries is still
    logged by ``odoo.sql_db`` as "bad query" (ERROR): those are counted apart
    as ``serialization_logs``; any other record fails the run."""

    def __init__(self):
        import logging

        self.count = 0
        self.serialization = 0
        self.first = []
        handler = logging.Handler(level=logging.WARNING)
        handler.emit = self._emit
        logging.getLogger().addHandler(handler)

    def _emit(self, record):
        message = record.getMessage()
        if record.name == "odoo.sql_db" and "could not serialize access" in message:
            self.serialization += 1
            return
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {message[:300]}")


class Profiler:
    def __init__(self, path):
        self.path = path
        self.prof = None
        if path:
            import cProfile

            self.prof = cProfile.Profile()

    def __enter__(self):
        if self.prof:
            self.prof.enable()
        return self

    def __exit__(self, *exc):
        if self.prof:
            self.prof.disable()

    def dump(self):
        if not self.prof:
            return
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(self.prof, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        Path(self.path).write_text(out.getvalue())


def cmd_prepare(args):
    """Template content: chart of accounts, 15% tax, one service product,
    ``nmax`` customers (half with email), and for each variant (1 and 5
    lines) ``nmax`` monthly contracts, running, due today."""
    registry = bootstrap(args.db)
    from odoo import SUPERUSER_ID, Command, api, fields

    ctx = {
        "tracking_disable": True,
        "mail_create_nolog": True,
        "mail_create_nosubscribe": True,
        "mail_notrack": True,
    }
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, ctx)
        company = env.ref("base.main_company")
        if not company.chart_template:
            env["account.chart.template"].try_loading(
                "generic_coa", company, install_demo=False
            )
        tax = env["account.tax"].search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "=", 15.0),
                ("price_include", "=", False),
            ],
            limit=1,
        ) or env["account.tax"].create(
            {"name": "Bench 15%", "amount": 15.0, "type_tax_use": "sale"}
        )
        product = env["product.product"].create(
            {
                "name": "Bench Service",
                "type": "service",
                "list_price": PRODUCT_PRICE,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
        env["account.journal"].create(
            {
                "name": "Bench Invoices 2",
                "code": SECOND_JOURNAL_CODE,
                "type": "sale",
                "company_id": company.id,
            }
        )
        # Only the billing scheduled action may run in the measured runs.
        cron = env.ref(CRON_XMLID)
        env["ir.cron"].with_context(active_test=False).search(
            [("id", "!=", cron.id)]
        ).write({"active": False})
        cron.write({"active": True, "nextcall": "2099-01-01 00:00:00"})
        bot = env.ref(BOT_XMLID)
        today = fields.Date.context_today(env["recurring.contract"].with_user(bot))
        env["ir.config_parameter"].set_param("recurring_billing.batch_size", "100")
        cr.commit()
        say(f"chart {company.chart_template}, tax {tax.name}, today {today}")

        partners = env["res.partner"]
        for start in range(0, args.nmax, 1000):
            partners |= env["res.partner"].create(
                [
                    {
                        "name": f"Bench Customer {i:05d}",
                        "email": f"customer{i:05d}@example.com" if i % 2 else False,
                        "is_company": True,
                    }
                    for i in range(start, min(start + 1000, args.nmax))
                ]
            )
            cr.commit()
        say(f"{len(partners)} customers")
        for nlines in args.variants:
            t0 = time.monotonic()
            for start in range(0, args.nmax, 500):
                env["recurring.contract"].create(
                    [
                        {
                            "partner_id": partner.id,
                            "state": "running",
                            "date_start": today,
                            "recurring_rule_type": "monthly",
                            "recurring_interval": 1,
                            "invoicing_mode": "advance",
                            "invoice_action": "post",
                            "line_ids": [
                                Command.create(
                                    {
                                        "product_id": product.id,
                                        "quantity": float(k),
                                        "price_unit": PRODUCT_PRICE + k,
                                    }
                                )
                                for k in range(1, nlines + 1)
                            ],
                        }
                        for partner in partners[start : start + 500]
                    ]
                )
                cr.commit()
                env.invalidate_all()
            say(
                f"{args.nmax} contracts of {nlines} line(s) "
                f"in {time.monotonic() - t0:.0f} s"
            )
        env["ir.config_parameter"].set_param("rb_bench.template", args.key)
        cr.commit()


def cmd_setup(args):
    """Scenario set-up of a clone: ``workers`` copies of the billing cron,
    and with two journals every other contract moved to the second one."""
    registry = bootstrap(args.db)
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        cron = env.ref(CRON_XMLID)
        for k in range(2, args.workers + 1):
            cron.copy({"name": f"{cron.name} (bench worker {k})", "active": True})
        if args.journals == 2:
            journal = env["account.journal"].search(
                [("code", "=", SECOND_JOURNAL_CODE)], limit=1
            )
            contracts = env["recurring.contract"].search(
                [("state", "=", "running")], order="id"
            )
            contracts.filtered(lambda c: c.id % 2 == 0).write(
                {"journal_id": journal.id}
            )
        cr.commit()


def cmd_floor(args):
    """Odoo's own create + post of the same invoices, one transaction, commit
    included, as the billing user that the scheduled action runs as."""
    registry = bootstrap(args.db)
    from odoo import SUPERUSER_ID, api, fields, sql_db

    logs = LogCounter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bot = env.ref(BOT_XMLID)
        company = env.ref("base.main_company")
        benv = api.Environment(cr, bot.id, {"allowed_company_ids": [company.id]})
        contracts = benv["recurring.contract"].search(
            [("state", "=", "running")], order="id"
        )
        today = fields.Date.context_today(contracts)
        vals_list = []
        for contract in contracts:
            (period,) = contract._get_due_periods(today)
            vals_list.append(contract._prepare_invoice_vals(period, today))
        cr.rollback()
        benv.invalidate_all()
        rss0 = maxrss_mb()
        Move = benv["account.move"]
        if args.nolog:
            Move = Move.with_context(
                mail_create_nolog=True, mail_create_nosubscribe=True
            )
        prof = Profiler(args.profile)
        q0 = sql_db.sql_counter
        c0 = cpu_s()
        t0 = time.perf_counter()
        with prof:
            moves = Move.create(vals_list)
            t1 = time.perf_counter()
            moves.action_post()
            t2 = time.perf_counter()
            cr.commit()
        t3 = time.perf_counter()
        cpu = cpu_s() - c0
        queries = sql_db.sql_counter - q0
        count = len(moves)
    prof.dump()
    result = {
        "invoices_made": count,
        "wall_s": t3 - t0,
        "create_s": t1 - t0,
        "post_s": t2 - t1,
        "commit_s": t3 - t2,
        "cpu_s": cpu,
        "queries": queries,
        "rss0_mb": rss0,
        "rss_mb": maxrss_mb(),
        "log_warnings": logs.count,
        "log_first": logs.first,
    }
    Path(args.out).write_text(json.dumps(result))


def count_due(registry):
    """Contracts the engine would still claim today (its own domain)."""
    with registry.cursor() as cr:
        cr.execute(
            """SELECT count(*) FROM recurring_contract
                WHERE state = 'running'
                  AND next_invoice_date <= (now() at time zone 'UTC')::date
                  AND (billing_error_date IS NULL
                       OR billing_error_date < (now() at time zone 'UTC')::date)"""
        )
        return cr.fetchone()[0]


def cmd_worker(args):
    """One cron worker: the real runner, called until nothing is due."""
    registry = bootstrap(args.db)
    from odoo import SUPERUSER_ID, api, fields, sql_db

    from odoo.addons.base.models.ir_cron import ir_cron

    logs = LogCounter()
    # Warm-up, as the floor's process warms up building its values: one
    # contract's invoice values, read only.
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        contract = (
            env["recurring.contract"]
            .with_user(env.ref(BOT_XMLID))
            .search([("state", "=", "running")], limit=1)
        )
        today = fields.Date.context_today(contract)
        contract._prepare_invoice_vals(contract._get_due_periods(today)[0], today)
        cr.rollback()
    rss0 = maxrss_mb()
    Path(args.ready).write_text("ready")
    while not Path(args.go).exists():
        time.sleep(0.002)
    prof = Profiler(args.profile)
    q0 = sql_db.sql_counter
    c0 = cpu_s()
    excluded = 0
    calls = []
    due_before = None
    stalled_since = None
    status = "done"
    with prof:
        while True:
            t = time.monotonic()
            ir_cron._process_jobs(args.db)
            calls.append(time.monotonic() - t)
            q = sql_db.sql_counter
            due = count_due(registry)
            excluded += sql_db.sql_counter - q
            if not due:
                break
            if due == due_before:
                stalled_since = stalled_since or time.monotonic()
                if args.workers == 1 or time.monotonic() - stalled_since > 300:
                    status = f"stalled with {due} contracts due"
                    break
                time.sleep(0.05)  # another worker holds the rest
            else:
                stalled_since = None
            due_before = due
    t_end = time.time()
    cpu = cpu_s() - c0
    queries = sql_db.sql_counter - q0 - excluded
    prof.dump()
    result = {
        "t_end": t_end,
        "cpu_s": cpu,
        "queries": queries,
        "rss0_mb": rss0,
        "rss_mb": maxrss_mb(),
        "calls": len(calls),
        "busy_calls": sum(1 for c in calls if c > 0.5),
        "max_call_s": max(calls, default=0.0),
        "status": status,
        "log_warnings": logs.count,
        "serialization_logs": logs.serialization,
        "log_first": logs.first,
    }
    Path(args.out).write_text(json.dumps(result))


# ---------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.py = sys.executable
        self.results = []
        self.failed = False

    # -- processes ----------------------------------------------------------

    def spawn(self, argv, log):
        return subprocess.Popen(
            [self.py, str(Path(__file__).resolve()), *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ,
        )

    def call(self, argv, name):
        with open(RESULTS / f"{name}.log", "w") as log:
            proc = self.spawn(argv, log)
            if proc.wait() != 0:
                raise SystemExit(f"{argv[0]} failed: see bench/results/{name}.log")

    def odoo_bin(self, argv, name):
        with open(RESULTS / f"{name}.log", "w") as log:
            cmd = [self.py, str(Path(os.environ["ODOO_SRC"]) / "odoo-bin"), *argv]
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode:
                raise SystemExit(f"odoo-bin failed: see bench/results/{name}.log")

    # -- template -----------------------------------------------------------

    def template_key(self, nmax):
        today = datetime.now(timezone.utc).date()
        variants = ",".join(map(str, TEMPLATE_VARIANTS))
        return f"{TEMPLATE_VERSION}:{nmax}:{variants}:{today}:{self.code_digest}"

    def template_ok(self, nmax):
        if not db_exists(TEMPLATE_DB):
            return False
        row = sql_one(
            TEMPLATE_DB,
            "SELECT value FROM ir_config_parameter WHERE key='rb_bench.template'",
        )
        if not row:
            return False
        have, want = row[0].split(":"), self.template_key(nmax).split(":")
        if len(have) != len(want):
            return False
        # Same content, code and day; at least as many contracts.
        return have[0] == want[0] and have[2:] == want[2:] and int(have[1]) >= nmax

    def prepare_template(self, nmax):
        if self.args.reuse_template and self.template_ok(nmax):
            say(f"reusing the template database {TEMPLATE_DB}")
            return
        say(f"creating the template database {TEMPLATE_DB} (N max = {nmax})")
        drop_db(TEMPLATE_DB)
        t0 = time.monotonic()
        self.odoo_bin(
            [
                "-c",
                os.environ["RB_BENCH_CFG"],
                "-d",
                TEMPLATE_DB,
                "-i",
                "recurring_billing",
                "--without-demo=all",
                "--stop-after-init",
                "--no-http",
                "--log-level=warn",
                *addons_path_args(),
            ],
            "template-install",
        )
        say(f"installed in {time.monotonic() - t0:.0f} s; generating data")
        self.call(
            [
                "prepare",
                "--db",
                TEMPLATE_DB,
                "--nmax",
                str(nmax),
                "--variants",
                ",".join(map(str, TEMPLATE_VARIANTS)),
                "--key",
                self.template_key(nmax),
            ],
            "template-prepare",
        )
        sql_all(TEMPLATE_DB, "VACUUM ANALYZE")
        if not self.template_ok(nmax):
            raise SystemExit("template preparation incomplete")
        say(f"template ready in {time.monotonic() - t0:.0f} s")

    # -- one scenario -------------------------------------------------------

    def make_clone(self, n, nlines):
        clone_db(TEMPLATE_DB, RUN_DB)
        # Exactly n contracts of the variant stay running and due; the others
        # are paused (what the ORM computes for a paused contract).
        sql_all(
            RUN_DB,
            """WITH lines AS (
                   SELECT contract_id, count(*) AS n
                     FROM recurring_contract_line GROUP BY contract_id),
               chosen AS (
                   SELECT c.id FROM recurring_contract c
                     JOIN lines ON lines.contract_id = c.id
                    WHERE lines.n = %s ORDER BY c.id LIMIT %s)
               UPDATE recurring_contract
                  SET state = 'paused', next_invoice_date = NULL
                WHERE id NOT IN (SELECT id FROM chosen)""",
            [nlines, n],
        )
        (running,) = sql_one(
            RUN_DB, "SELECT count(*) FROM recurring_contract WHERE state='running'"
        )
        if running != n:
            raise SystemExit(f"the template holds {running} contracts, not {n}")

    def run_floor(self, name, nolog=False):
        out = TMP / f"{name}.json"
        argv = ["floor", "--db", RUN_DB, "--out", str(out)]
        if nolog:
            argv.append("--nolog")
        if self.args.profile:
            argv += ["--profile", str(RESULTS / f"{name}-profile.log")]
        self.call(argv, name)
        return json.loads(out.read_text())

    def run_workers(self, name, workers):
        go = TMP / f"{name}.go"
        go.unlink(missing_ok=True)
        procs = []
        with open(RESULTS / f"{name}.log", "w") as log:
            for k in range(workers):
                argv = [
                    "worker",
                    "--db",
                    RUN_DB,
                    "--workers",
                    str(workers),
                    "--out",
                    str(TMP / f"{name}-w{k}.json"),
                    "--ready",
                    str(TMP / f"{name}-w{k}.ready"),
                    "--go",
                    str(go),
                ]
                (TMP / f"{name}-w{k}.ready").unlink(missing_ok=True)
                if self.args.profile:
                    argv += ["--profile", str(RESULTS / f"{name}-w{k}-profile.log")]
                procs.append(self.spawn(argv, log))
            while not all(
                (TMP / f"{name}-w{k}.ready").exists() for k in range(workers)
            ):
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"a worker died: see bench/results/{name}.log")
                time.sleep(0.05)
            # Arm every billing cron (the original and its bench copies).
            sql_all(
                RUN_DB,
                """UPDATE ir_cron SET active = true,
                          nextcall = (now() at time zone 'UTC') - interval '1 second'
                    WHERE ir_actions_server_id IN (
                          SELECT id FROM ir_act_server
                           WHERE code LIKE '%%_cron_generate_invoices%%')""",
            )
            t0 = time.time()
            go.write_text(str(t0))
            codes = [p.wait() for p in procs]
        if any(codes):
            raise SystemExit(f"a worker failed: see bench/results/{name}.log")
        outs = [
            json.loads((TMP / f"{name}-w{k}.json").read_text()) for k in range(workers)
        ]
        return {
            "wall_s": max(o["t_end"] for o in outs) - t0,
            "queries": sum(o["queries"] for o in outs),
            "cpu_s": sum(o["cpu_s"] for o in outs),
            "rss0_mb": max(o["rss0_mb"] for o in outs),
            "rss_mb": max(o["rss_mb"] for o in outs),
            "calls": sum(o["calls"] for o in outs),
            "busy_calls": sum(o["busy_calls"] for o in outs),
            "max_call_s": max(o["max_call_s"] for o in outs),
            "status": "; ".join(sorted({o["status"] for o in outs})),
            "log_warnings": sum(o["log_warnings"] for o in outs),
            "serialization_logs": sum(o["serialization_logs"] for o in outs),
            "log_first": [line for o in outs for line in o["log_first"]][:5],
        }

    def scenario(self, mode, n, nlines, workers=1, journals=1, rep=1):
        name = f"{mode}-n{n}-l{nlines}" + (
            f"-k{workers}-j{journals}" if mode == "par" else ""
        )
        if rep > 1:
            name += f"-r{rep}"
        say(f"scenario {name}: cloning")
        self.make_clone(n, nlines)
        if workers > 1 or journals > 1:
            self.call(
                [
                    "setup",
                    "--db",
                    RUN_DB,
                    "--workers",
                    str(workers),
                    "--journals",
                    str(journals),
                ],
                f"{name}-setup",
            )
        sql_all(RUN_DB, "ANALYZE")
        say(f"scenario {name}: measuring")
        load = os.getloadavg()[0]
        if mode in ("floor", "floor_nolog"):
            res = self.run_floor(name, nolog=mode == "floor_nolog")
        else:
            res = self.run_workers(name, workers)
        res.update(
            mode=mode,
            n=n,
            lines=nlines,
            workers=workers,
            journals=journals,
            name=name,
            load_before=load,
            load_after=os.getloadavg()[0],
        )
        res.update(check_run(RUN_DB, n, mode, res))
        if not self.args.keep_db:
            drop_db(RUN_DB)
        self.results.append(res)
        with open(RAW, "a") as raw:
            raw.write(json.dumps(res, default=str) + "\n")
        verdict = "OK" if res["ok"] else "FAILED: " + "; ".join(res["failures"])
        self.failed |= not res["ok"]
        say(
            f"scenario {name}: {res['wall_s']:.1f} s, "
            f"{1000 * res['wall_s'] / n:.1f} ms/inv "
            f"({1000 * res['cpu_s'] / n:.1f} CPU), "
            f"{res['queries'] / n:.1f} q/inv, RSS {res['rss_mb']:.0f} MB - {verdict}"
        )
        self.write_report()
        return res

    # -- the whole run -----------------------------------------------------

    def run(self):
        TMP.mkdir(parents=True, exist_ok=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        RAW.write_text("")
        self.code_digest = snapshot_addon()
        self.machine = machine_info()
        self.machine["code"] += (
            f"; run on a copy taken at start (digest {self.code_digest})"
        )
        self.started = datetime.now()
        sizes = self.args.sizes
        nmax = max(sizes + ([self.args.parallel_n] if self.args.parallel_n else []))
        self.prepare_template(nmax)
        modes = [m for m in ("floor", "floor_nolog", "ours") if m in self.args.modes]
        for n in sizes:
            for nlines in self.args.variants:
                # Floor and ours alternate, so that a burst of other work on
                # the machine hits both alike.
                for rep in range(1, self.repeats(n) + 1):
                    for mode in modes:
                        self.scenario(mode, n, nlines, rep=rep)
        npar = self.args.parallel_n
        if npar:
            # The 1-worker reference runs right next to the 2-worker runs, so
            # that all three see the same load on the machine.
            for rep in range(1, self.repeats(npar) + 1):
                for workers, journals in ((1, 1), (2, 1), (2, 2)):
                    self.scenario(
                        "par", npar, 1, workers=workers, journals=journals, rep=rep
                    )
        self.finished = datetime.now()
        report = self.write_report(final=True)
        print(report)
        if not self.args.keep_template:
            drop_db(TEMPLATE_DB)
        return 1 if self.failed else 0

    def repeats(self, n):
        if self.args.repeat:
            return self.args.repeat
        return 3 if n <= 100 else 1

    def find(self, mode, n, nlines, workers=1, journals=1):
        """The scenario's median run (by wall time), with the spread of its
        repetitions; RSS is the highest of them."""
        key = (mode, n, nlines, workers, journals)
        runs = [r for r in self.results if scenario_key(r) == key]
        if not runs:
            return None
        runs.sort(key=lambda r: r["wall_s"])
        median = dict(runs[(len(runs) - 1) // 2])
        median.update(
            reps=len(runs),
            wall_min=runs[0]["wall_s"],
            wall_max=runs[-1]["wall_s"],
            cpu_s=sorted(r["cpu_s"] for r in runs)[(len(runs) - 1) // 2],
            rss_mb=max(r["rss_mb"] for r in runs),
            ok=all(r["ok"] for r in runs),
            load_max=max(max(r["load_before"], r["load_after"]) for r in runs),
        )
        return median

    def scenarios(self):
        """Every scenario, in the order first run, as its median run."""
        keys = []
        for r in self.results:
            if scenario_key(r) not in keys:
                keys.append(scenario_key(r))
        return [self.find(*key) for key in keys]

    def write_report(self, final=False):
        text = render_report(self, final)
        Path(self.args.report).write_text(text)
        return text


def scenario_key(r):
    return (r["mode"], r["n"], r["lines"], r["workers"], r["journals"])


def check_run(db, n, mode, res):
    """The correctness asserts of every run."""
    failures = []

    def one(query):
        return sql_one(db, query)[0]

    invoices = one("SELECT count(*) FROM account_move WHERE move_type='out_invoice'")
    posted = one(
        "SELECT count(*) FROM account_move "
        "WHERE move_type='out_invoice' AND state='posted'"
    )
    names = one(
        "SELECT count(DISTINCT name) FROM account_move WHERE move_type='out_invoice'"
    )
    if invoices != n:
        failures.append(f"{invoices} invoices, not {n}")
    if posted != invoices:
        failures.append(f"{invoices - posted} invoices not posted")
    if names != invoices:
        failures.append(f"{invoices - names} duplicate invoice names")
    twice = one(
        """SELECT count(*) FROM (
               SELECT m.recurring_contract_id, l.recurring_date_start
                 FROM account_move m JOIN account_move_line l ON l.move_id = m.id
                WHERE m.move_type = 'out_invoice' AND l.display_type = 'product'
                GROUP BY 1, 2 HAVING count(DISTINCT m.id) > 1) d"""
    )
    if twice:
        failures.append(f"{twice} (contract, period) billed twice")
    not_once = one(
        """SELECT count(*) FROM recurring_contract c WHERE c.state = 'running'
             AND (SELECT count(*) FROM account_move m
                   WHERE m.recurring_contract_id = c.id) <> 1"""
    )
    if not_once:
        failures.append(f"{not_once} contracts without exactly one invoice")
    for journal, prefix, count, distinct, low, high in sql_all(
        db,
        """SELECT journal_id, sequence_prefix, count(*),
                  count(DISTINCT sequence_number), min(sequence_number),
                  max(sequence_number)
             FROM account_move WHERE move_type='out_invoice' AND state='posted'
            GROUP BY 1, 2""",
    ):
        if not (count == distinct and low == 1 and high == count):
            failures.append(
                f"journal {journal} {prefix}: {count} names, numbers {low}..{high}"
            )
    expected, billed = sql_one(
        db,
        """SELECT (SELECT sum(amount_total) FROM recurring_contract
                    WHERE state = 'running'),
                  (SELECT sum(amount_total) FROM account_move
                    WHERE move_type = 'out_invoice')""",
    )
    if abs(float(expected or 0) - float(billed or 0)) > 0.01:
        failures.append(f"total billed {billed} != contracts' total {expected}")
    if mode not in ("floor", "floor_nolog"):
        failures += check_engine(db, n, res)
    elif res.get("invoices_made") != n:
        failures.append(f"floor made {res.get('invoices_made')} invoices")
    if res.get("log_warnings"):
        failures.append(
            f"{res['log_warnings']} warning/error log lines: {res['log_first'][:2]}"
        )
    messages = one("SELECT count(*) FROM mail_message WHERE model='account.move'")
    followers = one(
        "SELECT count(*) FROM mail_followers WHERE res_model='account.move'"
    )
    contract_messages = one(
        "SELECT count(*) FROM mail_message WHERE model='recurring.contract'"
    )
    return {
        "invoices": invoices,
        "messages": messages,
        "contract_messages": contract_messages,
        "followers": followers,
        "ok": not failures,
        "failures": failures,
    }


def check_engine(db, n, res):
    """The engine's own records: ledger, contracts advanced, no error, and
    every runner call under the time limit."""
    failures = []

    def one(query):
        return sql_one(db, query)[0]

    rows, distinct = sql_one(
        db,
        "SELECT count(*), count(DISTINCT (contract_id, date_start)) "
        "FROM recurring_contract_period",
    )
    if rows != n or distinct != n:
        failures.append(f"ledger: {rows} rows, {distinct} distinct, not {n}")
    not_advanced = one(
        "SELECT count(*) FROM recurring_contract WHERE state='running' "
        "AND (next_invoice_date IS NULL OR next_invoice_date <= date_start)"
    )
    if not_advanced:
        failures.append(f"{not_advanced} contracts not advanced")
    errors = one(
        "SELECT count(*) FROM recurring_contract WHERE billing_error IS NOT NULL"
    )
    if errors:
        failures.append(f"{errors} contracts with a billing error")
    if res.get("status") != "done":
        failures.append(f"worker: {res.get('status')}")
    res["callbacks"] = one(
        """SELECT count(*) FROM ir_cron_progress p JOIN ir_cron c
               ON c.id = p.cron_id JOIN ir_act_server a
               ON a.id = c.ir_actions_server_id
            WHERE a.code LIKE '%%_cron_generate_invoices%%'"""
    )
    if res["max_call_s"] >= CRON_TIME_LIMIT:
        failures.append(
            f"one runner call took {res['max_call_s']:.0f} s "
            f">= limit_time_real_cron={CRON_TIME_LIMIT}"
        )
    return failures


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def machine_info():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    settings = dict(
        sql_all(
            "postgres",
            """SELECT name, setting || coalesce(unit, '') FROM pg_settings
                WHERE name IN ('server_version', 'shared_buffers', 'fsync',
                               'synchronous_commit', 'work_mem')""",
        )
    )
    release = (Path(os.environ["ODOO_SRC"]) / "odoo" / "release.py").read_text()
    match = re.search(r"^version_info = \((\d+), (\d+)", release, re.M)
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(
        [*git, "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "recurring_billing"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "code": head
        + (" + uncommitted changes in recurring_billing/" if dirty else ""),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "pg": settings.get("server_version", "?"),
        "pg_settings": ", ".join(
            f"{k}={v}" for k, v in sorted(settings.items()) if k != "server_version"
        ),
        "python": platform.python_version(),
        "odoo": ".".join(match.groups()) if match else "?",
        "kernel": platform.release(),
    }


def fmt_ratio(value, base):
    return f"{value / base:.2f}x" if base else "-"


def ms_per_inv(r, key="wall_s"):
    return 1000 * r[key] / r["n"]


def result_row(r, floor):
    n = r["n"]
    ms, cpu, qpi = ms_per_inv(r), ms_per_inv(r, "cpu_s"), r["queries"] / n
    spread = f"{ms_per_inv(r, 'wall_min'):.1f}-{ms_per_inv(r, 'wall_max'):.1f}"
    cron = (
        f"{r['busy_calls']} / {r['callbacks']} / {r['max_call_s']:.1f}"
        if "callbacks" in r
        else "-"
    )
    if floor:
        ratio = fmt_ratio(ms, ms_per_inv(floor))
        cpu_ratio = fmt_ratio(cpu, ms_per_inv(floor, "cpu_s"))
        dq = f"{qpi - floor['queries'] / n:+.1f}"
        rss_ratio = fmt_ratio(r["rss_mb"], floor["rss_mb"])
    else:
        ratio = cpu_ratio = dq = rss_ratio = "-"
    return (
        f"| {n:,} | {r['lines']} | {r['mode']} | {r['reps']} | {ms:.1f} | {spread} "
        f"| {ratio} | {cpu:.1f} | {cpu_ratio} | {qpi:.1f} | {dq} "
        f"| {r['messages'] / n:.2f} / {r.get('contract_messages', 0) / n:.2f} "
        f"| {r['rss_mb']:.0f} | {rss_ratio} | {cron} | {r['load_max']:.1f} "
        f"| {'OK' if r['ok'] else 'FAIL'} |"
    )


def render_targets(bench):
    lines = []
    for r in bench.scenarios():
        floor = bench.find("floor", r["n"], r["lines"])
        if r["mode"] != "ours" or not floor:
            continue
        ms, fms = ms_per_inv(r), ms_per_inv(floor)
        cpu, fcpu = ms_per_inv(r, "cpu_s"), ms_per_inv(floor, "cpu_s")
        qpi, fq = r["queries"] / r["n"], floor["queries"] / r["n"]
        time_ok = ms <= TARGET_TIME_RATIO * fms
        q_ok = qpi <= fq + TARGET_EXTRA_QUERIES
        lines.append(
            f"- N={r['n']:,}, {r['lines']} line(s): time {ms:.1f} vs floor "
            f"{fms:.1f} ms/inv = {ms / fms:.2f}x (target <= {TARGET_TIME_RATIO}x): "
            f"**{'met' if time_ok else 'MISSED'}** (CPU {cpu / fcpu:.2f}x); "
            f"queries {qpi:.1f} vs {fq:.1f}/inv = {qpi - fq:+.1f} "
            f"(target <= +{TARGET_EXTRA_QUERIES}): **{'met' if q_ok else 'MISSED'}**"
        )
    for nlines in bench.args.variants:
        small, big = bench.find("ours", 1000, nlines), bench.find("ours", 10000, nlines)
        if small and big:
            growth = big["rss_mb"] / small["rss_mb"]
            lines.append(
                f"- RSS flat 1,000 -> 10,000 ({nlines} line(s)): "
                f"{small['rss_mb']:.0f} -> {big['rss_mb']:.0f} MB peak "
                f"({growth:.2f}x; target <= {TARGET_RSS_GROWTH}x): "
                f"**{'met' if growth <= TARGET_RSS_GROWTH else 'MISSED'}**"
            )
        else:
            lines.append(f"- RSS flat 1,000 -> 10,000 ({nlines} line(s)): not run")
        if big:
            ok = big["ok"] and big["max_call_s"] < CRON_TIME_LIMIT
            lines.append(
                f"- 10,000 contracts ({nlines} line(s)) under "
                f"limit_time_real_cron={CRON_TIME_LIMIT}: {big['invoices']:,} "
                f"invoices in {big['callbacks']} committed batches over "
                f"{big['busy_calls']} runner calls, longest call "
                f"{big['max_call_s']:.1f} s: **{'met' if ok else 'MISSED'}**"
            )
        else:
            lines.append(
                f"- 10,000 contracts ({nlines} line(s)) under the limit: not run"
            )
    return lines


def render_parallel(bench):
    rows = [r for r in bench.scenarios() if r["mode"] == "par"]
    if not rows:
        return []
    base = bench.find("par", rows[0]["n"], 1)
    rows = [r for r in rows if r["workers"] > 1]
    out = [
        "",
        "## Parallel cron workers (1 line)",
        "",
        "Two worker processes, each calling `ir.cron._process_jobs(db)` on its own "
        "copy of the billing cron record (as two cron threads/workers would), "
        "against one worker run right before them (same N, same load).",
        "",
        "| N | workers | journals | runs | wall s (median) | invoices/s "
        "| x 1 worker | CPU ms/inv | queries/inv | peak RSS MB (per worker) "
        "| serialization ERROR logs | load | checks |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in ([base] if base else []) + rows:
        rate = r["n"] / r["wall_s"]
        brate = base["n"] / base["wall_s"] if base else None
        out.append(
            f"| {r['n']:,} | {r['workers']} | {r['journals']} | {r['reps']} "
            f"| {r['wall_s']:.1f} | {rate:.1f} | {fmt_ratio(rate, brate)} "
            f"| {ms_per_inv(r, 'cpu_s'):.1f} | {r['queries'] / r['n']:.1f} "
            f"| {r['rss_mb']:.0f} | {r.get('serialization_logs', 0)} "
            f"| {r['load_max']:.1f} | {'OK' if r['ok'] else 'FAIL'} |"
        )
    return out


def render_header(bench, final):
    m = bench.machine
    return [
        "# recurring_billing benchmark: scheduled action vs Odoo's create+post floor",
        "",
        f"- Run: {bench.started:%Y-%m-%d %H:%M}"
        + (f" to {bench.finished:%H:%M}" if final else " (in progress)")
        + f"; command: `bash scripts/bench.sh {' '.join(bench.args.argv)}`".rstrip(),
        f"- Code: recurring_billing at commit {m['code']}",
        f"- Machine: {m['nproc']} CPU ({m['cpu']}), {m['mem_gb']} GB RAM, "
        f"Linux {m['kernel']}",
        f"- PostgreSQL {m['pg']} ({m['pg_settings']}), Python {m['python']}, "
        f"Odoo {m['odoo']}",
        "- **floor**: `account.move.create(vals_list)` + `action_post()` + commit, "
        "one transaction, as the billing user, values from the contracts' own "
        "`_prepare_invoice_vals` (built beforehand, cache emptied)."
        + (
            " floor_nolog: the same with `mail_create_nolog` and "
            "`mail_create_nosubscribe`."
            if "floor_nolog" in bench.args.modes
            else ""
        ),
        "- **ours**: N monthly contracts due today, billed by the real "
        "`recurring_billing.ir_cron_generate_invoices` record through "
        "`ir.cron._process_jobs(db)` (Odoo's runner: its own cursors, a commit "
        "per batch), called until nothing is due; limit_time_real_cron="
        f"{CRON_TIME_LIMIT}, recurring_billing.batch_size=100 (the engine may "
        "lower it); wall time end to end.",
        "- ms/inv: wall time, median of the runs (min-max); CPU ms/inv: CPU time "
        "of the Odoo process(es) only (PostgreSQL excluded), which other work on "
        "the machine disturbs far less than wall time; load: highest 1-min load "
        "average seen around the runs (2 = both cores busy).",
        "- queries/inv: all SQL of the process (`odoo.sql_db.sql_counter`), commit "
        "included; msgs/inv: mail.message rows on invoices / on contracts; peak "
        "RSS: `ru_maxrss` of the measuring process (a fresh process per run).",
        "- cron: runner calls that ran the job / committed batches "
        "(ir.cron.progress rows) / longest runner call in s (must stay under the "
        "limit).",
    ]


def render_report(bench, final):
    out = render_header(bench, final) + [
        "",
        "| N | lines | mode | runs | ms/inv | min-max | x floor | CPU ms/inv "
        "| x floor CPU | queries/inv | vs floor | msgs/inv inv / contract "
        "| peak RSS MB | x floor RSS | cron | load | checks |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---|---:|---|",
    ]
    scenarios = bench.scenarios()
    for r in scenarios:
        if r["mode"] == "par":
            continue
        floor = bench.find("floor", r["n"], r["lines"])
        out.append(result_row(r, floor if r["mode"] != "floor" else None))
    floors = [r for r in scenarios if r["mode"].startswith("floor")]
    if floors:
        out += ["", "Floor phases (ms/inv, median run): create / action_post / commit"]
        out += [""] + [
            f"- N={r['n']:,}, {r['lines']} line(s), {r['mode']}: "
            f"{ms_per_inv(r, 'create_s'):.1f} / {ms_per_inv(r, 'post_s'):.1f} / "
            f"{ms_per_inv(r, 'commit_s'):.1f}"
            for r in floors
        ]
    out += render_parallel(bench)
    out += ["", "## Targets", ""] + render_targets(bench)
    failures = [
        f"- {r['name']}: {'; '.join(r['failures'])}"
        for r in bench.results
        if not r["ok"]
    ]
    out += ["", "## Correctness", ""]
    out += failures or [
        "Every run: invoices == N, all posted, no (contract, period) twice, "
        "names unique and contiguous per journal (1..count), totals equal to the "
        "contracts' totals; for ours also the ledger (one row per contract), "
        "every contract advanced, no billing error, no warning in the logs."
    ]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_all = sub.add_parser("all", help="the whole benchmark")
    p_all.add_argument("--sizes", type=int_list, default=[100, 1000, 10000])
    p_all.add_argument("--variants", type=int_list, default=[1, 5])
    p_all.add_argument(
        "--parallel-n",
        type=int,
        default=None,
        help="N of the 2-worker scenario (default 1000 if in --sizes, "
        "else the largest size; 0 = skip)",
    )
    p_all.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs per scenario, the median is reported (default 3 for N <= 100, "
        "1 above)",
    )
    p_all.add_argument(
        "--modes",
        type=lambda text: text.split(","),
        default=["floor", "ours"],
        help="modes to run among floor, floor_nolog (floor with "
        "mail_create_nolog + mail_create_nosubscribe), ours (default floor,ours)",
    )
    p_all.add_argument(
        "--report",
        default=str(RESULTS / "latest.md"),
        help="where the Markdown report goes (default bench/results/latest.md)",
    )
    p_all.add_argument("--reuse-template", action="store_true")
    p_all.add_argument("--keep-template", action="store_true")
    p_all.add_argument("--keep-db", action="store_true", help="keep the last clone")
    p_all.add_argument(
        "--profile", action="store_true", help="cProfile into results/*-profile.log"
    )
    p_prep = sub.add_parser("prepare")
    p_prep.add_argument("--db", required=True)
    p_prep.add_argument("--nmax", type=int, required=True)
    p_prep.add_argument("--variants", type=int_list, default=[1, 5])
    p_prep.add_argument("--key", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--db", required=True)
    p_setup.add_argument("--workers", type=int, default=1)
    p_setup.add_argument("--journals", type=int, default=1)
    p_floor = sub.add_parser("floor")
    p_floor.add_argument("--db", required=True)
    p_floor.add_argument("--out", required=True)
    p_floor.add_argument("--nolog", action="store_true")
    p_floor.add_argument("--profile")
    p_work = sub.add_parser("worker")
    p_work.add_argument("--db", required=True)
    p_work.add_argument("--out", required=True)
    p_work.add_argument("--ready", required=True)
    p_work.add_argument("--go", required=True)
    p_work.add_argument("--workers", type=int, default=1)
    p_work.add_argument("--profile")
    args = parser.parse_args(argv)
    if args.cmd != "all":
        check_db_name(args.db)
        return {
            "prepare": cmd_prepare,
            "setup": cmd_setup,
            "floor": cmd_floor,
            "worker": cmd_worker,
        }[args.cmd](args)
    args.argv = argv[1:]
    if args.parallel_n is None:
        args.parallel_n = 1000 if 1000 in args.sizes else max(args.sizes)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
