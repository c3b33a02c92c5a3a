"""Workers killed with SIGKILL: while billing (case 1), and between posting
and charging (case 9). What is committed must be whole, and a rerun must
finish the work without billing or charging anything twice."""

import time

from data import (
    cron_id,
    due_now,
    ledger_count,
    make_contracts,
    set_batch_size,
    set_cron_ready,
    sql_conn,
    total,
)
from processes import (
    kill9,
    log_path,
    run_runner,
    run_scheduled,
    runner_args,
    spawn,
    wait_backends_gone,
)
from rbtools.db import q, q1
from report import Case, check_exactly_once, check_numbering, check_run

from cases.charging import charge_cron_id, use_demo_tokens


def case_sigkill(ctx):
    n = 300 if ctx.quick else 1000
    c = Case(1, f"worker killed with SIGKILL mid-run ({n} contracts)")
    db = ctx.new_db("c1")
    expected = make_contracts(db, n)
    due = total(expected)
    conn = sql_conn(db)
    cron = cron_id(conn)
    c.expect(
        f"{due} periods due; the worker is killed -9 twice while billing; "
        "committed batches stay, the batch in flight leaves nothing (no ledger "
        "row, no invoice, no number); a rerun finishes: each period billed "
        "once, no numbering gap"
    )
    set_cron_ready(db)
    for step, fraction in enumerate((0.2, 0.55), 1):
        before = ledger_count(conn)
        proc = spawn(
            "runner.py",
            runner_args(ctx.cfg, db, [cron], 600, time_limit=40),
            log_path(db, f"killed-{step}"),
        )
        target = max(before + 1, int(due * fraction))
        while proc.poll() is None and ledger_count(conn) < target:
            time.sleep(0.05)
        if proc.poll() is not None:
            c.check(False, f"kill {step}: worker still running at {target} rows")
            break
        # Catch it inside a batch: its session holds an open transaction.
        deadline = time.monotonic() + 5
        state = None
        while time.monotonic() < deadline:
            state = q1(
                conn,
                "SELECT string_agg(state || coalesce(':' || left(query, 30), ''),"
                " ' | ') FROM pg_stat_activity WHERE application_name = %s "
                "AND state = 'active' AND backend_xid IS NOT NULL",
                [f"odoo-{proc.pid}"],
            )
            if state:
                break
            time.sleep(0.01)
        kill9(proc)
        waited = wait_backends_gone(conn, proc.pid)
        committed = ledger_count(conn)
        c.info(
            f"kill {step}: SIGKILL at {committed}/{due} committed ledger rows, "
            f"its session was: {state or 'between transactions'}; "
            f"PostgreSQL ended it in {waited if waited is None else round(waited, 2)} s"
        )
        c.check(
            before < committed < due,
            f"kill {step}: killed mid-run",
            f"{before} -> {committed} of {due}",
        )
        # Right after the kill: what is committed is whole.
        check_exactly_once(
            c, conn, expected, label=f"after kill {step}: ", partial=True
        )
        check_numbering(c, conn, label=f"after kill {step}: ")
    result = run_runner(ctx.cfg, db, [cron], tag="rerun")
    check_run(c, result, "rerun", limit=40, crons=[cron])
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    c.check(
        due_now(db) == 0,
        "nothing left due",
    )
    conn.close()
    return c.finish()


def case_charge_killed(ctx):
    """A worker killed between posting and charging: each invoice charged once."""
    n = 20 if ctx.quick else 200
    c = Case(9, f"charging: worker killed between posting and charging ({n} contracts)")
    db = ctx.new_db("c9")
    expected = make_contracts(db, n, backlog_every=0)
    # The rerun resends at once what the killed worker left unanswered.
    use_demo_tokens(db, expected, batch_size=2, resend_minutes=0)
    set_batch_size(db, 5)
    conn = sql_conn(db)
    cron = cron_id(conn)
    charge_cron = charge_cron_id(conn)
    due = total(expected)
    c.expect(
        f"{due} invoices to post and charge on payment_demo tokens; the billing "
        "worker (billing, then charging triggered after each posted batch) is "
        "killed -9 once invoices are posted and before all are charged; "
        "a rerun of both scheduled actions: every invoice posted once, charged "
        "by exactly one transaction, done, and paid"
    )
    set_cron_ready(db)
    # The charging scheduled action runs when the billing one triggers it,
    # right after each batch it posted commits.
    q(conn, "UPDATE ir_cron SET active = true WHERE id = %s", [charge_cron])

    def counts():
        return q(
            conn,
            "SELECT (SELECT count(*) FROM account_move WHERE state = 'posted' "
            "AND recurring_contract_id IS NOT NULL), "
            "(SELECT count(*) FROM recurring_payment_attempt)",
        )[0]

    proc = spawn(
        "runner.py",
        runner_args(ctx.cfg, db, [cron, charge_cron], 600, time_limit=40),
        log_path(db, "killed"),
    )
    while proc.poll() is None:
        posted, attempts = counts()
        if posted >= 5 and attempts >= 1:
            break
        time.sleep(0.01)
    killed = proc.poll() is None
    kill9(proc)
    wait_backends_gone(conn, proc.pid)
    posted, attempts = counts()
    c.info(f"SIGKILL with {posted}/{due} invoices posted, {attempts} charge attempts")
    c.check(killed and attempts < posted, "killed between posting and charging")
    twice = q1(
        conn,
        "SELECT count(*) FROM (SELECT invoice_id FROM account_invoice_transaction_rel "
        "GROUP BY invoice_id HAVING count(*) > 1) t",
    )
    c.check(twice == 0, "after the kill: no invoice with two transactions")
    result = run_scheduled(ctx.cfg, db, [cron, charge_cron], tag="rerun")
    check_run(c, result, "rerun")
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    rows = q(
        conn,
        "SELECT m.id, m.payment_state, count(r.transaction_id), "
        "bool_and(t.state = 'done'), "
        "(SELECT count(*) FROM recurring_payment_attempt a WHERE a.invoice_id = m.id) "
        "FROM account_move m "
        "LEFT JOIN account_invoice_transaction_rel r ON r.invoice_id = m.id "
        "LEFT JOIN payment_transaction t ON t.id = r.transaction_id "
        "WHERE m.recurring_contract_id IS NOT NULL AND m.state = 'posted' "
        "GROUP BY m.id, m.payment_state",
    )
    c.check(len(rows) == due, "every period's invoice posted", f"{len(rows)} of {due}")
    bad = [r for r in rows if r[2] != 1 or not r[3] or r[4] != 1]
    c.check(
        not bad,
        "each invoice charged by exactly one transaction, done, one attempt",
        f"{len(bad)} wrong, first: {bad[:3]}" if bad else "",
    )
    unpaid = [r for r in rows if r[1] not in ("paid", "in_payment")]
    c.check(not unpaid, "every invoice paid", f"{len(unpaid)} unpaid" if unpaid else "")
    conn.close()
    return c.finish()
