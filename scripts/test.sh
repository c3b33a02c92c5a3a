#!/usr/bin/env bash
# The test command (`make test`): lint, a fresh database with the addon
# installed, the whole suite under pytest-odoo with the HTTP server (tours run
# in Chromium), the fault suite, and a log check that fails on any ERROR or
# WARNING line. Extra arguments go to pytest, e.g.
#   scripts/test.sh recurring_billing/tests/test_schedule.py -k leap
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

DB="${RB_TEST_DB:-rb_test}"
CFG="$STATE/$DB.cfg"  # per database: several runs may go side by side
HTTP_PORT="${RB_TEST_HTTP_PORT:-8269}"
write_odoo_cfg "$CFG" "$DB" "$HTTP_PORT"
LOGS="$STATE/logs/$DB"; mkdir -p "$LOGS"
start=$(date +%s)

if [ -z "${RB_SKIP_LINT:-}" ]; then
    say "lint (pre-commit: ruff, ruff format, pylint-odoo mandatory checks)"
    "$VENV/bin/pre-commit" run --all-files --show-diff-on-failure
fi

# Browser tours need both, or Odoo skips them: check before spending time.
command -v chromium >/dev/null || die "chromium is missing: browser tours would be skipped"
"$PY" -c "import websocket" || die "websocket-client is missing: browser tours would be skipped"

if [ -n "${RB_REUSE_DB:-}" ]; then  # developer shortcut: update, do not recreate
    say "updating recurring_billing in the existing database $DB"
    mode=-u
else
    say "fresh database $DB: installing recurring_billing (with demo data)"
    drop_db "$DB"
    mode=-i
fi
# payment_demo: the tests charge saved payment methods with Odoo's demo
# provider. Only the test database gets it (not in the addon's depends: a
# real user does not need the demo provider).
modules=recurring_billing
[ "$mode" = -i ] && modules=recurring_billing,payment_demo
odoo_bin -c "$CFG" -d "$DB" $mode "$modules" --stop-after-init \
    --log-level=info >"$LOGS/install.log" 2>&1 || { tail -40 "$LOGS/install.log"; die "install failed"; }
"$PY" scripts/checklog.py "$LOGS/install.log"

# Only now: with test_enable in the config the install above would run the
# tests itself (Odoo's runner); pytest-odoo runs them instead, see README.
echo "test_enable = True" >>"$CFG"

say "test suite (pytest-odoo, --odoo-http: HttpCase and Chromium tours run)"
set +e
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" ODOO_RC="$CFG" "$VENV/bin/pytest" -p no:cacheprovider -s \
    --odoo-database="$DB" --odoo-config="$CFG" --odoo-http --odoo-log-level=info \
    --junitxml="$STATE/junit-$DB.xml" \
    "${@:-recurring_billing/tests}" 2>&1 | tee "$LOGS/pytest.log"
rc=${PIPESTATUS[0]}
set -e
[ -f "$STATE/junit-$DB.xml" ] || die "pytest wrote no report (exit $rc)"
"$PY" scripts/check_junit.py "$STATE/junit-$DB.xml" || rc=1
"$PY" scripts/checklog.py "$LOGS/pytest.log" || rc=1
[ "$rc" = 0 ] || die "the test suite failed (see $LOGS/pytest.log)"

if [ $# -eq 0 ] && [ -z "${RB_SKIP_FAULTS:-}" ]; then
    say "fault suite (real processes, real commits, on a copy of the database)"
    bash "$ROOT/scripts/faults.sh" --quick
fi

# Odoo's own tests of sale and sale_management, with the addon installed,
# against the committed list of those that fail without it (make host-tests).
if [ $# -eq 0 ]; then
    if [ -z "${RB_SKIP_HOST_TESTS:-}" ]; then
        say "host tests (Odoo's own sale and sale_management tests, with the addon installed)"
        RB_HOST_DB="rb_host_${DB#rb_}" RB_HOST_HTTP_PORT="$HTTP_PORT" bash "$ROOT/scripts/host_tests.sh" --ci
    elif [ -n "${CI:-}" ]; then
        die "RB_SKIP_HOST_TESTS is for developers: CI always runs the host tests"
    else
        say "host tests skipped (RB_SKIP_HOST_TESTS)"
    fi
fi
say "all green in $(( $(date +%s) - start )) s"
