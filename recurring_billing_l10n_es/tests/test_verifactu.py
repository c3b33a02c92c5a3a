# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The engine's invoices and credit notes through OCA's VERI*FACTU module
(l10n_es_verifactu_oca), in test mode, nothing sent: the records made at
posting, their chain, the corrected invoices of the rectificatives, the QR on
the PDF, and the chain lock as a conflict the engine bills again.

scripts/test_l10n_es.sh installs the module (from PyPI, pinned) into the
Spanish bridge's test database and sets RB_EXPECT_VERIFACTU_OCA: the tests
then fail, never skip, when the module is missing. Elsewhere (a database
without it) this file defines no test."""

import os
import uuid
from datetime import date
from importlib.util import find_spec

from psycopg2 import errors as pg_errors

from odoo import Command
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import get_db_name, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

EXPECTED = bool(os.environ.get("RB_EXPECT_VERIFACTU_OCA"))
AVAILABLE = find_spec("odoo.addons.l10n_es_verifactu_oca") is not None
if EXPECTED and not AVAILABLE:
    raise ImportError(
        "l10n_es_verifactu_oca is not on the addons path although "
        "scripts/test_l10n_es.sh installs it: check .local/l10n_es"
    )

D = date


@tagged("post_install", "-at_install", "post_install_l10n")
class TestRecurringBillingVerifactu(AccountTestInvoicingCommon):
    @classmethod
    def _create_committed_chaining(cls):
        """A chaining row that another transaction can see, and so lock:
        committed before the test transaction starts, deleted after it."""
        name = f"recurring_billing lock test {uuid.uuid4().hex[:8]}"
        registry = Registry(get_db_name())
        with registry.cursor() as cr:
            cr.execute(
                SQL(
                    "INSERT INTO verifactu_chaining "
                    "(name, sif_id, installation_number) "
                    "VALUES (%s, '77', 1) RETURNING id",
                    name,
                )
            )
            chaining_id = cr.fetchone()[0]

        def drop():
            with registry.cursor() as cr:
                cr.execute(
                    SQL("DELETE FROM verifactu_chaining WHERE id = %s", chaining_id)
                )

        # Registered before the test class's own cleanups: run after its
        # transaction is rolled back (cleanups run last in, first out).
        cls.addClassCleanup(drop)
        return chaining_id

    @classmethod
    @AccountTestInvoicingCommon.setup_country("es")
    def setUpClass(cls):
        if not AVAILABLE:
            raise AssertionError("l10n_es_verifactu_oca is not on the addons path")
        cls.lock_chaining_id = cls._create_committed_chaining()
        super().setUpClass()
        module = cls.env["ir.module.module"]._get("l10n_es_verifactu_oca")
        if module.state != "installed":
            raise AssertionError(
                f"l10n_es_verifactu_oca is {module.state}, not installed, in "
                "this database: scripts/test_l10n_es.sh installs it"
            )
        cls.company = cls.company_data["company"]
        cls.journal = cls.company_data["default_journal_sale"]
        # The minimum the module's own tests configure: a developer (the
        # SIF), a chain, the AEAT as tax agency, test mode. No certificate:
        # records are made at posting, sending is another step. As the
        # superuser: an AEAT manager's and an administrator's settings, not
        # the accountant's who bills.
        admin_env = cls.env(su=True)
        developer = admin_env["verifactu.developer"].create(
            {
                "name": "recurring_billing tests",
                "vat": "A12345674",
                "sif_name": "odoo",
                "version": "1.0",
            }
        )
        cls.chaining = admin_env["verifactu.chaining"].create(
            {"name": "recurring_billing tests", "sif_id": "11"}
        )
        cls.company.with_env(admin_env).write(
            {
                "verifactu_enabled": True,
                "verifactu_test": True,
                "vat": "G87846952",
                "country_id": cls.env.ref("base.es").id,
                "tax_agency_id": cls.env.ref("l10n_es_aeat.aeat_tax_agency_spain").id,
                "verifactu_developer_id": developer.id,
                "verifactu_chaining_id": cls.chaining.id,
            }
        )
        cls.tax = cls.env.ref(f"account.{cls.company.id}_account_tax_template_s_iva21s")
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
        cls.env.flush_all()

    def create_contract(self, **vals):
        """A monthly contract from 1 September 2026, 300.00 + 21 % VAT
        (services), posted by the engine."""
        contract = self.env["recurring.contract"].create(
            {
                "partner_id": self.customer.id,
                "journal_id": self.journal.id,
                "date_start": D(2026, 9, 1),
                "invoice_action": "post",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "quantity": 1,
                            "price_unit": 300.0,
                            "tax_ids": [Command.set(self.tax.ids)],
                        }
                    )
                ],
                **vals,
            }
        )
        contract.action_start(notify=False)
        return contract

    def assertChained(self, moves):
        """Each move has its record, made at posting, chained to the record
        of the move numbered before it, with no gap."""
        moves = moves.sorted("name")
        previous = self.env["verifactu.invoice.entry"]
        for move in moves:
            entry = move.last_verifactu_invoice_entry_id
            self.assertTrue(entry, f"{move.name} has no VERI*FACTU record")
            self.assertEqual(entry.document_name, move.name)
            self.assertEqual(entry.document_hash, move.verifactu_hash)
            self.assertEqual(len(move.verifactu_hash), 64)
            self.assertEqual(move.aeat_state, "not_sent")
            if previous:
                self.assertEqual(entry.previous_invoice_entry_id, previous)
            previous = entry
        self.assertEqual(self.chaining.last_verifactu_invoice_entry_id, previous)

    def test_engine_invoices_get_chained_records_at_posting(self):
        self.customer.invoice_sending_method = "email"
        posted = self.create_contract()
        sent = self.create_contract(invoice_action="post_send")
        other = self.create_contract(invoicing_mode="arrears")
        contracts = posted | sent | other
        september = contracts._generate_invoices(date_ref=D(2026, 9, 1))
        october = contracts._generate_invoices(date_ref=D(2026, 10, 1))
        moves = september | october
        # Advance: September and October for two; arrears: September only.
        self.assertEqual(len(moves), 5)
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual(set(moves.mapped("amount_total")), {363.0})
        self.assertFalse(contracts.filtered("billing_error"))
        # "Post and send" invoices wait for the sending step, but their
        # record was made at posting, in the same chain and number order.
        self.assertTrue(moves.filtered(lambda m: m.recurring_contract_id == sent))
        self.assertTrue(
            all(m.sending_data for m in moves if m.recurring_contract_id == sent)
        )
        self.assertChained(moves)
        entries = moves.last_verifactu_invoice_entry_id
        self.assertEqual(len(entries), 5)
        first = moves.sorted("name")[0].last_verifactu_invoice_entry_id
        self.assertFalse(first.previous_invoice_entry_id)
        invoice = september.filtered(lambda m: m.recurring_contract_id == posted)
        self.assertEqual(invoice._get_verifactu_document_type(), "F1")
        self.assertEqual(
            invoice.verifactu_hash_string.split("&")[:6],
            [
                "IDEmisorFactura=G87846952",
                f"NumSerieFactura={invoice.name}",
                "FechaExpedicionFactura=01-09-2026",
                "TipoFactura=F1",
                "CuotaTotal=63.0",
                "ImporteTotal=363.0",
            ],
        )

    def test_engine_credit_notes_are_rectificatives_naming_the_invoice(self):
        closed = self.create_contract(prorate=True)
        changed = self.create_contract(prorate=True)
        september = (closed | changed)._generate_invoices(date_ref=D(2026, 9, 1))
        reason = self.env.ref("recurring_billing.close_reason_customer_request")
        # Closed on 20 September: the last 10 days (100.00) credited.
        closed.action_close(D(2026, 9, 20), reason=reason)
        # 300.00 to 150.00 from 21 September: 10 days at 150.00 less (50.00).
        changed.line_ids._action_change(D(2026, 9, 21), {"price_unit": 150.0})
        credits = (closed | changed)._generate_invoices(date_ref=D(2026, 9, 21))
        self.assertEqual(credits.mapped("move_type"), ["out_refund"] * 2)
        self.assertFalse((closed | changed).filtered("billing_error"))
        self.assertChained(september | credits)
        for contract, amount in ((closed, 121.0), (changed, 60.5)):
            invoice = september & contract.invoice_ids
            credit = credits & contract.invoice_ids
            self.assertEqual(credit.amount_total, amount)
            self.assertEqual(credit.reversed_entry_id, invoice)
            self.assertEqual(credit._get_verifactu_document_type(), "R1")
            record = credit._get_verifactu_invoice_dict_out()["RegistroAlta"]
            self.assertEqual(record["TipoFactura"], "R1")
            self.assertEqual(record["TipoRectificativa"], "I")
            self.assertEqual(
                record["FacturasRectificadas"],
                [
                    {
                        "IDFacturaRectificada": {
                            "IDEmisorFactura": "G87846952",
                            "NumSerieFactura": invoice.name,
                            "FechaExpedicionFactura": "01-09-2026",
                        }
                    }
                ],
            )
            self.assertEqual(record["ImporteTotal"], -amount)

    def test_qr_on_the_invoice_pdf(self):
        contract = self.create_contract()
        invoice = contract._generate_invoices(date_ref=D(2026, 9, 1))
        self.assertTrue(invoice.verifactu_enabled)
        url = invoice.verifactu_qr_url
        self.assertTrue(url.startswith("https://prewww2.aeat.es/"), url)
        self.assertIn("nif=G87846952", url)
        self.assertIn(f"numserie={invoice.name.replace('/', '%2F')}", url)
        self.assertIn("fecha=01-09-2026", url)
        self.assertIn("importe=363.00", url)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertIn('id="verifactu_qr"', html)
        self.assertIn(f"data:image/png;base64,{invoice.verifactu_qr.decode()}", html)
        self.assertIn("VERI*FACTU", html)

    @mute_logger("odoo.sql_db")  # the module's NOWAIT query, logged as failed
    def test_chain_held_by_another_transaction_is_billed_again(self):
        """Another worker or a user posting by hand holds the company's chain:
        the module cannot chain the record and says so with a UserError. The
        engine gives the batch up (billed again by the next call, see
        _run_scheduled) instead of recording an error on the contract and
        skipping it until the next day."""
        # sudo: the company setting is the administrator's, not the accountant's.
        self.company.sudo().verifactu_chaining_id = self.lock_chaining_id
        contract = self.create_contract()
        self.env.flush_all()
        with self.env.registry.cursor() as holder:
            # What the other worker holds: the row lock of its update of
            # the chain's last record (FOR NO KEY UPDATE), which does not
            # wait for the key share this transaction took when linking the
            # company to the chain, and which the module's FOR UPDATE NOWAIT
            # cannot get.
            holder.execute(
                SQL(
                    "SELECT id FROM verifactu_chaining WHERE id = %s "
                    "FOR NO KEY UPDATE",
                    self.lock_chaining_id,
                )
            )
            with self.assertRaises(UserError) as caught:
                contract._generate_invoices(date_ref=D(2026, 9, 1))
            holder.rollback()
        self.assertIsInstance(caught.exception.__cause__, pg_errors.LockNotAvailable)
        self.assertTrue(
            self.env["recurring.billing.engine"]._is_retryable_error(caught.exception)
        )
        self.assertFalse(contract.billing_error)
        self.assertFalse(contract.billing_error_date)
        self.assertFalse(contract.invoice_ids)
        self.assertEqual(contract.next_invoice_date, D(2026, 9, 1))
        # The chain free again: billed, with its record.
        invoice = contract._generate_invoices(date_ref=D(2026, 9, 1))
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 363.0)
        self.assertEqual(
            invoice.last_verifactu_invoice_entry_id.verifactu_chaining_id.id,
            self.lock_chaining_id,
        )

    def test_other_user_errors_stay_errors_of_the_contract(self):
        """Only the chain lock is a conflict: a configuration the module
        would refuse (no chain for the company) is the contract's billing
        error, found before billing."""
        contract = self.create_contract()
        # sudo: the company setting is the administrator's, not the accountant's.
        self.company.sudo().verifactu_chaining_id = False
        moves = contract._generate_invoices(date_ref=D(2026, 9, 1))
        self.assertFalse(moves)
        self.assertIn("VERI*FACTU chaining", contract.billing_error)
        error = UserError("no chain")
        self.assertFalse(
            self.env["recurring.billing.engine"]._is_retryable_error(error)
        )

    def test_what_a_record_needs_is_checked_before_billing(self):
        """A foreign individual without a VAT number is identified in the
        record by another document: without it, Start says so and nothing
        is billed; with a passport number, the contract bills and chains."""
        tourist = self.env["res.partner"].create(
            {
                "name": "Jane Traveller",
                "street": "1 High Street",
                "zip": "SW1A 1AA",
                "city": "London",
                "country_id": self.env.ref("base.uk").id,
            }
        )
        with self.assertRaisesRegex(UserError, "AEAT identification type"):
            self.create_contract(partner_id=tourist.id)
        tourist.write(
            {"aeat_identification_type": "03", "aeat_identification": "X1234567"}
        )
        contract = self.create_contract(partner_id=tourist.id)
        moves = contract._generate_invoices(date_ref=D(2026, 9, 1))
        self.assertEqual(moves.state, "posted")
        self.assertTrue(moves.last_verifactu_invoice_entry_id)
        # The company's settings too, named together.
        # sudo: the company setting is the administrator's, not the accountant's.
        self.company.sudo().write(
            {"verifactu_chaining_id": False, "verifactu_developer_id": False}
        )
        contract.invalidate_recordset()
        blockers = contract._get_billing_blockers()
        self.assertIn(
            "has no VERI*FACTU chaining, VERI*FACTU developer", " ".join(blockers)
        )

    def test_aeat_state_on_the_ledger_and_rejections_on_the_contract(self):
        contract = self.create_contract()
        other = self.create_contract()
        invoices = (contract | other)._generate_invoices(date_ref=D(2026, 9, 1))
        invoice = invoices & contract.invoice_ids
        self.assertTrue(contract.show_aeat_state)
        self.assertEqual(contract.period_ids.aeat_state, "not_sent")
        self.assertEqual(
            dict(
                contract.period_ids._fields["aeat_state"]._description_selection(
                    self.env
                )
            )["incorrect"],
            "Incorrect",
        )
        Contract = self.env["recurring.contract"]
        self.assertFalse(contract.has_billing_error)
        self.assertFalse(Contract.search([("has_rejected_invoices", "=", True)]))
        # What OCA's module writes when the AEAT answers.
        (invoices - invoice).aeat_state = "sent"
        invoice.aeat_state = "incorrect"
        self.env.invalidate_all()
        self.assertEqual(contract.period_ids.aeat_state, "incorrect")
        self.assertEqual(other.period_ids.aeat_state, "sent")
        self.assertEqual(contract.edi_error_count, 1)
        self.assertTrue(contract.has_billing_error)
        self.assertFalse(other.has_billing_error)
        self.assertEqual(
            Contract.search([("has_rejected_invoices", "=", True)]), contract
        )
        self.assertIn(
            other,
            Contract.search([("has_rejected_invoices", "=", False)]),
        )
        self.assertNotIn(
            contract,
            Contract.search([("has_rejected_invoices", "!=", True)]),
        )
        action = contract.action_view_rejected_invoices()
        self.assertEqual(action["domain"], [("id", "in", invoice.ids)])
        # Accepted with errors: to be corrected, so to review too.
        invoice.aeat_state = "sent_w_errors"
        self.assertTrue(contract.has_billing_error)
        invoice.aeat_state = "sent"
        self.assertFalse(contract.has_billing_error)
        self.assertEqual(contract.edi_error_count, 0)
