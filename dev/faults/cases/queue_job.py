"""The job queue bridge under OCA queue_job's own job runner, in a real
prefork odoo-bin, with one of its two HTTP workers killed mid-job (case 10).
"""

import os
import re
import signal
import time
from datetime import datetime

from data import (
    cron_id,
    due_now,
    ledger_count,
    make_contracts,
    set_batch_size,
    sql_conn,
    today_of,
    total,
)
from processes import (
    free_port,
    log_path,
    log_records,
    odoo_bin,
    run_scheduled,
    wait_backend_gone,
    wait_for_text,
)
from rbtools.db import q, q1
from report import Case, check_exactly_once, check_numbering, check_run

# odoo-bin log lines (format: date time pid level db logger: message).
QJ_ALIVE = re.compile(
    r"^\S+ \S+ \d+ \w+ \S+ odoo\.service\.server: Worker WorkerHTTP \((\d+)\) alive"
)
QJ_RUNJOB = re.compile(
    r"^\S+ \S+ (\d+) \w+ \S+ werkzeug: .*\"GET /queue_job/runjob\?db=[^&\s]+"
    r"&job_uuid=([0-9a-f-]+) HTTP"
)
QJ_REQUEUED = "Re-queued dead job with uuid: "
QJ_READY = "queue job runner ready for db "
QJ_STOP_LINE = "odoo.service.server: Stopping gracefully"
QJ_OPEN = ("pending", "enqueued", "started", "wait_dependencies")


def qj_states(conn):
    return dict(q(conn, "SELECT state, count(*) FROM queue_job GROUP BY state"))


def qj_done_per_worker(conn):
    return dict(
        q(
            conn,
            "SELECT worker_pid, count(*) FROM queue_job WHERE state = 'done' "
            "GROUP BY worker_pid",
        )
    )


def qj_check_workers(c, conn, records, pid, done_before):
    """Who ran the jobs: the HTTP workers the master started (and
    restarted), the requests each answered, the worker_pid queue_job
    recorded; ``done_before``: jobs done per worker pid at the kill of
    worker ``pid``."""
    http_pids = [int(m.group(1)) for r in records if (m := QJ_ALIVE.match(r))]
    answered = {}
    for r in records:
        if m := QJ_RUNJOB.match(r):
            answered[int(m.group(1))] = answered.get(int(m.group(1)), 0) + 1
    done_by = qj_done_per_worker(conn)
    c.info(
        f"HTTP workers started: {http_pids}; job requests answered per worker "
        f"pid: {answered}; jobs done per worker_pid: {done_by}"
    )
    c.check(
        len(done_before) >= 2
        and pid in done_before
        and set(done_before) <= set(http_pids),
        "both HTTP worker processes ran jobs before the kill, the killed one "
        "among them",
        f"jobs done per worker pid before the kill: {done_before}",
    )
    respawned = [p for p in http_pids if p not in done_before and p != pid]
    c.check(
        set(done_by) <= set(http_pids) and any(done_by.get(p) for p in respawned),
        "the master replaced the killed worker, and the new one ran jobs",
        f"new worker(s) {respawned}: "
        f"{sum(done_by.get(p, 0) for p in respawned)} job(s)",
    )


def qj_check_errors(c, log, uuid):
    """No error logged up to the driver's SIGTERM. The kill itself may make
    the job runner log its request for the killed job ``uuid`` (the
    connection reset within the runner's 1 s timeout): that one is the
    fault, not a problem."""
    problems, excused = [], []
    for r in log_records(log, until=QJ_STOP_LINE):
        if not re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL) |Traceback", r, re.M):
            continue
        if "exception in GET" in r and f"job_uuid={uuid}" in r:
            excused.append(r)
        else:
            problems.append(r.splitlines()[0])
    c.check(
        not problems,
        "no ERROR in the server log",
        (f"{len(problems)}: {problems[:2]}" if problems else "")
        + (
            f"{len(excused)} for the killed job's request (not counted)"
            if excused
            else ""
        ),
    )


