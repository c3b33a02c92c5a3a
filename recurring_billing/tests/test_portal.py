# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io
import os
import subprocess
import tempfile
from datetime import date

from PyPDF2 import PdfReader

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon
from odoo.addons.recurring_billing.tools import compat


def pdf_text(pdf):
    """The text of a PDF. Debian's wkhtmltopdf (unpatched Qt) draws Odoo's web
    fonts as outlines, so a text layer may be missing: then the pages are
    rasterised (pdftoppm) and read back with OCR (tesseract)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    if text.strip():
        return text
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "report.pdf")
        with open(path, "wb") as file:
            file.write(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", path, os.path.join(tmp, "page")],
            check=True,
        )
        pages = sorted(name for name in os.listdir(tmp) if name.endswith(".png"))
        return " ".join(
            subprocess.run(
                ["tesseract", os.path.join(tmp, name), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for name in pages
        )


@tagged("post_install", "-at_install")
class TestPortal(AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Customer Company",
                "is_company": True,
                "email": "billing@customer.example",
            }
        )
        cls.owner_contact = cls.env["res.partner"].create(
            {
                "name": "Owner",
                "parent_id": cls.customer.id,
                "email": "owner@customer.example",
            }
        )
        cls.colleague_contact = cls.env["res.partner"].create(
            {
                "name": "Colleague",
                "parent_id": cls.customer.id,
                "email": "colleague@customer.example",
            }
        )
        cls.owner = new_test_user(
            cls.env,
            login="rb_owner",
            groups="base.group_portal",
            partner_id=cls.owner_contact.id,
        )
        cls.colleague = new_test_user(
            cls.env,
            login="rb_colleague",
            groups="base.group_portal",
            partner_id=cls.colleague_contact.id,
        )
        cls.stranger = new_test_user(
            cls.env,
            login="rb_stranger",
            groups="base.group_portal",
            email="stranger@other.example",
        )
        today = fields.Date.today()
        cls.contract = cls.env["recurring.contract"].create(
            {
                "partner_id": cls.owner_contact.id,
                "date_start": today,
                "line_ids": [
                    Command.create(
                        {"product_id": cls.product_a.id, "price_unit": 100.0}
                    )
                ],
            }
        )
        cls.contract.action_start()
        cls.invoice = cls.contract._generate_invoices(date_ref=today)
        cls.url = f"/my/contracts/{cls.contract.id}"

    def setUp(self):
        super().setUp()
        # wkhtmltopdf fetches the report's stylesheets from this test server.
        self.env["ir.config_parameter"].set_param("report.url", self.base_url())

    def assertSeesContract(self, response):
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.contract.name, response.text)
        self.assertIn(self.invoice.name, response.text)

    def assertRefused(self, response):
        self.assertNotIn(self.contract.name, response.text)
        self.assertFalse(response.url.endswith(self.url))

    def test_access_matrix(self):
        self.authenticate("rb_owner", "rb_owner")
        self.assertSeesContract(self.url_open(self.url))
        listing = self.url_open("/my/contracts")
        self.assertIn(self.contract.name, listing.text)
        self.assertIn(
            self.contract.name, self.url_open("/my/contracts?filterby=running").text
        )
        self.assertNotIn(
            self.contract.name, self.url_open("/my/contracts?filterby=closed").text
        )

        self.authenticate("rb_colleague", "rb_colleague")
        self.assertSeesContract(self.url_open(self.url))

        self.authenticate("rb_stranger", "rb_stranger")
        self.assertRefused(self.url_open(self.url))
        self.assertNotIn(self.contract.name, self.url_open("/my/contracts").text)

        self.authenticate(None, None)
        token = self.contract._portal_ensure_token()
        self.assertSeesContract(self.url_open(f"{self.url}?access_token={token}"))
        self.assertRefused(self.url_open(f"{self.url}?access_token=not-the-token"))
        self.assertRefused(self.url_open(self.url))

    def test_home_counter(self):
        self.authenticate("rb_owner", "rb_owner")
        result = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["recurring_contract_count"]}
        )
        self.assertEqual(result["recurring_contract_count"], 1)

    def test_contract_pdf_download(self):
        self.authenticate("rb_owner", "rb_owner")
        response = self.url_open(f"{self.url}?report_type=pdf&download=true")
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers.get("Content-Disposition", ""))

    def test_real_invoice_pdf_states_number_and_period(self):
        """wkhtmltopdf renders Odoo's own invoice report: the number and the
        line's period are in the PDF text (not the HTML test fallback)."""
        pdf, report_format = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("account.account_invoices", self.invoice.ids)
        )
        self.assertEqual(report_format, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = pdf_text(pdf)
        self.assertIn(self.invoice.name, text)
        self.assertIn("Period:", text)
        period = self.invoice.recurring_period_id
        self.assertIn(period.date_start.strftime("%m/%d/%Y"), text)

    def test_real_contract_pdf(self):
        pdf, report_format = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(
                "recurring_billing.action_report_recurring_contract", self.contract.ids
            )
        )
        self.assertEqual(report_format, "pdf")
        text = pdf_text(pdf)
        self.assertIn(self.contract.name, text)
        self.assertIn("Next scheduled invoices", text)

    def test_portal_tour(self):
        self.start_tour("/my", "recurring_billing_portal_tour", login="rb_owner")
        # The PDF the tour found the link of is served to the customer.
        self.authenticate("rb_owner", "rb_owner")
        response = self.url_open(
            f"/my/invoices/{self.invoice.id}?report_type=pdf&download=true"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("pdf", response.headers.get("Content-Type", ""))

    def test_portal_shows_usage_of_the_period(self):
        """Usage lines: the customer sees the current period's usage and its
        cost so far, not the internal records (README, "Usage lines")."""
        product = self.env["product.product"].create(
            {"name": "Metered calls", "list_price": 0.01}
        )
        today = fields.Date.today()
        contract = self.env["recurring.contract"].create(
            {
                "partner_id": self.owner_contact.id,
                "date_start": today,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity_type": "usage",
                            "price_unit": 0.01,
                            "usage_included": 1000,
                        }
                    )
                ],
            }
        )
        contract.action_start()
        self.env["recurring.contract.usage"].create(
            {
                "line_id": contract.line_ids.id,
                "date": today,
                "quantity": 1500,
                "reference": "portal-usage-1",
            }
        )
        self.authenticate("rb_owner", "rb_owner")
        page = self.url_open(f"/my/contracts/{contract.id}").text
        self.assertIn("Usage this period", page)
        self.assertIn("1,500.00", page)
        self.assertIn("5.00", page)
        self.assertNotIn("portal-usage-1", page)  # records stay internal
        self.authenticate("rb_stranger", "rb_stranger")
        self.assertNotIn(
            "Usage this period", self.url_open(f"/my/contracts/{contract.id}").text
        )


