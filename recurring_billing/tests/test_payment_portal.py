# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Getting paid in the portal: the contract's invoices with a Pay button,
the saved payment method (choose, replace, stop), the cancellation request,
each behind the portal's own access checks."""

import re
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .payment_common import create_demo_provider


@tagged("post_install", "-at_install")
class TestPaymentPortal(AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.email = "billing@company.example.com"
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Paying Customer",
                "is_company": True,
                "email": "pay@customer.example",
            }
        )
        cls.owner_contact = cls.env["res.partner"].create(
            {
                "name": "Paying Owner",
                "parent_id": cls.customer.id,
                "email": "owner@customer.example",
            }
        )
        cls.owner = new_test_user(
            cls.env,
            login="rb_pay_owner",
            groups="base.group_portal",
            partner_id=cls.owner_contact.id,
        )
        cls.stranger = new_test_user(
            cls.env,
            login="rb_pay_stranger",
            groups="base.group_portal",
            email="stranger@other.example",
        )
        # sudo: payment providers and tokens are set up by administrators.
        cls.provider = create_demo_provider(
            cls.env, cls.env.company, cls.company_data["default_journal_bank"]
        )
        method = cls.env.ref("payment_demo.payment_method_demo")

        def token(partner, details):
            return (
                cls.env["payment.token"]
                .sudo()
                .create(
                    {
                        "provider_id": cls.provider.id,
                        "payment_method_id": method.id,
                        "payment_details": details,
                        "partner_id": partner.id,
                        "provider_ref": f"ref-{details}",
                        "demo_simulated_state": "done",
                    }
                )
            )

        cls.card_old = token(cls.customer, "1111")
        cls.card_new = token(cls.owner_contact, "2222")
        cls.card_stranger = token(cls.stranger.partner_id, "3333")
        today = fields.Date.today()
        cls.contract = cls.env["recurring.contract"].create(
            {
                "partner_id": cls.owner_contact.id,
                "date_start": today,
                "notice_days": 30,
                "payment_token_id": cls.card_old.id,
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

    def csrf(self, url):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def test_contract_page_shows_payment_and_pay_button(self):
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        page = self.url_open(self.url)
        self.assertIn("Charged automatically on", page.text)
        self.assertIn("Replace payment method", page.text)
        self.assertIn("Request cancellation", page.text)
        self.assertIn("o_contract_invoice_pay", page.text)
        pay_url = self.invoice.get_portal_url(
            anchor="portal_pay", query_string="&payment=True"
        ).replace("&", "&amp;")
        self.assertIn(pay_url, page.text)
        # The invoice's own portal page has Odoo's payment form.
        invoice_page = self.url_open(self.invoice.get_portal_url())
        self.assertIn('id="portal_pay"', invoice_page.text)

    def test_replace_the_payment_method(self):
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        url = f"{self.url}/payment_method"
        page = self.url_open(url)
        self.assertIn(self.card_old.display_name, page.text)
        self.assertIn(self.card_new.display_name, page.text)
        self.assertNotIn(self.card_stranger.display_name, page.text)
        response = self.url_open(
            url, data={"csrf_token": self.csrf(url), "token_id": self.card_new.id}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("payment_method_saved", response.url)
        self.assertEqual(self.contract.payment_token_id, self.card_new)
        # Another customer's token is refused, the saved one stays.
        response = self.url_open(
            url, data={"csrf_token": self.csrf(url), "token_id": self.card_stranger.id}
        )
        self.assertIn("cannot be used for this contract", response.text)
        self.assertEqual(self.contract.payment_token_id, self.card_new)
        # Stop the automatic charges.
        self.url_open(url, data={"csrf_token": self.csrf(url), "token_id": "0"})
        self.assertFalse(self.contract.payment_token_id)

    def test_request_cancellation(self):
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        url = f"{self.url}/cancel"
        # The company's today, not the server's (they differ around midnight).
        today = self.contract.company_id._get_recurring_today()
        effective = self.contract._get_effective_close_date(today)
        self.assertEqual((effective - today).days, 30)  # the notice period
        page = self.url_open(url)
        self.assertIn("at the earliest", page.text)
        response = self.url_open(url, data={"csrf_token": self.csrf(url), "reason": ""})
        self.assertIn("Please tell us why", response.text)
        self.assertFalse(self.contract.cancel_request_date)
        response = self.url_open(
            url, data={"csrf_token": self.csrf(url), "reason": "Too expensive"}
        )
        self.assertIn("cancel_requested", response.url)
        self.assertRecordValues(
            self.contract,
            [
                {
                    "cancel_request_date": today,
                    "cancel_request_effective_date": effective,
                    "cancel_request_reason": "Too expensive",
                    "state": "running",  # the salesperson closes it
                }
            ],
        )
        activity = self.contract.activity_ids.filtered(
            lambda a: a.summary == "Cancellation requested by the customer"
        )
        self.assertEqual(len(activity), 1)
        # The portal's schedule stops at the requested date: no invoice of a
        # period after it, the last one cut there as a close would cut it.
        schedule = self.contract._get_forecast_periods(12, until=effective)
        self.assertTrue(all(p.date_start <= effective for p in schedule))
        page = self.url_open(self.url).text
        self.assertIn("schedule_until_cancellation", page)
        table = page.split('name="schedule_table"')[1].split("</table>")[0]
        # The header, then one row per invoice (or "No invoice is scheduled").
        self.assertEqual(table.count("<tr"), 1 + max(1, len(schedule)))

    def test_schedule_until_a_date_is_cut_as_a_close_would(self):
        full = self.contract._get_forecast_periods(12)
        until = full[2].date_start + timedelta(days=9)
        schedule = self.contract._get_forecast_periods(12, until=until)
        self.assertEqual(len(schedule), 3)
        self.assertEqual(schedule[:2], full[:2])
        self.assertEqual(schedule[2].date_end, until)
        # Not prorated: the cut period is billed in full, as a close would.
        self.assertEqual(schedule[2].amount_untaxed, full[2].amount_untaxed)
        prorating = self.contract.copy({"prorate": True})
        full = prorating._get_forecast_periods(12)
        until = full[2].date_start + timedelta(days=9)
        cut = prorating._get_forecast_periods(12, until=until)
        self.assertEqual(len(cut), 3)
        self.assertEqual(cut[2].date_end, until)
        self.assertLess(cut[2].amount_untaxed, full[2].amount_untaxed)

    def test_a_card_added_from_the_contract_lands_back_on_it(self):
        landing = f"{self.url}/payment_method"
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        page = self.url_open(f"{self.url}/payment_method").text
        self.assertIn(f"/my/payment_method?contract_id={self.contract.id}", page)
        page = self.url_open(f"/my/payment_method?contract_id={self.contract.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'data-landing-route="{landing}', page.text)
        # Another customer's contract: Odoo's own landing page, nothing of it.
        self.authenticate("rb_pay_stranger", "rb_pay_stranger")
        page = self.url_open(f"/my/payment_method?contract_id={self.contract.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(landing, page.text)
        self.assertIn('data-landing-route="/my/payment_method"', page.text)

    def test_another_customer_is_refused(self):
        self.authenticate("rb_pay_stranger", "rb_pay_stranger")
        for suffix in ("/payment_method", "/cancel"):
            response = self.url_open(f"{self.url}{suffix}")
            self.assertNotIn(self.contract.name, response.text)
            self.assertFalse(response.url.endswith(suffix))
        # A forged POST changes nothing (the stranger's own CSRF token).
        csrf = self.csrf("/my/account")
        self.url_open(
            f"{self.url}/payment_method",
            data={"csrf_token": csrf, "token_id": self.card_stranger.id},
        )
        self.url_open(f"{self.url}/cancel", data={"csrf_token": csrf, "reason": "x"})
        self.assertEqual(self.contract.payment_token_id, self.card_old)
        self.assertFalse(self.contract.cancel_request_date)

    def test_access_token_grants_the_pages(self):
        self.authenticate(None, None)
        token = self.contract._portal_ensure_token()
        page = self.url_open(f"{self.url}/payment_method?access_token={token}")
        self.assertIn(self.card_old.display_name, page.text)
        refused = self.url_open(f"{self.url}/payment_method?access_token=wrong")
        self.assertNotIn(self.card_old.display_name, refused.text)

    def test_portal_tour(self):
        self.start_tour(
            self.url, "recurring_billing_payment_tour", login="rb_pay_owner"
        )
        self.assertEqual(self.contract.cancel_request_reason, "Moving to another tool")
        # The tour replaced the card (2222), then paid the open invoice with a
        # new card (4242) and ticked "charge automatically": that card is the
        # contract's now.
        token = self.contract.payment_token_id
        self.assertNotIn(token, self.card_old | self.card_new)
        self.assertEqual(token.payment_details, "4242 4242 4242 4242")
        self.assertEqual(token.partner_id, self.owner_contact)
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))

    # -------------------------------------------------------------------------
    # Paying an invoice with "charge automatically"
    # -------------------------------------------------------------------------

    def create_unpaid_contract(self):
        """A running contract without a saved payment method, its first
        invoice posted and open."""
        contract = self.env["recurring.contract"].create(
            {
                "partner_id": self.owner_contact.id,
                "date_start": fields.Date.today(),
                "line_ids": [
                    Command.create(
                        {"product_id": self.product_a.id, "price_unit": 80.0}
                    )
                ],
            }
        )
        contract.action_start(notify=False)
        invoice = contract._generate_invoices(date_ref=fields.Date.today())
        self.assertEqual(invoice.payment_state, "not_paid")
        return contract, invoice

    def pay_in_portal(self, invoice, **params):
        """Odoo's own invoice payment, as the payment form sends it, then the
        demo provider's answer and Odoo's post-processing (what the status
        page triggers)."""
        demo_method = self.env.ref("payment_demo.payment_method_demo")
        values = self.make_jsonrpc_request(
            f"/invoice/transaction/{invoice.id}",
            {
                "provider_id": self.provider.id,
                "payment_method_id": demo_method.id,
                "token_id": None,
                "amount": invoice.amount_residual,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": invoice.get_portal_url(),
                "is_validation": False,
                "access_token": invoice._portal_ensure_token(),
                **params,
            },
        )
        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {
                "reference": values["reference"],
                "payment_details": "4242 4242 4242 9999",
                "simulated_state": "done",
            },
        )
        tx = self.env["payment.transaction"].search(
            [("reference", "=", values["reference"])]
        )
        tx._post_process()
        return tx

    def test_invoice_page_offers_charge_automatically(self):
        contract, invoice = self.create_unpaid_contract()
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        page = self.url_open(invoice.get_portal_url(query_string="&payment=True"))
        self.assertIn('name="o_rb_charge_automatically"', page.text)
        self.assertIn(f"Charge my contract {contract.name} automatically", page.text)
        # A visitor with the invoice's link pays, but saves nothing.
        self.authenticate(None, None)
        page = self.url_open(invoice.get_portal_url(query_string="&payment=True"))
        self.assertIn('id="portal_pay"', page.text)
        self.assertNotIn("o_rb_charge_automatically", page.text)

    def test_pay_invoice_and_charge_automatically(self):
        contract, invoice = self.create_unpaid_contract()
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        tx = self.pay_in_portal(invoice, recurring_charge_automatically=True)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.recurring_autopay_contract_id, contract)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        token = tx.token_id
        self.assertEqual(token.payment_details, "4242 4242 4242 9999")
        self.assertEqual(token.partner_id, self.owner_contact)
        self.assertEqual(contract.payment_token_id, token)
        self.assertIn(
            f"charged automatically on {token.display_name} when paying {tx.reference}",
            contract.message_ids[0].body,
        )

    def test_pay_invoice_without_charge_automatically(self):
        contract, invoice = self.create_unpaid_contract()
        self.authenticate("rb_pay_owner", "rb_pay_owner")
        tx = self.pay_in_portal(invoice)
        self.assertEqual(tx.state, "done")
        self.assertFalse(tx.token_id, "no payment method saved: not asked")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(contract.payment_token_id)

    def test_charge_automatically_refused_to_another_customer(self):
        """The invoice's link lets anyone pay it, never save a payment
        method on someone else's contract."""
        contract, invoice = self.create_unpaid_contract()
        self.authenticate("rb_pay_stranger", "rb_pay_stranger")
        transactions = self.env["payment.transaction"].search_count([])
        with (
            self.assertRaisesRegex(JsonRpcException, "ValidationError"),
            mute_logger("odoo.http"),
        ):
            self.pay_in_portal(invoice, recurring_charge_automatically=True)
        self.assertEqual(self.env["payment.transaction"].search_count([]), transactions)
        self.assertFalse(contract.payment_token_id)
