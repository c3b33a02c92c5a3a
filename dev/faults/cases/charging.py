"""Getting paid under faults: the charging scheduled action on payment_demo
tokens, with real processes and commits. A worker killed inside a charge
whose invoice is then paid by bank transfer (case 11), a card deleted by its
customer between the billing run and the charging run (case 12), two
charging runs at once (case 13). Each invoice is charged at most once, never
for more than it owes, and none is left behind.

Case 9 (a billing worker killed between posting and charging, in kills.py)
sets its tokens up with ``use_demo_tokens`` too.
"""

import json

from data import (
    cron_id,
    make_contracts,
    param,
    set_batch_size,
    set_cron_ready,
    sql_conn,
)
from processes import (
    kill9,
    log_path,
    run_scheduled,
    run_side_by_side,
    runner_args,
    spawn,
    wait_backends_gone,
    wait_until,
)
from rbtools.db import connect, q, q1
from rbtools.orm import billing_today, billing_user, odoo_env
from rbtools.payments import enable_demo_provider, save_demo_card
from report import Case, check_exactly_once, check_numbering, check_run

CHARGE_CRON_XMLID = "recurring_billing.ir_cron_charge_invoices"
# What each invoice of the contracts got, read from the tables: its payment
# state, residual and total, its transactions (all, done), its attempts by
# state, and the payments (registered or made by a charge) linked to it.
INVOICES_SQL = """
SELECT m.id, m.name, m.recurring_contract_id, m.payment_state,
       m.amount_residual, m.amount_total, m.recurring_charge_state,
       m.recurring_charge_retry_date,
       (SELECT count(*) FROM account_invoice_transaction_rel r
         WHERE r.invoice_id = m.id),
       (SELECT count(*) FROM account_invoice_transaction_rel r
          JOIN payment_transaction t ON t.id = r.transaction_id
         WHERE r.invoice_id = m.id AND t.state = 'done'),
       (SELECT coalesce(sum(t.amount), 0) FROM account_invoice_transaction_rel r
          JOIN payment_transaction t ON t.id = r.transaction_id
         WHERE r.invoice_id = m.id AND t.state = 'done'),
       (SELECT coalesce(json_object_agg(s.state, s.n), '{}') FROM
          (SELECT a.state, count(*) AS n FROM recurring_payment_attempt a
            WHERE a.invoice_id = m.id GROUP BY a.state) s),
       (SELECT count(*) FROM account_move__account_payment l
          JOIN account_payment p ON p.id = l.payment_id
         WHERE l.invoice_id = m.id AND p.state NOT IN ('draft', 'canceled'))
  FROM account_move m
 WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
   AND m.recurring_contract_id IS NOT NULL
 ORDER BY m.id
"""
INVOICE_COLUMNS = (
    "id",
    "name",
    "contract",
    "payment_state",
    "residual",
    "total",
    "charge_state",
    "retry_date",
    "transactions",
    "done",
    "charged",
    "attempts",
    "payments",
)
PAID = ("paid", "in_payment")


def use_demo_tokens(db, contract_ids, batch_size, resend_minutes=None, emails=False):
    """Enable payment_demo for the company (its bank journal) and give each
    contract a token of its customer that pays (``done``); charge batches
    of ``batch_size``. ``resend_minutes``: how soon a charge left unanswered
    is sent again. ``emails``: the customers and the company get addresses,
    so that the failure emails are posted. Returns {contract_id: token_id}."""
    tokens = {}
    with odoo_env(db) as env:
        company = env.company
        provider = enable_demo_provider(env, company)
        contracts = env["recurring.contract"].browse(sorted(contract_ids))
        for contract in contracts:
            tokens[contract.id] = save_demo_card(
                env, provider, contract, f"{contract.id:04d}", f"rbf-{contract.id}"
            ).id
        if emails:
            company.email = "billing@rbf.example.com"
            for partner in contracts.partner_id:
                partner.email = f"customer-{partner.id}@rbf.example.com"
        params = env["ir.config_parameter"]
        params.set_param("recurring_billing.charge_batch_size", batch_size)
        if resend_minutes is not None:
            params.set_param("recurring_billing.charge_resend_minutes", resend_minutes)
    return tokens


def charge_cron_id(conn):
    module, name = CHARGE_CRON_XMLID.split(".")
    return q1(
        conn,
        "SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s",
        [module, name],
    )


