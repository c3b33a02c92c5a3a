"""The benchmark's databases: the template (installed by odoo-bin, filled by
the ``prepare`` subcommand), the clone of each scenario, and its set-up (the
``setup`` subcommand).

``cmd_*`` run in a process of their own and load Odoo; the other functions
run in the orchestrator, with plain SQL.
"""

import time
from datetime import datetime, timezone

from common import (
    BATCH_SIZE,
    OCA_CRON_XMLID,
    OCA_TEMPLATE_DB,
    PRODUCT_PRICE,
    RUN_DB,
    SECOND_JOURNAL_CODE,
    TEMPLATE_DB,
    TEMPLATE_VARIANTS,
    TEMPLATE_VERSION,
    USAGE_RECORDS,
    USAGE_VARIANT,
    addons_path_args,
    bootstrap,
    say,
    variant_lines,
)
from dateutil.relativedelta import relativedelta
from rbtools import CRON_XMLID
from rbtools.db import clone_db, db_exists, drop_db, q, row1

# ---------------------------------------------------------------------------
# Odoo side (subcommands)
# ---------------------------------------------------------------------------


# Creating thousands of records: no tracking, no creation message, no
# follower, as any bulk import would (the same for every contender).
CREATE_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


def _bench_catalog(env):
    """The company (generic chart), its 15 % sale tax and the billed
    service: the same for our database and OCA's, so both bill the same
    invoices."""
    from odoo import Command

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
    return company, tax, product


def _bench_customers(env, count):
    """``count`` customer companies, every other one with an e-mail address,
    committed per thousand."""
    partners = env["res.partner"]
    for start in range(0, count, 1000):
        partners |= env["res.partner"].create(
            [
                {
                    "name": f"Bench Customer {i:05d}",
                    "email": f"customer{i:05d}@example.com" if i % 2 else False,
                    "is_company": True,
                }
                for i in range(start, min(start + 1000, count))
            ]
        )
        env.cr.commit()
    return partners


def _only_scheduled_action(env, xmlid):
    """Only the contender's own scheduled action may run in the measured
    runs (and only when the driver calls it)."""
    cron = env.ref(xmlid)
    env["ir.cron"].with_context(active_test=False).search(
        [("id", "!=", cron.id)]
    ).write({"active": False})
    cron.write({"active": True, "nextcall": "2099-01-01 00:00:00"})


def cmd_prepare(args):
    """Template content: chart of accounts, 15% tax, one service product,
    ``nmax`` customers (half with email), and for each variant (1 and 5
    lines) ``nmax`` monthly contracts, running, due today."""
    registry = bootstrap(args.db)
    from rbtools.orm import billing_today

    from odoo import SUPERUSER_ID, Command, api

    ctx = CREATE_CONTEXT
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, ctx)
        company, tax, product = _bench_catalog(env)
        env["account.journal"].create(
            {
                "name": "Bench Invoices 2",
                "code": SECOND_JOURNAL_CODE,
                "type": "sale",
                "company_id": company.id,
            }
        )
        # Only the billing scheduled action may run in the measured runs.
        _only_scheduled_action(env, CRON_XMLID)
        today = billing_today(env)
        env["ir.config_parameter"].set_param(
            "recurring_billing.batch_size", str(BATCH_SIZE)
        )
        cr.commit()
        say(f"chart {company.chart_template}, tax {tax.name}, today {today}")

        partners = _bench_customers(env, args.nmax)
        say(f"{len(partners)} customers")
        for nlines in args.variants:
            t0 = time.monotonic()
            # Variants 2 and USAGE_VARIANT: in arrears from a month ago, so
            # that the invoice due today carries the usage of its period.
            arrears = nlines in (2, USAGE_VARIANT)
            start_date = today - relativedelta(months=1) if arrears else today
            for start in range(0, args.nmax, 500):
                contracts = env["recurring.contract"].create(
                    [
                        {
                            "partner_id": partner.id,
                            "date_start": start_date,
                            "recurring_rule_type": "monthly",
                            "recurring_interval": 1,
                            "invoicing_mode": "arrears" if arrears else "advance",
                            "invoice_action": "post",
                            "line_ids": [
                                Command.create(
                                    {
                                        "product_id": product.id,
                                        "quantity": float(k),
                                        "price_unit": PRODUCT_PRICE + k,
                                        "quantity_type": "usage"
                                        if nlines == USAGE_VARIANT and k == 2
                                        else "fixed",
                                        "usage_included": 10.0,
                                    }
                                )
                                for k in range(1, variant_lines(nlines)[0] + 1)
                            ],
                        }
                        for partner in partners[start : start + 500]
                    ]
                )
                if nlines == USAGE_VARIANT:
                    env["recurring.contract.usage"].create(
                        [
                            {
                                "line_id": line.id,
                                "date": start_date + relativedelta(days=r * 7),
                                "quantity": 5.0 + r,
                                "reference": f"bench-{line.id}-{r}",
                            }
                            for line in contracts.line_ids
                            if line.quantity_type == "usage"
                            for r in range(USAGE_RECORDS)
                        ]
                    )
                # Started as a user would: the lifecycle's own
                # action, its checks, MRR movements and chatter message; no
                # activation email.
                contracts.action_start(notify=False)
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


