#!/usr/bin/env bash
# The fault suite (`make faults`, and `--quick` at the end of `make test`):
# real processes killed, raced and time-limited against the project's own
# PostgreSQL cluster, with real commits. See faults/README.md.
#
#   scripts/faults.sh [--quick] [--keep] [--rebuild] [CASE...]
#
#   --quick    CI sizes (~300 contracts, 2,000 for the time-limit case)
#   --keep     keep the databases of the cases (rb_faults_c<N>) to inspect
#   --rebuild  rebuild the template database even if it is up to date
#   CASE       case numbers to run (default: all, 1 to 8)
#
# Databases: ${RB_FAULTS_PREFIX:-rb_faults}_template (kept between runs while
# the addon's code is unchanged) and one copy per case, dropped at the end.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

QUICK="" KEEP="" REBUILD="" CASES=()
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=--quick ;;
        --keep) KEEP=--keep ;;
        --rebuild) REBUILD=1 ;;
        [1-9]) CASES+=("$arg") ;;
        *) die "unknown argument: $arg (usage: faults.sh [--quick] [--keep] [--rebuild] [1-9 ...])" ;;
    esac
done
[ ${#CASES[@]} -gt 0 ] || CASES=(1 2 3 4 5 6 7 8 9)

PREFIX="${RB_FAULTS_PREFIX:-rb_faults}"
case "$PREFIX" in rb_faults*) ;; *) die "RB_FAULTS_PREFIX must start with rb_faults" ;; esac
TEMPLATE="${PREFIX}_template"
CFG="$STATE/faults.cfg"
OUT="$STATE/logs/faults"
mkdir -p "$OUT"
write_odoo_cfg "$CFG" "$TEMPLATE" "${RB_FAULTS_HTTP_PORT:-8369}"
# Odoo, and the helpers shared with the benchmark (tools/rbtools).
export PYTHONPATH="$ODOO_SRC:$ROOT/tools${PYTHONPATH:+:$PYTHONPATH}" ODOO_SRC
start=$(date +%s)

# ------------------------------------------------------------- template
# Rebuilt when the addon (tests aside), the template code (faults/common.py
# and the shared helpers it uses) or Odoo changes.
want=$( { find recurring_billing -type f ! -path '*/tests/*' ! -name '*.pyc' -print0 |
          sort -z | xargs -0 sha1sum
          sha1sum faults/common.py tools/rbtools/*.py "$ODOO_SRC/odoo/release.py"; } |
        sha1sum | cut -c1-40)
have=$(psql -d postgres -Atc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$TEMPLATE'")
if [ -n "$REBUILD" ] || [ "$have" != "$want" ]; then
    say "faults: template database $TEMPLATE (recurring_billing without demo, generic chart)"
    drop_db "$TEMPLATE"
    t0=$(date +%s)
    odoo_bin -c "$CFG" -d "$TEMPLATE" -i recurring_billing,payment_demo --without-demo=all \
        --stop-after-init --log-level=warn >"$OUT/template-install.log" 2>&1 ||
        { tail -40 "$OUT/template-install.log"; die "install of the template failed"; }
    "$PY" faults/cases.py --cfg "$CFG" --template "$TEMPLATE" template >>"$OUT/template-install.log" 2>&1 ||
        { tail -40 "$OUT/template-install.log"; die "template data failed"; }
    psql -d postgres -qc "COMMENT ON DATABASE \"$TEMPLATE\" IS '$want'"
    say "faults: template ready in $(( $(date +%s) - t0 )) s"
else
    say "faults: template $TEMPLATE is up to date"
fi

# ---------------------------------------------------------------- cases
# Cases 1-6 check outcomes, not speed: in --quick they run two at a time.
# Case 7 measures job runs against the time limit: it always runs alone.
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run_case() {  # $1 = case number; output in $OUT/case-$1.out, status in .rc
    local rc=0
    "$PY" faults/cases.py --cfg "$CFG" --template "$TEMPLATE" --prefix "$PREFIX" \
        $QUICK $KEEP case "$1" >"$OUT/case-$1.out" 2>&1 || rc=$?
    echo "$rc" >"$OUT/case-$1.rc"
}
show_case() { cat "$OUT/case-$1.out"; }

LANES=1; [ -n "$QUICK" ] && LANES=2
say "faults: cases ${CASES[*]}${QUICK:+ (quick)}, logs in $OUT"
declare -A RUNNING=()
for n in 4 5 1 2 6 3 8 9; do
    [[ " ${CASES[*]} " == *" $n "* ]] || continue
    rm -f "$OUT/case-$n.rc"
    while [ ${#RUNNING[@]} -ge "$LANES" ]; do
        wait -n || true
        for m in "${!RUNNING[@]}"; do
            if [ -f "$OUT/case-$m.rc" ]; then show_case "$m"; unset "RUNNING[$m]"; fi
        done
    done
    run_case "$n" &
    PIDS+=($!)
    RUNNING[$n]=$!
done
while [ ${#RUNNING[@]} -gt 0 ]; do
    wait -n || true
    for m in "${!RUNNING[@]}"; do
        if [ -f "$OUT/case-$m.rc" ]; then show_case "$m"; unset "RUNNING[$m]"; fi
    done
done
if [[ " ${CASES[*]} " == *" 7 "* ]]; then
    rm -f "$OUT/case-7.rc"
    run_case 7
    show_case 7
fi

passed=0 failed=0 failed_list=""
for n in "${CASES[@]}"; do
    if [ "$(cat "$OUT/case-$n.rc" 2>/dev/null)" = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failed_list+=" $n"
    fi
done
echo
say "faults: $(( $(date +%s) - start )) s${failed_list:+, failed cases:$failed_list}"
echo "faults: $passed passed, $failed failed"
[ "$failed" = 0 ]
