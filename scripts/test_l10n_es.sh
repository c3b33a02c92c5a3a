#!/usr/bin/env bash
# The Spanish bridge's tests (recurring_billing_l10n_es) on a database of their
# own, rb_<name>_es: Odoo's Spanish localisation and its SII module installed
# without demo data, the bridge's tests run by pytest-odoo, the log checked.
# No call leaves the machine: the SII web service is mocked the way Odoo's own
# l10n_es_edi_sii tests mock it. Called by scripts/test.sh (RB_SKIP_L10N_ES=1
# skips it on a developer's machine, never in CI); extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

DB="${RB_TEST_DB:-rb_test}_es"
DB="rb_${DB#rb_}"
CFG="$STATE/$DB.cfg"
HTTP_PORT="${RB_TEST_HTTP_PORT:-8269}"
write_odoo_cfg "$CFG" "$DB" "$HTTP_PORT"
sed -i 's/^without_demo = False/without_demo = all/' "$CFG"
LOGS="$STATE/logs/$DB"; mkdir -p "$LOGS"
start=$(date +%s)

if [ -n "${RB_REUSE_DB:-}" ]; then
    say "updating recurring_billing_l10n_es in the existing database $DB"
    mode=-u
else
    say "fresh database $DB: recurring_billing_l10n_es with l10n_es_edi_sii (no demo data)"
    drop_db "$DB"
    mode=-i
fi
odoo_bin -c "$CFG" -d "$DB" $mode recurring_billing,recurring_billing_l10n_es,l10n_es_edi_sii \
    --stop-after-init --log-level=info >"$LOGS/install.log" 2>&1 ||
    { tail -40 "$LOGS/install.log"; die "install failed"; }
"$PY" scripts/checklog.py "$LOGS/install.log"
echo "test_enable = True" >>"$CFG"

say "Spanish bridge tests (pytest-odoo)"
set +e
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" ODOO_RC="$CFG" "$VENV/bin/pytest" -p no:cacheprovider -s \
    --odoo-database="$DB" --odoo-config="$CFG" --odoo-log-level=info \
    --junitxml="$STATE/junit-$DB.xml" \
    "${@:-recurring_billing_l10n_es/tests}" 2>&1 | tee "$LOGS/pytest.log"
rc=${PIPESTATUS[0]}
set -e
[ -f "$STATE/junit-$DB.xml" ] || die "pytest wrote no report (exit $rc)"
"$PY" scripts/check_junit.py "$STATE/junit-$DB.xml" || rc=1
"$PY" scripts/checklog.py "$LOGS/pytest.log" || rc=1
[ "$rc" = 0 ] || die "the Spanish bridge tests failed (see $LOGS/pytest.log)"
say "Spanish bridge: green in $(( $(date +%s) - start )) s"
