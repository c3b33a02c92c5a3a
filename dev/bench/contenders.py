"""The contenders, each measured in a fresh process of its own:

``floor``   Odoo's own ``account.move.create(vals_list)`` + ``action_post()``
            + commit, for the invoices the contracts would bill: in one
            transaction, or with ``--batch`` per batch of the engine's batch
            size, a commit after each (what a real job would do);
``worker``  one cron worker: Odoo's real runner ``ir.cron._process_jobs(db)``,
            called until no contract is due;
``oca``     OCA ``contract`` (its PyPI wheel, in a database of its own): its
            scheduled action through the same runner (it creates drafts),
            then ``action_post`` + commit per batch, as its users post them.

Each writes its figures (wall and CPU time, queries, peak RSS, log lines) to
a JSON file for the orchestrator.
"""

import json
import resource
import time
from pathlib import Path

from common import OCA_CRON_XMLID, bootstrap


def maxrss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s():
    """CPU time (user + system) of this process: far less sensitive than
    wall time to other work sharing the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


class Measured:
    """The measured window of a contender, as a context manager: wall and
    CPU seconds and SQL queries from its start (``wall_s``, ``cpu_s``,
    ``queries`` once it ends), under cProfile when ``path`` is given (the
    statistics written there at the end)."""

    def __init__(self, path):
        self.path = path
        self.prof = None
        if path:
            import cProfile

            self.prof = cProfile.Profile()

    def __enter__(self):
        from odoo import sql_db

        self._sql_db = sql_db
        self.q0 = sql_db.sql_counter
        self.c0 = cpu_s()
        self.t0 = time.perf_counter()
        if self.prof:
            self.prof.enable()
        return self

    def __exit__(self, *exc):
        if self.prof:
            self.prof.disable()
        self.wall_s = time.perf_counter() - self.t0
        self.cpu_s = cpu_s() - self.c0
        self.queries = self._sql_db.sql_counter - self.q0
        self._dump()

    def _dump(self):
        if not self.prof:
            return
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(self.prof, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        Path(self.path).write_text(out.getvalue())
        # The raw statistics too, to follow callers and callees (pstats).
        self.prof.dump_stats(f"{self.path}.prof")


def write_result(path, logs, **figures):
    """Write the figures of one measured process as JSON, with what every
    contender reports: its peak memory and the warnings it logged."""
    figures.update(rss_mb=maxrss_mb(), log_warnings=logs.count, log_first=logs.first)
    Path(path).write_text(json.dumps(figures))


def cmd_floor(args):
    """Odoo's own create + post of the same invoices, one transaction, commit
    included, as the billing user that the scheduled action runs as."""
    registry = bootstrap(args.db)
    from rbtools.orm import billing_today, billing_user

    from odoo import SUPERUSER_ID, api

    logs = LogCounter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bot = billing_user(env)
        company = env.ref("base.main_company")
        benv = api.Environment(cr, bot.id, {"allowed_company_ids": [company.id]})
        contracts = benv["recurring.contract"].search(
            [("state", "=", "running")], order="id"
        )
        today = billing_today(env)
        vals_list = []
        # The same invoices as ours, usage lines included (rated here, not
        # timed: the floor is create + post).
        usage = benv["recurring.contract.usage"]._read_batch_usage(contracts)
        for contract in contracts:
            (period,) = contract._get_due_periods(today)
            vals_list.append(
                contract._prepare_invoice_vals(
                    period,
                    today,
                    contract._get_line_amounts(period),
                    contract._get_usage_charges(period, usage),
                )
            )
        cr.rollback()
        benv.invalidate_all()
        rss0 = maxrss_mb()
        Move = benv["account.move"]
        if args.nolog:
            Move = Move.with_context(
                mail_create_nolog=True, mail_create_nosubscribe=True
            )
        size = args.batch or len(vals_list)
        phases = [0.0, 0.0, 0.0]
        count = 0
        with Measured(args.profile) as measured:
            for start in range(0, len(vals_list), size):
                ta = time.perf_counter()
                moves = Move.create(vals_list[start : start + size])
                tb = time.perf_counter()
                moves.action_post()
                tc = time.perf_counter()
                cr.commit()
                # A new transaction starts with an empty cache, as the next
                # call of a job would.
                benv.invalidate_all()
                count += len(moves)
                phases[0] += tb - ta
                phases[1] += tc - tb
                phases[2] += time.perf_counter() - tc
    write_result(
        args.out,
        logs,
        invoices_made=count,
        wall_s=measured.wall_s,
        create_s=phases[0],
        post_s=phases[1],
        commit_s=phases[2],
        cpu_s=measured.cpu_s,
        queries=measured.queries,
        rss0_mb=rss0,
    )


def cmd_worker(args):
    """One cron worker: the real runner, called until nothing is due."""
    registry = bootstrap(args.db)
    from rbtools.orm import billing_today, billing_user, due_count

    from odoo import SUPERUSER_ID, api, sql_db

    # The scheduler's own entry point, from the registry: the class is
    # ir_cron on 18.0 and IrCron on 19.0.
    ir_cron = registry["ir.cron"]

    def due_now():
        """What the scheduled action would still claim (the addon's own
        domain, as the billing user)."""
        with registry.cursor() as cr:
            return due_count(api.Environment(cr, SUPERUSER_ID, {}))

    logs = LogCounter()
    # Warm-up, as the floor's process warms up building its values: one
    # contract's invoice values, read only.
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        contract = (
            env["recurring.contract"]
            .with_user(billing_user(env))
            .search([("state", "=", "running")], limit=1)
        )
        today = billing_today(env)
        contract._prepare_invoice_vals(contract._get_due_periods(today)[0], today)
        cr.rollback()
    rss0 = maxrss_mb()
    Path(args.ready).write_text("ready")
    while not Path(args.go).exists():
        time.sleep(0.002)
    excluded = 0
    calls = []
    due_before = None
    stalled_since = None
    status = "done"
    with Measured(args.profile) as measured:
        while True:
            t = time.monotonic()
            ir_cron._process_jobs(args.db)
            calls.append(time.monotonic() - t)
            # The count is the driver's, not the engine's: its queries are
            # not counted.
            q = sql_db.sql_counter
            due = due_now()
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
    write_result(
        args.out,
        logs,
        t_end=time.time(),
        cpu_s=measured.cpu_s,
        queries=measured.queries - excluded,
        rss0_mb=rss0,
        calls=len(calls),
        busy_calls=sum(1 for c in calls if c > 0.5),
        max_call_s=max(calls, default=0.0),
        status=status,
        serialization_logs=logs.serialization,
    )


def cmd_oca(args):
    """OCA ``contract``: its scheduled action through Odoo's runner (one call
    creates every draft invoice in one transaction), then the drafts posted
    and committed per batch of ``--batch``; wall time of both."""
    registry = bootstrap(args.db)
    from odoo import SUPERUSER_ID, api

    ir_cron = registry["ir.cron"]  # see cmd_worker

    logs = LogCounter()
    with registry.cursor() as cr:
        # Warm-up, as the other contenders: one contract's invoice values.
        env = api.Environment(cr, SUPERUSER_ID, {})
        contract = env["contract.contract"].search(
            [("recurring_next_date", "!=", False)], limit=1
        )
        contract._prepare_recurring_invoices_values()
        cr.rollback()
        cron = env.ref(OCA_CRON_XMLID)
        cr.execute(
            "UPDATE ir_cron SET active = true, "
            "nextcall = (now() at time zone 'UTC') - interval '1 second' "
            "WHERE id = %s",
            [cron.id],
        )
        cr.commit()
    rss0 = maxrss_mb()
    count = 0
    with Measured(args.profile) as measured:
        ir_cron._process_jobs(args.db)
        create_s = time.perf_counter() - measured.t0
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            drafts = env["account.move"].search(
                [("move_type", "=", "out_invoice"), ("state", "=", "draft")],
                order="id",
            )
            for start in range(0, len(drafts), args.batch):
                batch = drafts[start : start + args.batch]
                batch.action_post()
                cr.commit()
                env.invalidate_all()
                count += len(batch)
    write_result(
        args.out,
        logs,
        invoices_made=count,
        wall_s=measured.wall_s,
        create_s=create_s,
        post_s=measured.wall_s - create_s,
        commit_s=0.0,
        cpu_s=measured.cpu_s,
        queries=measured.queries,
        rss0_mb=rss0,
    )
