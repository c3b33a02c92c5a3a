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

DB="${RB_TEST_DB:-rb_test}_qj"
DB="rb_${DB#rb_}"
CFG="$STATE/$DB.cfg"
HTTP_PORT="${RB_TEST_HTTP_PORT:-8269}"
write_odoo_cfg "$CFG" "$DB" "$HTTP_PORT"
sed -i "s|^addons_path = .*|&,$QJ_TARGET/odoo/addons|; s/^without_demo = False/without_demo = all/" "$CFG"
LOGS="$STATE/logs/$DB"; mkdir -p "$LOGS"
start=$(date +%s)

if [ -n "${RB_REUSE_DB:-}" ]; then
    say "updating recurring_billing_queue_job in the existing database $DB"
    mode=-u
else
    say "fresh database $DB: recurring_billing_queue_job with queue_job (no demo data)"
    drop_db "$DB"
    mode=-i
fi
odoo_bin -c "$CFG" -d "$DB" $mode recurring_billing,queue_job,recurring_billing_queue_job \
    --stop-after-init --log-level=info >"$LOGS/install.log" 2>&1 ||
    { tail -40 "$LOGS/install.log"; die "install failed"; }
"$PY" scripts/checklog.py "$LOGS/install.log"
echo "test_enable = True" >>"$CFG"

say "job queue bridge tests (pytest-odoo)"
set +e
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" ODOO_RC="$CFG" "$VENV/bin/pytest" -p no:cacheprovider -s \
    --odoo-database="$DB" --odoo-config="$CFG" --odoo-log-level=info \
    --junitxml="$STATE/junit-$DB.xml" \
    "${@:-recurring_billing_queue_job/tests}" 2>&1 | tee "$LOGS/pytest.log"
rc=${PIPESTATUS[0]}
set -e
[ -f "$STATE/junit-$DB.xml" ] || die "pytest wrote no report (exit $rc)"
"$PY" scripts/check_junit.py "$STATE/junit-$DB.xml" || rc=1
"$PY" scripts/checklog.py "$LOGS/pytest.log" || rc=1
[ "$rc" = 0 ] || die "the job queue bridge tests failed (see $LOGS/pytest.log)"
say "job queue bridge: green in $(( $(date +%s) - start )) s"
