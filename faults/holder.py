"""Process A of case 3: a billing worker that has claimed a batch and holds
it. It locks the next batch exactly as the scheduled action does
(``_claim_contracts``, as the billing user), prints the ids, waits for a line
on stdin, then bills the batch and commits."""

import argparse
import json
import sys
import time

from common import billing_today, boot

from odoo import SUPERUSER_ID, api


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    registry = boot(args.cfg, args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bot = env.ref("recurring_billing.user_billing_bot")
        contracts = env["recurring.contract"].with_user(bot)
        today = billing_today(env)
        claimed = contracts._claim_contracts(today)
        print(json.dumps({"claimed": claimed.ids}), flush=True)
        sys.stdin.readline()  # the driver says when to go on
        start = time.monotonic()
        moves = claimed.with_company(claimed.company_id)._bill_batch(today)
        cr.commit()
        print(
            json.dumps(
                {"billed": len(moves), "seconds": round(time.monotonic() - start, 2)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
