"""Process A of case 3: a billing worker that has claimed a batch and holds
it. It locks the next batch exactly as the scheduled action does, through
the engine's documented steps (``recurring.billing.engine._claim_batch``, as
the billing user), prints the ids, waits for a line on stdin, then bills the
batch (``_bill_batch``) and commits."""

import argparse
import json
import sys
import time

from rbtools.orm import billing_today, billing_user, boot

from odoo import SUPERUSER_ID, api


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    registry = boot(args.cfg, args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        engine = env["recurring.billing.engine"].with_user(billing_user(env))
        today = billing_today(env)
        claimed = engine._claim_batch(today)
        print(json.dumps({"claimed": claimed.ids}), flush=True)
        sys.stdin.readline()  # the driver says when to go on
        start = time.monotonic()
        moves = engine.with_company(claimed.company_id)._bill_batch(claimed, today)
        cr.commit()
        print(
            json.dumps(
                {"billed": len(moves), "seconds": round(time.monotonic() - start, 2)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
