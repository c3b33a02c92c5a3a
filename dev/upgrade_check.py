#!/usr/bin/env python3
"""The two Odoo-side halves of the upgrade test (``scripts/upgrade_test.sh``).

    upgrade_check.py prepare --config CFG --db DB --state STATE.json
        run against the PREVIOUS release (its addons path in CFG): creates
        contracts, bills their periods with the scheduled action, checks the
        amounts, and saves what the database holds (contracts, lines, ledger
        rows, invoices) to STATE.json;
    upgrade_check.py check --config CFG --db DB --state STATE.json
        run against the WORKING TREE after ``-u recurring_billing``: the same
        rows with the same values, the module at the working version, then
        the scheduled action for the next period bills it exactly once per
        contract and a rerun bills nothing.

Only documented entry points are called (``action_start``,
``_cron_generate_invoices``), the ones every release has, and the database is
read back with plain SQL: the checks must not depend on the code under test.
Dates are relative to today (every period already due), amounts are exact.
Exits non-zero with the list of failed checks.
"""

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta

# The helpers shared with the fault suite and the benchmark (dev/rbtools).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rbtools.orm import boot, odoo_env  # noqa: E402

from odoo import Command, fields  # noqa: E402

MARK = "RB upgrade"  # names of everything this script creates
TAX_RATE = Decimal("15")

# What is compared before and after the upgrade: the columns that carry
# meaning, those of them present in the previous release's schema.
TABLES = {
    "recurring_contract": (
        "SELECT {cols} FROM recurring_contract WHERE id = ANY(%s) ORDER BY id",
        [
            "id",
            "name",
            "state",
            "partner_id",
            "company_id",
            "journal_id",
            "currency_id",
            "date_start",
            "date_end",
            "recurring_interval",
            "recurring_rule_type",
            "invoicing_mode",
            "invoice_action",
            "next_period_start",
            "next_invoice_date",
            "amount_untaxed",
            "amount_total",
            "active",
        ],
    ),
    "recurring_contract_line": (
        "SELECT {cols} FROM recurring_contract_line "
        "WHERE contract_id = ANY(%s) ORDER BY id",
        [
            "id",
            "contract_id",
            "product_id",
            "name",
            "quantity",
            "price_unit",
            "price_subtotal",
            "date_start",
            "date_end",
        ],
    ),
    "recurring_contract_period": (
        "SELECT {cols} FROM recurring_contract_period "
        "WHERE contract_id = ANY(%s) ORDER BY id",
        [
            "id",
            "contract_id",
            "period_index",
            "date_start",
            "date_end",
            "kind",
            "state",
            "amount_billed",
            "billed_amounts",
            "move_id",
        ],
    ),
    "account_move": (
        "SELECT {cols} FROM account_move "
        "WHERE recurring_contract_id = ANY(%s) ORDER BY id",
        [
            "id",
            "name",
            "state",
            "move_type",
            "journal_id",
            "partner_id",
            "invoice_date",
            "recurring_contract_id",
            "recurring_period_id",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "payment_state",
        ],
    ),
}


def columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
        [table],
    )
    return {r[0] for r in cr.fetchall()}


def dump(cr, contract_ids, wanted=None):
    """{table: {"columns": [...], "rows": [[...], ...]}} as JSON values;
    ``wanted``: the columns per table to read (default: those of TABLES that
    exist in this schema)."""
    out = {}
    for table, (query, cols) in TABLES.items():
        present = columns(cr, table)
        cols = wanted[table] if wanted else [c for c in cols if c in present]
        missing = [c for c in cols if c not in present]
        if missing:  # a column of the previous release vanished
            out[table] = {"columns": cols, "rows": None, "missing": missing}
            continue
        cr.execute(query.format(cols=", ".join(f'"{c}"' for c in cols)), [contract_ids])
        rows = [[jsonable(v) for v in row] for row in cr.fetchall()]
        out[table] = {"columns": cols, "rows": rows}
    return out


def jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    return value


