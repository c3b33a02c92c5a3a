# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Getting paid safely: never the wrong card, never twice, never stuck.

Each test charges payment_demo tokens through the addon's public entry points
(``_cron_charge_invoices``, ``_cron_generate_invoices``) and asserts what
moved: transactions, their amounts and tokens, the invoices' states."""

from datetime import date, datetime, timedelta

import pytz

from .payment_common import RecurringPaymentCommon


class PaymentSafetyCommon(RecurringPaymentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_b.write({"email": "partner_b@example.com", "lang": "en_US"})
        cls.company.recurring_retry_days = "1,3,7"

    def charge_transactions(self, invoices):
        """The automatic charges made for ``invoices`` (offline, by token)."""
        return self.transactions(invoices).filtered(lambda t: t.operation == "offline")

    def register_payment(self, invoice, day, amount=None):
        vals = {"payment_date": day}
        if amount is not None:
            vals["amount"] = amount
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(vals)
            ._create_payments()
        )

    def failure_emails(self, invoice):
        """The failure notices listing ``invoice``: on its contract (its
        customer's), or on the invoice (a former customer's)."""
        return invoice.message_ids.filtered(
            lambda m: "payment of invoice" in (m.subject or "")
        ) | invoice.recurring_contract_id.message_ids.filtered(
            lambda m: "payment failed for your contract" in (m.subject or "")
            and invoice.name in m.body
        )

    def failing_activity(self, contract):
        return contract.activity_ids.filtered(
            lambda a: a.summary == "Automatic payment failing"
        )


class TestCustomerChange(PaymentSafetyCommon):
    def test_new_customer_card_never_pays_the_former_customer_invoices(self):
        """Invoices stay with the customer they were issued to: a token only
        charges invoices of its own commercial partner. The former
        customer's two unpaid invoices are left to them; the new customer's
        own invoices are charged on the new card."""
        contract = self.create_contract(start=date(2026, 1, 1), prorate=True)
        old_invoices = self.bill(contract, date(2026, 1, 1)) | self.bill(
            contract, date(2026, 2, 1)
        )
        self.assertEqual(old_invoices.mapped("partner_id"), self.partner_a)
        self.assertEqual(old_invoices.mapped("payment_state"), ["not_paid"] * 2)
        contract.partner_id = self.partner_b
        token_b = self.create_token(self.partner_b, "done", details="4343")
        contract.payment_token_id = token_b
        self.charge(date(2026, 2, 2))
        self.assertFalse(
            self.charge_transactions(old_invoices),
            "the new customer's card charged the former customer's invoices",
        )
        self.assertEqual(old_invoices.mapped("amount_residual"), [115.0, 115.0])
        # The new customer's own invoice is charged on their card.
        new_invoice = self.bill(contract, date(2026, 3, 1))
        self.assertEqual(new_invoice.partner_id, self.partner_b)
        self.charge(date(2026, 3, 1))
        self.assertRecordValues(
            self.charge_transactions(new_invoice),
            [{"state": "done", "amount": 115.0, "token_id": token_b.id}],
        )
        self.assertEqual(
            self.env["payment.transaction"]
            .sudo()
            .search_count([("token_id", "=", token_b.id)]),
            1,
        )

    def test_unpaid_policy_never_closes_the_new_customer_contract(self):
        """The unpaid-invoice policy acts on the contract for the debt of
        its *current* customer only. The former customer's overdue invoices
        still get their reminders (the debt is theirs), but never pause or
        close a contract that now belongs to someone else: that customer
        owes nothing. The new customer's own overdue invoice does close it."""
        reason = self.env["recurring.contract.close.reason"].create({"name": "Unpaid"})
        self.company.write(
            {
                "recurring_unpaid_reminder_days": "7",
                "recurring_unpaid_action": "close",
                "recurring_unpaid_action_days": 30,
                "recurring_dunning_close_reason_id": reason.id,
            }
        )
        contract = self.create_contract(start=date(2026, 1, 1), prorate=True)
        old_invoice = self.bill(contract, date(2026, 1, 1))
        contract.partner_id = self.partner_b
        due = old_invoice.invoice_date_due
        self.charge(date.fromordinal(due.toordinal() + 31))
        self.assertEqual(contract.state, "running")
        self.assertFalse(contract.date_end)
        reminders = old_invoice.message_ids.filtered(
            lambda m: "is overdue" in (m.subject or "")
        )
        self.assertEqual(len(reminders), 1)
        self.assertEqual(reminders.partner_ids, self.partner_a)  # the customer only
        # The rule, not the example: the new customer's own debt counts.
        new_invoice = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(new_invoice.partner_id, self.partner_b)
        day = date.fromordinal(new_invoice.invoice_date_due.toordinal() + 30)
        self.charge(day)
        self.assertEqual(contract.close_reason_id, reason)
        self.assertEqual(contract.date_end, day)