def cmd_prepare_oca(args):
    """The OCA template's content: the same chart, 15% tax, product and
    customers as ours, and for each variant ``nmax`` OCA ``contract.contract``
    records, monthly, starting today (due today), lines of the same
    quantities and prices."""
    registry = bootstrap(args.db)
    from odoo import SUPERUSER_ID, Command, api, fields

    ctx = CREATE_CONTEXT
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, ctx)
        company, tax, product = _bench_catalog(env)
        _only_scheduled_action(env, OCA_CRON_XMLID)
        today = fields.Date.context_today(env["contract.contract"])
        cr.commit()
        partners = _bench_customers(env, args.nmax)
        for nlines in args.variants:
            for start in range(0, args.nmax, 500):
                env["contract.contract"].create(
                    [
                        {
                            "name": f"Bench {nlines} {partner.name}",
                            "partner_id": partner.id,
                            "contract_type": "sale",
                            "recurring_rule_type": "monthly",
                            "recurring_interval": 1,
                            "recurring_invoicing_type": "pre-paid",
                            "date_start": today,
                            "contract_line_ids": [
                                Command.create(
                                    {
                                        "product_id": product.id,
                                        "name": "Bench Service",
                                        "quantity": float(k),
                                        "price_unit": PRODUCT_PRICE + k,
                                        "recurring_rule_type": "monthly",
                                        "recurring_interval": 1,
                                        "recurring_invoicing_type": "pre-paid",
                                        "date_start": today,
                                        # Given, not left to its compute: in
                                        # a batch create of multi-line
                                        # contracts the compute runs before
                                        # the contract's recurrence is set
                                        # and its constraint refuses it.
                                        "recurring_next_date": today,
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
            say(f"OCA: {args.nmax} contracts of {nlines} line(s)")
        due = env["contract.contract"].search_count(
            [("recurring_next_date", "=", today)]
        )
        if due != args.nmax * len(args.variants):
            raise SystemExit(f"OCA: {due} contracts due today, not all")
        env["ir.config_parameter"].set_param("rb_bench.template", args.key)
        cr.commit()


# ---------------------------------------------------------------------------
# Orchestrator side
# ---------------------------------------------------------------------------


def template_variants(bench_variants):
    """The default variants, plus the usage ones when asked for."""
    return sorted(set(TEMPLATE_VARIANTS) | set(bench_variants or ()))


def template_key(nmax, code_digest, bench_variants=()):
    today = datetime.now(timezone.utc).date()
    variants = ",".join(map(str, template_variants(bench_variants)))
    return f"{TEMPLATE_VERSION}:{nmax}:{variants}:{today}:{code_digest}"


def template_ok(nmax, code_digest, bench_variants=()):
    if not db_exists(TEMPLATE_DB):
        return False
    row = row1(
        TEMPLATE_DB,
        "SELECT value FROM ir_config_parameter WHERE key='rb_bench.template'",
    )
    if not row:
        return False
    have = row[0].split(":")
    want = template_key(nmax, code_digest, bench_variants).split(":")
    if len(have) != len(want):
        return False
    # Same content, code and day; at least as many contracts.
    return have[0] == want[0] and have[2:] == want[2:] and int(have[1]) >= nmax


def prepare_template(bench, nmax):
    """The template database with ``nmax`` contracts of each variant, unless
    ``--reuse-template`` and an up-to-date one exists. ``bench`` runs the
    processes (``odoo_bin``, ``call``)."""
    digest = bench.code_digest
    variants = bench.args.variants
    if bench.args.reuse_template and template_ok(nmax, digest, variants):
        say(f"reusing the template database {TEMPLATE_DB}")
        return
    say(f"creating the template database {TEMPLATE_DB} (N max = {nmax})")
    drop_db(TEMPLATE_DB)
    t0 = time.monotonic()
    bench.odoo_bin(
        [
            "-c",
            bench.cfg,
            "-d",
            TEMPLATE_DB,
            "-i",
            "recurring_billing",
            "--without-demo=True",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
            *addons_path_args(),
        ],
        "template-install",
    )
    say(f"installed in {time.monotonic() - t0:.0f} s; generating data")
    bench.call(
        [
            "prepare",
            "--db",
            TEMPLATE_DB,
            "--nmax",
            str(nmax),
            "--variants",
            ",".join(map(str, template_variants(variants))),
            "--key",
            template_key(nmax, digest, variants),
        ],
        "template-prepare",
    )
    q(TEMPLATE_DB, "VACUUM ANALYZE")
    if not template_ok(nmax, digest, variants):
        raise SystemExit("template preparation incomplete")
    say(f"template ready in {time.monotonic() - t0:.0f} s")


def prepare_oca_template(bench, nmax):
    """The OCA template (``contract`` from its PyPI wheel installed), unless
    ``--reuse-template`` and an up-to-date one exists."""
    key = f"oca{TEMPLATE_VERSION}:{nmax}:{datetime.now(timezone.utc).date()}"
    if bench.args.reuse_template and db_exists(OCA_TEMPLATE_DB):
        row = row1(
            OCA_TEMPLATE_DB,
            "SELECT value FROM ir_config_parameter WHERE key='rb_bench.template'",
        )
        have = row[0].split(":") if row else []
        want = key.split(":")
        if have and have[0] == want[0] and have[2:] == want[2:]:
            if int(have[1]) >= nmax:
                say(f"reusing the OCA template database {OCA_TEMPLATE_DB}")
                return
    say(f"creating the OCA template database {OCA_TEMPLATE_DB} (N max = {nmax})")
    drop_db(OCA_TEMPLATE_DB)
    bench.odoo_bin(
        [
            "-c",
            bench.cfg,
            "-d",
            OCA_TEMPLATE_DB,
            "-i",
            "contract",
            "--without-demo=True",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
            *addons_path_args(),
        ],
        "oca-template-install",
    )
    bench.call(
        [
            "prepare-oca",
            "--db",
            OCA_TEMPLATE_DB,
            "--nmax",
            str(nmax),
            "--variants",
            ",".join(map(str, bench.args.variants)),
            "--key",
            key,
        ],
        "oca-template-prepare",
    )
    q(OCA_TEMPLATE_DB, "VACUUM ANALYZE")


def make_oca_clone(n, nlines):
    """The run database for OCA: its template where exactly ``n`` contracts
    of ``nlines`` lines stay due today; the others are never due."""
    clone_db(OCA_TEMPLATE_DB, RUN_DB)
    q(
        RUN_DB,
        """WITH lines AS (
               SELECT contract_id, count(*) AS n FROM contract_line
                GROUP BY contract_id),
           chosen AS (
               SELECT c.id FROM contract_contract c
                 JOIN lines ON lines.contract_id = c.id
                WHERE lines.n = %s ORDER BY c.id LIMIT %s)
           UPDATE contract_contract SET recurring_next_date = NULL
            WHERE id NOT IN (SELECT id FROM chosen)""",
        [nlines, n],
    )
    (due,) = row1(
        RUN_DB,
        "SELECT count(*) FROM contract_contract WHERE recurring_next_date IS NOT NULL",
    )
    if due != n:
        raise SystemExit(f"the OCA template holds {due} contracts, not {n}")


def make_clone(n, nlines):
    """The run database: a copy of the template where exactly ``n``
    contracts of ``nlines`` lines stay running and due; the others are
    paused (what the ORM computes for a paused contract)."""
    clone_db(TEMPLATE_DB, RUN_DB)
    count, usage = variant_lines(nlines)
    q(
        RUN_DB,
        """WITH lines AS (
               SELECT contract_id, count(*) AS n,
                      bool_or(quantity_type = 'usage') AS usage
                 FROM recurring_contract_line GROUP BY contract_id),
           chosen AS (
               SELECT c.id FROM recurring_contract c
                 JOIN lines ON lines.contract_id = c.id
                WHERE lines.n = %s AND lines.usage = %s ORDER BY c.id LIMIT %s)
           UPDATE recurring_contract
              SET state = 'paused', next_invoice_date = NULL
            WHERE id NOT IN (SELECT id FROM chosen)""",
        [count, usage, n],
    )
    (running,) = row1(
        RUN_DB, "SELECT count(*) FROM recurring_contract WHERE state='running'"
    )
    if running != n:
        raise SystemExit(f"the template holds {running} contracts, not {n}")
