#!/usr/bin/env bash
# Shared helpers for the project's scripts: locate Odoo, the virtualenv and the
# project's own PostgreSQL cluster. Sourced, never executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.local"                       # ignored: cluster, logs, odoo.cfg
# The Odoo series the scripts run on: 18.0 (the default) or 19.0
# (RB_SERIES=19.0). Each has its source tree, its virtualenv (built from that
# series' requirements) and its own database names (suffix SERIES_TAG), so
# both can run side by side on the one PostgreSQL cluster.
case "${RB_SERIES:-18.0}" in
    18 | 18.0)
        RB_SERIES=18.0 SERIES_TAG=""
        # Where an Odoo 18.0 Community source tree (odoo-bin + odoo/) is looked for.
        ODOO_SRC="${ODOO_SRC:-/opt/odoo18}"
        VENV="${RB_VENV:-$ROOT/.venv}"
        ;;
    19 | 19.0)
        RB_SERIES=19.0 SERIES_TAG=19
        ODOO_SRC="${ODOO19_SRC:-/opt/odoo19}"
        VENV="${RB_VENV19:-$ROOT/.venv19}"
        ;;
    *)
        echo "RB_SERIES=$RB_SERIES: the scripts run on 18.0 or 19.0" >&2
        exit 1
        ;;
esac
export RB_SERIES
PY="$VENV/bin/python"
PG_PORT="${RB_PG_PORT:-54329}"
mkdir -p "$STATE"

say() { printf '\033[1m[recurring_billing]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------- Odoo
require_odoo() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ] || [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
        local var=ODOO_SRC
        [ "$RB_SERIES" = 18.0 ] || var=ODOO19_SRC
        die "no Odoo $RB_SERIES source tree found at $var=$ODOO_SRC (looked for $ODOO_SRC/odoo-bin and $ODOO_SRC/odoo/release.py).
    Put an Odoo $RB_SERIES Community checkout there, or point the scripts at yours:
        $var=/path/to/odoo-$RB_SERIES make test"
    fi
    local series
    series=$(sed -n "s/^version_info = (\([0-9]*\), \([0-9]*\),.*/\1.\2/p" "$ODOO_SRC/odoo/release.py")
    [ "$series" = "$RB_SERIES" ] || die "$ODOO_SRC holds Odoo $series, not $RB_SERIES"
    # A git checkout of Odoo keeps most addons in addons/, beside odoo/addons.
    ADDONS_PATH="$ODOO_SRC/odoo/addons,$ROOT"
    [ ! -d "$ODOO_SRC/addons" ] || ADDONS_PATH="$ODOO_SRC/addons,$ADDONS_PATH"
}

