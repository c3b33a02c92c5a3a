#!/usr/bin/env bash
# The main job (`make demo`): a fresh database with recurring_billing and its
# demo contracts, a saved demo card, one billing and one charging run for
# today, a summary, then Odoo served on
# http://localhost:8069 (admin / admin) until Ctrl-C.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"
DB="${RB_DEMO_DB:-rb_demo$SERIES_TAG}"
CFG="$STATE/$DB.cfg"
PORT="${RB_DEMO_HTTP_PORT:-8069}"
write_odoo_cfg "$CFG" "$DB" "$PORT"
mkdir -p "$STATE/logs"
say "creating the demo database $DB (this takes about two minutes)"
drop_db "$DB"
# English (the default) and Spanish (the first market): switch in the
# user's preferences. The first language listed stays the default.
# payment_demo: Odoo's demo payment provider, so that the demo shows a
# contract charged automatically on a saved card.
odoo_bin -c "$CFG" -d "$DB" -i recurring_billing,payment_demo --load-language=en_US,es_ES --stop-after-init \
    >"$STATE/logs/demo-install.log" 2>&1 || { tail -40 "$STATE/logs/demo-install.log"; die "install failed"; }
say "saving a demo card, running the billing and charging scheduled actions once for today"
# dev/ on the path: the demo card comes from dev/rbtools (shared with the
# fault suite).
PYTHONPATH="$ROOT/dev${PYTHONPATH:+:$PYTHONPATH}" \
    odoo_bin shell -c "$CFG" -d "$DB" --no-http --log-level=warn <dev/demo_summary.py
[ -n "${RB_DEMO_NO_SERVE:-}" ] && exit 0
say "serving Odoo on http://localhost:$PORT  (login admin / password admin) - Ctrl-C to stop"
exec "$PY" "$ODOO_SRC/odoo-bin" -c "$CFG" -d "$DB" --http-port="$PORT"
