#!/usr/bin/env bash
# The job queue bridge's tests (recurring_billing_queue_job) on a database of
# their own, rb_<name>_qj: OCA queue_job (pinned in requirements-queue-job.txt,
# installed into .local/queue_job, never into the virtualenv, so that the main
# suite runs without it) and the bridge installed, its tests run by
# pytest-odoo, the log checked. Called by scripts/test.sh (RB_SKIP_QUEUE_JOB=1
# skips it on a developer's machine, never in CI); extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

QJ_TARGET="$STATE/queue_job"
if ! cmp -s "$ROOT/requirements-queue-job.txt" "$QJ_TARGET/.requirements"; then
    say "installing queue_job into $QJ_TARGET"
    rm -rf "$QJ_TARGET"
    "$PY" -m pip install --quiet --no-deps --target "$QJ_TARGET" \
        -r "$ROOT/requirements-queue-job.txt" || die "pip install of queue_job failed"
    cp "$ROOT/requirements-queue-job.txt" "$QJ_TARGET/.requirements"
fi

bridge_tests qj "job queue bridge" \
    recurring_billing,queue_job,recurring_billing_queue_job \
    recurring_billing_queue_job/tests "$QJ_TARGET/odoo/addons" "$@"
