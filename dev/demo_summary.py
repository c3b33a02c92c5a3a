"""Run the billing scheduled action once for today and print a summary.

Executed by `make demo` through `odoo-bin shell`, where `env` is defined.
"""

# ruff: noqa: F821  (env comes from odoo-bin shell)
cron = env.ref("recurring_billing.ir_cron_generate_invoices")
cron.method_direct_trigger()
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
print(f"\n{len(moves)} invoices, total {sum(moves.mapped('amount_total')):.2f}\n")
