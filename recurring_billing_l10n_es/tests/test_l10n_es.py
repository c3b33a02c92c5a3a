# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The engine's invoices through Spain's e-invoicing, on Odoo's Spanish
localisation and its SII module, with the SII web service mocked as Odoo's own
l10n_es_edi_sii tests mock it (no call leaves the machine)."""

import json
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_es_edi_sii.tests.common import (
    TestEsEdiCommon,
    mocked_l10n_es_edi_call_web_service_sign,
)
from odoo.addons.recurring_billing.tests.common import run_invoice_sending

SII_CALL = (
    "odoo.addons.l10n_es_edi_sii.models.account_edi_format.AccountEdiFormat."
    "_l10n_es_edi_call_web_service_sign"
)


@tagged("post_install", "-at_install", "post_install_l10n")
class TestRecurringBillingSpain(TestEsEdiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Martínez Abogados S.L.",
                "is_company": True,
                "vat": "ESF35999705",
                "street": "Calle Mayor 1",
                "zip": "28013",
                "city": "Madrid",
                "country_id": cls.env.ref("base.es").id,
                "email": "facturas@example.com",
            }
        )
        cls.tax = cls._get_tax_by_xml_id("s_iva21s")

    def create_contract(self, partner=None, **vals):
        """A monthly contract in arrears from 1 January 2019, 1,000.00 + 21 %
        VAT (services), posted by the engine."""
        contract = self.env["recurring.contract"].create(
            {
                "partner_id": (partner or self.customer).id,
                "journal_id": self.company_data["default_journal_sale"].id,
                "date_start": date(2019, 1, 1),
                "invoicing_mode": "arrears",
                "invoice_action": "post",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "quantity": 1,
                            "price_unit": 1000.0,
                            "tax_ids": [Command.set(self.tax.ids)],
                        }
                    )
                ],
                **vals,
            }
        )
        contract.action_start(notify=False)
        return contract

    def test_engine_invoice_registered_with_sii_with_operation_date(self):
        contract = self.create_contract()
        with (
            freeze_time("2019-02-01"),
            patch(SII_CALL, new=mocked_l10n_es_edi_call_web_service_sign),
        ):
            invoice = contract._generate_invoices(date_ref=date(2019, 2, 1))
            self.assertEqual(invoice.state, "posted")
            self.assertRecordValues(
                invoice,
                [
                    {
                        "invoice_date": date(2019, 2, 1),
                        "delivery_date": date(2019, 1, 31),
                        "invoice_origin": contract.name,
                        "amount_untaxed": 1000.0,
                        "amount_total": 1210.0,
                        "edi_state": "to_send",
                    }
                ],
            )
            # Posting alone (the contract does not email its invoices) made
            # the SII document, as for an invoice made by hand.
            self.assertEqual(invoice.edi_document_ids.edi_format_id.code, "es_sii")
            files = self._process_documents_web_services(invoice, {"es_sii"})
        sent = json.loads(files[0].decode())[0]
        self.assertEqual(sent["FacturaExpedida"]["FechaOperacion"], "31-01-2019")
        self.assertEqual(sent["FacturaExpedida"]["DescripcionOperacion"], contract.name)
        self.assertEqual(sent["FacturaExpedida"]["Contraparte"]["NIF"], "F35999705")
        self.assertEqual(invoice.edi_state, "sent")
        self.assertEqual(contract.period_ids.edi_state, "sent")
        self.assertFalse(contract.has_billing_error)

    def test_post_and_send_through_odoo_sending_then_sii(self):
        # "Post and send": the invoice goes through account.move.send (its
        # extra EDIs, the email), and the SII document made at posting is
        # sent by account_edi's own processing, as for a hand-made invoice.
        self.customer.invoice_sending_method = "email"
        contract = self.create_contract(invoice_action="post_send")
        with (
            freeze_time("2019-02-01"),
            patch(SII_CALL, new=mocked_l10n_es_edi_call_web_service_sign),
        ):
            invoice = contract._generate_invoices(date_ref=date(2019, 2, 1))
            self.assertTrue(invoice.sending_data)
            self.assertEqual(invoice.edi_state, "to_send")
            run_invoice_sending(self)
            self.assertFalse(invoice.sending_data)
            self.assertTrue(invoice.is_move_sent)
            invoice.action_process_edi_web_services(with_commit=False)
        self.assertEqual(invoice.edi_state, "sent")
        self.assertEqual(contract.period_ids.edi_state, "sent")

    def test_rejected_invoice_is_a_billing_problem(self):
        contract = self.create_contract()
        with freeze_time("2019-02-01"):
            invoice = contract._generate_invoices(date_ref=date(2019, 2, 1))
        self.assertFalse(contract.has_billing_error)
        invoice.edi_document_ids.write(
            {"error": "[1117] NIF not identified", "blocking_level": "error"}
        )
        self.assertEqual(contract.edi_error_count, 1)
        self.assertTrue(contract.has_billing_error)
        self.assertIn(
            contract,
            self.env["recurring.contract"].search([("has_billing_error", "=", True)]),
        )
        action = contract.action_view_rejected_invoices()
        self.assertEqual(action["domain"], [("id", "in", invoice.ids)])

    def test_customer_data_checked_before_start(self):
        partner = self.customer.copy({"vat": False, "street": False})
        with self.assertRaisesRegex(UserError, "no NIF/VAT number") as caught:
            self.create_contract(partner=partner)
        self.assertIn("address of the customer", str(caught.exception))

    def test_customer_data_checked_before_each_run(self):
        partner = self.customer.copy()
        contract = self.create_contract(partner=partner)
        other = self.create_contract()
        partner.write({"vat": False, "country_id": False})
        with freeze_time("2019-02-01"):
            moves = (contract | other)._generate_invoices(date_ref=date(2019, 2, 1))
        self.assertEqual(moves.recurring_contract_id, other)
        self.assertIn("has no NIF/VAT number", contract.billing_error)
        self.assertIn("has no country", contract.billing_error)
        self.assertFalse(contract.invoice_ids)

    def test_email_needed_when_invoices_are_emailed(self):
        partner = self.customer.copy({"email": False})
        partner.invoice_sending_method = "email"
        with self.assertRaisesRegex(UserError, "no email address"):
            self.create_contract(partner=partner, invoice_action="post_send")

    def test_foreign_individual_needs_no_tax_number(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Jane Doe",
                "street": "1 Rue de la Loi",
                "zip": "1000",
                "city": "Bruxelles",
                "country_id": self.env.ref("base.be").id,
            }
        )
        contract = self.create_contract(partner=partner)
        self.assertEqual(contract._get_partner_billing_blockers(), [])