def invoices(conn):
    """{invoice id: its row of INVOICES_SQL as a dict}."""
    return {
        row[0]: dict(zip(INVOICE_COLUMNS, row, strict=True))
        for row in q(conn, INVOICES_SQL)
    }


def charged_once(row):
    """Charged by exactly one transaction, done, for its total (one attempt,
    done), and paid by that one payment."""
    return (
        row["transactions"] == 1
        and row["done"] == 1
        and round(float(row["charged"]), 2) == round(float(row["total"]), 2)
        and row["attempts"] == {"done": 1}
        and row["payment_state"] in PAID
        and row["payments"] == 1
    )


def check_all_charged_once(c, rows, label="each invoice charged exactly once"):
    bad = {r["name"]: _short(r) for r in rows if not charged_once(r)}
    return c.check(
        not bad,
        label + " (one transaction, done, for its total, one attempt, paid)",
        f"{len(rows)} invoices" if not bad else f"{len(bad)} wrong: {_first(bad)}",
    )


def _short(row):
    keys = ("payment_state", "transactions", "done", "charged", "attempts")
    return {k: row[k] for k in keys} | {"payments": row["payments"]}


def _first(bad, count=3):
    return json.dumps(dict(list(bad.items())[:count]), default=str)


def bill_without_charging(c, ctx, db, conn, expected):
    """The billing scheduled action alone (the charging one stays inactive,
    as in the template): every period posted, nothing charged yet."""
    result = run_scheduled(ctx.cfg, db, [cron_id(conn)], tag="billing")
    check_run(c, result, "billing run")
    check_exactly_once(c, conn, expected, label="billing run: ")
    check_numbering(c, conn, label="billing run: ")
    rows = invoices(conn).values()
    c.check(
        not any(r["transactions"] or r["attempts"] for r in rows),
        "billing run: nothing charged yet",
    )


def left_to_charge(db):
    """Invoices the charging scheduled action would still claim: the addon's
    own domain, searched as the billing user."""
    with odoo_env(db) as env:
        Move = env["account.move"].with_user(billing_user(env))
        service = env["recurring.payment.service"].with_user(billing_user(env))
        return Move.search_count(service._get_invoices_to_charge_domain())


