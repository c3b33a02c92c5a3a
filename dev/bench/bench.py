"""Benchmark of recurring_billing against Odoo's own floor.

Run it through ``scripts/bench.sh`` (``make bench``), which prepares the
virtualenv and the project's PostgreSQL cluster and then calls ``all``.

Every measured step runs in a process of its own, so that the peak RSS of a
scenario is that scenario's only. This file is the command line and the
orchestrator; the subcommands live beside it:

``all``      orchestrates (never imports Odoo): template, clones, runs, checks,
             report.
``prepare``  fills the template database (chart, tax, product, customers,
             contracts); ``prepare.py``, with the template and clones.
``setup``    scenario set-up of a clone (extra cron workers, second journal);
             ``prepare.py``.
``floor``    Odoo's ``account.move.create(vals_list)`` + ``action_post()`` +
             commit, for the invoices the contracts would bill, in one
             transaction or (``--batch``) per batch of the engine's batch
             size; ``contenders.py``.
``oca``      OCA ``contract`` from its PyPI wheel, in a database of its own:
             its scheduled action, then posting; ``contenders.py``.
``worker``   one cron worker: Odoo's real runner ``ir.cron._process_jobs(db)``,
             called until no contract is due; ``contenders.py``.

``checks.py`` holds the correctness checks of every run, ``report.py`` the
Markdown report, ``common.py`` the settings they share; the helpers shared
with the fault suite are in ``dev/rbtools`` (databases, Odoo boot, what is
due, the invariants).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from checks import check_run
from common import (
    BATCH_SIZE,
    OCA_TEMPLATE_DB,
    RAW,
    RESULTS,
    ROOT,
    RUN_DB,
    SNAPSHOT,
    TEMPLATE_DB,
    TMP,
    check_db_name,
    say,
)
from contenders import cmd_floor, cmd_oca, cmd_worker
from prepare import (
    cmd_prepare,
    cmd_prepare_oca,
    cmd_setup,
    make_clone,
    make_oca_clone,
    prepare_oca_template,
    prepare_template,
)
from rbtools.db import connect, drop_db, q
from report import machine_info, render_report


def snapshot_addon():
    """Copy recurring_billing as it is now and load it from there: one run
    measures one version of the code, even when the working tree changes
    while it runs. Returns a digest of the copy."""
    import hashlib
    import shutil

    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    shutil.copytree(
        ROOT / "recurring_billing",
        SNAPSHOT / "recurring_billing",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    digest = hashlib.sha1()
    for path in sorted((SNAPSHOT / "recurring_billing").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(SNAPSHOT)).encode())
            digest.update(path.read_bytes())
    odoo_src = Path(os.environ["ODOO_SRC"])
    base = str(odoo_src / "odoo" / "addons")
    if (odoo_src / "addons").is_dir():  # a checkout of Odoo's repository
        base = f"{odoo_src / 'addons'},{base}"
    os.environ["RB_BENCH_ADDONS"] = f"{base},{SNAPSHOT}"
    return digest.hexdigest()[:10]


# ---------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.py = sys.executable
        self.cfg = os.environ["RB_BENCH_CFG"]
        self.results = []
        self.failed = False

    # -- processes ----------------------------------------------------------

    def spawn(self, argv, log):
        return subprocess.Popen(
            [self.py, str(Path(__file__).resolve()), *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ,
        )

    def call(self, argv, name):
        with open(RESULTS / f"{name}.log", "w") as log:
            proc = self.spawn(argv, log)
            if proc.wait() != 0:
                raise SystemExit(f"{argv[0]} failed: see dev/bench/results/{name}.log")

    def odoo_bin(self, argv, name):
        with open(RESULTS / f"{name}.log", "w") as log:
            cmd = [self.py, str(Path(os.environ["ODOO_SRC"]) / "odoo-bin"), *argv]
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode:
                raise SystemExit(f"odoo-bin failed: see dev/bench/results/{name}.log")

    # -- one scenario -------------------------------------------------------

    def run_floor(self, name, nolog=False, batch=0, cmd="floor"):
        out = TMP / f"{name}.json"
        argv = [cmd, "--db", RUN_DB, "--out", str(out)]
        if nolog:
            argv.append("--nolog")
        if batch:
            argv += ["--batch", str(batch)]
        if self.args.profile:
            argv += ["--profile", str(RESULTS / f"{name}-profile.log")]
        self.call(argv, name)
        return json.loads(out.read_text())

    def run_workers(self, name, workers):
        go = TMP / f"{name}.go"
        go.unlink(missing_ok=True)
        procs = []
        with open(RESULTS / f"{name}.log", "w") as log:
            for k in range(workers):
                argv = [
                    "worker",
                    "--db",
                    RUN_DB,
                    "--workers",
                    str(workers),
                    "--out",
                    str(TMP / f"{name}-w{k}.json"),
                    "--ready",
                    str(TMP / f"{name}-w{k}.ready"),
                    "--go",
                    str(go),
                ]
                (TMP / f"{name}-w{k}.ready").unlink(missing_ok=True)
                if self.args.profile:
                    argv += ["--profile", str(RESULTS / f"{name}-w{k}-profile.log")]
                procs.append(self.spawn(argv, log))
            while not all(
                (TMP / f"{name}-w{k}.ready").exists() for k in range(workers)
            ):
                if any(p.poll() is not None for p in procs):
                    raise SystemExit(f"a worker died: see dev/bench/results/{name}.log")
                time.sleep(0.05)
            # Arm every billing cron (the original and its bench copies).
            q(
                RUN_DB,
                """UPDATE ir_cron SET active = true,
                          nextcall = (now() at time zone 'UTC') - interval '1 second'
                    WHERE ir_actions_server_id IN (
                          SELECT id FROM ir_act_server
                           WHERE code LIKE '%%_cron_generate_invoices%%')""",
            )
            t0 = time.time()
            go.write_text(str(t0))
            waits = self.sample_waits(procs)
            codes = [p.wait() for p in procs]
        if any(codes):
            raise SystemExit(f"a worker failed: see dev/bench/results/{name}.log")
        outs = [
            json.loads((TMP / f"{name}-w{k}.json").read_text()) for k in range(workers)
        ]
        return {
            "wall_s": max(o["t_end"] for o in outs) - t0,
            "queries": sum(o["queries"] for o in outs),
            "cpu_s": sum(o["cpu_s"] for o in outs),
            "rss0_mb": max(o["rss0_mb"] for o in outs),
            "rss_mb": max(o["rss_mb"] for o in outs),
            "calls": sum(o["calls"] for o in outs),
            "busy_calls": sum(o["busy_calls"] for o in outs),
            "max_call_s": max(o["max_call_s"] for o in outs),
            "status": "; ".join(sorted({o["status"] for o in outs})),
            "log_warnings": sum(o["log_warnings"] for o in outs),
            "serialization_logs": sum(o["serialization_logs"] for o in outs),
            "log_first": [line for o in outs for line in o["log_first"]][:5],
            **waits,
        }

    def sample_waits(self, procs):
        """What the workers' database sessions do while they run, sampled
        every 50 ms until the processes end: the share of samples where a
        session waits on a lock held by another transaction (the journal's
        number lock: another worker's posting until it commits) among the
        samples where it works in PostgreSQL, and how busy the machine's
        cores were (/proc/stat), which bounds what a second worker can add."""
        conn = connect(RUN_DB, application_name="rb-bench-sampler")
        cpu0 = cpu_times()
        active = lock = 0
        try:
            while any(p.poll() is None for p in procs):
                for state, waiting in q(
                    conn,
                    """SELECT state, wait_event_type = 'Lock'
                         FROM pg_stat_activity
                        WHERE datname = current_database()
                          AND pid <> pg_backend_pid()
                          AND backend_type = 'client backend'""",
                ):
                    if state == "active":
                        active += 1
                        lock += bool(waiting)
                time.sleep(0.05)
        finally:
            conn.close()
        cpu1 = cpu_times()
        busy = (cpu1[0] - cpu0[0]) / max(cpu1[1] - cpu0[1], 1)
        return {
            "lock_wait_share": lock / active if active else 0.0,
            "cpu_busy_share": busy,
        }

    def scenario(self, mode, n, nlines, workers=1, journals=1, rep=1):
        name = f"{mode}-n{n}-l{nlines}" + (
            f"-k{workers}-j{journals}" if mode == "par" else ""
        )
        if rep > 1:
            name += f"-r{rep}"
        say(f"scenario {name}: cloning")
        if mode == "oca":
            make_oca_clone(n, nlines)
        else:
            make_clone(n, nlines)
        if workers > 1 or journals > 1:
            self.call(
                [
                    "setup",
                    "--db",
                    RUN_DB,
                    "--workers",
                    str(workers),
                    "--journals",
                    str(journals),
                ],
                f"{name}-setup",
            )
        q(RUN_DB, "ANALYZE")
        say(f"scenario {name}: measuring")
        load = os.getloadavg()[0]
        if mode in ("floor", "floor_nolog"):
            res = self.run_floor(name, nolog=mode == "floor_nolog")
        elif mode == "floor_batch":
            res = self.run_floor(name, batch=BATCH_SIZE)
        elif mode == "oca":
            res = self.run_floor(name, batch=BATCH_SIZE, cmd="oca")
        else:
            res = self.run_workers(name, workers)
        res.update(
            mode=mode,
            n=n,
            lines=nlines,
            workers=workers,
            journals=journals,
            name=name,
            load_before=load,
            load_after=os.getloadavg()[0],
        )
        res.update(check_run(RUN_DB, n, mode, res))
        if not self.args.keep_db:
            drop_db(RUN_DB)
        self.results.append(res)
        with open(RAW, "a") as raw:
            raw.write(json.dumps(res, default=str) + "\n")
        verdict = "OK" if res["ok"] else "FAILED: " + "; ".join(res["failures"])
        self.failed |= not res["ok"]
        say(
            f"scenario {name}: {res['wall_s']:.1f} s, "
            f"{1000 * res['wall_s'] / n:.1f} ms/inv "
            f"({1000 * res['cpu_s'] / n:.1f} CPU), "
            f"{res['queries'] / n:.1f} q/inv, RSS {res['rss_mb']:.0f} MB - {verdict}"
        )
        self.write_report()
        return res

    # -- the whole run -----------------------------------------------------

    def run(self):
        TMP.mkdir(parents=True, exist_ok=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        RAW.write_text("")
        self.code_digest = snapshot_addon()
        self.machine = machine_info()
        self.machine["code"] += (
            f"; run on a copy taken at start (digest {self.code_digest})"
        )
        self.started = datetime.now()
        sizes = self.args.sizes
        nmax = max(sizes + ([self.args.parallel_n] if self.args.parallel_n else []))
        prepare_template(self, nmax)
        if "oca" in self.args.modes:
            prepare_oca_template(self, max(sizes))
        modes = [
            m
            for m in ("floor_batch", "floor", "floor_nolog", "ours", "oca")
            if m in self.args.modes
        ]
        npar = self.args.parallel_n
        for n in sizes:
            for nlines in self.args.variants:
                # Floor and ours alternate, so that a burst of other work on
                # the machine hits both alike.
                for rep in range(1, self.repeats(n) + 1):
                    for mode in modes:
                        self.scenario(mode, n, nlines, rep=rep)
            if n == npar:
                # Right after its size rather than after the longest one, so
                # that a run cut short still has them.
                self.run_parallel(npar)
        if npar and npar not in sizes:
            self.run_parallel(npar)
        self.finished = datetime.now()
        report = self.write_report(final=True)
        print(report)
        if not self.args.keep_template:
            drop_db(TEMPLATE_DB)
            drop_db(OCA_TEMPLATE_DB)
        return 1 if self.failed else 0

    def run_parallel(self, npar):
        # The 1-worker reference runs right next to the 2-worker runs, so
        # that all three see the same load on the machine.
        for rep in range(1, self.repeats(npar) + 1):
            for workers, journals in ((1, 1), (2, 1), (2, 2)):
                self.scenario(
                    "par", npar, 1, workers=workers, journals=journals, rep=rep
                )

    def repeats(self, n):
        if self.args.repeat:
            return self.args.repeat
        return 3 if n <= 100 else 1

    def find(self, mode, n, nlines, workers=1, journals=1):
        """The scenario's median run (by wall time), with the spread of its
        repetitions; RSS is the highest of them."""
        key = (mode, n, nlines, workers, journals)
        runs = [r for r in self.results if scenario_key(r) == key]
        if not runs:
            return None
        runs.sort(key=lambda r: r["wall_s"])
        median = dict(runs[(len(runs) - 1) // 2])
        median.update(
            reps=len(runs),
            wall_min=runs[0]["wall_s"],
            wall_max=runs[-1]["wall_s"],
            cpu_s=sorted(r["cpu_s"] for r in runs)[(len(runs) - 1) // 2],
            rss_mb=max(r["rss_mb"] for r in runs),
            ok=all(r["ok"] for r in runs),
            load_max=max(max(r["load_before"], r["load_after"]) for r in runs),
        )
        return median

    def scenarios(self):
        """Every scenario, in the order first run, as its median run."""
        keys = []
        for r in self.results:
            if scenario_key(r) not in keys:
                keys.append(scenario_key(r))
        return [self.find(*key) for key in keys]

    def write_report(self, final=False):
        text = render_report(self, final)
        Path(self.args.report).write_text(text)
        return text


def cpu_times():
    """(busy, total) jiffies of all the machine's cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def scenario_key(r):
    return (r["mode"], r["n"], r["lines"], r["workers"], r["journals"])


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_all = sub.add_parser("all", help="the whole benchmark")
    p_all.add_argument("--sizes", type=int_list, default=[100, 1000, 10000])
    p_all.add_argument("--variants", type=int_list, default=[1, 5])
    p_all.add_argument(
        "--parallel-n",
        type=int,
        default=None,
        help="N of the 2-worker scenario (default 1000 if in --sizes, "
        "else the largest size; 0 = skip)",
    )
    p_all.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs per scenario, the median is reported (default 3 for N <= 100, "
        "1 above)",
    )
    p_all.add_argument(
        "--modes",
        type=lambda text: text.split(","),
        default=["floor_batch", "floor", "ours", "oca"],
        help="modes to run among floor_batch (create + post + commit per batch "
        "of the engine's batch size), floor (one transaction), floor_nolog "
        "(floor with mail_create_nolog + mail_create_nosubscribe), ours, oca "
        "(OCA contract + posting) (default floor_batch,floor,ours,oca)",
    )
    p_all.add_argument(
        "--report",
        default=str(RESULTS / "latest.md"),
        help="where the Markdown report goes (default dev/bench/results/latest.md)",
    )
    p_all.add_argument("--reuse-template", action="store_true")
    p_all.add_argument("--keep-template", action="store_true")
    p_all.add_argument("--keep-db", action="store_true", help="keep the last clone")
    p_all.add_argument(
        "--profile", action="store_true", help="cProfile into results/*-profile.log"
    )
    # Our template and OCA contract's: the same arguments.
    for name in ("prepare", "prepare-oca"):
        p_prep = sub.add_parser(name)
        p_prep.add_argument("--db", required=True)
        p_prep.add_argument("--nmax", type=int, required=True)
        p_prep.add_argument("--variants", type=int_list, default=[1, 5])
        p_prep.add_argument("--key", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--db", required=True)
    p_setup.add_argument("--workers", type=int, default=1)
    p_setup.add_argument("--journals", type=int, default=1)
    p_floor = sub.add_parser("floor")
    p_floor.add_argument("--db", required=True)
    p_floor.add_argument("--out", required=True)
    p_floor.add_argument("--nolog", action="store_true")
    p_floor.add_argument("--batch", type=int, default=0)
    p_floor.add_argument("--profile")
    p_oca = sub.add_parser("oca")
    p_oca.add_argument("--db", required=True)
    p_oca.add_argument("--out", required=True)
    p_oca.add_argument("--batch", type=int, default=BATCH_SIZE)
    p_oca.add_argument("--profile")
    p_work = sub.add_parser("worker")
    p_work.add_argument("--db", required=True)
    p_work.add_argument("--out", required=True)
    p_work.add_argument("--ready", required=True)
    p_work.add_argument("--go", required=True)
    p_work.add_argument("--workers", type=int, default=1)
    p_work.add_argument("--profile")
    args = parser.parse_args(argv)
    if args.cmd != "all":
        check_db_name(args.db)
        return {
            "prepare": cmd_prepare,
            "setup": cmd_setup,
            "floor": cmd_floor,
            "worker": cmd_worker,
            "oca": cmd_oca,
            "prepare-oca": cmd_prepare_oca,
        }[args.cmd](args)
    args.argv = argv[1:]
    if args.parallel_n is None:
        args.parallel_n = 1000 if 1000 in args.sizes else max(args.sizes)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