class TestPaidMeanwhile(PaymentSafetyCommon):
    def test_resend_of_an_unanswered_charge_skips_an_invoice_paid_meanwhile(self):
        """A worker died after saving the charge and before the provider
        answered; the accountant then registered the customer's bank
        transfer. The rerun re-checks everything before resending: the
        invoice is paid, so the transaction is cancelled, never sent, and
        the attempt is closed."""
        _contract, invoice = self.create_charged_contract()
        service = self.env["recurring.payment.service"]
        attempt = service._create_attempt(invoice, date(2026, 1, 1))
        tx = attempt.transaction_id
        self.assertEqual(tx.state, "draft")
        self.register_payment(invoice, date(2026, 1, 3))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.env["ir.config_parameter"].set_param(
            "recurring_billing.charge_resend_minutes", 0
        )
        self.charge(date(2026, 1, 4))
        self.assertEqual(tx.state, "cancel", "the customer would have paid twice")
        self.assertFalse(tx.payment_id)
        self.assertEqual(attempt.state, "cancel")
        self.assertFalse(invoice.recurring_charge_state)
        self.assertEqual(self.charge_transactions(invoice), tx)
        # Nothing more later either.
        self.charge(date(2026, 1, 20))
        self.assertEqual(self.charge_transactions(invoice), tx)

    def test_resend_after_a_partial_payment_charges_only_what_is_left(self):
        """Partly paid meanwhile: the draft's amount is no longer owed, so it
        is cancelled and the residual is charged by a new transaction."""
        _contract, invoice = self.create_charged_contract()
        service = self.env["recurring.payment.service"]
        attempt = service._create_attempt(invoice, date(2026, 1, 1))
        self.register_payment(invoice, date(2026, 1, 2), amount=40.0)
        self.env["ir.config_parameter"].set_param(
            "recurring_billing.charge_resend_minutes", 0
        )
        self.charge(date(2026, 1, 3))
        self.assertEqual(attempt.transaction_id.state, "cancel")
        done = self.charge_transactions(invoice).filtered(lambda t: t.state == "done")
        self.assertRecordValues(done, [{"amount": 75.0}])
        self.assertEqual(invoice.amount_residual, 0.0)


