"""Odoo's demo payment provider for the demo and the fault suite: enabled
for a company, and cards (tokens) that pay."""


def enable_demo_provider(env, company):
    """``payment_demo`` in test mode for ``company``, on its bank journal."""
    provider = env.ref("payment.payment_provider_demo")
    provider.write(
        {
            "state": "test",
            "company_id": company.id,
            "journal_id": env["account.journal"]
            .search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
            .id,
        }
    )
    return provider


def save_demo_card(env, provider, contract, details, reference):
    """A card of the contract's customer that pays (``done``), chosen for
    the contract's automatic charges."""
    contract.payment_token_id = env["payment.token"].create(
        {
            "provider_id": provider.id,
            "payment_method_id": env.ref("payment_demo.payment_method_demo").id,
            "payment_details": details,
            "partner_id": contract.partner_id.id,
            "provider_ref": reference,
            "demo_simulated_state": "done",
        }
    )
    return contract.payment_token_id