# ------------------------------------------------------- system packages
# Debian packages the project needs: PostgreSQL, wkhtmltopdf (real PDFs),
# chromium (Odoo's browser tours), poppler-utils and tesseract-ocr (reading
# the rendered PDFs back in the tests).
ensure_system() {
    local missing=()
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
    # OCR reads back the PDFs in the tests: Debian's wkhtmltopdf draws Odoo's
    # web fonts as outlines, leaving no text layer to extract.
    command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr tesseract-ocr-eng)
    [ ${#missing[@]} -eq 0 ] && return 0
    if is_root && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing system packages. Install them with:
        sudo apt-get install ${missing[*]}"
    fi
}

# ------------------------------------------------------------ virtualenv
# 18.0: the project's pins (requirements.txt). 19.0: Odoo 19's own
# requirements.txt, read from the source tree, with two substitutions that
# spare a compiler and system headers: psycopg2 from its binary wheel, and
# no python-ldap (only Odoo's auth_ldap addon imports it).
series_requirements() {
    if [ "$RB_SERIES" = 18.0 ]; then
        echo "$ROOT/requirements.txt"
        return
    fi
    local out="$STATE/requirements-odoo$SERIES_TAG.txt"
    sed -e '/^python-ldap/d' -e 's/^psycopg2==/psycopg2-binary==/' "$ODOO_SRC/requirements.txt" >"$out"
    echo "$out"
}

ensure_venv() {
    local stamp="$VENV/.requirements.sha" reqs want
    reqs=$(series_requirements)
    want=$(cat "$reqs" "$ROOT/requirements-test.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)
    if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "preparing the virtualenv in $VENV (Odoo $RB_SERIES)"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip wheel "setuptools<81"
    # Some of Odoo 19's pins for this Python are sdists whose setup.py
    # imports pkg_resources, gone from setuptools 81.
    "$PY" -m pip install -q --build-constraint "$ROOT/scripts/build-constraints.txt" \
        -r "$reqs" -r "$ROOT/requirements-test.txt" -r "$ROOT/requirements-dev.txt"
    echo "$want" >"$stamp"
}

# ------------------------------------------------------------ PostgreSQL
pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
    dirname "$(command -v initdb)"
}

# The cluster lives in .local/pgdata and listens only on a unix socket. As
# root, PostgreSQL must run as another user: the Debian 'postgres' account.
pg_data_dir() {
    local d="$STATE/pgdata"
    if is_root && ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
        # The postgres account cannot reach the clone (e.g. under /root):
        # keep the cluster in a private folder named after the clone.
        d="/var/tmp/recurring_billing-$(echo "$ROOT" | sha1sum | cut -c1-10)/pgdata"
    fi
    echo "$d"
}

pg_run() {  # run a PostgreSQL server binary as the cluster owner
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_pg() {
    PGDATA_DIR=$(pg_data_dir)
    PG_SOCKET="$(dirname "$PGDATA_DIR")/run"
    local bin; bin=$(pg_bin)
    mkdir -p "$(dirname "$PGDATA_DIR")" "$PG_SOCKET"
    is_root && chown postgres: "$(dirname "$PGDATA_DIR")" "$PG_SOCKET"
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        say "creating the project's PostgreSQL cluster in $PGDATA_DIR"
        pg_run "$bin/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$PGDATA_DIR/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_SOCKET'
port = $PG_PORT
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 200
log_lock_waits = on
CONF
    fi
    if ! pg_run "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        pg_run "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$(dirname "$PGDATA_DIR")/postgres.log" -w start >/dev/null
    fi
    export PGHOST="$PG_SOCKET" PGPORT="$PG_PORT" PGUSER=odoo
    # Odoo refuses to connect as 'postgres': give it a role of its own.
    psql -U postgres -d postgres -qtAc "SELECT 1 FROM pg_roles WHERE rolname='odoo'" | grep -q 1 ||
        psql -U postgres -d postgres -qc "CREATE ROLE odoo LOGIN SUPERUSER"
}

# odoo.cfg for a given database and HTTP port.
write_odoo_cfg() {  # $1 = cfg path, $2 = db name, $3 = http port
    cat >"$1" <<CFG
[options]
addons_path = $ADDONS_PATH
data_dir = $STATE/filestore
db_host = $PG_SOCKET
db_port = $PG_PORT
db_user = odoo
db_name = $2
dbfilter = ^$2\$
http_port = $3
http_interface = 127.0.0.1
admin_passwd = admin
list_db = False
without_demo = False
CFG
}

odoo_bin() { "$PY" "$ODOO_SRC/odoo-bin" "$@"; }

drop_db() {
    psql -d postgres -qc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" 2>/dev/null || true
    rm -rf "$STATE/filestore/filestore/$1"
}

setup_all() {
    require_odoo
    ensure_system
    ensure_venv
    ensure_pg
}

# OCA queue_job, pinned in requirements-queue-job.txt, installed with pip
# --target into .local/queue_job (never into the virtualenv: the main suite
# runs without it), again only when the pin changes. Sets QJ_ADDONS, the
# addons directory to add to addons_path. Used by scripts/test_queue_job.sh
# and scripts/faults.sh (case 10).
ensure_queue_job() {
    local target="$STATE/queue_job$SERIES_TAG" pins="$ROOT/requirements-queue-job.txt"
    [ "$RB_SERIES" = 18.0 ] || pins="$ROOT/requirements-queue-job-$SERIES_TAG.txt"
    if ! cmp -s "$pins" "$target/.requirements"; then
        say "installing queue_job into $target"
        rm -rf "$target"
        "$PY" -m pip install --quiet --no-deps --target "$target" \
            -r "$pins" || die "pip install of queue_job failed"
        cp "$pins" "$target/.requirements"
    fi
    QJ_ADDONS="$target/odoo/addons"
    # After Odoo's own source: queue_job's Python dependencies (19.0's
    # openupgradelib) are in the same folder.
    export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$target"
}

# OCA's VERI*FACTU module and its OCA dependencies (pinned in
# requirements-l10n-es.txt) into $STATE/l10n_es, never into the virtualenv,
# again only when the pins change. Sets ES_ADDONS (the addons directory to
# add to the Spanish bridge's addons_path) and puts the directory on
# PYTHONPATH for their Python dependency (unidecode). --no-deps as for
# queue_job: the odoo-addon packages require "odoo", which is not on the index.
ensure_l10n_es_oca() {
    local target="$STATE/l10n_es"
    if ! cmp -s "$ROOT/requirements-l10n-es.txt" "$target/.requirements"; then
        say "installing l10n_es_verifactu_oca and its dependencies into $target"
        rm -rf "$target"
        "$PY" -m pip install --quiet --no-deps --target "$target" \
            -r "$ROOT/requirements-l10n-es.txt" || die "pip install of the OCA modules failed"
        cp "$ROOT/requirements-l10n-es.txt" "$target/.requirements"
    fi
    ES_ADDONS="$target/odoo/addons"
    # After Odoo's own source (scripts put it first): the target's "odoo"
    # folder is only a namespace for the addons.
    export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$target"
}

# A bridge addon's tests on a database of their own, rb_<name>_<suffix>,
# without demo data: install (or update, with RB_REUSE_DB) the modules, check
# the log, run the tests with pytest-odoo, check the JUnit report and the log.
# Used by scripts/test_l10n_es.sh and scripts/test_queue_job.sh.
#   bridge_tests SUFFIX LABEL MODULES TESTS EXTRA_ADDONS_DIR [pytest args...]
# (EXTRA_ADDONS_DIR: one more addons directory, or "" for none.)
bridge_tests() {
    local suffix="$1" label="$2" modules="$3" tests="$4" extra="$5"
    shift 5
    local db="${RB_TEST_DB:-rb_test$SERIES_TAG}_$suffix"
    db="rb_${db#rb_}"
    local cfg="$STATE/$db.cfg" logs="$STATE/logs/$db" mode rc start
    start=$(date +%s)
    write_odoo_cfg "$cfg" "$db" "${RB_TEST_HTTP_PORT:-8269}"
    [ -z "$extra" ] || sed -i "s|^addons_path = .*|&,$extra|" "$cfg"
    sed -i 's/^without_demo = False/without_demo = True/' "$cfg"
    mkdir -p "$logs"
    if [ -n "${RB_REUSE_DB:-}" ]; then
        say "updating $modules in the existing database $db"
        mode=-u
    else
        say "fresh database $db: $modules (no demo data)"
        drop_db "$db"
        mode=-i
    fi
    odoo_bin -c "$cfg" -d "$db" $mode "$modules" \
        --stop-after-init --log-level=info >"$logs/install.log" 2>&1 ||
        { tail -40 "$logs/install.log"; die "install failed"; }
    "$PY" "$ROOT/dev/checklog.py" "$logs/install.log"
    echo "test_enable = True" >>"$cfg"

    say "$label tests (pytest-odoo)"
    set +e
    PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" ODOO_RC="$cfg" "$VENV/bin/pytest" -p no:cacheprovider -s \
        --odoo-database="$db" --odoo-config="$cfg" --odoo-log-level=info \
        --junitxml="$STATE/junit-$db.xml" \
        "${@:-$tests}" 2>&1 | tee "$logs/pytest.log"
    rc=${PIPESTATUS[0]}
    set -e
    [ -f "$STATE/junit-$db.xml" ] || die "pytest wrote no report (exit $rc)"
    "$PY" "$ROOT/dev/check_junit.py" "$STATE/junit-$db.xml" || rc=1
    "$PY" "$ROOT/dev/checklog.py" "$logs/pytest.log" || rc=1
    [ "$rc" = 0 ] || die "the $label tests failed (see $logs/pytest.log)"
    say "$label: green in $(( $(date +%s) - start )) s"
}
