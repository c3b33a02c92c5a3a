#!/usr/bin/env bash
# The benchmark (`make bench`): recurring_billing's
# scheduled action, driven by Odoo's real ir.cron runner, against Odoo's own
# account.move create() + action_post() for the same invoices (the floor,
# in one transaction and batched per 100 with commits), and OCA contract.
#
#   bash scripts/bench.sh                    # N = 100, 1000, 10000 (long)
#   bash scripts/bench.sh --sizes 100,1000   # quicker
#   bash scripts/bench.sh --help             # every option
#
# Databases are named rb_bench*. The Markdown table is printed at the end and
# written to dev/bench/results/latest.md (--report elsewhere); per-step logs go to
# dev/bench/results/*.log. The code: dev/bench/bench.py (command line, orchestration)
# and the files beside it; helpers shared with the fault suite: dev/rbtools.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"
CFG="$STATE/bench$SERIES_TAG.cfg"
write_odoo_cfg "$CFG" "rb_bench${SERIES_TAG}_tpl" "${RB_BENCH_HTTP_PORT:-8079}"
mkdir -p "$ROOT/dev/bench/results"
# OCA contract (the "oca" contender) into the benchmark's own addons
# directory, once per pin (dev/bench/requirements-oca.txt).
# RB_SERIES=19.0 benchmarks on Odoo 19.0, with OCA contract's 19.0 release.
OCA_TARGET="$STATE/bench-oca$SERIES_TAG" OCA_PINS="$ROOT/dev/bench/requirements-oca.txt"
[ "$RB_SERIES" = 18.0 ] || OCA_PINS="$ROOT/dev/bench/requirements-oca-$SERIES_TAG.txt"
if ! cmp -s "$OCA_PINS" "$OCA_TARGET/.requirements"; then
  say "installing OCA contract into $OCA_TARGET"
  rm -rf "$OCA_TARGET"
  "$PY" -m pip install --quiet --no-deps --target "$OCA_TARGET" \
    -r "$OCA_PINS" || die "pip install of OCA contract failed"
  cp "$OCA_PINS" "$OCA_TARGET/.requirements"
fi
# Odoo, and the helpers shared with the fault suite (dev/rbtools).
export PYTHONPATH="$ODOO_SRC:$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}"
export RB_BENCH_CFG="$CFG" ODOO_SRC PGHOST PGPORT PGUSER
exec "$PY" "$ROOT/dev/bench/bench.py" all "$@"
