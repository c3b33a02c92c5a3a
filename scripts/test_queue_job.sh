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

ensure_queue_job

bridge_tests qj "job queue bridge" \
    recurring_billing,queue_job,recurring_billing_queue_job \
    recurring_billing_queue_job/tests "$QJ_ADDONS" "$@"
