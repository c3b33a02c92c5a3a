# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the customer is told and the documents they get: the forecast, the
"Amount per Period" (form, contract PDF, portal, reminder email) and the MRR
history say what the invoices say; every credit note names the invoice it
corrects; a posted invoice downloads from the portal as the official PDF."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged
from odoo.tools import html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import RecurringBillingCommon

D = date


@tagged("post_install", "-at_install")
class TestToldAndDocuments(RecurringBillingCommon, AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_21_included = cls.env["account.tax"].create(
            {
                "name": "21% included",
                "amount": 21.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": cls.company_data["company"].id,
            }
        )

    def line(self, price, taxes=None, **vals):
        return Command.create(
            {
                "product_id": self.product_a.id,
                "quantity": 1,
                "price_unit": price,
                "tax_ids": [Command.set((taxes or self.env["account.tax"]).ids)],
                **vals,
            }
        )

    def run_triggered_crons(self, after_trigger_id):
        """Run the scheduled actions the code under test asked to run next
        (``ir.cron._trigger``), as the scheduler would after the commit."""
        triggers = self.env["ir.cron.trigger"].search([("id", ">", after_trigger_id)])
        for cron in triggers.cron_id:
            # What the scheduler runs, as the user it runs it as, in this
            # transaction (19.0's method_direct_trigger uses a cursor of its
            # own, which would wait for this test's uncommitted data).
            cron.ir_actions_server_id.with_user(cron.user_id).run()

    def last_trigger_id(self):
        return self.env["ir.cron.trigger"].search([], order="id desc", limit=1).id

    # -------------------------------------------------------------------------
    # Forecast: untaxed, as the invoice
    # -------------------------------------------------------------------------

    def test_forecast_is_untaxed_with_included_tax(self):
        """242.00 with 21 % included is 200.00 untaxed: the invoice, the MRR,
        the forecast rows and the dashboard's forecast all say 200.00."""
        contract = self.create_contract(
            start=D(2026, 1, 1), lines=[self.line(242.0, self.tax_21_included)]
        )
        invoice = self.bill(contract, D(2026, 1, 1))
        self.assertEqual(invoice.amount_untaxed, 200.0)
        self.assertEqual(invoice.amount_total, 242.0)
        self.assertEqual(contract._get_mrr_on(D(2026, 1, 15)), 200.0)

        forecast = self.env["recurring.forecast.line"]._refresh(
            companies=contract.company_id, date_from=D(2026, 2, 1), months=3
        )
        self.assertEqual(
            [(row.date, row.amount_currency, row.amount) for row in forecast],
            [
                (D(2026, 2, 1), 200.0, 200.0),
                (D(2026, 3, 1), 200.0, 200.0),
                (D(2026, 4, 1), 200.0, 200.0),
            ],
        )
        by_month = self.env["recurring.revenue.report"]._get_forecast_by_month(
            contract.company_id
        )
        self.assertEqual(
            [row["amount"] for row in by_month], [200.0, 200.0, 200.0], by_month
        )
        # And the engine then bills what the forecast said.
        february = self.bill(contract, D(2026, 2, 1))
        self.assertEqual(february.amount_untaxed, forecast[0].amount_currency)

    def test_forecast_untaxed_prorated_and_mixed_taxes(self):
        """A prorated first period, an included and an excluded tax on two
        lines: each forecast row is that line's untaxed amount on the
        invoice."""
        contract = self.create_contract(
            start=D(2026, 1, 1),
            prorate=True,
            lines=[
                self.line(121.0, self.tax_21_included),
                self.line(50.0, self.tax_sale_a, date_start=D(2026, 2, 15)),
            ],
        )
        self.bill(contract, D(2026, 1, 1))
        forecast = self.env["recurring.forecast.line"]._refresh(
            companies=contract.company_id, date_from=D(2026, 2, 1), months=1
        )
        february = self.bill(contract, D(2026, 2, 1))
        self.assertEqual(
            sorted(forecast.mapped("amount_currency")),
            sorted(february.invoice_line_ids.mapped("price_subtotal")),
        )
        self.assertEqual(sum(forecast.mapped("amount_currency")), 125.0)

    # -------------------------------------------------------------------------
    # Amount per period: the next invoice, everywhere the customer reads it
    # -------------------------------------------------------------------------

    def _changed_contract(self):
        """100.00 a month (+15 %), changed to 120.00 from 1 April after
        January to March are billed: the next invoice is 120.00 + 18.00."""
        contract = self.create_contract(
            start=D(2026, 1, 1), lines=[self.line(100.0, self.tax_sale_a)]
        )
        self.bill(contract, D(2026, 3, 1))
        contract.line_ids._action_change(D(2026, 4, 1), {"price_unit": 120.0})
        self.assertEqual(len(contract.line_ids), 2)
        return contract

    def test_amount_per_period_is_the_next_invoice(self):
        contract = self._changed_contract()
        self.assertEqual(
            (contract.amount_untaxed, contract.amount_tax, contract.amount_total),
            (120.0, 18.0, 138.0),
        )
        # The reminder email of the next invoice.
        template = self.env.ref("recurring_billing.mail_template_contract_reminder")
        body = html2plaintext(
            template._render_field("body_html", contract.ids)[contract.id]
        )
        self.assertIn("138.00", body)
        self.assertNotIn("253.00", body)
        # The contract PDF (its HTML: the same template).
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "recurring_billing.action_report_recurring_contract", contract.ids
            )[0]
            .decode()
        )
        totals = html2plaintext(html.split('name="total"')[1].split("</table>")[0])
        self.assertIn("138.00", totals)
        self.assertNotIn("253.00", totals)
        self.assertNotIn("220.00", totals)
        # What the engine then bills for April.
        april = self.bill(contract, D(2026, 4, 1))
        self.assertEqual(
            (april.amount_untaxed, april.amount_total),
            (contract.amount_untaxed, contract.amount_total),
        )

    def test_amount_per_period_on_the_portal(self):
        contract = self._changed_contract()
        contract._portal_ensure_token()
        response = self.url_open(
            f"/my/contracts/{contract.id}?access_token={contract.access_token}"
        )
        self.assertEqual(response.status_code, 200)
        text = html2plaintext(response.text)
        self.assertIn("138.00", text)
        self.assertNotIn("253.00", text)

    # -------------------------------------------------------------------------
    # MRR history and customer changes
    # -------------------------------------------------------------------------

    def test_customer_change_keeps_mrr_history(self):
        """A running contract handed to another customer on 15 March: the
        movements before stay the old customer's, who churns on that day,
        and the new customer's MRR starts then."""
        contract = self.create_contract(start=D(2026, 1, 1), lines=[self.line(100.0)])
        self.bill(contract, D(2026, 3, 1))
        Movement = self.env["recurring.mrr.movement"]
        first = Movement.search([("contract_id", "=", contract.id)])
        self.assertEqual(first.partner_id, self.partner_a)
        with freeze_time(datetime(2026, 3, 15, 12, 0)):
            contract.partner_id = self.partner_b
        movements = Movement.search(
            [("contract_id", "=", contract.id)], order="date, id"
        )
        self.assertEqual(
            [(m.date, m.kind, m.partner_id, m.mrr_change) for m in movements],
            [
                (D(2026, 1, 1), "new", self.partner_a, 100.0),
                (D(2026, 3, 15), "churn", self.partner_a, -100.0),
                (D(2026, 3, 15), "new", self.partner_b, 100.0),
            ],
        )
        self.assertIn(first, movements)  # the past movement itself stands
        Report = self.env["recurring.revenue.report"]
        company = contract.company_id
        january = Report._get_metrics(D(2026, 1, 1), D(2026, 1, 31), company)
        self.assertEqual(
            (january["new"], january["mrr_end"], january["logos_end"]),
            (100.0, 100.0, 1),
        )
        march = Report._get_metrics(D(2026, 3, 1), D(2026, 3, 31), company)
        self.assertEqual(
            (
                march["new"],
                march["churn"],
                march["mrr_end"],
                march["churned_logos"],
                march["logos_end"],
            ),
            (100.0, -100.0, 100.0, 1, 1),
        )
        # A later life step (a close) syncs without rewriting the past.
        contract.action_close(D(2026, 5, 31))
        movements = Movement.search(
            [("contract_id", "=", contract.id)], order="date, id"
        )
        self.assertEqual(
            [(m.date, m.kind, m.partner_id, m.mrr_change) for m in movements],
            [
                (D(2026, 1, 1), "new", self.partner_a, 100.0),
                (D(2026, 3, 15), "churn", self.partner_a, -100.0),
                (D(2026, 3, 15), "new", self.partner_b, 100.0),
                (D(2026, 6, 1), "churn", self.partner_b, -100.0),
            ],
        )

    def test_contact_of_same_customer_is_no_customer_change(self):
        """Another contact of the same company is the same customer: no
        movement."""
        company = self.env["res.partner"].create(
            {"name": "Customer Co", "is_company": True}
        )
        contact_1, contact_2 = self.env["res.partner"].create(
            [
                {"name": "One", "parent_id": company.id},
                {"name": "Two", "parent_id": company.id},
            ]
        )
        contract = self.create_contract(
            start=D(2026, 1, 1), partner_id=contact_1.id, lines=[self.line(100.0)]
        )
        with freeze_time(datetime(2026, 3, 15, 12, 0)):
            contract.partner_id = contact_2
        movements = contract.mrr_movement_ids
        self.assertEqual(
            [(m.date, m.kind, m.partner_id) for m in movements],
            [(D(2026, 1, 1), "new", company)],
        )

    # -------------------------------------------------------------------------
    # Credit notes name the invoice they correct
    # -------------------------------------------------------------------------

    def assertCorrects(self, move, invoice, move_type="out_refund", reason=None):
        self.assertEqual(move.move_type, move_type)
        self.assertEqual(move.state, "posted")
        if move_type == "out_refund":
            self.assertEqual(move.reversed_entry_id, invoice)
        self.assertIn(invoice.name, move.ref or "")
        if reason:
            self.assertIn(reason, move.ref)

    def _prorated(self, **vals):
        contract = self.create_contract(
            start=D(2026, 1, 1), prorate=True, lines=[self.line(310.0)], **vals
        )
        january = self.bill(contract, D(2026, 1, 1))
        self.assertEqual(january.amount_untaxed, 310.0)
        return contract, january

    def test_close_credit_reverses_the_period_invoice(self):
        contract, january = self._prorated()
        reason = self.env.ref("recurring_billing.close_reason_customer_request")
        contract.action_close(D(2026, 1, 10), reason=reason)
        credit = self.bill(contract, D(2026, 1, 11))
        self.assertEqual(credit.amount_untaxed, 210.0)
        self.assertCorrects(credit, january, reason=reason.name)
        self.assertTrue(credit.ref.startswith(f"Reversal of: {january.name}"))

    def test_credit_after_a_customer_change_goes_to_the_invoiced_customer(self):
        """A period billed to the former customer is credited to them, not to
        whoever holds the contract now: a credit note corrects an invoice,
        and both belong to the customer the invoice was issued to."""
        contract, january = self._prorated()
        contract.partner_id = self.partner_b
        contract.action_pause(D(2026, 1, 21))
        credit = self.bill(contract, D(2026, 1, 21))
        self.assertEqual(credit.amount_untaxed, 110.0)
        self.assertCorrects(credit, january)
        self.assertEqual(credit.partner_id, january.partner_id)
        self.assertNotEqual(credit.partner_id, self.partner_b)

    def test_pause_credit_reverses_the_period_invoice(self):
        contract, january = self._prorated()
        contract.action_pause(D(2026, 1, 21))
        credit = self.bill(contract, D(2026, 1, 21))
        self.assertEqual(credit.amount_untaxed, 110.0)
        self.assertCorrects(credit, january)

    def test_line_change_credit_and_top_up_name_the_invoice(self):
        contract, january = self._prorated()
        # 310.00 to 31.00 from 21 January: 110.00 credited, 11.00 due.
        contract.line_ids._action_change(D(2026, 1, 21), {"price_unit": 31.0})
        credit = self.bill(contract, D(2026, 1, 21))
        self.assertEqual(credit.amount_untaxed, 99.0)
        self.assertCorrects(credit, january)
        # More is due in February's period: an adjustment invoice that says
        # which invoice it completes.
        february = self.bill(contract, D(2026, 2, 1))
        contract.line_ids.filtered(lambda line: not line.date_end)._action_change(
            D(2026, 2, 15), {"price_unit": 59.0}
        )
        # 14 of 28 days at 59.00 instead of 31.00: 14.00 more.
        top_up = self.bill(contract, D(2026, 2, 15))
        self.assertEqual(top_up.amount_untaxed, 14.0)
        self.assertCorrects(top_up, february, move_type="out_invoice")

    def test_credit_after_void_reverses_the_live_invoice(self):
        """January billed, cancelled, voided and billed again: a credit of
        January reverses the invoice that stands, never the cancelled one."""
        contract, cancelled = self._prorated()
        cancelled.button_cancel()
        contract.period_ids.action_void()
        rebilled = self.bill(contract, D(2026, 1, 2))
        self.assertEqual(rebilled.state, "posted")
        contract.action_close(D(2026, 1, 10))
        credit = self.bill(contract, D(2026, 1, 11))
        self.assertCorrects(credit, rebilled)
        self.assertNotIn(cancelled.name or "/", credit.ref)

    def test_every_engine_credit_has_a_reversed_entry(self):
        """Whatever made it (a close in advance, a line change on a period
        billed in arrears), no credit note of the engine lacks the invoice
        it corrects, of the same period."""
        contract, _january = self._prorated()
        contract.action_close(D(2026, 1, 5))
        arrears = self.create_contract(
            start=D(2026, 1, 1),
            prorate=True,
            invoicing_mode="arrears",
            lines=[self.line(310.0)],
        )
        self.bill(contract | arrears, D(2026, 3, 1))
        arrears.line_ids._action_change(D(2026, 2, 1), {"price_unit": 28.0})
        self.bill(contract | arrears, D(2026, 3, 2))
        credits = self.env["account.move"].search(
            [
                ("recurring_contract_id", "in", (contract | arrears).ids),
                ("move_type", "=", "out_refund"),
            ]
        )
        self.assertEqual(len(credits), 2)
        for credit in credits:
            self.assertEqual(credit.reversed_entry_id.move_type, "out_invoice")
            self.assertEqual(credit.reversed_entry_id.state, "posted")
            self.assertEqual(
                credit.reversed_entry_id.recurring_period_id.period_index,
                credit.recurring_period_id.period_index,
            )

    # -------------------------------------------------------------------------
    # Official PDF in the portal
    # -------------------------------------------------------------------------

    def assertOfficialPdf(self, move):
        self.assertEqual(move.state, "posted")
        self.assertTrue(move.invoice_pdf_report_id, f"{move.name} has no official PDF")
        move._portal_ensure_token()
        response = self.url_open(
            f"/my/invoices/{move.id}?report_type=pdf&download=true"
            f"&access_token={move.access_token}"
        )
        self.assertEqual(response.status_code, 200)
        disposition = response.headers.get("Content-Disposition", "")
        self.assertNotIn("proforma", disposition.lower())
        self.assertIn(move.name.replace("/", "_"), disposition)
        self.assertEqual(response.content, move.invoice_pdf_report_id.raw)

    def test_post_action_invoices_download_as_official_pdf(self):
        contract = self.create_contract(
            start=D(2026, 1, 1),
            prorate=True,
            invoice_action="post",
            lines=[self.line(310.0, self.tax_sale_a)],
        )
        before = self.last_trigger_id()
        invoices = self.bill(contract, D(2026, 2, 1))
        self.assertEqual(len(invoices), 2)
        contract.action_close(D(2026, 2, 10))
        credit = self.bill(contract, D(2026, 2, 11))
        self.assertEqual(credit.move_type, "out_refund")
        # Billing itself does not render PDFs (kept off its transaction) and
        # emails nothing; the scheduled action it triggers does the rest.
        mails_before = self.env["mail.mail"].search_count([])
        self.run_triggered_crons(before)
        for move in invoices.sorted("name") | credit:
            self.assertOfficialPdf(move)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        # In number order: each document's attachment was made after the
        # one of the document numbered before it.
        attachments = (invoices.sorted("name") | credit).invoice_pdf_report_id
        self.assertEqual(attachments.ids, sorted(attachments.ids))
