"""The benchmark's Markdown report: the table, the floor's phases, the
parallel runs, the targets and the correctness summary."""

import os
import platform
import re
import subprocess
from pathlib import Path

from common import (
    BATCH_SIZE,
    CRON_TIME_LIMIT,
    OCA_TARGET,
    ROOT,
    TARGET_EXTRA_QUERIES,
    TARGET_RSS_GROWTH,
    TARGET_TIME_RATIO,
)
from rbtools.db import q


def machine_info():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    settings = dict(
        q(
            "postgres",
            """SELECT name, setting || coalesce(unit, '') FROM pg_settings
                WHERE name IN ('server_version', 'shared_buffers', 'fsync',
                               'synchronous_commit', 'work_mem')""",
        )
    )
    release = (Path(os.environ["ODOO_SRC"]) / "odoo" / "release.py").read_text()
    match = re.search(r"^version_info = \((\d+), (\d+)", release, re.M)
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(
        [*git, "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "recurring_billing"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "code": head
        + (" + uncommitted changes in recurring_billing/" if dirty else ""),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "pg": settings.get("server_version", "?"),
        "pg_settings": ", ".join(
            f"{k}={v}" for k, v in sorted(settings.items()) if k != "server_version"
        ),
        "python": platform.python_version(),
        "odoo": ".".join(match.groups()) if match else "?",
        "kernel": platform.release(),
    }


def oca_version():
    path = OCA_TARGET / ".requirements"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("odoo-addon-contract=="):
                return line.split("==")[1]
    return "?"


def fmt_ratio(value, base):
    return f"{value / base:.2f}x" if base else "-"


def ms_per_inv(r, key="wall_s"):
    return 1000 * r[key] / r["n"]


def result_row(r, floor):
    n = r["n"]
    ms, cpu, qpi = ms_per_inv(r), ms_per_inv(r, "cpu_s"), r["queries"] / n
    spread = f"{ms_per_inv(r, 'wall_min'):.1f}-{ms_per_inv(r, 'wall_max'):.1f}"
    cron = (
        f"{r['busy_calls']} / {r['callbacks']} / {r['max_call_s']:.1f}"
        if "callbacks" in r
        else "-"
    )
    if floor:
        ratio = fmt_ratio(ms, ms_per_inv(floor))
        cpu_ratio = fmt_ratio(cpu, ms_per_inv(floor, "cpu_s"))
        dq = f"{qpi - floor['queries'] / n:+.1f}"
        rss_ratio = fmt_ratio(r["rss_mb"], floor["rss_mb"])
    else:
        ratio = cpu_ratio = dq = rss_ratio = "-"
    return (
        f"| {n:,} | {r['lines']} | {r['mode']} | {r['reps']} | {ms:.1f} | {spread} "
        f"| {ratio} | {cpu:.1f} | {cpu_ratio} | {qpi:.1f} | {dq} "
        f"| {r['messages'] / n:.2f} / {r.get('contract_messages', 0) / n:.2f} "
        f"| {r['rss_mb']:.0f} | {rss_ratio} | {cron} | {r['load_max']:.1f} "
        f"| {'OK' if r['ok'] else 'FAIL'} |"
    )


def base_floor(bench, n, nlines):
    """What every ratio is taken against: the batched floor, else
    (a run without it) the one-transaction floor."""
    return bench.find("floor_batch", n, nlines) or bench.find("floor", n, nlines)


def render_targets(bench):
    lines = []
    for r in bench.scenarios():
        floor = base_floor(bench, r["n"], r["lines"])
        if r["mode"] != "ours" or not floor:
            continue
        ms, fms = ms_per_inv(r), ms_per_inv(floor)
        cpu, fcpu = ms_per_inv(r, "cpu_s"), ms_per_inv(floor, "cpu_s")
        qpi, fq = r["queries"] / r["n"], floor["queries"] / r["n"]
        time_ok = ms <= TARGET_TIME_RATIO * fms
        q_ok = qpi <= fq + TARGET_EXTRA_QUERIES
        lines.append(
            f"- N={r['n']:,}, {r['lines']} line(s): time {ms:.1f} vs "
            f"{floor['mode']} "
            f"{fms:.1f} ms/inv = {ms / fms:.2f}x (target <= {TARGET_TIME_RATIO}x): "
            f"**{'met' if time_ok else 'MISSED'}** (CPU {cpu / fcpu:.2f}x); "
            f"queries {qpi:.1f} vs {fq:.1f}/inv = {qpi - fq:+.1f} "
            f"(target <= +{TARGET_EXTRA_QUERIES}): **{'met' if q_ok else 'MISSED'}**"
        )
    for nlines in bench.args.variants:
        small, big = bench.find("ours", 1000, nlines), bench.find("ours", 10000, nlines)
        if small and big:
            growth = big["rss_mb"] / small["rss_mb"]
            lines.append(
                f"- RSS flat 1,000 -> 10,000 ({nlines} line(s)): "
                f"{small['rss_mb']:.0f} -> {big['rss_mb']:.0f} MB peak "
                f"({growth:.2f}x; target <= {TARGET_RSS_GROWTH}x): "
                f"**{'met' if growth <= TARGET_RSS_GROWTH else 'MISSED'}**"
            )
        else:
            lines.append(f"- RSS flat 1,000 -> 10,000 ({nlines} line(s)): not run")
        if big:
            ok = big["ok"] and big["max_call_s"] < CRON_TIME_LIMIT
            lines.append(
                f"- 10,000 contracts ({nlines} line(s)) under "
                f"limit_time_real_cron={CRON_TIME_LIMIT}: {big['invoices']:,} "
                f"invoices in {big['callbacks']} committed batches over "
                f"{big['busy_calls']} runner calls, longest call "
                f"{big['max_call_s']:.1f} s: **{'met' if ok else 'MISSED'}**"
            )
        else:
            lines.append(
                f"- 10,000 contracts ({nlines} line(s)) under the limit: not run"
            )
    return lines


def render_parallel(bench):
    rows = [r for r in bench.scenarios() if r["mode"] == "par"]
    if not rows:
        return []
    base = bench.find("par", rows[0]["n"], 1)
    rows = [r for r in rows if r["workers"] > 1]
    out = [
        "",
        "## Parallel cron workers (1 line)",
        "",
        "Two worker processes, each calling `ir.cron._process_jobs(db)` on its own "
        "copy of the billing cron record (as two cron threads/workers would), "
        "against one worker run right before them (same N, same load).",
        "",
        "| N | workers | journals | runs | wall s (median) | invoices/s "
        "| x 1 worker | CPU ms/inv | queries/inv | peak RSS MB (per worker) "
        "| serialization ERROR logs | lock waits | cores busy | load | checks |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in ([base] if base else []) + rows:
        rate = r["n"] / r["wall_s"]
        brate = base["n"] / base["wall_s"] if base else None
        out.append(
            f"| {r['n']:,} | {r['workers']} | {r['journals']} | {r['reps']} "
            f"| {r['wall_s']:.1f} | {rate:.1f} | {fmt_ratio(rate, brate)} "
            f"| {ms_per_inv(r, 'cpu_s'):.1f} | {r['queries'] / r['n']:.1f} "
            f"| {r['rss_mb']:.0f} | {r.get('serialization_logs', 0)} "
            f"| {r.get('lock_wait_share', 0):.0%} | {r.get('cpu_busy_share', 0):.0%} "
            f"| {r['load_max']:.1f} | {'OK' if r['ok'] else 'FAIL'} |"
        )
    return out


def render_header(bench, final):
    m = bench.machine
    return [
        "# recurring_billing benchmark: scheduled action vs Odoo's create+post "
        "floors and OCA contract",
        "",
        f"- Run: {bench.started:%Y-%m-%d %H:%M}"
        + (f" to {bench.finished:%H:%M}" if final else " (in progress)")
        + f"; command: `bash scripts/bench.sh {' '.join(bench.args.argv)}`".rstrip(),
        f"- Code: recurring_billing at commit {m['code']}",
        f"- Machine: {m['nproc']} CPU ({m['cpu']}), {m['mem_gb']} GB RAM, "
        f"Linux {m['kernel']}",
        f"- PostgreSQL {m['pg']} ({m['pg_settings']}), Python {m['python']}, "
        f"Odoo {m['odoo']}",
        "- Contracts started through `action_start` (no activation email); "
        "each contender in a fresh process of its own; every ratio (x floor) "
        "is against **floor_batch**.",
        "- **floor_batch**: `account.move.create(vals)` + `action_post()` + "
        f"commit per batch of {BATCH_SIZE} (the engine's batch size), as the "
        "billing user, values from the contracts' own `_prepare_invoice_vals` "
        "(built beforehand, cache emptied). **floor**: the same in one "
        "transaction.",
        "- **oca**: OCA `contract` "
        f"{oca_version()} (PyPI wheel, installed in the benchmark's own "
        "addons directory, its own database with the same chart, tax, product "
        "and customers): its scheduled action through `ir.cron._process_jobs` "
        "(it makes drafts, in one transaction), then `action_post()` + commit "
        f"per batch of {BATCH_SIZE}, as the superuser (its cron's user)."
        + (
            " floor_nolog: the same with `mail_create_nolog` and "
            "`mail_create_nosubscribe`."
            if "floor_nolog" in bench.args.modes
            else ""
        ),
        "- **ours**: N monthly contracts due today, billed by the real "
        "`recurring_billing.ir_cron_generate_invoices` record through "
        "`ir.cron._process_jobs(db)` (Odoo's runner: its own cursors, a commit "
        "per batch), called until nothing is due; limit_time_real_cron="
        f"{CRON_TIME_LIMIT}, recurring_billing.batch_size=100 (the engine may "
        "lower it); wall time end to end.",
        "- ms/inv: wall time, median of the runs (min-max); CPU ms/inv: CPU time "
        "of the Odoo process(es) only (PostgreSQL excluded), which other work on "
        "the machine disturbs far less than wall time; load: highest 1-min load "
        "average seen around the runs (2 = both cores busy).",
        "- queries/inv: all SQL of the process (`odoo.sql_db.sql_counter`), commit "
        "included; msgs/inv: mail.message rows on invoices / on contracts; peak "
        "RSS: `ru_maxrss` of the measuring process (a fresh process per run).",
        "- cron: runner calls that ran the job / committed batches "
        "(ir.cron.progress rows) / longest runner call in s (must stay under the "
        "limit).",
    ]


def render_report(bench, final):
    out = render_header(bench, final) + [
        "",
        "| N | lines | mode | runs | ms/inv | min-max | x floor | CPU ms/inv "
        "| x floor CPU | queries/inv | vs floor | msgs/inv inv / contract "
        "| peak RSS MB | x floor RSS | cron | load | checks |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---|---:|---|",
    ]
    scenarios = bench.scenarios()
    for r in scenarios:
        if r["mode"] == "par":
            continue
        floor = base_floor(bench, r["n"], r["lines"])
        base = floor if floor and floor["mode"] != r["mode"] else None
        out.append(result_row(r, base))
    floors = [
        r for r in scenarios if r["mode"].startswith("floor") or r["mode"] == "oca"
    ]
    if floors:
        out += [
            "",
            "Phases (ms/inv, median run): create (oca: its scheduled action) / "
            "action_post / commit",
        ]
        out += [""] + [
            f"- N={r['n']:,}, {r['lines']} line(s), {r['mode']}: "
            f"{ms_per_inv(r, 'create_s'):.1f} / {ms_per_inv(r, 'post_s'):.1f} / "
            f"{ms_per_inv(r, 'commit_s'):.1f}"
            for r in floors
        ]
    out += render_parallel(bench)
    out += ["", "## Targets", ""] + render_targets(bench)
    failures = [
        f"- {r['name']}: {'; '.join(r['failures'])}"
        for r in bench.results
        if not r["ok"]
    ]
    out += ["", "## Correctness", ""]
    out += failures or [
        "Every run: invoices == N, all posted, no (contract, period) twice, "
        "names unique and contiguous per journal (1..count), totals equal to the "
        "contracts' totals; for ours also the ledger (one row per contract), "
        "every contract advanced, no billing error, no warning in the logs."
    ]
    return "\n".join(out) + "\n"