class TestUnusableToken(PaymentSafetyCommon):
    def test_archived_token_is_flagged_and_the_others_are_still_charged(self):
        """The customer deleted their card (Odoo archives the token): that
        contract is flagged and skipped, every other one is charged."""
        token_gone = self.create_token(self.partner_a, "done", details="1212")
        contract_gone, invoice_gone = self.create_charged_contract(token_gone)
        token_b = self.create_token(self.partner_b, "done", details="3434")
        _contract_ok, invoice_ok = self.create_charged_contract(
            token_b, partner_id=self.partner_b.id
        )
        token_gone.action_archive()
        self.charge(date(2026, 1, 1))
        self.assertRecordValues(
            self.charge_transactions(invoice_ok),
            [{"state": "done", "amount": 115.0, "token_id": token_b.id}],
        )
        self.assertFalse(self.charge_transactions(invoice_gone))
        self.assertEqual(invoice_gone.amount_residual, 115.0)
        self.assertTrue(contract_gone.payment_failing)
        self.assertEqual(len(self.failing_activity(contract_gone)), 1)
        emails = self.failure_emails(invoice_gone)
        self.assertEqual(len(emails), 1)
        self.assertIn(
            contract_gone.get_portal_url(suffix="/payment_method").replace(
                "&", "&amp;"
            ),
            emails.body,
        )
        self.assertEqual(invoice_gone.recurring_charge_state, "failing")
        self.assertEqual(invoice_gone.recurring_charge_retry_date, date(2026, 1, 2))
        # The customer saves a new card: the retry charges it.
        new_token = self.create_token(self.partner_a, "done", details="5656")
        contract_gone.payment_token_id = new_token
        self.charge(date(2026, 1, 2))
        self.assertRecordValues(
            self.charge_transactions(invoice_gone),
            [{"state": "done", "amount": 115.0, "token_id": new_token.id}],
        )
        self.assertFalse(contract_gone.payment_failing)

    def test_provider_that_cannot_charge_is_flagged_not_charged(self):
        """A provider that no longer allows saved payment methods cannot
        charge one: flagged and skipped like an archived card."""
        contract, invoice = self.create_charged_contract()
        self.provider.allow_tokenization = False
        self.charge(date(2026, 1, 1))
        self.assertFalse(self.charge_transactions(invoice))
        self.assertTrue(contract.payment_failing)
        self.assertEqual(invoice.recurring_charge_state, "failing")

    def test_billing_run_from_code_never_rolls_back_because_of_a_charge(self):
        """The billing entry point called from code charges at the end; a
        token archived between billing and charging must neither roll the
        run back nor stop the other contracts' charges."""
        token_gone = self.create_token(self.partner_a, "done", details="7878")
        contract_gone = self.create_contract(payment_token_id=token_gone.id)
        token_b = self.create_token(self.partner_b, "done", details="8989")
        contract_ok = self.create_contract(
            partner_id=self.partner_b.id, payment_token_id=token_b.id
        )
        token_gone.action_archive()
        self.assertEqual(self.Contract._cron_generate_invoices(date(2026, 1, 1)), 2)
        invoice_gone, invoice_ok = contract_gone.invoice_ids, contract_ok.invoice_ids
        self.assertEqual((invoice_gone | invoice_ok).mapped("state"), ["posted"] * 2)
        self.assertEqual(self.charge_transactions(invoice_ok).state, "done")
        self.assertEqual(invoice_ok.amount_residual, 0.0)
        self.assertFalse(self.charge_transactions(invoice_gone))
        self.assertTrue(contract_gone.payment_failing)


class TestCreditNote(PaymentSafetyCommon):
    def test_retry_charges_the_residual_net_of_the_period_credit_note(self):
        """A contract closed two days into a month whose charge failed: the
        engine credits the unused days; the retry reconciles that credit
        note with the invoice first (as Odoo's credit note matching would)
        and charges only what is left."""
        token = self.create_token(self.partner_a, "error", details="2323")
        contract, invoice = self.create_charged_contract(token, prorate=True)
        self.charge(date(2026, 1, 1))
        self.assertEqual(invoice.recurring_charge_state, "failing")
        contract.action_close(date_close=date(2026, 1, 2))
        credit = self.bill(contract, date(2026, 1, 2))
        self.assertEqual(credit.move_type, "out_refund")
        # 29 of 31 days back: 93.55 + 15 % tax.
        self.assertEqual(credit.amount_total, 107.58)
        token.demo_simulated_state = "done"
        self.charge(date(2026, 1, 2))
        done = self.charge_transactions(invoice).filtered(lambda t: t.state == "done")
        self.assertRecordValues(done, [{"amount": 7.42, "token_id": token.id}])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(credit.amount_residual, 0.0)
        self.assertIn(credit.payment_state, ("paid", "in_payment", "reversed"))

    def test_credit_note_covering_the_invoice_closes_the_charge(self):
        """A pause from the first day of a period billed in advance credits
        all of it: nothing is left to charge, the retries stop."""
        token = self.create_token(self.partner_a, "error", details="2424")
        contract, invoice = self.create_charged_contract(token, prorate=True)
        self.charge(date(2026, 1, 1))
        self.assertEqual(invoice.recurring_charge_state, "failing")
        contract.action_pause(date_pause=date(2026, 1, 1))
        credit = self.bill(contract, date(2026, 1, 2))
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(credit.amount_total, 115.0)
        token.demo_simulated_state = "done"
        self.charge(date(2026, 1, 2))
        self.assertFalse(
            self.charge_transactions(invoice).filtered(lambda t: t.state == "done")
        )
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(credit.amount_residual, 0.0)
        self.assertFalse(invoice.recurring_charge_state)
        self.assertFalse(contract.payment_failing)


