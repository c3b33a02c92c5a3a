#!/usr/bin/env bash
# The test command (`make test`): lint, a fresh database with the addon
# installed, the whole suite under pytest-odoo with the HTTP server (tours run
# in Chromium), the fault suite, the bridges, the host tests, the upgrade
# test from the previous release, the wheel test, and a log check that fails
# on any ERROR or WARNING line; all on Odoo 18.0, then the same again on
# Odoo 19.0 (RB_SERIES=19.0) except the steps listed in SERIES_18_ONLY.
# Extra arguments go to pytest, on the series of RB_SERIES (default 18.0), e.g.
#   scripts/test.sh recurring_billing/tests/test_schedule.py -k leap
#   RB_SERIES=19.0 scripts/test.sh recurring_billing/tests/test_billing.py
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

DB="${RB_TEST_DB:-rb_test$SERIES_TAG}"
CFG="$STATE/$DB.cfg"  # per database: several runs may go side by side
HTTP_PORT="${RB_TEST_HTTP_PORT:-8269}"
write_odoo_cfg "$CFG" "$DB" "$HTTP_PORT"
LOGS="$STATE/logs/$DB"; mkdir -p "$LOGS"
start=$(date +%s)

# Run on 18.0 only, with the reason (the README says the same): lint reads
# the source, not a series; the fault suite and the host tests are the
# longest steps and exercise PostgreSQL, processes and Odoo's own tests
# rather than what differs between the series (tools/compat.py, which the
# suite covers on both); the upgrade test starts from the previous release,
# which is 18.0 only.
SERIES_18_ONLY="lint faults host-tests upgrade"
series_step() {  # $1 = step: true when it runs on this series
    [ "$RB_SERIES" = 18.0 ] || [[ " $SERIES_18_ONLY " != *" $1 "* ]] || {
        say "$1: on 18.0 only (SERIES_18_ONLY in scripts/test.sh)"
        return 1
    }
}

if [ -z "${RB_SKIP_LINT:-}" ] && series_step lint; then
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
"$PY" dev/checklog.py "$LOGS/install.log"
# Then the timesheet bridge (it pulls hr_timesheet in): recurring_billing
# installed above without it, as it must.
say "installing the timesheet bridge recurring_billing_timesheet (with hr_timesheet)"
odoo_bin -c "$CFG" -d "$DB" $mode recurring_billing_timesheet --stop-after-init \
    --log-level=info >"$LOGS/install_bridge.log" 2>&1 || { tail -40 "$LOGS/install_bridge.log"; die "bridge install failed"; }
"$PY" dev/checklog.py "$LOGS/install_bridge.log"

# Only now: with test_enable in the config the install above would run the
# tests itself (Odoo's runner); pytest-odoo runs them instead, see README.
echo "test_enable = True" >>"$CFG"