def plan(today):
    """The contracts and the dates of the test, from ``today``: the first
    run bills two or three months of backlog, the second the next period."""
    start = today.replace(day=1) - relativedelta(months=4)
    first_run = start + relativedelta(months=2, days=14)
    next_run = start + relativedelta(months=3)
    contracts = [
        # (label, rule, interval, mode, lines [(qty, price)], periods billed
        #  by the first run, period billed by the next run)
        (
            "monthly in advance",
            "monthly",
            1,
            "advance",
            [(1, "100.00")],
            [start + relativedelta(months=k) for k in range(3)],
            start + relativedelta(months=3),
        ),
        (
            "monthly in arrears",
            "monthly",
            1,
            "arrears",
            [(2, "45.50"), (1, "9.99")],
            [start + relativedelta(months=k) for k in range(2)],
            start + relativedelta(months=2),
        ),
        (
            "quarterly in advance",
            "monthly",
            3,
            "advance",
            [(3, "33.33")],
            [start],
            start + relativedelta(months=3),
        ),
    ]
    return start, first_run, next_run, contracts


def invoice_total(lines):
    untaxed = sum(Decimal(qty) * Decimal(price) for qty, price in lines)
    tax = (untaxed * TAX_RATE / 100).quantize(Decimal("0.01"))
    return untaxed.quantize(Decimal("0.01")), (untaxed + tax).quantize(Decimal("0.01"))


class Checks:
    def __init__(self):
        self.failed = []

    def __call__(self, ok, label, detail=""):
        print(
            ("ok    " if ok else "FAIL  ") + label + (f": {detail}" if detail else "")
        )
        if not ok:
            self.failed.append(label)

    def done(self):
        if self.failed:
            print(f"upgrade check: {len(self.failed)} check(s) failed")
            return 1
        print("upgrade check: all checks passed")
        return 0


def invoices_by_contract(cr, contract_ids):
    cr.execute(
        "SELECT m.recurring_contract_id, p.date_start, m.state, m.move_type, "
        "m.amount_untaxed, m.amount_total, p.state "
        "FROM account_move m JOIN recurring_contract_period p "
        "ON p.id = m.recurring_period_id "
        "WHERE m.recurring_contract_id = ANY(%s) ORDER BY m.id",
        [contract_ids],
    )
    return cr.fetchall()


def check_billed(check, rows, cid, label, starts, lines, when):
    """The invoices of contract ``cid`` in ``rows``: one per start, posted,
    with the exact amounts, its ledger row invoiced."""
    untaxed, total = invoice_total(lines)
    mine = [r for r in rows if r[0] == cid]
    check(
        sorted(r[1] for r in mine) == sorted(starts),
        f"{when}: {label} billed the periods starting "
        + ", ".join(d.isoformat() for d in starts),
        "got " + ", ".join(r[1].isoformat() for r in mine),
    )
    check(
        all(
            r[2] == "posted"
            and r[3] == "out_invoice"
            and jsonable(r[4]) == str(untaxed)
            and jsonable(r[5]) == str(total)
            and r[6] == "invoiced"
            for r in mine
        ),
        f"{when}: {label} invoices posted at {untaxed} + 15% = {total}",
        "; ".join(f"{r[2]} {r[3]} {r[4]} {r[5]} ledger {r[6]}" for r in mine),
    )


