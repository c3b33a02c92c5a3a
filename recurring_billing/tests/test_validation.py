# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestValidation(RecurringBillingCommon):
    """Rule 9: bad input gets a clear, translatable error and nothing is
    left half-written."""

    def test_end_before_start(self):
        with self.assertRaisesRegex(ValidationError, "earlier than the start date"):
            self.create_contract(
                start=date(2026, 2, 1), date_end=date(2026, 1, 31), start_it=False
            )

    def test_interval_below_one(self):
        with self.assertRaisesRegex(ValidationError, "at least 1"):
            self.create_contract(recurring_interval=0, start_it=False)

    def test_start_without_lines(self):
        contract = self.create_contract(lines=[Command.clear()], start_it=False)
        contract.line_ids.unlink()
        with self.assertRaisesRegex(UserError, "no lines to bill"):
            contract.action_start()
        self.assertEqual(contract.state, "draft")

    def test_start_line_without_product(self):
        contract = self.create_contract(
            lines=[Command.create({"name": "Free text", "price_unit": 5.0})],
            start_it=False,
        )
        with self.assertRaisesRegex(UserError, "has no product"):
            contract.action_start()

    def test_start_line_without_account(self):
        # No account anywhere: not on the product, not on its category (whose
        # company-wide default is emptied), not on the journal.
        # (sudo: company-wide defaults belong to the settings administrator)
        self.env["ir.default"].sudo().set(
            "product.category",
            "property_account_income_categ_id",
            False,
            company_id=self.env.company.id,
        )
        product = self._create_product(
            name="No account", property_account_income_id=False
        )
        product.categ_id = self.env["product.category"].create({"name": "Bare"})
        self.journal.default_account_id = False
        if "income_account_id" in self.env.company._fields:
            # 19.0: the company's own income account is the last fallback.
            self.env.company.sudo().income_account_id = False
        contract = self.create_contract(
            lines=[Command.create({"product_id": product.id, "price_unit": 5.0})],
            start_it=False,
        )
        with self.assertRaisesRegex(UserError, "no income account"):
            contract.action_start()
        self.assertEqual(contract.state, "draft")

    def test_journal_of_another_company(self):
        other = self.setup_other_company()
        with self.assertRaises(UserError), mute_logger("odoo.models"):
            self.create_contract(
                journal_id=other["default_journal_sale"].id, start_it=False
            )

    def test_journal_not_sale(self):
        with self.assertRaisesRegex(ValidationError, "not a sales journal"):
            self.create_contract(
                journal_id=self.company_data["default_journal_purchase"].id,
                start_it=False,
            )

    def test_currency_not_fitting(self):
        eur = self.setup_other_currency("EUR")
        self.journal.currency_id = eur
        with self.assertRaisesRegex(ValidationError, "only accepts EUR"):
            self.create_contract(
                currency_id=self.company_data["currency"].id, start_it=False
            )
        inactive = self.setup_other_currency("CHF")
        self.journal.currency_id = False
        inactive.active = False
        with self.assertRaisesRegex(ValidationError, "not active"):
            self.create_contract(currency_id=inactive.id, start_it=False)

    def test_schedule_frozen_once_billed(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        contract._generate_invoices(date_ref=date(2026, 1, 1))
        for vals in (
            {"date_start": date(2026, 1, 2)},
            {"recurring_interval": 2},
            {"recurring_rule_type": "weekly"},
            {"invoicing_mode": "arrears"},
        ):
            with self.assertRaisesRegex(UserError, "can no longer change"):
                contract.write(vals)
        # Writing the same values, or the end date after what is billed, is fine.
        contract.write({"recurring_interval": 1, "date_end": date(2026, 6, 30)})
        # Rule 11: an end date inside what is billed is a close in the middle
        # of a period: the next run settles the difference (none here, the
        # contract does not prorate).
        contract.date_end = date(2026, 1, 15)
        self.assertTrue(contract.adjustment_pending)
        self.assertFalse(contract._generate_invoices(date_ref=date(2026, 1, 15)))
        self.assertFalse(contract.adjustment_pending)

    def test_renew_needs_positive_term(self):
        contract = self.create_contract(date_end=date(2026, 12, 31))
        with self.assertRaisesRegex(UserError, "at least one month"):
            contract.action_renew(months=0)

    def test_invoice_now_requires_running_contract(self):
        contract = self.create_contract(start_it=False)
        with self.assertRaisesRegex(UserError, "Only a running contract"):
            contract.action_generate_invoices()
