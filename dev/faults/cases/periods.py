"""A period's life after billing: a cancelled invoice and its voided
period (case 6), and contracts whose last period is due (case 8)."""

from data import (
    cron_id,
    make_contracts,
    param,
    sql_conn,
)
from processes import (
    run_scheduled,
)
from rbtools.db import q, q1
from rbtools.orm import billing_today, odoo_env
from report import Case, check_exactly_once, check_numbering, check_run

from odoo.exceptions import UserError


def case_cancel_void(ctx):
    n = 10
    c = Case(6, "cancelled invoice, voided period, billed again once")
    db = ctx.new_db("c6")
    expected = make_contracts(db, n, backlog_every=2)
    contract = min(cid for cid, starts in expected.items() if len(starts) == 3)
    c.expect(
        f"the invoice of the 2nd period of contract {contract} is reset to "
        "draft and cancelled: the next run does NOT bill that period again; a "
        "billing manager voids the period (an invoicing user may not, nor may "
        "a period with a posted invoice be voided): the next run bills it "
        "once, with the next number; the run after that bills nothing"
    )
    conn = sql_conn(db)
    cron = cron_id(conn)
    result = run_scheduled(ctx.cfg, db, [cron], tag="first")
    check_run(c, result, "first run")
    check_exactly_once(c, conn, expected, label="first run: ")
    (period, move, name), (other, *_ignored) = q(
        conn,
        "SELECT p.id, m.id, m.name FROM recurring_contract_period p JOIN "
        "account_move m ON m.recurring_period_id = p.id WHERE p.contract_id = %s "
        "ORDER BY p.period_index DESC",
        [contract],
    )[1:]
    with odoo_env(db) as env:
        manager = int(param(env, "manager_id"))
        invoicer = int(param(env, "invoicer_id"))
        invoice = env["account.move"].with_user(manager).browse(move)
        invoice.button_draft()
        invoice.button_cancel()
    state, name_after = q(
        conn, "SELECT state, name FROM account_move WHERE id = %s", [move]
    )[0]
    c.check(
        state == "cancel" and name_after == name,
        "invoice cancelled, keeps its number",
        f"{name_after} {state}",
    )
    run_scheduled(ctx.cfg, db, [cron], tag="after-cancel")
    count = q1(
        conn,
        "SELECT count(*) FROM account_move WHERE recurring_period_id = %s",
        [period],
    )
    c.check(
        count == 1,
        "rerun after cancel: no new invoice for the period",
        f"{count} invoice(s) on the period",
    )
    refusals = []
    for uid, period_id, who in (
        (invoicer, period, "invoicing user"),
        (manager, other, "manager, period with a posted invoice"),
    ):
        with odoo_env(db, uid) as env:
            try:
                env["recurring.contract.period"].browse(period_id).action_void()
                refusals.append(f"{who}: ALLOWED")
            except UserError as error:
                refusals.append(f"{who}: refused ({str(error)[:45]}...)")
            env.cr.rollback()
    c.check(
        all("refused" in r for r in refusals),
        "void refused when it must be",
        "; ".join(refusals),
    )
    with odoo_env(db, manager) as env:
        env["recurring.contract.period"].browse(period).action_void()
    next_date = q1(
        conn,
        "SELECT next_invoice_date FROM recurring_contract WHERE id = %s",
        [contract],
    )
    c.check(
        next_date == expected[contract][1],
        "voided period is due again",
        f"next_invoice_date {next_date}",
    )
    result = run_scheduled(ctx.cfg, db, [cron], tag="after-void")
    check_run(c, result, "run after void")
    moves = q(
        conn,
        "SELECT state FROM account_move WHERE recurring_period_id = %s ORDER BY id",
        [period],
    )
    c.check(
        moves == [("cancel",), ("posted",)],
        "the voided period billed once more",
        f"{moves}",
    )
    run_scheduled(ctx.cfg, db, [cron], tag="again")
    count = q1(
        conn,
        "SELECT count(*) FROM account_move WHERE recurring_contract_id = %s",
        [contract],
    )
    c.check(
        count == 4,
        "run again: nothing new",
        f"{count} invoices on the contract (3 periods + 1 cancelled)",
    )
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    conn.close()
    return c.finish()


def case_contract_ends(ctx):
    n = 10
    c = Case(8, "contracts whose last period is due: billed, then closed")
    db = ctx.new_db("c8")
    expected = make_contracts(db, n, backlog_every=0)
    ending = sorted(expected)[::3]
    with odoo_env(db) as env:
        today = billing_today(env)
        env["recurring.contract"].browse(ending).write({"date_end": today})
    c.expect(
        f"{len(ending)} of {n} contracts end today (one period, due today): the "
        "scheduled run bills every contract once and closes those that ended, "
        "without an error"
    )
    conn = sql_conn(db)
    cron = cron_id(conn)
    result = run_scheduled(ctx.cfg, db, [cron])
    check_run(c, result, "cron")
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    states = dict(q(conn, "SELECT id, state FROM recurring_contract"))
    c.check(
        all(
            states[cid] == ("closed" if cid in ending else "running") for cid in states
        ),
        "ended contracts closed, the others running",
        ", ".join(f"{cid}: {state}" for cid, state in sorted(states.items())),
    )
    conn.close()
    return c.finish()