@tagged("post_install", "-at_install")
class TestBackendTour(AccountTestInvoicingHttpCommon):
    def test_backend_tour(self):
        self.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour@example.com"}
        )
        product = self._create_product(name="Tour Service", lst_price=75.0)
        self.env["recurring.contract.template"].create(
            {
                "name": "Tour Template",
                "line_ids": [Command.create({"product_id": product.id})],
            }
        )
        # The tour runs as admin: give him the test company's accounting.
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "company_ids": [Command.link(self.env.company.id)],
                "company_id": self.env.company.id,
                compat.USER_GROUPS_FIELD: [
                    Command.link(self.env.ref("account.group_account_manager").id)
                ],
            }
        )
        self.start_tour("/odoo", "recurring_billing_backend_tour", login="admin")
        contract = self.env["recurring.contract"].search(
            [("partner_id.name", "=", "Tour Customer")]
        )
        self.assertEqual(contract.state, "running")
        self.assertEqual(len(contract.invoice_ids), 1)
        self.assertEqual(contract.invoice_ids.state, "posted")
        # Dated on the company's today (the admin's zone when the company has
        # none), which is not the server's date around midnight.
        today = self.env.company.with_user(admin)._get_recurring_today()
        self.assertEqual(contract.date_start, today)
        self.assertEqual(contract.invoice_ids.invoice_date, today)

    def test_lifecycle_tour(self):
        # Start without the customer notice, pause and resume on dates, renew.
        partner = self.env["res.partner"].create(
            {"name": "Lifecycle Customer", "email": "lifecycle@example.com"}
        )
        product = self._create_product(name="Lifecycle Service", lst_price=90.0)
        contract = self.env["recurring.contract"].create(
            {
                "partner_id": partner.id,
                "date_start": date(2027, 1, 1),
                "date_end": date(2027, 12, 31),
                "line_ids": [Command.create({"product_id": product.id})],
            }
        )
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "company_ids": [Command.link(self.env.company.id)],
                "company_id": self.env.company.id,
                compat.USER_GROUPS_FIELD: [
                    Command.link(self.env.ref("account.group_account_manager").id)
                ],
            }
        )
        self.start_tour(
            f"/odoo/action-recurring_billing.action_recurring_contract/{contract.id}",
            "recurring_billing_lifecycle_tour",
            login="admin",
        )
        self.assertEqual(contract.state, "running")
        mails = self.env["mail.mail"].search(
            [("model", "=", contract._name), ("res_id", "=", contract.id)]
        )
        self.assertFalse(
            mails.filtered(lambda m: "starts" in (m.subject or "")),
            "unticked: no activation notice",
        )
        # The Pause and Renew dialogs tell the customer by default.
        self.assertEqual(
            {
                "paused" if "is paused" in m.subject else "renewed"
                for m in mails.filtered("subject")
                if "is paused" in m.subject or "is renewed" in m.subject
            },
            {"paused", "renewed"},
        )
        self.assertEqual(
            [(s.date_start, s.date_end) for s in contract.suspension_ids],
            [(date(2027, 2, 1), date(2027, 2, 28))],
        )
        self.assertEqual(contract.date_end, date(2028, 12, 31))
