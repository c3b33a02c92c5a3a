#!/usr/bin/env bash
# Host tests (`make host-tests`): Odoo's own tests of the modules the addon
# extends, run by Odoo's own test runner (odoo-bin -i ... --test-tags) on a
# fresh database with recurring_billing installed, no demo data, and compared
# to the same run on a fresh database without it (only the addon's
# dependencies). Fails on any test that fails only with the addon.
#
#   scripts/host_tests.sh [--full] [--ci] [--keep] [--no-rerun] [--tags SPEC]
#
#   --full       also account, portal and payment (default: sale and
#                sale_management)
#   --ci         only the run with the addon, compared to the committed list
#                of the tests that fail without it, each with its reason
#                (.ci/host_tests_known_failures.txt); what `make test` runs
#   --keep       keep the databases
#   --no-rerun   count a test that fails only with the addon even if it
#                passes when rerun alone (see below)
#   --tags SPEC  Odoo --test-tags instead of /sale,/sale_management,...
#                (e.g. /sale_management:TestUi to run one class)
#
# A test failing only with the addon (or, with --ci, not in the list) is run
# once more, alone, on the same database: one that passes then is reported as
# flaky (a tour step's 10 s timeout on a loaded machine) and not counted.
# Databases ${RB_HOST_DB:-rb_host}_with and _without (dropped at the end),
# HTTP ports ${RB_HOST_HTTP_PORT:-8469} and the next one (the tours run
# against Odoo's HTTP server, in Chromium), logs and the comparison in
# .local/logs/$RB_HOST_DB/. RB_HOST_ADDON_PATH: the folder holding the
# recurring_billing/ to test (default: this clone), e.g. a `git worktree`.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"
ADDON_DIR="${RB_HOST_ADDON_PATH:-$ROOT}"
[ -f "$ADDON_DIR/recurring_billing/__manifest__.py" ] || die "no recurring_billing/ in $ADDON_DIR"
ADDONS_PATH="$ODOO_SRC/odoo/addons,$ADDON_DIR"

FULL="" CI="" KEEP="" RERUN=1 TAGS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --full) FULL=1 ;;
        --ci) CI=1 ;;
        --keep) KEEP=1 ;;
        --no-rerun) RERUN="" ;;
        --tags) shift; TAGS="${1:?--tags needs a value}" ;;
        *) die "unknown argument: $1 (usage: host_tests.sh [--full] [--ci] [--keep] [--no-rerun] [--tags SPEC])" ;;
    esac
    shift
done

MODULES=(sale sale_management)
[ -n "$FULL" ] && MODULES+=(account portal payment)
modules=$(IFS=,; echo "${MODULES[*]}")
[ -n "$TAGS" ] || TAGS=$(printf '/%s,' "${MODULES[@]}" | sed 's/,$//')
KNOWN="$ROOT/.ci/host_tests_known_failures.txt"
PREFIX="${RB_HOST_DB:-rb_host}"
case "$PREFIX" in rb_host*) ;; *) die "RB_HOST_DB must start with rb_host" ;; esac
PORT="${RB_HOST_HTTP_PORT:-8469}"
LOGS="$STATE/logs/$PREFIX"; mkdir -p "$LOGS"
rm -rf "$LOGS"/{with,without,rerun}.log "$LOGS/comparison.txt" "$LOGS"/screenshots-*

# Tours need both, or Odoo skips them (host_tests.py also fails on such skips).
command -v chromium >/dev/null || die "chromium is missing: browser tours would be skipped"
"$PY" -c "import websocket" || die "websocket-client is missing: browser tours would be skipped"

# The run without the addon installs exactly what the addon depends on.
depends=$("$PY" -c "import ast; print(','.join(ast.literal_eval(open('$ADDON_DIR/recurring_billing/__manifest__.py').read())['depends']))")

run() {  # $1 = with|without, $2 = modules to install, $3 = http port
    local db="${PREFIX}_$1" cfg="$STATE/${PREFIX}_$1.cfg" log="$LOGS/$1.log" t0 rc=0
    write_odoo_cfg "$cfg" "$db" "$3"
    drop_db "$db"
    say "host tests $1 the addon: fresh database $db, -i $2, --test-tags $TAGS (log: $log)"
    t0=$(date +%s)
    odoo_bin -c "$cfg" -d "$db" -i "$2" --without-demo=True --test-tags "$TAGS" \
        --stop-after-init --log-level=info --screenshots="$LOGS/screenshots-$1" \
        >"$log" 2>&1 || rc=$?
    # Odoo exits non-zero when a test fails: host_tests.py judges the log.
    say "host tests $1 the addon: $(( $(date +%s) - t0 )) s (odoo-bin exit $rc): $(summary "$log")"
}
summary() { grep -o '[0-9]* failed, [0-9]* error(s) of [0-9]* tests' "$1" | tail -1 || echo "no summary: the run did not finish"; }
uniq_csv() { tr ',' '\n' <<<"$1" | awk 'NF && !seen[$0]++' | paste -sd, -; }

start=$(date +%s)
dbs=("${PREFIX}_with")
run with "$(uniq_csv "recurring_billing,$modules")" "$PORT"
compare=(--with "$LOGS/with.log" --known "$KNOWN" --modules "$modules")
if [ -z "$CI" ]; then
    dbs+=("${PREFIX}_without")
    run without "$(uniq_csv "$depends,$modules")" "$((PORT + 1))"
    compare+=(--without "$LOGS/without.log")
fi

suspects=$("$PY" dev/host_tests.py "${compare[@]}" --suspects)
if [ -n "$suspects" ] && [ -n "$RERUN" ]; then
    say "host tests: rerunning alone, with the addon: $suspects"
    t0=$(date +%s) rc=0
    odoo_bin -c "$STATE/${PREFIX}_with.cfg" -d "${PREFIX}_with" --test-tags "$suspects" \
        --stop-after-init --log-level=info --screenshots="$LOGS/screenshots-rerun" \
        >"$LOGS/rerun.log" 2>&1 || rc=$?
    say "host tests rerun: $(( $(date +%s) - t0 )) s (odoo-bin exit $rc): $(summary "$LOGS/rerun.log")"
    compare+=(--rerun "$LOGS/rerun.log")
fi
if [ -z "$KEEP" ]; then
    for db in "${dbs[@]}"; do drop_db "$db"; done
fi

rc=0
"$PY" dev/host_tests.py "${compare[@]}" | tee "$LOGS/comparison.txt" || rc=$?
say "host tests: $(( $(date +%s) - start )) s in all (comparison: $LOGS/comparison.txt)"
[ "$rc" = 0 ] || die "host tests failed (see the comparison above)"
