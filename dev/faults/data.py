"""The fault suite's data: the template database every case copies, the
contracts of a case with the periods they owe (computed here, not by the
engine), the scheduled action's settings, and what is due.

Odoo is imported from PYTHONPATH, and so are the helpers the suite shares
with the benchmark (``dev/rbtools``: databases, Odoo boot, what is due, the
invariants); scripts/faults.sh sets both. The template is rebuilt when this
file changes.
"""

import json
import os

from dateutil.relativedelta import relativedelta
from rbtools import CRON_XMLID
from rbtools.db import connect, q, q1
from rbtools.orm import billing_today, due_count, odoo_env

from odoo import Command

PARAM_PREFIX = "rb_faults."


def sql_conn(db):
    """A plain autocommit connection, for checks and polling."""
    return connect(db, application_name=f"rb_faults-driver-{os.getpid()}")


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
        invoicer = _user(
            env, "rbf_invoicer", "RBF Invoicing User", "account.group_account_invoice"
        )
        manager = _user(
            env, "rbf_manager", "RBF Billing Manager", "account.group_account_manager"
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


def _user(env, login, name, group_xmlid):
    """An internal user of the template with one accounting group."""
    return (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": name,
                "login": login,
                "email": f"{login}@example.com",
                "groups_id": [
                    Command.set(
                        [env.ref("base.group_user").id, env.ref(group_xmlid).id]
                    )
                ],
            }
        )
    )


def param(env, key, default=None):
    return env["ir.config_parameter"].get_param(PARAM_PREFIX + key, default)


# -------------------------------------------------------------- contracts
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


def ledger_count(conn):
    return q1(conn, "SELECT count(*) FROM recurring_contract_period")


def today_of(db):
    with odoo_env(db) as env:
        return billing_today(env)


def due_now(db, date_ref=None):
    """Contracts the scheduled action would still claim (the addon's own
    domain, as the billing user; date_ref: the company's today)."""
    with odoo_env(db) as env:
        return due_count(env, date_ref)


def total(expected):
    """The periods owed by the contracts of ``make_contracts``."""
    return sum(len(v) for v in expected.values())
