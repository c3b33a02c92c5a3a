"""Contracts that cannot be billed: bad data among good contracts (case 4),
and a hard lock date that refuses every invoice (case 5). They are flagged,
the job goes on, and once fixed they are billed once."""

from data import (
    cron_id,
    ledger_count,
    make_contracts,
    param,
    set_cron_ready,
    sql_conn,
    total,
)
from processes import (
    click,
    parse_cron_log,
    run_runner,
    run_scheduled,
)
from rbtools.db import q, q1
from rbtools.orm import billing_today, odoo_env
from report import Case, check_exactly_once, check_numbering, check_run


def case_bad_contract(ctx):
    n = 200 if ctx.quick else 1000
    c = Case(4, f"bad contracts among {n}")
    db = ctx.new_db("c4")
    half = (n - 2) // 2
    expected = make_contracts(db, half)
    with odoo_env(db) as env:
        product = env["product.product"].browse(int(param(env, "product_id")))
        archived = product.copy({"name": "RBF product to archive"})
        income = env["account.account"].create(
            {
                "name": "RBF income to deprecate",
                "code": "400999",
                "account_type": "income",
            }
        )
        deprecated = product.copy(
            {
                "name": "RBF product on a deprecated account",
                "property_account_income_id": income.id,
            }
        )
    bad_a = make_contracts(db, 1, backlog_every=0, product_id=archived.id)
    bad_b = make_contracts(db, 1, backlog_every=0, product_id=deprecated.id)
    expected.update(make_contracts(db, n - 2 - half))
    with odoo_env(db) as env:
        env["product.product"].browse(archived.id).active = False
        env["account.account"].browse(income.id).deprecated = True
    bad = {**bad_a, **bad_b}
    expected.update(bad)
    good = total(expected) - 2
    c.expect(
        f"{good} periods of {n - 2} good contracts billed and posted; contract "
        f"{min(bad_a)} (archived product, refused before billing) and "
        f"{min(bad_b)} (deprecated income account, fails inside the batch "
        "and is isolated by bisection) flagged with billing_error, not billed; "
        "the job does not fail; after the fix, Invoice now bills each once"
    )
    conn = sql_conn(db)
    cron = cron_id(conn)
    result = run_scheduled(ctx.cfg, db, [cron])
    check_run(c, result, "cron", limit=40, crons=[cron])
    check_exactly_once(c, conn, expected, unbilled=bad, label="run 1: ")
    check_numbering(c, conn, label="run 1: ")
    flagged = dict(
        q(
            conn,
            "SELECT id, billing_error FROM recurring_contract "
            "WHERE billing_error IS NOT NULL",
        )
    )
    c.check(
        set(flagged) == set(bad),
        "exactly the bad contracts flagged",
        "; ".join(f"{k}: {v[:70]!r}" for k, v in sorted(flagged.items())),
    )
    set_cron_ready(db)
    before = q1(conn, "SELECT count(*) FROM account_move")
    result = run_runner(ctx.cfg, db, [cron], tag="same-day")
    after = q1(conn, "SELECT count(*) FROM account_move")
    c.check(
        before == after
        and result.get("finished")
        and not result.get("max_failure_count"),
        "same-day rerun leaves the failed contracts alone (retried tomorrow "
        "or by Invoice now)",
        f"{after - before} new invoice(s)",
    )
    with odoo_env(db) as env:
        env["product.product"].browse(archived.id).active = True
        env["account.account"].browse(income.id).deprecated = False
    clicks = click(ctx.cfg, db, sorted(bad))
    c.check(
        not isinstance(clicks, str)
        and len(clicks) == 2
        and all(r["outcome"] == "invoiced" for r in clicks),
        "after the fix, Invoice now bills the two contracts",
        clicks
        if isinstance(clicks, str)
        else "; ".join(f"{r['contract']}: {r['outcome']}" for r in clicks),
    )
    result = run_scheduled(ctx.cfg, db, [cron], tag="final")
    check_run(c, result, "final cron", limit=40, crons=[cron])
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    left = q1(
        conn,
        "SELECT count(*) FROM recurring_contract WHERE billing_error IS NOT NULL",
    )
    c.check(left == 0, "no billing_error left", f"{left}")
    conn.close()
    return c.finish()


def case_hard_lock(ctx):
    # One batch at the limit's batch size: the worst case of the bisection,
    # every contract of the batch fails. Full size: Odoo's default limit.
    n, limit = (10, 10) if ctx.quick else (100, 120)
    c = Case(5, f"hard lock date on today ({n} contracts)")
    db = ctx.new_db("c5")
    expected = make_contracts(db, n)
    with odoo_env(db) as env:
        today = billing_today(env)
        env.company.hard_lock_date = today
    c.expect(
        f"hard_lock_date = {today}: the {n} contracts flagged with "
        "billing_error, no invoice, no ledger row, no number used, the job "
        f"neither fails nor runs past limit_time_real_cron={limit}; lock "
        "removed, the next day's run bills each period once"
    )
    conn = sql_conn(db)
    cron = cron_id(conn)
    result = run_scheduled(ctx.cfg, db, [cron], time_limit=limit)
    # A whole batch fails: its bisection costs about the time budgeted for
    # the batch. Full size: checked against Odoo's default limit; quick
    # size: reported only (too close to call on a shared CI machine).
    check_run(c, result, "locked run", limit=None if ctx.quick else limit, crons=[cron])
    runs = parse_cron_log(result["log"], cron)[1]
    c.info(
        "locked run: job runs of "
        + ", ".join(f"{(r[-1][1] - r[0][0]).total_seconds():.1f} s" for r in runs)
        + f" (limit_time_real_cron={limit}, batch of {min(n, 100, max(10, limit))})"
    )
    flagged = q(
        conn,
        "SELECT billing_error FROM recurring_contract WHERE billing_error IS NOT "
        "NULL AND billing_error_date = %s",
        [today],
    )
    c.check(
        len(flagged) == n,
        "every contract flagged",
        f"{len(flagged)}/{n}" + (f", e.g. {flagged[0][0][:100]!r}" if flagged else ""),
    )
    moves = q1(conn, "SELECT count(*) FROM account_move")
    rows = ledger_count(conn)
    c.check(
        moves == 0 and rows == 0, "nothing billed", f"{moves} invoices, {rows} rows"
    )
    # Odoo refuses to remove a hard lock date ("cannot be removed"): the
    # database is the only way, as an administrator would have to do.
    q(conn, "UPDATE res_company SET hard_lock_date = NULL")
    result = run_scheduled(ctx.cfg, db, [cron], time_limit=limit, tag="same-day")
    moves = q1(conn, "SELECT count(*) FROM account_move")
    c.check(
        moves == 0 and result.get("finished") and not result["max_failure_count"],
        "same-day rerun: the failed contracts wait for the next day",
        f"{moves} invoices",
    )
    # The next day: the failures are a day old.
    q(
        conn,
        "UPDATE recurring_contract SET billing_error_date = billing_error_date - 1 "
        "WHERE billing_error_date IS NOT NULL",
    )
    result = run_scheduled(ctx.cfg, db, [cron], time_limit=limit, tag="next-day")
    check_run(c, result, "next day's run", limit=limit, crons=[cron])
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    left = q1(
        conn, "SELECT count(*) FROM recurring_contract WHERE billing_error IS NOT NULL"
    )
    c.check(left == 0, "billing_error cleared", f"{left} left")
    run_scheduled(ctx.cfg, db, [cron], time_limit=limit, tag="again")
    check_exactly_once(c, conn, expected, label="run again: ")
    conn.close()
    return c.finish()