def qj_find_billing_job(conn, server, timeout=30):
    """A job that is billing: its row is 'started' by a worker (queue_job's
    worker_pid) whose job transaction (the one that holds the job's
    queue_job_lock row: the row's xmax is its xid) has written ledger rows
    (it holds ROW EXCLUSIVE on recurring_contract_period). Workers are
    forked from the master: their sessions' application_name is the
    master's pid, so the session is found through queue_job's tables.
    Returns (uuid, worker pid, session, last query, transaction age) or
    None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and server.poll() is None:
        rows = q(
            conn,
            "SELECT j.uuid, j.worker_pid, a.pid, left(a.query, 40), "
            "extract(epoch FROM now() - a.xact_start)::numeric(6, 2) "
            "FROM queue_job j "
            "JOIN queue_job_lock l ON l.queue_job_id = j.id "
            "JOIN pg_stat_activity a ON a.backend_xid = l.xmax "
            "AND a.datname = current_database() "
            "WHERE j.state = 'started' AND EXISTS (SELECT 1 FROM pg_locks k "
            "WHERE k.pid = a.pid AND k.mode = 'RowExclusiveLock' "
            "AND k.relation = 'recurring_contract_period'::regclass) LIMIT 1",
        )
        if rows:
            return rows[0]
        time.sleep(0.01)
    return None


def qj_wait_all_done(conn, db, today, server, deadline, uuid, killed_at):
    """Wait until nothing is due and no job is open. queue_job's runner
    requeues a dead job itself (requeue_dead_jobs, at every turn of its
    loop: state 'started', enqueued more than 10 s ago, its queue_job_lock
    row no longer locked: the dead session's lock went with it). The loop
    turns at each NOTIFY on the queue_job channel (any job's change) or
    after 60 s: when the other jobs are all done before the 10 s have
    passed, the driver sends that NOTIFY itself (payload: the dead job's
    uuid, as queue_job's trigger does). Returns (finished, NOTIFYs sent)."""
    nudges, last, last_change = 0, None, time.monotonic()
    while time.monotonic() < deadline and server.poll() is None:
        time.sleep(1)
        states = qj_states(conn)
        signature = (tuple(sorted(states.items())), ledger_count(conn))
        if signature != last:
            last, last_change = signature, time.monotonic()
        if not any(states.get(s) for s in QJ_OPEN) and not due_now(db, today):
            return True, nudges
        dead = q1(conn, "SELECT state FROM queue_job WHERE uuid = %s", [uuid])
        if (
            dead == "started"
            and time.monotonic() - killed_at > 11
            and time.monotonic() - last_change > 5
        ):
            q(conn, "SELECT pg_notify('queue_job', %s)", [uuid])
            nudges += 1
            last_change = time.monotonic()
    return False, nudges


def qj_check_requeued(c, conn, records, uuid, killed_wall, nudges):
    """queue_job requeued the killed job, which then ran to the end."""
    requeued = [r for r in records if QJ_REQUEUED + uuid in r]
    after = ""
    if requeued:
        # The log's clock is this machine's local time, as datetime.now().
        stamp = datetime.strptime(requeued[0][:23], "%Y-%m-%d %H:%M:%S,%f")
        after = f"{(stamp - killed_wall).total_seconds():.1f} s after the kill, "
    retry, final = q(
        conn, "SELECT retry, state FROM queue_job WHERE uuid = %s", [uuid]
    )[0]
    c.check(
        bool(requeued) and retry >= 1 and final == "done",
        "queue_job requeued the killed job, which then ran to the end",
        f"{len(requeued)} 'Re-queued dead job' line(s) for {uuid}, {after}"
        f"the driver's NOTIFY {nudges} time(s); retry {retry}, {final}",
    )


def case_queue_job_kill(ctx):
    # Batches of 10 (20 at full size): many jobs, a few seconds each at most.
    n, size, cap = (300, 10, 300) if ctx.quick else (1000, 20, 900)
    c = Case(
        10,
        f"queue_job: two job worker processes, one killed with SIGKILL mid-run "
        f"({n} contracts)",
    )
    db = ctx.new_db("c10")
    expected = make_contracts(db, n)
    due = total(expected)
    set_batch_size(db, size)
    conn = sql_conn(db)
    cron = cron_id(conn)
    today = today_of(db)
    http_port = free_port(8390, 10)
    gevent_port = free_port(http_port + 1, 8400 - http_port - 1)
    c.expect(
        f"{due} periods due; the scheduled action enqueues one queue_job job per "
        f"batch of {size}; a real odoo-bin in prefork mode (--workers=2) runs "
        "them: queue_job's runner dispatches them over HTTP to its two HTTP "
        "worker processes; one worker is killed -9 while its job bills; the "
        "master respawns it, queue_job requeues the dead job, every job ends "
        "done: each period billed once, no numbering gap, nothing left due"
    )
    log = log_path(db, "odoo-bin")
    start = time.monotonic()
    # Channels: from the configuration's [queue_job] section (root:2,
    # root.recurring_billing:2), written by scripts/faults.sh.
    with odoo_bin(
        ctx.cfg,
        db,
        log,
        http_port,
        [
            "--workers=2",
            "--max-cron-threads=0",
            "--load=base,web,queue_job",
            f"--gevent-port={gevent_port}",
        ],
    ) as server:
        # queue_job's runner (a worker process of its own in prefork mode)
        # waits 5 s, then opens the database.
        ready = wait_for_text(log, QJ_READY + db, server, 120)
        c.check(
            ready,
            "odoo-bin started, queue_job's runner ready",
            f"prefork, HTTP on 127.0.0.1:{http_port}, "
            f"{time.monotonic() - start:.0f} s",
        )
        if not ready:
            return c.finish()
        # The billing scheduled action, run once by Odoo's scheduler (the
        # suite's cron worker without HTTP: odoo-bin has no cron worker),
        # only enqueues: one job per batch.
        result = run_scheduled(ctx.cfg, db, [cron], tag="enqueue")
        check_run(c, result, "scheduled action")
        jobs = q1(conn, "SELECT count(*) FROM queue_job")
        c.info(f"{jobs} jobs enqueued for {due} periods")
        # Kill once a quarter is committed, inside a job that is billing.
        deadline = start + cap
        while (
            ledger_count(conn) < max(1, due // 4)
            and time.monotonic() < deadline
            and server.poll() is None
        ):
            time.sleep(0.05)
        victim = qj_find_billing_job(conn, server)
        if not victim:
            c.check(False, "a worker caught while its job bills")
            return c.finish()
        uuid, pid, backend, query, age = victim
        before = ledger_count(conn)
        done_before = qj_done_per_worker(conn)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        killed_wall = datetime.now()
        waited = wait_backend_gone(conn, backend)
        committed = ledger_count(conn)
        c.info(
            f"SIGKILL to worker {pid} running job {uuid} (its transaction: "
            f"session {backend}, {age} s old, ledger rows written, last "
            f"query {query!r}) at {before}/{due} committed ledger rows; "
            f"PostgreSQL ended the session in "
            f"{waited if waited is None else round(waited, 2)} s; "
            f"jobs done per worker pid before: {done_before}"
        )
        state_after = q1(conn, "SELECT state FROM queue_job WHERE uuid = %s", [uuid])
        c.check(
            0 < committed < due and state_after == "started",
            "killed mid-run, its job left 'started'",
            f"{committed} of {due} rows committed; job {state_after}",
        )
        check_exactly_once(c, conn, expected, label="after the kill: ", partial=True)
        check_numbering(c, conn, label="after the kill: ")
        finished, nudges = qj_wait_all_done(
            conn, db, today, server, deadline, uuid, killed_at
        )
        elapsed = time.monotonic() - start
    c.info(
        f"odoo-bin ran {elapsed:.0f} s (HTTP port {http_port}); the driver "
        f"woke queue_job's runner {nudges} time(s)"
    )
    states = qj_states(conn)
    c.check(
        finished,
        "everything billed, no job left open",
        f"jobs {states}; {due_now(db, today)} contract(s) still due",
    )
    c.check(
        set(states) == {"done"},
        "every job done, none failed",
        ", ".join(f"{v} {k}" for k, v in sorted(states.items())),
    )
    records = log_records(log)
    qj_check_requeued(c, conn, records, uuid, killed_wall, nudges)
    qj_check_workers(c, conn, records, pid, done_before)
    check_exactly_once(c, conn, expected)
    check_numbering(c, conn)
    c.check(due_now(db, today) == 0, "nothing left due")
    qj_check_errors(c, log, uuid)
    conn.close()
    return c.finish()