# ------------------------------------------------------------------ prepare
def cmd_prepare(args):
    boot(args.config, args.db, log_level="info")
    check = Checks()
    with odoo_env(args.db) as env:
        company = env.company
        if not company.chart_template:
            env["account.chart.template"].try_loading(
                "generic_coa", company, install_demo=False
            )
    with odoo_env(args.db) as env:
        company = env.company
        today = fields.Date.context_today(env["res.users"].browse(env.uid))
        start, first_run, next_run, specs = plan(today)
        tax = env["account.tax"].create(
            {
                "name": f"{MARK} 15%",
                "amount": float(TAX_RATE),
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        product = env["product.product"].create(
            {
                "name": f"{MARK} service",
                "type": "service",
                "list_price": 1.0,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
        partner = env["res.partner"].create(
            {"name": f"{MARK} customer", "is_company": True}
        )
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        contracts = env["recurring.contract"]
        for label, rule, interval, mode, lines, _billed, _next in specs:
            contracts |= env["recurring.contract"].create(
                {
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "date_start": start,
                    "recurring_rule_type": rule,
                    "recurring_interval": interval,
                    "invoicing_mode": mode,
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": f"{MARK} {label}",
                                "quantity": qty,
                                "price_unit": float(price),
                                "tax_ids": [Command.set(tax.ids)],
                            }
                        )
                        for qty, price in lines
                    ],
                }
            )
        contracts.action_start()
        env.cr.commit()
        # The scheduled action's own entry point, called from code: it bills
        # every due batch as the billing user, without committing.
        env["recurring.contract"]._cron_generate_invoices(date_ref=first_run)
        env.cr.commit()
        rows = invoices_by_contract(env.cr, contracts.ids)
        for contract, (label, _r, _i, _m, lines, billed, _n) in zip(
            contracts, specs, strict=True
        ):
            check_billed(check, rows, contract.id, label, billed, lines, "before")
        state = {
            "today": today.isoformat(),
            "next_run": next_run.isoformat(),
            "contract_ids": contracts.ids,
            "specs": [
                {
                    "label": label,
                    "lines": lines,
                    "next": nxt.isoformat(),
                    "billed": [d.isoformat() for d in billed],
                }
                for label, _r, _i, _m, lines, billed, nxt in specs
            ],
            "tables": dump(env.cr, contracts.ids),
        }
    Path(args.state).write_text(json.dumps(state, indent=1))
    counts = {t: len(v["rows"]) for t, v in state["tables"].items()}
    print(f"prepared: {counts}, first run {first_run}, next run {next_run}")
    return check.done()


# -------------------------------------------------------------------- check
def cmd_check(args):
    boot(args.config, args.db, log_level="info")
    check = Checks()
    state = json.loads(Path(args.state).read_text())
    ids = state["contract_ids"]
    manifest = args.version
    with odoo_env(args.db) as env:
        cr = env.cr
        cr.execute(
            "SELECT state, latest_version FROM ir_module_module WHERE name = %s",
            ["recurring_billing"],
        )
        mod_state, version = cr.fetchone()
        check(mod_state == "installed", "module installed", mod_state)
        if manifest:
            check(
                version == manifest,
                f"module at the working version {manifest}",
                f"latest_version {version}",
            )
        wanted = {t: v["columns"] for t, v in state["tables"].items()}
        after = dump(cr, ids, wanted)
        for table, before in state["tables"].items():
            now = after[table]
            if now.get("missing"):
                check(False, f"{table}: columns kept", f"gone: {now['missing']}")
                continue
            check(
                len(now["rows"]) == len(before["rows"]),
                f"{table}: {len(before['rows'])} rows kept",
                f"now {len(now['rows'])}",
            )
            diffs = [
                f"{b[0]}.{col}: {bv!r} -> {av!r}"
                for b, a in zip(before["rows"], now["rows"], strict=False)
                for col, bv, av in zip(before["columns"], b, a, strict=True)
                if bv != av
            ]
            check(
                not diffs,
                f"{table}: same values ({len(before['columns'])} columns)",
                "; ".join(diffs[:10]),
            )

        def counts():
            cr.execute(
                "SELECT (SELECT count(*) FROM recurring_contract_period "
                "        WHERE contract_id = ANY(%s)),"
                "       (SELECT count(*) FROM account_move "
                "        WHERE recurring_contract_id = ANY(%s))",
                [ids, ids],
            )
            return cr.fetchone()

        before_rows, before_moves = counts()
        next_run = date.fromisoformat(state["next_run"])
        env["recurring.contract"]._cron_generate_invoices(date_ref=next_run)
        cr.commit()
        rows_1, moves_1 = counts()
        check(
            (rows_1 - before_rows, moves_1 - before_moves) == (len(ids), len(ids)),
            f"next run ({next_run}): one ledger row and one invoice per contract",
            f"+{rows_1 - before_rows} rows, +{moves_1 - before_moves} invoices",
        )
        rows = invoices_by_contract(cr, ids)
        for cid, spec in zip(ids, state["specs"], strict=True):
            starts = [date.fromisoformat(d) for d in spec["billed"] + [spec["next"]]]
            check_billed(
                check, rows, cid, spec["label"], starts, spec["lines"], "after"
            )

        env["recurring.contract"]._cron_generate_invoices(date_ref=next_run)
        cr.commit()
        rows_2, moves_2 = counts()
        check(
            (rows_2, moves_2) == (rows_1, moves_1),
            f"rerun ({next_run}): nothing billed twice",
            f"+{rows_2 - rows_1} rows, +{moves_2 - moves_1} invoices",
        )
        cr.execute(
            "SELECT contract_id, date_start, count(*) FROM recurring_contract_period "
            "WHERE contract_id = ANY(%s) GROUP BY 1, 2 HAVING count(*) > 1",
            [ids],
        )
        dups = cr.fetchall()
        check(not dups, "ledger: each period once", str(dups))
    return check.done()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["prepare", "check"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--version", help="check: the working tree's version")
    args = parser.parse_args()
    sys.exit(cmd_prepare(args) if args.command == "prepare" else cmd_check(args))


if __name__ == "__main__":
    main()