class TestReversal(PaymentSafetyCommon):
    def test_cancelled_charge_returns_to_the_retry_schedule(self):
        """A charge whose payment is cancelled afterwards (a chargeback
        booked by the accountant): the invoice is unpaid again, so it goes
        back to the retries and dunning, with the flag and the email."""
        contract, invoice = self.create_charged_contract()
        self.charge(date(2026, 1, 1))
        tx = self.charge_transactions(invoice)
        self.assertEqual(invoice.recurring_charge_state, "done")
        tx.payment_id.action_draft()
        tx.payment_id.action_cancel()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.charge(date(2026, 1, 10))
        attempts = invoice.recurring_payment_attempt_ids
        self.assertEqual(attempts.mapped("state"), ["reversed"])
        self.assertRecordValues(
            invoice,
            [
                {
                    "recurring_charge_state": "failing",
                    "recurring_charge_retry_date": date(2026, 1, 11),
                }
            ],
        )
        self.assertTrue(contract.payment_failing)
        self.assertEqual(len(self.failure_emails(invoice)), 1)
        # The retry charges it again, once.
        self.charge(date(2026, 1, 11))
        done = self.charge_transactions(invoice).filtered(
            lambda t: t.state == "done" and t != tx
        )
        self.assertRecordValues(done, [{"amount": 115.0}])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertFalse(contract.payment_failing)
        self.charge(date(2026, 1, 20))
        self.assertEqual(len(self.charge_transactions(invoice)), 2)

    def test_payment_reset_to_draft_returns_to_the_retry_schedule(self):
        _contract, invoice = self.create_charged_contract()
        self.charge(date(2026, 1, 1))
        payment = self.charge_transactions(invoice).payment_id
        payment.action_draft()
        # 18.0's reset to draft also undoes the payment's reconciliation with
        # the invoice; 19.0 keeps it until the user unreconciles.
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.charge(date(2026, 1, 5))
        self.assertEqual(invoice.recurring_charge_state, "failing")
        self.assertEqual(invoice.recurring_charge_retry_date, date(2026, 1, 6))


class TestCompanyDateOfCharges(PaymentSafetyCommon):
    def test_failed_charge_is_dated_on_the_company_date(self):
        """Without a date, a charge and its retry date use the company's
        date (its time zone), never the user's or the server's."""
        now = datetime.now(pytz.utc)
        zones = ["Pacific/Kiritimati", "Etc/GMT+12"]
        if now.hour < 12:
            zones.reverse()
        self.company.partner_id.tz, self.env.user.tz = zones
        today = now.astimezone(pytz.timezone(zones[0])).date()
        token = self.create_token(self.partner_a, "error", details="9090")
        contract = self.create_contract(start=today, payment_token_id=token.id)
        invoice = self.bill(contract, today)
        self.Contract._cron_charge_invoices()
        self.assertEqual(invoice.recurring_payment_attempt_ids.date, today)
        self.assertEqual(invoice.recurring_charge_retry_date, today + timedelta(1))