# ------------------------------------------------------------------ case 11
def case_charge_killed_paid_by_transfer(ctx):
    """A charging worker killed inside the charge of an invoice (its attempt
    and draft transaction committed, the provider's answer not); the
    accountant registers the customer's bank transfer for that invoice; the
    next charging run must not charge it."""
    n = 10 if ctx.quick else 100
    c = Case(
        11,
        f"charging: worker killed inside a charge, the invoice then paid by "
        f"bank transfer ({n} contracts)",
    )
    db = ctx.new_db("c11")
    expected = make_contracts(db, n, backlog_every=0)
    # The rerun resends at once what the killed worker left unanswered.
    use_demo_tokens(db, expected, batch_size=2, resend_minutes=0)
    conn = sql_conn(db)
    charge_cron = charge_cron_id(conn)
    c.expect(
        f"{n} invoices posted; the charging worker is held inside its first "
        "charge (the provider answered, the answer not committed: it waits on "
        "a lock the driver holds on account_payment) and killed -9 there: "
        "attempts committed, transactions draft, nothing paid; the accountant "
        "registers a bank transfer for one of those invoices; the rerun "
        "charges it not (its draft transaction cancelled with a reason, the "
        "attempt cancelled, paid once, by the transfer), sends the other "
        "unanswered charge again (the same transaction), charges the rest "
        "once"
    )
    bill_without_charging(c, ctx, db, conn, expected)

    # Whatever takes the next payment waits: the charge is held after the
    # provider call, before its answer commits (for the database, a worker
    # dying during the provider's HTTP call).
    holder = connect(db, application_name="rb_faults-holder", autocommit=False)
    q(holder, "LOCK TABLE account_payment IN SHARE MODE")
    set_cron_ready(db, [charge_cron])
    proc = spawn(
        "runner.py",
        runner_args(ctx.cfg, db, [charge_cron], 600, time_limit=120),
        log_path(db, "killed"),
    )
    session = f"odoo-{proc.pid}"

    def held():
        return q1(
            conn,
            "SELECT left(query, 60) FROM pg_stat_activity WHERE application_name "
            "= %s AND wait_event_type = 'Lock' AND query ILIKE %s",
            [session, "%account_payment%"],
        )

    waited = wait_until(lambda: proc.poll() is not None or held(), 180, 0.05)
    statement = held()
    alive = proc.poll() is None
    kill9(proc)
    # A session waiting on a lock notices its client is gone only once it
    # has the lock: release it, then PostgreSQL ends the session and rolls
    # its transaction back (no client is left to commit it).
    holder.rollback()
    holder.close()
    gone = wait_backends_gone(conn, proc.pid)
    c.info(
        f"worker held after {waited and round(waited, 1)} s on: {statement!r}; "
        f"killed, PostgreSQL ended its session in {gone and round(gone, 2)} s"
    )
    c.check(alive and bool(statement), "killed inside a charge")
    unanswered = q(
        conn,
        "SELECT a.invoice_id, t.id FROM recurring_payment_attempt a "
        "JOIN payment_transaction t ON t.id = a.transaction_id "
        "WHERE a.state = 'pending' AND t.state = 'draft' ORDER BY a.invoice_id",
    )
    rows = invoices(conn)
    c.check(
        bool(unanswered)
        and not any(r["done"] or r["payment_state"] in PAID for r in rows.values()),
        "after the kill: charges left unanswered (attempt pending, transaction "
        "draft), none done, nothing paid",
        f"{len(unanswered)} unanswered: invoices {[i for i, _t in unanswered]}",
    )
    if not unanswered:
        conn.close()
        return c.finish()
    paid_id, draft_id = unanswered[0]
    resent = [invoice for invoice, _tx in unanswered[1:]]

    # The accountant registers the customer's bank transfer.
    with odoo_env(db) as env:
        manager = int(param(env, "manager_id"))
    with odoo_env(db, uid=manager) as env:
        invoice = env["account.move"].browse(paid_id)
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": invoice.invoice_date})._create_payments()
        c.info(f"bank transfer registered for {invoice.name} ({invoice.amount_total})")

    result = run_scheduled(ctx.cfg, db, [charge_cron], tag="rerun")
    check_run(c, result, "rerun")
    rows = invoices(conn)
    paid = rows[paid_id]
    draft = q(
        conn,
        "SELECT t.state, t.state_message, a.state, a.message "
        "FROM payment_transaction t "
        "JOIN recurring_payment_attempt a ON a.transaction_id = t.id "
        "WHERE t.id = %s",
        [draft_id],
    )[0]
    c.check(
        paid["done"] == 0 and paid["transactions"] == 1,
        f"{paid['name']} (paid by transfer): not charged, no second transaction",
        _short(paid),
    )
    c.check(
        draft[0] == "cancel" and bool(draft[1]) and draft[2] == "cancel" and draft[3],
        f"{paid['name']}: the draft transaction cancelled with a reason, the "
        "attempt cancelled",
        f"transaction {draft[0]} ({draft[1]!r}), attempt {draft[2]} ({draft[3]!r})",
    )
    c.check(
        paid["payment_state"] in PAID
        and float(paid["residual"]) == 0
        and paid["payments"] == 1,
        f"{paid['name']}: paid once, by the transfer",
        f"{paid['payment_state']}, residual {paid['residual']}, "
        f"{paid['payments']} payment(s)",
    )
    check_all_charged_once(
        c,
        [rows[i] for i in resent],
        "the other unanswered charge sent again, the same transaction",
    )
    check_all_charged_once(
        c, [r for i, r in rows.items() if i != paid_id], "every other invoice"
    )
    c.check(left_to_charge(db) == 0, "nothing left to charge")
    conn.close()
    return c.finish()


