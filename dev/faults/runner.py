"""A cron worker without the HTTP server: call Odoo's own scheduler entry
point ``ir.cron._process_jobs(db)`` in a loop, as a cron thread does, until
none of the given scheduled actions is due any more.

Every call runs the ready jobs the way odoo-bin's cron threads do: job row
locked, up to 10 calls of the server action, a commit after each call,
progress and failure counters updated.
"""

import argparse
import json
import os
import time

from data import sql_conn
from rbtools.orm import boot


def wait_for_the_others(path, parties, timeout=300):
    """Meet the other processes once all have booted: one line per process."""
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            if len(f.read().split()) >= parties:
                return
        time.sleep(0.02)
    raise SystemExit(f"barrier {path}: the other processes never came")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--crons", required=True, help="ids, comma separated")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--limit-time-real-cron", type=int, default=40)
    parser.add_argument("--summary")
    parser.add_argument("--barrier", help="file the processes meet at")
    parser.add_argument("--parties", type=int, default=2)
    args = parser.parse_args()
    cron_ids = [int(x) for x in args.crons.split(",")]

    registry = boot(
        args.cfg,
        args.db,
        log_level="info",
        extra=[f"--limit-time-real-cron={args.limit_time_real_cron}"],
    )
    conn = sql_conn(args.db)
    if args.barrier:
        wait_for_the_others(args.barrier, args.parties)
    start = time.monotonic()
    iterations = 0
    max_failures = 0
    inactive = False
    finished = False
    while time.monotonic() - start < args.max_seconds:
        registry["ir.cron"]._process_jobs(args.db)
        iterations += 1
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, active, failure_count, "
                # A trigger a few seconds ahead (a batch given up on another
                # worker's lock, called again shortly) is waited for, as a
                # cron thread would wake up for it.
                "(nextcall <= now() at time zone 'UTC' OR EXISTS (SELECT 1 FROM "
                "ir_cron_trigger t WHERE t.cron_id = ir_cron.id AND t.call_at <= "
                "now() at time zone 'UTC' + interval '30 seconds')) "
                "FROM ir_cron WHERE id = ANY(%s)",
                [cron_ids],
            )
            rows = cur.fetchall()
        max_failures = max([max_failures] + [r[2] for r in rows])
        inactive |= not all(r[1] for r in rows)
        if not any(r[1] and r[3] for r in rows):
            finished = True
            break
        time.sleep(0.05)
    summary = {
        "iterations": iterations,
        "seconds": round(time.monotonic() - start, 1),
        "max_failure_count": max_failures,
        "deactivated": inactive,
        "finished": finished,
    }
    print("RUNNER SUMMARY " + json.dumps(summary), flush=True)
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f)


if __name__ == "__main__":
    main()
