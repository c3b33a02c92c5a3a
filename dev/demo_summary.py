"""Give the SaaS demo contract a saved card (Odoo's demo payment provider),
run the billing and charging scheduled actions once for today, refresh the
revenue forecast and print a summary.

Executed by `make demo` through `odoo-bin shell`, where `env` is defined.
"""

# ruff: noqa: F821  (env comes from odoo-bin shell)
from rbtools.payments import enable_demo_provider, save_demo_card

# The activation emails, now that the customers' languages are loaded (the
# demo data starts the contracts without them).
env["recurring.contract"].search([("state", "=", "running")])._send_activation_notice()
# Odoo's demo payment provider and a card of the SaaS contract's customer
# that pays: the charging scheduled action charges it as a real card.
charged = env.ref("recurring_billing.contract_saas_demo")
save_demo_card(
    env,
    enable_demo_provider(env, charged.company_id),
    charged,
    "4242",
    f"demo-card-{charged.id}",
)
# Committed first: 19.0 runs a scheduled action on a cursor of its own, which
# would skip the contracts this transaction holds (the activation emails).
env.cr.commit()
env.ref("recurring_billing.ir_cron_generate_invoices").method_direct_trigger()
env.ref("recurring_billing.ir_cron_charge_invoices").method_direct_trigger()
env.invalidate_all()
# The revenue dashboard's forecast, from what was just billed.
env["recurring.forecast.line"]._cron_refresh()
env.cr.commit()

Contract = env["recurring.contract"]
print("\n=== Recurring contracts ===")
for contract in Contract.search([], order="id"):
    print(
        f"{contract.name:<16} {contract.partner_id.name[:28]:<28} "
        f"{contract.recurring_interval} {contract.recurring_rule_type:<8} "
        f"{contract.invoicing_mode:<8} {contract.state:<8} "
        f"next {contract.next_invoice_date or '-'}"
    )
print("\n=== Invoices posted by the scheduled action ===")
moves = env["account.move"].search(
    [("recurring_contract_id", "!=", False)], order="name"
)
for move in moves:
    period = move.recurring_period_id
    print(
        f"{move.name:<20} {move.state:<7} {move.recurring_contract_id.name:<16} "
        f"{period.date_start} .. {period.date_end}  "
        f"{move.amount_total:>10.2f} {move.currency_id.name}"
    )
print(f"\n{len(moves)} invoices, total {sum(moves.mapped('amount_total')):.2f}")
print(f"\n=== Charged automatically on {charged.partner_id.name}'s saved card ===")
for move in charged.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"):
    print(
        f"{move.name:<20} {move.amount_total:>10.2f} {move.payment_state:<10} "
        f"{', '.join(move.transaction_ids.mapped('reference')) or '-'}"
    )
print()
