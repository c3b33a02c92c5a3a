# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class RecurringBillingCommon(AccountTestInvoicingCommon):
    """Contracts on top of Odoo's own invoicing fixtures: a chart of accounts,
    partners, products and taxes, with no dependence on demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Contract = cls.env["recurring.contract"]
        cls.journal = cls.company_data["default_journal_sale"]
        cls.partner_a.email = "partner_a@example.com"
        cls.partner_a.lang = "en_US"

    @classmethod
    def create_contract(cls, start=date(2026, 1, 1), lines=None, start_it=True, **vals):
        """A running monthly contract of one product_a line at 100.0."""
        contract = cls.Contract.create(
            {
                "partner_id": cls.partner_a.id,
                "journal_id": cls.journal.id,
                "date_start": start,
                "line_ids": lines
                or [
                    Command.create(
                        {
                            "product_id": cls.product_a.id,
                            "quantity": 1,
                            "price_unit": 100.0,
                        }
                    )
                ],
                **vals,
            }
        )
        if start_it:
            contract.action_start()
        return contract

    def bill(self, contracts, day):
        """Bill ``contracts`` for the run date ``day``."""
        return contracts._generate_invoices(date_ref=day)

    def assertPeriods(self, contract, expected):
        """``expected``: [(date_start, date_end)] of the ledger, in order."""
        self.assertEqual(
            [
                (p.date_start, p.date_end)
                for p in contract.period_ids.sorted("period_index")
            ],
            expected,
        )
