#!/usr/bin/env bash
# Benchmark of the revenue dashboard: N contracts (default
# 10,000) with their MRR movements, then the dashboard's data call, cold (a
# fresh process) and warm (median of --runs calls), 3 processes.
#
#   bash scripts/bench_dashboard.sh [--contracts N] [--runs R] [--reuse]
#
# Database rb_bench_dashboard (--reuse keeps a prepared one). Code:
# dev/bench/dashboard.py. Results: printed, and dev/bench/results/dashboard.md.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"
DB=rb_bench_dashboard
CONTRACTS=10000
RUNS=10
REUSE=
while [ $# -gt 0 ]; do
    case "$1" in
        --contracts) CONTRACTS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --reuse) REUSE=1; shift ;;
        *) die "unknown option $1" ;;
    esac
done
CFG="$STATE/bench_dashboard.cfg"
write_odoo_cfg "$CFG" "$DB" "${RB_BENCH_HTTP_PORT:-8079}"
export PYTHONPATH="$ODOO_SRC:$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$ROOT/dev/bench/results"
OUT="$ROOT/dev/bench/results/dashboard.md"
if [ -z "$REUSE" ] || ! psql -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    drop_db "$DB"
    say "installing recurring_billing in $DB"
    odoo_bin -c "$CFG" -d "$DB" -i recurring_billing --without-demo=True \
        --stop-after-init --no-http --log-level=warn
fi
if [ "$(psql -d "$DB" -qtAc "SELECT count(*) FROM recurring_contract")" = 0 ]; then
    say "creating $CONTRACTS contracts with their movements"
    "$PY" dev/bench/dashboard.py prepare --cfg "$CFG" --db "$DB" --contracts "$CONTRACTS" | tee "$STATE/bench_dashboard_prepare.log"
    psql -d "$DB" -qc "VACUUM ANALYZE"
fi
say "measuring get_dashboard_data (3 fresh processes)"
{
    echo "# Revenue dashboard: get_dashboard_data"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores;"
    echo "\`bash scripts/bench_dashboard.sh --contracts $CONTRACTS --runs $RUNS\`."
    echo
    grep -h "^prepared" "$STATE/bench_dashboard_prepare.log" 2>/dev/null | sed 's/^/    /'
    echo
    for n in 1 2 3; do
        "$PY" dev/bench/dashboard.py measure --cfg "$CFG" --db "$DB" --runs "$RUNS" | sed 's/^/    /'
    done
} | tee "$OUT"
