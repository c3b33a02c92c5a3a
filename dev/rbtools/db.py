"""PostgreSQL helpers of the tools: plain psycopg2, no Odoo (the benchmark's
orchestrator never imports Odoo).

Connections go to the project's own cluster through its unix socket: libpq's
PGHOST/PGPORT/PGUSER, which ``scripts/lib.sh`` exports; when a variable is
missing and Odoo's configuration is loaded in this process, its ``db_*``
options are used instead.

Every function that takes ``target`` accepts an open connection or a
database name (then a connection is opened for the call and closed).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
# data_dir of the configurations that scripts/lib.sh writes.
DATA_DIR = ROOT / ".local" / "filestore"
# The tools create and drop only their own databases.
OWN_PREFIXES = ("rb_bench", "rb_faults")


def _odoo_option(name):
    config = getattr(sys.modules.get("odoo.tools.config"), "config", None)
    return (config.get(name) or None) if config is not None else None


def connect(db, application_name=None, autocommit=True):
    """A connection to ``db``, autocommit by default."""
    conn = psycopg2.connect(
        dbname=db,
        host=os.environ.get("PGHOST") or _odoo_option("db_host"),
        port=os.environ.get("PGPORT") or _odoo_option("db_port"),
        user=os.environ.get("PGUSER") or _odoo_option("db_user"),
        application_name=application_name or f"rbtools-{os.getpid()}",
    )
    conn.autocommit = autocommit
    return conn


def q(target, query, params=None):
    """Run ``query``; its rows (a list of tuples), [] when it returns none."""
    if isinstance(target, str):
        conn = connect(target)
        try:
            return q(conn, query, params)
        finally:
            conn.close()
    with target.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


def row1(target, query, params=None):
    """The first row, or None."""
    rows = q(target, query, params)
    return rows[0] if rows else None


def q1(target, query, params=None):
    """The first column of the first row, or None."""
    row = row1(target, query, params)
    return row[0] if row else None


# ---------------------------------------------------------------- databases
def check_own(name):
    if not name.startswith(OWN_PREFIXES):
        raise SystemExit(
            f"refusing to touch database {name!r}: not one of "
            + ", ".join(f"{p}*" for p in OWN_PREFIXES)
        )


def filestore(db, data_dir=None):
    """Where Odoo keeps the attachments of ``db``."""
    return Path(data_dir or _odoo_option("data_dir") or DATA_DIR) / "filestore" / db


def db_exists(name):
    return bool(q1("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [name]))


def drop_db(name, data_dir=None):
    """Drop ``name`` (its sessions ended) and its filestore."""
    check_own(name)
    q("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(filestore(name, data_dir), ignore_errors=True)


def clone_db(template, name, data_dir=None):
    """``name`` as a copy of ``template`` (``CREATE DATABASE ... TEMPLATE``),
    replacing it if it exists; the filestore, which is not in the database,
    is copied along."""
    check_own(name)
    drop_db(name, data_dir)
    q("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    src, dst = filestore(template, data_dir), filestore(name, data_dir)
    if src.is_dir():
        subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
