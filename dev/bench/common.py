"""Settings and helpers shared by the benchmark's files: paths, database
names, the limits and the targets the report checks, and how a measuring process
loads Odoo.

The orchestrator (``bench.py all``) never imports Odoo: only ``bootstrap``,
called in the processes of the subcommands, does.
"""

import os
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "dev" / "bench" / "results"
STATE = ROOT / ".local"
TMP = STATE / "bench-tmp"
SNAPSHOT = STATE / "bench-addons"  # the addon as it was when the run started
RAW = RESULTS / "raw.jsonl.log"  # raw figures of the last run (git-ignored)
# The Odoo series under test (scripts/lib.sh's RB_SERIES): its databases and
# its OCA contract have names of their own, "19" added on 19.0.
SERIES_TAG = "" if os.environ.get("RB_SERIES", "18.0") == "18.0" else "19"
TEMPLATE_DB = f"rb_bench{SERIES_TAG}_tpl"
RUN_DB = f"rb_bench{SERIES_TAG}_run"
# OCA ``contract``: a template of its own, so that its overrides
# of account.move never weigh on the other contenders; installed from the
# PyPI wheel pinned in dev/bench/requirements-oca.txt into OCA_TARGET (the
# benchmark's own addons, never the project's virtualenv).
OCA_TEMPLATE_DB = f"rb_bench{SERIES_TAG}_oca_tpl"
OCA_TARGET = STATE / f"bench-oca{SERIES_TAG}"
OCA_ADDONS = OCA_TARGET / "odoo" / "addons"
OCA_CRON_XMLID = "contract.contract_cron_for_invoice"
TEMPLATE_VERSION = "4"  # bump when the template content changes
CRON_TIME_LIMIT = 120  # limit_time_real_cron of every measured process
PRODUCT_PRICE = 50.0
SECOND_JOURNAL_CODE = "BNV2"
TEMPLATE_VARIANTS = (1, 5)  # lines per contract; the template holds both
# Usage lines: variant 2 is two fixed lines, in arrears, started a
# month ago (its first period is due today); USAGE_VARIANT is the same with
# the second line billed on usage, USAGE_RECORDS records per contract in the
# period (so both bill the same number of invoice lines, side by side).
USAGE_VARIANT = 102
USAGE_RECORDS = 3


def variant_lines(nlines):
    """(lines per contract, whether one is a usage line) of a variant."""
    return (2, True) if nlines == USAGE_VARIANT else (nlines, False)


# Targets: measured against the batched floor (create
# + post + commit per batch of the engine's batch size), BATCH_SIZE below.
TARGET_TIME_RATIO = 0.8
BATCH_SIZE = 100
TARGET_EXTRA_QUERIES = 3
TARGET_RSS_GROWTH = 1.10  # peak RSS at 10,000 <= 1.10 x peak RSS at 1,000


def say(msg):
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def check_db_name(name):
    if not name.startswith("rb_bench"):
        raise SystemExit(f"refusing to touch database {name!r}: not rb_bench*")


def addons_path_args():
    addons = os.environ.get("RB_BENCH_ADDONS")
    if addons and OCA_ADDONS.is_dir():
        # Only the OCA template installs it: on the path of every process,
        # it changes nothing in a database where it is not installed.
        addons += f",{OCA_ADDONS}"
    return [f"--addons-path={addons}"] if addons else []


def bootstrap(db):
    """Load Odoo with the bench configuration and return the registry."""
    from rbtools.orm import boot

    return boot(
        os.environ["RB_BENCH_CFG"],
        db,
        log_level="warn",
        extra=[f"--limit-time-real-cron={CRON_TIME_LIMIT}", *addons_path_args()],
        server_wide=True,
    )
