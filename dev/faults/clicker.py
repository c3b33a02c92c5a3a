"""Process B of case 3: a user pressing "Invoice now" on contracts, one
transaction per contract, and reporting what happened and how long it took
(the registry load is not counted)."""

import argparse
import json
import time

from rbtools.orm import boot

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--contracts", required=True, help="ids, comma separated")
    args = parser.parse_args()
    registry = boot(args.cfg, args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        uid = env["res.users"].search([("login", "=", args.login)]).id
    results = []
    for contract_id in map(int, args.contracts.split(",")):
        with registry.cursor() as cr:
            env = api.Environment(cr, uid, {})
            contract = env["recurring.contract"].browse(contract_id)
            start = time.monotonic()
            try:
                action = contract.action_generate_invoices()
                cr.commit()
                result = {"outcome": "invoiced", "action": action.get("res_model")}
            except UserError as error:
                cr.rollback()
                result = {"outcome": "usererror", "message": str(error)}
            except Exception as error:  # noqa: BLE001 - reported to the driver
                cr.rollback()
                result = {"outcome": "error", "message": repr(error)}
            result.update(
                contract=contract_id, seconds=round(time.monotonic() - start, 3)
            )
            results.append(result)
    print("CLICKER " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
