"""Benchmark of the revenue dashboard: 10,000 contracts with
their MRR movements, then the time of the dashboard's one data call,
``recurring.revenue.report.get_dashboard_data`` (SQL aggregates).

    bash scripts/bench_dashboard.sh                 # 10,000 contracts
    bash scripts/bench_dashboard.sh --contracts 2000 --reuse

Steps, each in its own process (``scripts/bench_dashboard.sh`` runs them):

- ``prepare``: contracts created with the ORM in batches (monthly, quarterly
  and yearly; some with a line changed from a date, some paused, some
  resumed, some ending), then their movements built by the addon's own
  ``_build_mrr_history`` (the lifecycle's sync), then the forecast;
- ``measure``: a fresh process (empty ORM caches): the first call is
  "cold", then ``--runs`` "warm" calls; the median is reported.

Not a timed unit test: a measurement, printed and written to
``dev/bench/results/dashboard.md``.
"""

import argparse
import random
import statistics
import time
from datetime import timedelta

from rbtools.orm import boot, odoo_env

from odoo import Command


def prepare(db, contracts, batch=500, seed=14):
    rng = random.Random(seed)
    with odoo_env(db, context={"tracking_disable": True}) as env:
        company = env.company
        today = company._get_recurring_today()
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        income = env["account.account"].search(
            [("account_type", "=", "income"), ("company_ids", "in", company.id)],
            limit=1,
        )
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench plan {n}",
                    "type": "service",
                    "list_price": 10.0 * (n + 1),
                    "property_account_income_id": income.id,
                    "taxes_id": [Command.clear()],
                }
                for n in range(5)
            ]
        )
        partners = env["res.partner"].create(
            [{"name": f"Bench customer {n}"} for n in range(contracts * 3 // 10)]
        )
        env.cr.commit()
    t0 = time.monotonic()
    done = 0
    while done < contracts:
        with odoo_env(
            db, context={"tracking_disable": True, "mail_create_nolog": True}
        ) as env:
            vals_list, pauses = [], []
            for n in range(done, min(done + batch, contracts)):
                start = today - timedelta(days=rng.randint(30, 1000))
                kind = rng.random()
                rule, interval = (
                    ("monthly", 1)
                    if kind < 0.7
                    else ("monthly", 3)
                    if kind < 0.8
                    else ("yearly", 1)
                )
                price = rng.choice([29.0, 49.0, 99.0, 199.0, 499.0])
                product = products[n % len(products)]
                date_end = False
                if rng.random() < 0.15:  # ending, in the past or the future
                    date_end = start + timedelta(days=rng.randint(30, 1100))
                lines = []
                last_day = min(today, date_end) if date_end else today
                if rng.random() < 0.3:  # a change from a date: up or down
                    days = rng.randint(1, (last_day - start).days)
                    change = start + timedelta(days=days)
                    lines.append((price, None, change - timedelta(days=1)))
                    lines.append((price * rng.choice([0.5, 1.5, 2.0]), change, None))
                else:
                    lines.append((price, None, None))
                vals_list.append(
                    {
                        "partner_id": partners[n % len(partners)].id,
                        "journal_id": journal.id,
                        "date_start": start,
                        "date_end": date_end,
                        "recurring_rule_type": rule,
                        "recurring_interval": interval,
                        "state": "running",
                        "line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "date_start": line_start,
                                    "date_end": line_end,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                            for amount, line_start, line_end in lines
                        ],
                    }
                )
                pauses.append(rng.random() < 0.12)
            created = env["recurring.contract"].create(vals_list)
            suspensions = []
            for contract, paused in zip(created, pauses, strict=True):
                if not paused:
                    continue
                pause = contract.date_start + timedelta(
                    days=rng.randint(1, max(1, (today - contract.date_start).days))
                )
                resumed = rng.random() < 0.5
                suspensions.append(
                    {
                        "contract_id": contract.id,
                        "date_start": pause,
                        "date_end": pause + timedelta(days=60) if resumed else False,
                    }
                )
                if not resumed:
                    contract.state = "paused"
            env["recurring.contract.suspension"].create(suspensions)
            env["recurring.contract"].browse(created.ids)._build_mrr_history()
        done += len(vals_list)
        print(f"  {done} contracts ({time.monotonic() - t0:.0f} s)", flush=True)
    with odoo_env(db) as env:
        t1 = time.monotonic()
        env["recurring.forecast.line"]._refresh()
        forecast_s = time.monotonic() - t1
        movements = env["recurring.mrr.movement"].search_count([])
        rows = env["recurring.forecast.line"].search_count([])
    print(
        f"prepared {contracts} contracts, {movements} movements in "
        f"{time.monotonic() - t0:.0f} s; forecast: {rows} rows in {forecast_s:.1f} s"
    )


def measure(db, runs):
    with odoo_env(db) as env:
        report = env["recurring.revenue.report"]
        t0 = time.perf_counter()
        data = report.get_dashboard_data()
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(runs):
            env.invalidate_all()
            t0 = time.perf_counter()
            report.get_dashboard_data()
            warm.append(time.perf_counter() - t0)
        contracts = env["recurring.contract"].search_count([])
        movements = env["recurring.mrr.movement"].search_count([])
    month = data["this_month"]
    print(
        f"contracts={contracts} movements={movements} "
        f"active={month['active_contracts']} mrr={month['mrr_end']:.2f} "
        f"cold_ms={cold * 1000:.1f} "
        f"warm_median_ms={statistics.median(warm) * 1000:.1f} "
        f"warm_max_ms={max(warm) * 1000:.1f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("prepare", "measure"))
    parser.add_argument("--cfg", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--contracts", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    boot(args.cfg, args.db)
    if args.step == "prepare":
        prepare(args.db, args.contracts)
    else:
        measure(args.db, args.runs)


if __name__ == "__main__":
    main()
