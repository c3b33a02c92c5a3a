# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from .common import RecurringBillingCommon


def create_demo_provider(env, company, journal):
    """Odoo's demo provider for ``company``, in test mode, published as the
    original (19.0 does not copy ``is_published``). As the superuser: only
    administrators set up payment providers."""
    demo = env.ref("payment.payment_provider_demo").sudo()
    provider = demo.copy({"company_id": company.id})
    provider.write({"state": "test", "is_published": True, "journal_id": journal.id})
    return provider


class RecurringPaymentCommon(RecurringBillingCommon):
    """Contracts charged on payment_demo tokens: the token's simulated state
    decides what the 'provider' answers (done, pending, error)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.email = "billing@company.example.com"
        # sudo: only administrators set up payment providers and tokens
        # (the test user is an accountant).
        cls.provider = create_demo_provider(
            cls.env, cls.company, cls.company_data["default_journal_bank"]
        )
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.token = cls.create_token(cls.partner_a, "done")

    @classmethod
    def create_token(cls, partner, simulated_state, details="4242"):
        return (
            cls.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": cls.provider.id,
                    "payment_method_id": cls.demo_method.id,
                    "payment_details": details,
                    "partner_id": partner.id,
                    "provider_ref": f"demo-{partner.id}-{details}",
                    "demo_simulated_state": simulated_state,
                }
            )
        )

    def create_charged_contract(self, token=None, start=date(2026, 1, 1), **vals):
        """A running contract on ``token`` with its first invoice posted
        (100.0 + 15 % tax = 115.0)."""
        contract = self.create_contract(
            start=start, payment_token_id=(token or self.token).id, **vals
        )
        invoice = self.bill(contract, start)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 115.0)
        return contract, invoice

    def charge(self, day):
        return self.Contract._cron_charge_invoices(date_ref=day)

    def transactions(self, invoice):
        return (
            self.env["payment.transaction"]
            .sudo()
            .search([("invoice_ids", "in", invoice.ids)])
        )