say "test suite (pytest-odoo, --odoo-http: HttpCase and Chromium tours run)"
TARGETS=("$@")
[ $# -gt 0 ] || TARGETS=(recurring_billing/tests recurring_billing_timesheet/tests)
set +e
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" ODOO_RC="$CFG" "$VENV/bin/pytest" -p no:cacheprovider -s \
    --odoo-database="$DB" --odoo-config="$CFG" --odoo-http --odoo-log-level=info \
    --junitxml="$STATE/junit-$DB.xml" \
    "${TARGETS[@]}" 2>&1 | tee "$LOGS/pytest.log"
rc=${PIPESTATUS[0]}
set -e
[ -f "$STATE/junit-$DB.xml" ] || die "pytest wrote no report (exit $rc)"
"$PY" dev/check_junit.py "$STATE/junit-$DB.xml" || rc=1
"$PY" dev/checklog.py "$LOGS/pytest.log" || rc=1
[ "$rc" = 0 ] || die "the test suite failed (see $LOGS/pytest.log)"

if [ $# -eq 0 ] && [ -z "${RB_SKIP_FAULTS:-}" ] && series_step faults; then
    say "fault suite (real processes, real commits, on a copy of the database)"
    bash "$ROOT/scripts/faults.sh" --quick
fi

# The Spanish bridge on a database of its own (l10n_es + l10n_es_edi_sii +
# OCA l10n_es_verifactu_oca from PyPI, in .local/l10n_es).
if [ $# -eq 0 ]; then
    if [ -z "${RB_SKIP_L10N_ES:-}" ]; then
        RB_TEST_DB="$DB" RB_TEST_HTTP_PORT="$HTTP_PORT" bash "$ROOT/scripts/test_l10n_es.sh"
    elif [ -n "${CI:-}" ]; then
        die "RB_SKIP_L10N_ES is for developers: CI always runs the Spanish bridge tests"
    else
        say "Spanish bridge tests skipped (RB_SKIP_L10N_ES)"
    fi
fi

# The job queue bridge on a database of its own (queue_job from PyPI, in
# .local/queue_job: the suite above ran without it, as it must).
if [ $# -eq 0 ]; then
    if [ -z "${RB_SKIP_QUEUE_JOB:-}" ]; then
        RB_TEST_DB="$DB" RB_TEST_HTTP_PORT="$HTTP_PORT" bash "$ROOT/scripts/test_queue_job.sh"
    elif [ -n "${CI:-}" ]; then
        die "RB_SKIP_QUEUE_JOB is for developers: CI always runs the job queue bridge tests"
    else
        say "job queue bridge tests skipped (RB_SKIP_QUEUE_JOB)"
    fi
fi

# Odoo's own tests of sale and sale_management, with the addon installed,
# against the committed list of those that fail without it (make host-tests).
if [ $# -eq 0 ] && series_step host-tests; then
    if [ -z "${RB_SKIP_HOST_TESTS:-}" ]; then
        say "host tests (Odoo's own sale and sale_management tests, with the addon installed)"
        RB_HOST_DB="rb_host_${DB#rb_}" RB_HOST_HTTP_PORT="$HTTP_PORT" bash "$ROOT/scripts/host_tests.sh" --ci
    elif [ -n "${CI:-}" ]; then
        die "RB_SKIP_HOST_TESTS is for developers: CI always runs the host tests"
    else
        say "host tests skipped (RB_SKIP_HOST_TESTS)"
    fi
fi
# The addon as users get it: the previous release's database upgraded to
# the working tree (scripts/upgrade_test.sh), and the wheel installed into a
# clean virtualenv and Odoo installing the addon from it (scripts/wheel_test.sh).
for step in upgrade wheel; do
    [ $# -eq 0 ] || break
    series_step "$step" || continue
    skip="RB_SKIP_${step^^}"
    if [ -z "${!skip:-}" ]; then
        say "$step test (scripts/${step}_test.sh)"
        RB_UPGRADE_DB="rb_upgrade_${DB#rb_}" RB_WHEEL_DB="rb_wheel_${DB#rb_}" \
            bash "$ROOT/scripts/${step}_test.sh"
    elif [ -n "${CI:-}" ]; then
        die "$skip is for developers: CI always runs the $step test"
    else
        say "$step test skipped ($skip)"
    fi
done
say "all green on Odoo $RB_SERIES in $(( $(date +%s) - start )) s"

# Then the same on Odoo 19.0, from the same source (RB_SKIP_SERIES19=1 skips
# it on a developer's machine, never in CI).
if [ $# -eq 0 ] && [ "$RB_SERIES" = 18.0 ]; then
    if [ -z "${RB_SKIP_SERIES19:-}" ]; then
        say "the same on Odoo 19.0 (RB_SERIES=19.0)"
        RB_SERIES=19.0 RB_TEST_DB="${DB}19" bash "$ROOT/scripts/test.sh"
        say "all green on Odoo 18.0 and 19.0 in $(( $(date +%s) - start )) s"
    elif [ -n "${CI:-}" ]; then
        die "RB_SKIP_SERIES19 is for developers: CI always runs the suite on Odoo 19.0"
    else
        say "Odoo 19.0 skipped (RB_SKIP_SERIES19)"
    fi
fi
