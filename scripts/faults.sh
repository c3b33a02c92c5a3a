#!/usr/bin/env bash
# The fault suite (`make faults`, and `--quick` at the end of `make test`):
# real processes killed, raced and time-limited against the project's own
# PostgreSQL cluster, with real commits. See dev/faults/README.md.
#
#   scripts/faults.sh [--quick] [--keep] [--rebuild] [CASE...]
#
#   --quick    CI sizes (~300 contracts, 2,000 for the time-limit case)
#   --keep     keep the databases of the cases (rb_faults_c<N>) to inspect
#   --rebuild  rebuild the template database even if it is up to date
#   CASE       case numbers to run (default: all, 1 to 13; without 10, which
#              needs queue_job from PyPI, when RB_SKIP_QUEUE_JOB is set)
#
# Databases: ${RB_FAULTS_PREFIX:-rb_faults}_template (kept between runs while
# the addon's code is unchanged), for case 10 ${RB_FAULTS_PREFIX}_qj_template
# (a copy with OCA queue_job and the job queue bridge installed, kept while
# they and the template are unchanged), and one copy per case, dropped at the
# end.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

QUICK="" KEEP="" REBUILD="" CASES=()
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=--quick ;;
        --keep) KEEP=--keep ;;
        --rebuild) REBUILD=1 ;;
        [1-9] | 1[0-3]) CASES+=("$arg") ;;
        *) die "unknown argument: $arg (usage: faults.sh [--quick] [--keep] [--rebuild] [1-13 ...])" ;;
    esac
done
if [ ${#CASES[@]} -eq 0 ]; then
    CASES=(1 2 3 4 5 6 7 8 9 10 11 12 13)
    # As scripts/test.sh for the bridge's tests: a developer without PyPI
    # may leave out queue_job (case 10), CI never.
    if [ -n "${RB_SKIP_QUEUE_JOB:-}" ]; then
        [ -z "${CI:-}" ] || die "RB_SKIP_QUEUE_JOB is for developers: CI always runs fault case 10"
        say "faults: case 10 (queue_job) skipped (RB_SKIP_QUEUE_JOB)"
        CASES=(1 2 3 4 5 6 7 8 9 11 12 13)
    fi
fi

PREFIX="${RB_FAULTS_PREFIX:-rb_faults}"
case "$PREFIX" in rb_faults*) ;; *) die "RB_FAULTS_PREFIX must start with rb_faults" ;; esac
TEMPLATE="${PREFIX}_template"
CFG="$STATE/faults.cfg"
OUT="$STATE/logs/faults"
mkdir -p "$OUT"
write_odoo_cfg "$CFG" "$TEMPLATE" "${RB_FAULTS_HTTP_PORT:-8369}"
# Odoo, and the helpers shared with the benchmark (dev/rbtools).
export PYTHONPATH="$ODOO_SRC:$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}" ODOO_SRC
start=$(date +%s)

