"""The fault suite's driver (see README.md): builds the template's data, or
runs one case on its own copy of the template. scripts/faults.sh is the
entry point:

    python dev/faults/suite.py --cfg CFG --template DB template
    python dev/faults/suite.py --cfg CFG --template DB [--prefix P] [--quick]
        [--keep] case N

Exit status 0 when every check of the case passed, 1 otherwise.
"""

import argparse
import sys
import traceback

from cases import CASES
from data import build_template
from rbtools.db import clone_db, drop_db
from rbtools.orm import boot


class Ctx:
    def __init__(self, args):
        self.cfg = args.cfg
        self.template = args.template
        self.quick = args.quick
        self.keep = args.keep
        self.prefix = args.prefix
        self.dbs = []

    def new_db(self, tag):
        db = f"{self.prefix}_{tag}"
        clone_db(self.template, db)
        self.dbs.append(db)
        return db

    def cleanup(self):
        if self.keep:
            return
        for db in self.dbs:
            drop_db(db)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--prefix", default="rb_faults")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("what", choices=["template", "case"])
    parser.add_argument("number", nargs="?", type=int)
    args = parser.parse_args()
    assert args.prefix.startswith("rb_faults"), args.prefix
    boot(args.cfg)
    if args.what == "template":
        build_template(args.template)
        return 0
    ctx = Ctx(args)
    try:
        ok = CASES[args.number](ctx)
    except Exception:  # noqa: BLE001 - a crash of the case is a failure
        traceback.print_exc(file=sys.stdout)
        print(f"   FAIL case {args.number} (the case crashed)", flush=True)
        ok = False
    finally:
        ctx.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
