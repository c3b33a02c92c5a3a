"""The processes of the fault suite: the scripts beside this file (a cron
worker, the two processes of case 3), a real odoo-bin, waiting for what they
leave behind, and reading their logs.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime

from data import set_cron_ready
from rbtools.db import q1

from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo18")
PY = sys.executable
# odoo-bin's first line once it was told to stop (SIGTERM).
SHUTDOWN_LINE = "odoo.service.server: Initiating shutdown"
LOG_TS = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \d+ \w+ "


def log_path(db, name):
    path = os.path.join(config["data_dir"], "..", "logs", "faults")
    os.makedirs(path, exist_ok=True)
    return os.path.normpath(os.path.join(path, f"{db}-{name}.log"))


def spawn(script, args, log, env_extra=None, stdin=None):
    """Start ``dev/faults/<script>`` as its own OS process, output to ``log``."""
    env = dict(os.environ, **(env_extra or {}))
    out = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [PY, os.path.join(HERE, script), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=stdin,
        env=env,
        text=True,
    )
    proc.log = log
    proc.logfile = out
    return proc


def runner_args(
    cfg, db, cron_ids, max_seconds, time_limit=40, summary=None, barrier=None
):
    args = [
        "--cfg",
        cfg,
        "--db",
        db,
        "--crons",
        ",".join(map(str, cron_ids)),
        "--max-seconds",
        str(max_seconds),
        "--limit-time-real-cron",
        str(time_limit),
    ]
    if summary:
        args += ["--summary", summary]
    if barrier:
        path, parties = barrier
        args += ["--barrier", path, "--parties", str(parties)]
    return args


def run_side_by_side(cfg, db, cron_ids, tag, time_limit=40):
    """Two scheduler processes on the same scheduled actions, started together.

    Each process boots Odoo, then waits at a barrier until the other has
    booted too: without it, under load, the first process booted can do all
    the work before the second has imported Odoo, and nothing runs at once.
    Returns each process's summary (with its log path), the work each did
    (the sum of the calls' progress) and how long their calls overlapped.
    """
    barrier = log_path(db, f"{tag}-barrier")
    if os.path.exists(barrier):
        os.unlink(barrier)
    procs = [
        spawn(
            "runner.py",
            runner_args(
                cfg,
                db,
                cron_ids,
                600,
                time_limit,
                log_path(db, f"{tag}{i}.json"),
                barrier=(barrier, 2),
            ),
            log_path(db, f"{tag}{i}"),
        )
        for i in (1, 2)
    ]
    for proc in procs:
        proc.wait()
        proc.logfile.close()
    results, spans, done = [], {}, {}
    for i, proc in enumerate(procs, 1):
        with open(log_path(db, f"{tag}{i}.json")) as f:
            result = json.load(f)
        result["log"] = proc.log
        results.append(result)
        calls = [
            call
            for cron in cron_ids
            for call in parse_cron_log(proc.log, cron)[0]
            if call[2]
        ]
        spans[i] = [(start, end) for start, end, _done in calls]
        done[i] = sum(call[2] for call in calls)
    overlap = sum(
        max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())
        for a0, a1 in spans[1]
        for b0, b1 in spans[2]
    )
    return results, done, overlap


def run_runner(cfg, db, cron_ids, max_seconds=600, time_limit=40, tag="runner"):
    """Run dev/faults/runner.py to completion; return its summary dict."""
    summary = log_path(db, tag + ".json")
    if os.path.exists(summary):
        os.unlink(summary)
    proc = spawn(
        "runner.py",
        runner_args(cfg, db, cron_ids, max_seconds, time_limit, summary),
        log_path(db, tag),
    )
    proc.wait()
    proc.logfile.close()
    result = {"returncode": proc.returncode, "log": proc.log}
    if os.path.exists(summary):
        with open(summary) as f:
            result.update(json.load(f))
    return result


def run_scheduled(cfg, db, cron_ids, **kwargs):
    """The scheduled actions ``cron_ids`` made due now, then run by
    runner.py to the end (``run_runner``'s arguments)."""
    set_cron_ready(db, cron_ids)
    return run_runner(cfg, db, cron_ids, **kwargs)


def click(cfg, db, contract_ids, login="rbf_invoicer"):
    """Process B: an invoicing user presses "Invoice now" on each contract,
    in its own OS process (clicker.py). Returns its results, or an error
    text."""
    out = subprocess.run(
        [
            PY,
            os.path.join(HERE, "clicker.py"),
            "--cfg",
            cfg,
            "--db",
            db,
            "--login",
            login,
            "--contracts",
            ",".join(map(str, contract_ids)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("CLICKER ")]
    if not line:
        return (out.stdout + out.stderr)[-500:]
    return json.loads(line[0][len("CLICKER ") :])


def kill9(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.logfile.close()


def wait_until(condition, timeout, step):
    """Poll ``condition`` every ``step`` seconds until it holds (the seconds
    waited) or ``timeout`` seconds passed (None)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    return None


def wait_backends_gone(conn, pid, timeout=30):
    """After a client process ``pid`` died, wait until PostgreSQL has ended
    (and rolled back) its sessions (named ``odoo-<pid>`` by Odoo). Returns
    the seconds waited, or None."""
    return wait_until(
        lambda: not q1(
            conn,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [f"odoo-{pid}"],
        ),
        timeout,
        0.1,
    )


def wait_backend_gone(conn, backend, timeout=30):
    """Wait until PostgreSQL has ended (and rolled back) the session
    ``backend`` of a killed client. Returns the seconds waited, or None."""
    return wait_until(
        lambda: not q1(
            conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend]
        ),
        timeout,
        0.05,
    )


def free_port(start=8369, count=200):
    for port in range(start, start + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@contextmanager
def odoo_bin(cfg, db, log, port, args, env_extra=None):
    """A real odoo-bin serving only ``db`` on 127.0.0.1:``port`` with the
    extra ``args``, its output in ``log``; stopped when the block ends
    (SIGTERM, then SIGKILL to its process group)."""
    with open(log, "w") as out:
        server = subprocess.Popen(
            [
                PY,
                os.path.join(ODOO_SRC, "odoo-bin"),
                "-c",
                cfg,
                "--database",
                db,
                "--db-filter",
                f"^{db}$",
                "--http-interface=127.0.0.1",
                f"--http-port={port}",
                "--log-level=info",
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own process group: if the master does not stop on SIGTERM,
            # the driver kills the group (master, workers, job runner).
            start_new_session=True,
            # PATH: a time-limit reload re-executes "python" (argv[0] without
            # a path, found on PATH), which must be this virtualenv's, or the
            # server dies at the reload.
            env=dict(
                os.environ,
                PATH=os.pathsep.join([os.path.dirname(PY), os.environ.get("PATH", "")]),
                **(env_extra or {}),
            ),
        )
        try:
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def wait_for_text(path, text, server, timeout):
    """Wait until ``text`` is in the log (True) or the server died or
    ``timeout`` passed (False)."""

    def seen():
        with open(path, errors="replace") as f:
            return text in f.read()

    wait_until(lambda: server.poll() is not None or seen(), timeout, 0.5)
    return server.poll() is None and seen()


def log_problems(path, patterns=(r" (ERROR|CRITICAL) ", r"Traceback"), until=None):
    """Lines of an Odoo log that report an error; with ``until``, only those
    before the first line that contains it."""
    bad = []
    if not os.path.exists(path):
        return bad
    with open(path, errors="replace") as f:
        for line in f:
            if until and until in line:
                break
            if any(re.search(p, line) for p in patterns):
                bad.append(line.rstrip())
    return bad


def log_records(path, until=None):
    """The records of an odoo-bin log (a record: a line that starts with a
    date, and the lines that follow it, a traceback), up to the first line
    that contains ``until``."""
    records = []
    if not os.path.exists(path):
        return records
    with open(path, errors="replace") as f:
        for line in f:
            if until and until in line:
                break
            if re.match(r"^\d{4}-\d\d-\d\d ", line) or not records:
                records.append(line)
            else:
                records[-1] += line
    return records


def parse_cron_log(path, cron):
    """Calls of the billing job in an odoo-bin log: (start, end, done) each,
    and the job runs they make (10 calls, or fewer when the job ended)."""
    calls, runs, current, started = [], [], [], None
    pattern_start = re.compile(LOG_TS + rf".*Job '.*' \({cron}\) starting")
    pattern_done = re.compile(
        LOG_TS + rf".*Job '.*' \({cron}\) processed (\d+) records, (\d+)"
    )
    pattern_boot = re.compile(LOG_TS + r".*odoo: Odoo version")
    with open(path, errors="replace") as f:
        for line in f:
            if pattern_boot.match(line):
                if current:
                    runs.append(current)
                current, started = [], None
            elif m := pattern_start.match(line):
                started = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
            elif (m := pattern_done.match(line)) and started:
                end = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
                calls.append((started, end, int(m.group(2))))
                current.append(calls[-1])
                if len(current) == 10 or m.group(3) == "0":
                    runs.append(current)
                    current = []
                started = None
    if current:
        runs.append(current)
    return calls, runs