# ------------------------------------------------------------- template
# Rebuilt when the addon (tests aside), the template code (dev/faults/data.py
# and the shared helpers it uses) or Odoo changes.
want=$( { find recurring_billing -type f ! -path '*/tests/*' ! -name '*.pyc' -print0 |
          sort -z | xargs -0 sha1sum
          sha1sum dev/faults/data.py dev/rbtools/*.py "$ODOO_SRC/odoo/release.py"; } |
        sha1sum | cut -c1-40)
have=$(psql -d postgres -Atc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$TEMPLATE'")
if [ -n "$REBUILD" ] || [ "$have" != "$want" ]; then
    say "faults: template database $TEMPLATE (recurring_billing without demo, generic chart)"
    drop_db "$TEMPLATE"
    t0=$(date +%s)
    odoo_bin -c "$CFG" -d "$TEMPLATE" -i recurring_billing,payment_demo --without-demo=True \
        --stop-after-init --log-level=warn >"$OUT/template-install.log" 2>&1 ||
        { tail -40 "$OUT/template-install.log"; die "install of the template failed"; }
    "$PY" dev/faults/suite.py --cfg "$CFG" --template "$TEMPLATE" template >>"$OUT/template-install.log" 2>&1 ||
        { tail -40 "$OUT/template-install.log"; die "template data failed"; }
    psql -d postgres -qc "COMMENT ON DATABASE \"$TEMPLATE\" IS '$want'"
    say "faults: template ready in $(( $(date +%s) - t0 )) s"
else
    say "faults: template $TEMPLATE is up to date"
fi

# ----------------------------------------------------- queue_job template
# Case 10 runs OCA queue_job's job runner: its database is a copy of the
# template with queue_job (pinned, installed into .local/queue_job as for
# scripts/test_queue_job.sh) and recurring_billing_queue_job installed, kept
# while the template, the bridge and the pin are unchanged. Its configuration
# adds queue_job's addons directory and the job runner's channels: two jobs
# at once, the two HTTP workers of case 10's odoo-bin.
QJ_TEMPLATE="${PREFIX}_qj_template"
QJ_CFG="$STATE/faults-qj.cfg"
if [[ " ${CASES[*]} " == *" 10 "* ]]; then
    ensure_queue_job
    cp "$CFG" "$QJ_CFG"
    sed -i "s|^addons_path = .*|&,$QJ_ADDONS|" "$QJ_CFG"
    printf '\n[queue_job]\nchannels = root:2,root.recurring_billing:2\n' >>"$QJ_CFG"
    qj_want=$( { echo "$want"
                 find recurring_billing_queue_job -type f ! -path '*/tests/*' ! -name '*.pyc' -print0 |
                     sort -z | xargs -0 sha1sum
                 sha1sum requirements-queue-job.txt; } | sha1sum | cut -c1-40)
    qj_have=$(psql -d postgres -Atc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$QJ_TEMPLATE'")
    if [ -n "$REBUILD" ] || [ "$qj_have" != "$qj_want" ]; then
        say "faults: template database $QJ_TEMPLATE ($TEMPLATE + queue_job, recurring_billing_queue_job)"
        drop_db "$QJ_TEMPLATE"
        t0=$(date +%s)
        psql -d postgres -qc "CREATE DATABASE \"$QJ_TEMPLATE\" TEMPLATE \"$TEMPLATE\""
        if [ -d "$STATE/filestore/filestore/$TEMPLATE" ]; then
            cp -a "$STATE/filestore/filestore/$TEMPLATE" "$STATE/filestore/filestore/$QJ_TEMPLATE"
        fi
        odoo_bin -c "$QJ_CFG" -d "$QJ_TEMPLATE" -i queue_job,recurring_billing_queue_job \
            --without-demo=True --stop-after-init --log-level=warn \
            >"$OUT/qj-template-install.log" 2>&1 ||
            { tail -40 "$OUT/qj-template-install.log"; die "install of queue_job in $QJ_TEMPLATE failed"; }
        # As in the template: only the billing scheduled action is active
        # (queue_job adds its autovacuum).
        psql -d "$QJ_TEMPLATE" -qc "UPDATE ir_cron SET active = false WHERE id NOT IN (
            SELECT res_id FROM ir_model_data WHERE module = 'recurring_billing'
            AND name = 'ir_cron_generate_invoices')"
        psql -d postgres -qc "COMMENT ON DATABASE \"$QJ_TEMPLATE\" IS '$qj_want'"
        say "faults: $QJ_TEMPLATE ready in $(( $(date +%s) - t0 )) s"
    else
        say "faults: template $QJ_TEMPLATE is up to date"
    fi
fi

# ---------------------------------------------------------------- cases
# Cases 1-6, 8-13 check outcomes, not speed: in --quick they run two at a time.
# Case 7 measures job runs against the time limit: it always runs alone.
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run_case() {  # $1 = case number; output in $OUT/case-$1.out, status in .rc
    local rc=0 cfg="$CFG" template="$TEMPLATE"
    # Case 10: queue_job's database and configuration.
    [ "$1" != 10 ] || { cfg="$QJ_CFG"; template="$QJ_TEMPLATE"; }
    "$PY" dev/faults/suite.py --cfg "$cfg" --template "$template" --prefix "$PREFIX" \
        $QUICK $KEEP case "$1" >"$OUT/case-$1.out" 2>&1 || rc=$?
    echo "$rc" >"$OUT/case-$1.rc"
}
show_case() { cat "$OUT/case-$1.out"; }

LANES=1; [ -n "$QUICK" ] && LANES=2
say "faults: cases ${CASES[*]}${QUICK:+ (quick)}, logs in $OUT"
declare -A RUNNING=()
for n in 10 4 5 1 2 6 3 8 9 11 12 13; do
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
