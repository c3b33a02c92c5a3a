"""The correctness checks of every benchmark run, read from the run
database with SQL once the measured process has ended. The invariants the
fault suite checks too (each period billed once, ledger and invoices in
agreement, numbering contiguous per journal) come from
``rbtools.invariants``."""

from common import CRON_TIME_LIMIT
from rbtools.db import connect, q, q1, row1
from rbtools.invariants import billed_twice, exactly_once, numbering


def check_run(db, n, mode, res):
    """The correctness asserts of every run."""
    conn = connect(db)
    try:
        return _check_run(conn, n, mode, res)
    finally:
        conn.close()


def _check_run(conn, n, mode, res):
    if mode == "oca":
        return _check_oca(conn, n, res)
    invoices, failures = _invoice_failures(conn, n)
    not_once = q1(
        conn,
        """SELECT count(*) FROM recurring_contract c WHERE c.state = 'running'
             AND (SELECT count(*) FROM account_move m
                   WHERE m.recurring_contract_id = c.id) <> 1""",
    )
    if not_once:
        failures.append(f"{not_once} contracts without exactly one invoice")
    failures += [str(c) for c in (billed_twice(conn), numbering(conn)) if not c.ok]
    expected, billed = row1(
        conn,
        """SELECT (SELECT sum(amount_total) FROM recurring_contract
                    WHERE state = 'running')
                  -- usage lines (variant 102): their period's records, above
                  -- the included units, at the unit price, taxes included
                  + (SELECT COALESCE(sum(round((greatest(u.used - l.usage_included, 0)
                                * l.price_unit * (1 + COALESCE((
                                    SELECT sum(t.amount) / 100
                                      FROM account_tax_recurring_contract_line_rel r
                                      JOIN account_tax t ON t.id = r.account_tax_id
                                     WHERE r.recurring_contract_line_id = l.id), 0)
                                ))::numeric, 2)), 0)
                       FROM (SELECT line_id, sum(quantity) AS used
                               FROM recurring_contract_usage GROUP BY line_id) u
                       JOIN recurring_contract_line l ON l.id = u.line_id
                       JOIN recurring_contract c ON c.id = l.contract_id
                      WHERE c.state = 'running'),
                  (SELECT sum(amount_total) FROM account_move
                    WHERE move_type = 'out_invoice')""",
    )
    failures += _total_and_log_failures(expected, billed, res)
    if not mode.startswith("floor"):
        failures += check_engine(conn, res)
    elif res.get("invoices_made") != n:
        failures.append(f"floor made {res.get('invoices_made')} invoices")
    return _summary(conn, invoices, failures, "recurring.contract")


def check_engine(conn, res):
    """The engine's own records: the ledger (one period per contract, the one
    starting on its start date, with its one posted invoice), contracts
    advanced, no error, and every runner call under the time limit."""
    failures = []
    expected = {
        cid: [date_start]
        for cid, date_start in q(
            conn,
            "SELECT id, date_start FROM recurring_contract WHERE state = 'running'",
        )
    }
    failures += [str(c) for c in exactly_once(conn, expected) if not c.ok]
    not_advanced = q1(
        conn,
        "SELECT count(*) FROM recurring_contract WHERE state='running' "
        "AND (next_invoice_date IS NULL OR next_invoice_date <= date_start)",
    )
    if not_advanced:
        failures.append(f"{not_advanced} contracts not advanced")
    errors = q1(
        conn, "SELECT count(*) FROM recurring_contract WHERE billing_error IS NOT NULL"
    )
    if errors:
        failures.append(f"{errors} contracts with a billing error")
    if res.get("status") != "done":
        failures.append(f"worker: {res.get('status')}")
    res["callbacks"] = q1(
        conn,
        """SELECT count(*) FROM ir_cron_progress p JOIN ir_cron c
               ON c.id = p.cron_id JOIN ir_act_server a
               ON a.id = c.ir_actions_server_id
            WHERE a.code LIKE '%%_cron_generate_invoices%%'""",
    )
    if res["max_call_s"] >= CRON_TIME_LIMIT:
        failures.append(
            f"one runner call took {res['max_call_s']:.0f} s "
            f">= limit_time_real_cron={CRON_TIME_LIMIT}"
        )
    return failures


def _check_oca(conn, n, res):
    """OCA contract's run: N invoices, all posted, unique contiguous names,
    one per due contract, totals equal to its lines (15% tax, rounded per
    invoice), nothing logged."""
    invoices, failures = _invoice_failures(conn, n)
    failures += [str(c) for c in (numbering(conn),) if not c.ok]
    expected, billed = row1(
        conn,
        """SELECT (SELECT sum(round((s.subtotal * 1.15)::numeric, 2))
                     FROM (SELECT l.contract_id,
                                  sum(l.quantity * l.specific_price) AS subtotal
                             FROM contract_line l
                             JOIN contract_contract c ON c.id = l.contract_id
                            WHERE c.recurring_next_date IS NOT NULL
                            GROUP BY l.contract_id) s),
                  (SELECT sum(amount_total) FROM account_move
                    WHERE move_type = 'out_invoice')""",
    )
    failures += _total_and_log_failures(expected, billed, res)
    if res.get("invoices_made") != n:
        failures.append(f"OCA posted {res.get('invoices_made')} invoices")
    return _summary(conn, invoices, failures, "contract.contract")


def _invoice_failures(conn, n):
    """Every contender's invoices: ``n`` of them, all posted, each with a
    name of its own. Returns (invoices, failures)."""
    invoices, posted, names = row1(
        conn,
        """SELECT count(*), count(*) FILTER (WHERE state = 'posted'),
                  count(DISTINCT name)
             FROM account_move WHERE move_type = 'out_invoice'""",
    )
    failures = []
    if invoices != n:
        failures.append(f"{invoices} invoices, not {n}")
    if posted != invoices:
        failures.append(f"{invoices - posted} invoices not posted")
    if names != invoices:
        failures.append(f"{invoices - names} duplicate invoice names")
    return invoices, failures


def _total_and_log_failures(expected, billed, res):
    """The total billed against the contracts' own total (to the cent), and
    no warning or error in the measured process's log."""
    failures = []
    if abs(float(expected or 0) - float(billed or 0)) > 0.01:
        failures.append(f"total billed {billed} != contracts' total {expected}")
    if res.get("log_warnings"):
        failures.append(
            f"{res['log_warnings']} warning/error log lines: {res['log_first'][:2]}"
        )
    return failures


def _summary(conn, invoices, failures, contract_model):
    """What every contender's check reports: the invoices, their chatter
    messages and followers, and the messages on the contracts (the one
    linking each invoice)."""
    messages = q1(conn, "SELECT count(*) FROM mail_message WHERE model='account.move'")
    followers = q1(
        conn, "SELECT count(*) FROM mail_followers WHERE res_model='account.move'"
    )
    contract_messages = q1(
        conn,
        "SELECT count(*) FROM mail_message WHERE model=%s",
        (contract_model,),
    )
    return {
        "invoices": invoices,
        "messages": messages,
        "contract_messages": contract_messages,
        "followers": followers,
        "ok": not failures,
        "failures": failures,
    }