# ------------------------------------------------------------------ case 12
def case_token_archived(ctx):
    """Cards deleted in My Account between the billing and the charging run:
    those invoices are skipped without failing the run, flagged as the
    house rule says, every other invoice charged; a new card is charged at
    the retry."""
    n = 20 if ctx.quick else 200
    c = Case(
        12, f"charging: cards deleted between billing and charging ({n} contracts)"
    )
    db = ctx.new_db("c12")
    expected = make_contracts(db, n, backlog_every=0)
    tokens = use_demo_tokens(db, expected, batch_size=5, emails=True)
    conn = sql_conn(db)
    charge_cron = charge_cron_id(conn)
    ordered = sorted(expected)
    # In the first and the last batch of the charging run, and one between.
    deleted = [ordered[1], ordered[n // 2], ordered[-1]]
    c.expect(
        f"{n} invoices posted; 3 customers delete their card (the token "
        "archived, as My Account's delete does) before the charging run; the "
        "run goes to the end without an error: those 3 get no transaction, a "
        "failed attempt, the retry tomorrow, Payment failing on the contract, "
        "the activity and the email asking for a new payment method; every "
        f"other invoice charged once; a same-day rerun changes nothing; a new "
        "card saved and the retry day come: charged once, flag cleared"
    )
    bill_without_charging(c, ctx, db, conn, expected)
    with odoo_env(db) as env:
        # What /my/payment_method's delete does (payment's archive_token
        # controller): the customer's own token, active = False.
        env["payment.token"].sudo().browse(tokens[i] for i in deleted).write(
            {"active": False}
        )
        today = billing_today(env)

    result = run_scheduled(ctx.cfg, db, [charge_cron], tag="charging")
    check_run(c, result, "charging run")
    rows = invoices(conn)
    by_contract = {r["contract"]: r for r in rows.values()}
    check_all_charged_once(
        c,
        [r for r in rows.values() if r["contract"] not in deleted],
        f"the {n - len(deleted)} other invoices",
    )
    skipped = [by_contract[i] for i in deleted]
    tomorrow = today.toordinal() + 1
    c.check(
        all(
            r["transactions"] == 0
            and r["attempts"] == {"error": 1}
            and r["charge_state"] == "failing"
            and r["retry_date"]
            and r["retry_date"].toordinal() == tomorrow
            and r["payment_state"] == "not_paid"
            for r in skipped
        ),
        "deleted cards: no transaction, one failed attempt, retry tomorrow",
        _first({r["name"]: _short(r) | {"retry": r["retry_date"]} for r in skipped}),
    )
    flags = q(
        conn,
        "SELECT c.id, c.payment_failing, "
        "(SELECT count(*) FROM mail_activity a WHERE a.res_model = "
        "'recurring.contract' AND a.res_id = c.id AND a.summary = "
        "'Automatic payment failing'), "
        "(SELECT count(*) FROM mail_message m WHERE m.model = "
        "'recurring.contract' AND m.res_id = c.id AND m.subject LIKE %s), "
        "(SELECT string_agg(a.message, ' | ') FROM recurring_payment_attempt a "
        "WHERE a.contract_id = c.id) "
        "FROM recurring_contract c WHERE c.id = ANY(%s) ORDER BY c.id",
        ["%payment failed for your contract%", deleted],
    )
    c.check(
        all(f[1] and f[2] == 1 and f[3] == 1 and f[4] for f in flags),
        "deleted cards: contract flagged Payment failing, one activity, one "
        "email to the customer, the reason on the attempt",
        f"first reason: {flags[0][4]!r}",
    )
    others_flagged = q1(
        conn,
        "SELECT count(*) FROM recurring_contract WHERE payment_failing "
        "AND NOT (id = ANY(%s))",
        [deleted],
    )
    c.check(others_flagged == 0, "no other contract flagged", f"{others_flagged}")

    attempts = q1(conn, "SELECT count(*) FROM recurring_payment_attempt")
    result = run_scheduled(ctx.cfg, db, [charge_cron], tag="same-day")
    check_run(c, result, "same-day rerun")
    again = q1(conn, "SELECT count(*) FROM recurring_payment_attempt")
    c.check(again == attempts, "same-day rerun: nothing tried again", f"{again}")

    # The customers save a new card and choose it for their contract; the
    # retry day comes (simulated: the retry dated today).
    new_tokens = use_new_cards(db, deleted)
    q(
        conn,
        "UPDATE account_move SET recurring_charge_retry_date = %s "
        "WHERE recurring_contract_id = ANY(%s) AND recurring_charge_state = "
        "'failing'",
        [today, deleted],
    )
    result = run_scheduled(ctx.cfg, db, [charge_cron], tag="retry")
    check_run(c, result, "retry run")
    rows = invoices(conn)
    retried = [r for r in rows.values() if r["contract"] in deleted]
    tokens_used = q(
        conn,
        "SELECT r.invoice_id, t.token_id FROM payment_transaction t "
        "JOIN account_invoice_transaction_rel r ON r.transaction_id = t.id "
        "WHERE t.state = 'done' AND r.invoice_id = ANY(%s)",
        [[r["id"] for r in retried]],
    )
    c.check(
        all(
            r["transactions"] == 1
            and r["done"] == 1
            and r["attempts"] == {"error": 1, "done": 1}
            and r["payment_state"] in PAID
            and r["payments"] == 1
            for r in retried
        )
        and sorted(t for _i, t in tokens_used) == sorted(new_tokens.values()),
        "retry: charged once on the new card, paid",
        _first({r["name"]: _short(r) for r in retried}),
    )
    still = q1(
        conn,
        "SELECT count(*) FROM recurring_contract WHERE payment_failing OR id IN "
        "(SELECT res_id FROM mail_activity WHERE res_model = 'recurring.contract' "
        "AND summary = 'Automatic payment failing')",
    )
    c.check(still == 0, "retry: flags and activities cleared", f"{still} left")
    check_all_charged_once(
        c,
        [r for r in rows.values() if r["contract"] not in deleted],
        "the others still charged once",
    )
    c.check(left_to_charge(db) == 0, "nothing left to charge")
    conn.close()
    return c.finish()


def use_new_cards(db, contract_ids):
    """Each customer saves a new card and chooses it for their contract."""
    with odoo_env(db) as env:
        new = {}
        for contract in env["recurring.contract"].browse(contract_ids):
            old = contract.payment_token_id.with_context(active_test=False)
            contract.payment_token_id = old.copy(
                {
                    "payment_details": f"{contract.id:04d}-new",
                    "provider_ref": f"rbf-{contract.id}-new",
                    "active": True,
                }
            )
            new[contract.id] = contract.payment_token_id.id
        return new


# ------------------------------------------------------------------ case 13
def case_two_charging_runs(ctx):
    """Two charging runs at once, in two processes: every invoice charged
    exactly once, none skipped for good."""
    n = 30 if ctx.quick else 400
    size = 3 if ctx.quick else 10
    c = Case(13, f"charging: two charging runs at once ({n} invoices)")
    db = ctx.new_db("c13")
    expected = make_contracts(db, n, backlog_every=0)
    use_demo_tokens(db, expected, batch_size=size)
    set_batch_size(db, 50)
    conn = sql_conn(db)
    charge1 = charge_cron_id(conn)
    c.expect(
        f"{n} invoices posted; a second charging scheduled action with the "
        "same code; two OS processes run the scheduler, each takes one job, "
        f"batches of {size}: both charge, at the same time; every invoice "
        "charged by exactly one transaction, paid, nothing left to charge; no "
        "error logged, no failed job"
    )
    bill_without_charging(c, ctx, db, conn, expected)
    with odoo_env(db) as env:
        cron = env.ref(CHARGE_CRON_XMLID)
        charge2 = (
            env["ir.cron"]
            .create(
                {
                    "name": "RBF second charging runner",
                    "model_id": cron.model_id.id,
                    "state": "code",
                    "code": cron.code,
                    "user_id": cron.user_id.id,
                    "interval_number": 1,
                    "interval_type": "days",
                    "priority": cron.priority,
                }
            )
            .id
        )
    set_cron_ready(db, [charge1, charge2])
    results, done, overlap = run_side_by_side(
        ctx.cfg, db, [charge1, charge2], "charge", time_limit=120
    )
    for i, result in enumerate(results, 1):
        check_run(c, result, f"process {i}")
    c.check(
        done[1] and done[2] and overlap > 0,
        "both processes charged, at the same time",
        f"invoices charged per process: {done[1]} + {done[2]}; "
        f"{overlap:.1f} s of overlapping calls",
    )
    rows = list(invoices(conn).values())
    c.check(len(rows) == n, "every invoice posted", f"{len(rows)} of {n}")
    check_all_charged_once(c, rows)
    c.check(
        done[1] + done[2] == n,
        "the progress counts each charge once",
        f"{done[1] + done[2]} for {n}",
    )
    c.check(left_to_charge(db) == 0, "nothing left to charge, none skipped")
    conn.close()
    return c.finish()
