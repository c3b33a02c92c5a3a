"""Two at once: two scheduler processes on the same contracts (case 2), and
a user's "Invoice now" while the scheduled run holds a batch (case 3)."""

import json
import os
import subprocess
import sys

from data import (
    cron_id,
    due_now,
    ledger_count,
    make_contracts,
    set_batch_size,
    set_cron_ready,
    sql_conn,
)
from processes import (
    HERE,
    click,
    log_path,
    run_scheduled,
    run_side_by_side,
)
from rbtools import CRON_XMLID
from rbtools.db import q, q1
from rbtools.orm import odoo_env
from report import Case, check_exactly_once, check_numbering, check_run


def case_two_runners(ctx):
    n = 200 if ctx.quick else 1000
    c = Case(2, f"two scheduler processes at once on the same contracts ({n})")
    db = ctx.new_db("c2")
    # One period per contract: a contract is then counted once in the
    # progress of the call that billed it.
    expected = make_contracts(db, n, backlog_every=0)
    conn = sql_conn(db)
    cron1 = cron_id(conn)
    with odoo_env(db) as env:
        # The same model and code as the billing scheduled action.
        cron = env.ref(CRON_XMLID)
        cron2 = (
            env["ir.cron"]
            .create(
                {
                    "name": "RBF second billing runner",
                    "model_id": cron.model_id.id,
                    "state": "code",
                    "code": cron.code,
                    "user_id": env.ref("base.user_root").id,
                    "interval_number": 1,
                    "interval_type": "days",
                    "priority": 5,
                }
            )
            .id
        )
    # The smallest batches: the two workers claim many times and interleave.
    set_batch_size(db, 10)
    set_cron_ready(db, [cron1, cron2])
    c.expect(
        f"{n} periods due; two OS processes run the scheduler, each picks one of "
        "two scheduled actions with the same code, both bill at the same time: "
        "each period billed once, no error escapes, progress counts what was "
        "committed"
    )
    results, done, overlap = run_side_by_side(ctx.cfg, db, [cron1, cron2], "r")
    for i, result in enumerate(results, 1):
        check_run(c, result, f"process {i}", limit=40, crons=[cron1, cron2])
    c.check(
        done[1] and done[2] and overlap > 1,
        "both processes billed, at the same time",
        f"contracts billed per process: {done[1]} + {done[2]}; "
        f"{overlap:.1f} s of overlapping calls",
    )
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    c.check(due_now(db) == 0, "nothing left due")
    billed = ledger_count(conn)
    reported = q1(
        conn,
        "SELECT coalesce(sum(done), 0) FROM ir_cron_progress WHERE cron_id = ANY(%s)",
        [[cron1, cron2]],
    )
    c.check(
        reported == billed,
        "progress counts only committed work",
        f"sum of 'done' {reported} for {billed} contracts billed",
    )
    conn.close()
    return c.finish()


def case_invoice_now(ctx):
    n = 40
    c = Case(3, '"Invoice now" while the scheduled run holds a batch')
    db = ctx.new_db("c3")
    expected = make_contracts(db, n, backlog_every=0)
    conn = sql_conn(db)
    set_batch_size(db, 10)
    c.expect(
        "process A claims a batch of 10 as the scheduler does and holds it; "
        "process B, an invoicing user, presses Invoice now: on a held "
        "contract a UserError 'being invoiced' within 1 s and nothing billed, "
        "on a free contract its invoice; A then bills its batch; the cron "
        "bills the rest: each period once"
    )
    holder_log = open(log_path(db, "holder"), "w")  # noqa: SIM115
    holder = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "holder.py"), "--cfg", ctx.cfg, "--db", db],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=holder_log,
        text=True,
    )
    claimed = json.loads(holder.stdout.readline())["claimed"]
    held, free = claimed[0], max(set(expected) - set(claimed))
    c.info(f"A holds contracts {claimed}; B clicks {held} (held) then {free} (free)")
    clicks = click(ctx.cfg, db, [held, free])
    if isinstance(clicks, str):
        c.check(False, "process B ran", clicks)
        holder.kill()
        return c.finish()
    on_held, on_free = clicks
    c.check(
        on_held["outcome"] == "usererror"
        and "being invoiced" in on_held["message"]
        and on_held["seconds"] < 1.0,
        "held contract: UserError 'being invoiced', no wait",
        f"{on_held['outcome']} in {on_held['seconds']} s: "
        f"{on_held.get('message', '')[:90]!r}",
    )
    held_moves = q1(
        conn,
        "SELECT count(*) FROM account_move WHERE recurring_contract_id=%s",
        [held],
    )
    c.check(held_moves == 0, "held contract: nothing billed by B", f"{held_moves}")
    free_moves = q(
        conn,
        "SELECT state FROM account_move WHERE recurring_contract_id=%s",
        [free],
    )
    c.check(
        on_free["outcome"] == "invoiced" and free_moves == [("posted",)],
        "free contract: invoiced at once, one posted invoice",
        f"{on_free['outcome']} in {on_free['seconds']} s, invoices {free_moves}",
    )
    holder.stdin.write("go\n")
    holder.stdin.flush()
    done = holder.stdout.readline()
    holder.wait(timeout=120)
    holder_log.close()
    c.check(
        bool(done) and json.loads(done)["billed"] == len(claimed),
        "A bills its held batch once released",
        done.strip(),
    )
    result = run_scheduled(ctx.cfg, db, [cron_id(conn)])
    check_run(c, result, "cron")
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    c.check(due_now(db) == 0, "nothing left due")
    conn.close()
    return c.finish()
