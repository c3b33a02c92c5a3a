# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Getting paid: automatic charges on payment_demo tokens, exactly once,
retries and dunning, the unpaid-invoice policy."""

from datetime import date

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import SQL, mute_logger

from .payment_common import RecurringPaymentCommon


class TestPaymentCharge(RecurringPaymentCommon):
    def test_done_pays_and_reconciles_once(self):
        contract, invoice = self.create_charged_contract()
        self.assertEqual(self.charge(date(2026, 1, 1)), 1)
        tx = self.transactions(invoice)
        self.assertRecordValues(
            tx,
            [
                {
                    "state": "done",
                    "operation": "offline",
                    "amount": 115.0,
                    "token_id": self.token.id,
                }
            ],
        )
        self.assertTrue(tx.payment_id, "Odoo's post-processing made the payment")
        self.assertEqual(tx.payment_id.amount, 115.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertRecordValues(
            invoice.recurring_payment_attempt_ids,
            [{"state": "done", "amount": 115.0, "transaction_id": tx.id}],
        )
        self.assertEqual(invoice.recurring_charge_state, "done")
        self.assertFalse(contract.payment_failing)
        # A rerun, the same day or later, charges nothing.
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        self.assertEqual(self.charge(date(2026, 1, 9)), 0)
        self.assertEqual(len(self.transactions(invoice)), 1)

    def test_billing_run_charges_right_after_posting(self):
        """The billing scheduled action's entry point, called from code (a
        shell, a server action): every batch is billed, then charged."""
        contract = self.create_contract(payment_token_id=self.token.id)
        self.assertEqual(self.Contract._cron_generate_invoices(date(2026, 1, 1)), 1)
        invoice = contract.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(self.transactions(invoice).state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # Again: nothing billed, nothing charged twice.
        self.Contract._cron_generate_invoices(date(2026, 1, 1))
        self.assertEqual(len(self.transactions(invoice)), 1)

    def test_billing_scheduled_action_triggers_the_charging_one(self):
        """Under ir.cron, posting and charging never share a transaction:
        the billing batch only triggers the charging scheduled action, which
        runs once the batch committed."""
        contract = self.create_contract(payment_token_id=self.token.id)
        billing = self.env.ref("recurring_billing.ir_cron_generate_invoices").sudo()
        charging = self.env.ref("recurring_billing.ir_cron_charge_invoices").sudo()
        triggers = self.env["ir.cron.trigger"].sudo()
        before = triggers.search_count([("cron_id", "=", charging.id)])
        self.Contract.with_context(
            ir_cron_progress_id=self.env["ir.cron.progress"]
            .sudo()
            .create({"cron_id": billing.id})
            .id
        )._cron_generate_invoices(date(2026, 1, 1))
        invoice = contract.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(self.transactions(invoice), "not in the posting transaction")
        self.assertEqual(
            triggers.search_count([("cron_id", "=", charging.id)]), before + 1
        )
        # What the scheduler then runs.
        self.assertEqual(self.charge(date(2026, 1, 1)), 1)
        self.assertEqual(self.transactions(invoice).state, "done")

    def test_pending_then_rerun_creates_no_second_transaction(self):
        token = self.create_token(self.partner_a, "pending", details="1111")
        _contract, invoice = self.create_charged_contract(token)
        self.assertEqual(self.charge(date(2026, 1, 1)), 1)
        tx = self.transactions(invoice)
        self.assertEqual(tx.state, "pending")
        self.assertEqual(invoice.recurring_charge_state, "pending")
        for day in (date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 30)):
            self.assertEqual(self.charge(day), 0)
        self.assertEqual(self.transactions(invoice), tx)
        # The service, asked directly, refuses it too.
        service = self.env["recurring.payment.service"]
        self.assertFalse(service._charge_invoices(invoice, date(2026, 1, 2)))
        # The provider confirms later (its webhook): Odoo's post-processing
        # reconciles, and the attempt follows.
        tx._set_done()
        tx._post_process()
        self.assertEqual(invoice.recurring_payment_attempt_ids.state, "done")
        self.assertEqual(invoice.recurring_charge_state, "done")
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_pending_then_refused_returns_to_the_retries_once(self):
        """The provider says "pending", then refuses (its webhook): the
        invoice goes back to the retry schedule and the customer is told
        once; the retry day charges it again, once, on the card as it is
        then."""
        token = self.create_token(self.partner_a, "pending", details="2222")
        contract, invoice = self.create_charged_contract(token)
        self.env.company.recurring_retry_days = "1,3,7"
        self.assertEqual(self.charge(date(2026, 1, 1)), 1)
        tx = self.transactions(invoice)
        self.assertEqual(invoice.recurring_charge_state, "pending")
        tx._set_error("Card declined by the bank")
        tx._post_process()
        attempt = invoice.recurring_payment_attempt_ids
        self.assertEqual(attempt.state, "error")
        self.assertIn("declined", attempt.message)
        self.assertEqual(invoice.recurring_charge_state, "failing")
        self.assertEqual(invoice.recurring_charge_retry_date, date(2026, 1, 2))
        self.assertTrue(contract.payment_failing)
        told = contract.message_ids.filtered(
            lambda m: "payment failed for your contract" in (m.subject or "")
        )
        self.assertEqual(len(told), 1)
        # Processing the same answer again tells nobody twice.
        tx._post_process()
        self.assertEqual(
            len(
                contract.message_ids.filtered(
                    lambda m: "payment failed for your contract" in (m.subject or "")
                )
            ),
            1,
        )
        # Not before the retry day; then once, and paid.
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        token.demo_simulated_state = "done"
        self.assertEqual(self.charge(date(2026, 1, 2)), 1)
        done = self.transactions(invoice).filtered(lambda t: t.state == "done")
        self.assertRecordValues(done, [{"amount": 115.0}])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertFalse(contract.payment_failing)

    def test_invoice_being_paid_by_the_customer_is_not_charged(self):
        """The customer pays the invoice in the portal while a charge is due:
        as long as that payment is under way (pending, or done and not yet
        reconciled), charging it would be a second payment."""

        def portal_transaction(invoice):
            return (
                self.env["payment.transaction"]
                .sudo()
                .create(
                    {
                        "provider_id": self.provider.id,
                        "payment_method_id": self.demo_method.id,
                        "reference": f"{invoice.name}-portal",
                        "operation": "online_direct",
                        "amount": invoice.amount_residual,
                        "currency_id": invoice.currency_id.id,
                        "partner_id": invoice.partner_id.id,
                        "invoice_ids": [Command.set(invoice.ids)],
                    }
                )
            )

        _contract, invoice = self.create_charged_contract()
        portal_tx = portal_transaction(invoice)
        portal_tx._set_pending()
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        portal_tx._set_done()  # the provider said yes, not yet reconciled
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        self.assertEqual(self.transactions(invoice), portal_tx)
        self.assertFalse(invoice.recurring_payment_attempt_ids)
        portal_tx._post_process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.charge(date(2026, 1, 2)), 0)
        # A portal payment that failed leaves the invoice to the charge.
        _contract, other = self.create_charged_contract(start=date(2026, 2, 1))
        portal_transaction(other)._set_error("declined")
        self.assertEqual(self.charge(date(2026, 2, 1)), 1)
        self.assertEqual(other.recurring_payment_attempt_ids.state, "done")

    def test_unique_index_refuses_a_second_live_attempt(self):
        _contract, invoice = self.create_charged_contract()
        self.charge(date(2026, 1, 1))
        attempt = invoice.recurring_payment_attempt_ids
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                # sudo, as the charging service: users write no attempt; the
                # index refuses even the service.
                attempt.sudo().copy({"transaction_id": False})

    def test_error_retries_emails_flags_then_pauses(self):
        self.company.write(
            {"recurring_retry_days": "1,3,7", "recurring_dunning_action": "pause"}
        )
        token = self.create_token(self.partner_a, "error", details="0000")
        contract, invoice = self.create_charged_contract(token)
        self.assertEqual(self.charge(date(2026, 1, 1)), 1)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 115.0)
        self.assertRecordValues(
            invoice,
            [
                {
                    "recurring_charge_state": "failing",
                    "recurring_charge_retry_date": date(2026, 1, 2),
                }
            ],
        )
        self.assertTrue(contract.payment_failing)
        activity = contract.activity_ids.filtered(
            lambda a: a.summary == "Automatic payment failing"
        )
        self.assertEqual(len(activity), 1)
        # The customer's email: queued, on the contract (its portal history),
        # with the links to pay and to update the card.
        message = contract.message_ids.filtered(
            lambda m: "payment failed for your contract" in (m.subject or "")
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.partner_a)  # the customer only
        self.assertIn(invoice.get_portal_url(), message.body)
        self.assertIn(
            contract.get_portal_url(suffix="/payment_method").replace("&", "&amp;"),
            message.body,
        )
        # Nothing before the retry date; then day 1, 3 and 7 after the first
        # failure.
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        expected = [
            (date(2026, 1, 2), date(2026, 1, 4)),
            (date(2026, 1, 4), date(2026, 1, 8)),
        ]
        for day, next_retry in expected:
            self.assertEqual(self.charge(day), 1)
            self.assertEqual(invoice.recurring_charge_retry_date, next_retry)
            self.assertEqual(contract.state, "running")
        self.assertEqual(self.charge(date(2026, 1, 7)), 0)
        self.assertEqual(self.charge(date(2026, 1, 8)), 1)
        # The last retry failed: given up, the configured outcome applies.
        self.assertEqual(invoice.recurring_charge_state, "given_up")
        self.assertFalse(invoice.recurring_charge_retry_date)
        self.assertEqual(contract.state, "paused")
        self.assertEqual(contract.suspension_ids.date_start, date(2026, 1, 8))
        self.assertEqual(len(self.transactions(invoice)), 4)
        self.assertEqual(
            invoice.recurring_payment_attempt_ids.mapped("state"), ["error"] * 4
        )
        self.assertEqual(self.charge(date(2026, 2, 1)), 0)
        # One activity for the salesperson, four emails to the customer (one
        # per failed run).
        self.assertEqual(len(contract.activity_ids), 1)
        self.assertEqual(
            len(
                contract.message_ids.filtered(
                    lambda m: "payment failed for your contract" in (m.subject or "")
                )
            ),
            4,
        )

    def test_after_last_retry_close_with_reason(self):
        reason = self.env["recurring.contract.close.reason"].create({"name": "Unpaid"})
        self.company.write(
            {
                "recurring_retry_days": "2",
                "recurring_dunning_action": "close",
                "recurring_dunning_close_reason_id": reason.id,
            }
        )
        token = self.create_token(self.partner_a, "error", details="0001")
        contract, invoice = self.create_charged_contract(token)
        self.charge(date(2026, 1, 1))
        self.assertEqual(invoice.recurring_charge_retry_date, date(2026, 1, 3))
        self.charge(date(2026, 1, 3))
        self.assertEqual(contract.close_reason_id, reason)
        self.assertEqual(contract.date_end, date(2026, 1, 3))
        self.assertFalse(contract.auto_renew)

    def test_success_after_failure_clears_the_flag(self):
        token = self.create_token(self.partner_a, "error", details="0002")
        contract, invoice = self.create_charged_contract(token)
        self.charge(date(2026, 1, 1))
        self.assertTrue(contract.payment_failing)
        token.demo_simulated_state = "done"  # the customer's bank said yes
        self.assertEqual(self.charge(date(2026, 1, 2)), 1)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(invoice.recurring_charge_state, "done")
        self.assertFalse(contract.payment_failing)
        self.assertFalse(
            contract.activity_ids.filtered(
                lambda a: a.summary == "Automatic payment failing"
            )
        )

    def test_paid_another_way_stops_the_retries(self):
        token = self.create_token(self.partner_a, "error", details="0003")
        contract, invoice = self.create_charged_contract(token)
        self.charge(date(2026, 1, 1))
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": date(2026, 1, 1)})._create_payments()
        self.assertEqual(self.charge(date(2026, 1, 2)), 0)
        self.assertEqual(len(self.transactions(invoice)), 1)
        self.assertFalse(invoice.recurring_charge_state)
        self.assertFalse(contract.payment_failing)

    def test_no_token_no_charge(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        invoice = self.bill(contract, date(2026, 1, 1))
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        self.assertFalse(self.transactions(invoice))

    def test_provider_exception_is_a_failed_charge_of_that_invoice_only(self):
        bad = self.create_token(self.partner_a, "done", details="0004")
        _contract_bad, invoice_bad = self.create_charged_contract(bad)
        _contract_ok, invoice_ok = self.create_charged_contract()
        # A provider call that raises (here: the demo provider refuses a
        # transaction without a token; a real one may be unreachable).
        Transaction = type(self.env["payment.transaction"])
        original = Transaction._send_payment_request

        def send(tx):
            if tx.token_id == bad:
                raise ConnectionError("Provider unreachable")
            return original(tx)

        Transaction._send_payment_request = send
        try:
            self.assertEqual(self.charge(date(2026, 1, 1)), 2)
        finally:
            Transaction._send_payment_request = original
        self.assertEqual(invoice_bad.recurring_charge_state, "failing")
        self.assertIn(
            "Provider unreachable",
            invoice_bad.recurring_payment_attempt_ids.message,
        )
        self.assertEqual(invoice_ok.amount_residual, 0.0)


class TestPaymentToken(RecurringPaymentCommon):
    def test_token_of_another_customer_refused(self):
        other = self.create_token(self.partner_b, "done", details="9999")
        contract = self.create_contract(start=date(2026, 1, 1))
        with self.assertRaisesRegex(ValidationError, "belongs to"):
            contract.payment_token_id = other

    def test_token_of_a_contact_of_the_customer_accepted(self):
        contact = self.env["res.partner"].create(
            {"name": "Accounting", "parent_id": self.partner_a.id}
        )
        token = self.create_token(contact, "done", details="5555")
        contract = self.create_contract(start=date(2026, 1, 1))
        contract.payment_token_id = token
        self.assertEqual(contract.payment_token_id, token)

    def test_token_of_a_disabled_provider_refused(self):
        token = self.create_token(self.partner_a, "done", details="6666")
        contract = self.create_contract(start=date(2026, 1, 1))
        self.provider.state = "disabled"
        with self.assertRaisesRegex(ValidationError, "can no longer be charged"):
            contract.payment_token_id = token

    def test_bad_retry_days_refused(self):
        with self.assertRaisesRegex(ValidationError, "whole numbers"):
            self.company.recurring_retry_days = "1,x"


class TestUnpaidPolicy(RecurringPaymentCommon):
    def test_reminders_then_pause(self):
        self.company.write(
            {
                "recurring_unpaid_reminder_days": "7,14",
                "recurring_unpaid_action": "pause",
                "recurring_unpaid_action_days": 30,
            }
        )
        contract = self.create_contract(start=date(2026, 1, 1))
        invoice = self.bill(contract, date(2026, 1, 1))
        due = invoice.invoice_date_due

        def reminders():
            return invoice.message_ids.filtered(
                lambda m: "is overdue" in (m.subject or "")
            )

        self.charge(date.fromordinal(due.toordinal() + 6))
        self.assertFalse(reminders())
        self.charge(date.fromordinal(due.toordinal() + 7))
        self.assertEqual(len(reminders()), 1)
        self.assertIn(invoice.get_portal_url(), reminders().body)
        self.charge(date.fromordinal(due.toordinal() + 8))
        self.assertEqual(len(reminders()), 1)
        self.charge(date.fromordinal(due.toordinal() + 14))
        self.assertEqual(len(reminders()), 2)
        self.assertEqual(contract.state, "running")
        self.charge(date.fromordinal(due.toordinal() + 30))
        self.assertEqual(contract.state, "paused")


class TestPaymentResend(RecurringPaymentCommon):
    def test_unanswered_transaction_is_sent_again_not_duplicated(self):
        """A worker died after saving the attempt, before the provider
        answered: the rerun sends the same transaction, never a new one."""
        _contract, invoice = self.create_charged_contract()
        service = self.env["recurring.payment.service"]
        attempt = service._create_attempt(invoice, date(2026, 1, 1))
        tx = attempt.transaction_id
        self.assertEqual(tx.state, "draft")
        # Too recent: a worker may still be sending it.
        self.assertEqual(self.charge(date(2026, 1, 1)), 0)
        self.assertEqual(tx.state, "draft")
        self.env["ir.config_parameter"].set_param(
            "recurring_billing.charge_resend_minutes", 0
        )
        self.charge(date(2026, 1, 1))
        self.assertEqual(self.transactions(invoice), tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(attempt.state, "done")
        self.assertEqual(invoice.amount_residual, 0.0)


class TestPaymentConcurrency(TransactionCase):
    """Two workers charging the same invoice at the same time, each on its
    own connection (real PostgreSQL transactions): one transaction only.
    The data must be committed for the second connection to see it: a
    contract of 2020 in the main company, closed after its one period, with
    its invoice paid by the test (it stays in the database, inert)."""

    def test_two_workers_one_transaction(self):
        registry = self.env.registry
        day = date(2020, 1, 1)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            provider = env.ref("payment.payment_provider_demo")
            provider.write({"state": "test", "company_id": company.id})
            if not provider.journal_id:
                provider.journal_id = env["account.journal"].search(
                    [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
                )
            partner = env["res.partner"].create(
                {"name": "RB Concurrency Customer", "email": "conc@example.com"}
            )
            token = env["payment.token"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment_demo.payment_method_demo").id,
                    "payment_details": "7777",
                    "partner_id": partner.id,
                    "provider_ref": f"conc-{partner.id}",
                    "demo_simulated_state": "done",
                }
            )
            product = env["product.product"].create(
                {"name": "RB concurrency service", "taxes_id": [Command.clear()]}
            )
            contract = (
                env["recurring.contract"]
                .with_company(company)
                .create(
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "date_start": day,
                        "date_end": date(2020, 1, 31),
                        "auto_renew": False,
                        "invoice_action": "post",
                        "payment_token_id": token.id,
                        "line_ids": [
                            Command.create(
                                {"product_id": product.id, "price_unit": 50.0}
                            )
                        ],
                    }
                )
            )
            contract.action_start(notify=False)
            invoice_id = contract._generate_invoices(date_ref=day).id
            # Committed: the two workers below are other connections.
            cr.commit()  # pylint: disable=invalid-commit

        def service(cr):
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["recurring.payment.service"], env["account.move"].browse(
                invoice_id
            )

        with registry.cursor() as cr_a, registry.cursor() as cr_b:
            service_a, invoice_a = service(cr_a)
            service_b, invoice_b = service(cr_b)
            # A charges and holds the invoice's row until it commits.
            self.assertEqual(len(service_a._charge_invoices(invoice_a, day)), 1)
            # B, at the same time: the row is held, B charges nothing.
            self.assertFalse(service_b._charge_invoices(invoice_b, day))
            cr_a.commit()  # pylint: disable=invalid-commit
            cr_b.rollback()
            # B again, after A committed: charged already, nothing to do.
            service_b, invoice_b = service(cr_b)
            self.assertFalse(service_b._charge_invoices(invoice_b, day))
            cr_b.commit()  # pylint: disable=invalid-commit
        with registry.cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT count(*), bool_and(t.state = 'done') "
                    "FROM account_invoice_transaction_rel r "
                    "JOIN payment_transaction t ON t.id = r.transaction_id "
                    "WHERE r.invoice_id = %s",
                    invoice_id,
                )
            )
            self.assertEqual(cr.fetchone(), (1, True))
            cr.execute(
                SQL("SELECT payment_state FROM account_move WHERE id = %s", invoice_id)
            )
            self.assertIn(cr.fetchone()[0], ("paid", "in_payment"))


class TestPaymentAttemptAccess(RecurringPaymentCommon):
    def test_salesperson_sees_the_charges_of_own_contracts_only(self):
        """Charge attempts follow their contract: a salesperson limited to
        own documents sees those of own and unassigned contracts; invoicing
        users see them all."""

        def user(login, groups):
            return new_test_user(
                self.env,
                login=login,
                groups=groups,
                company_id=self.company.id,
                company_ids=[Command.set(self.company.ids)],
            )

        own = user("rb_pay_own_sales", "sales_team.group_sale_salesman")
        other = user("rb_pay_other_sales", "sales_team.group_sale_salesman")
        invoicing = user("rb_pay_invoicing", "account.group_account_invoice")
        mine, _inv = self.create_charged_contract(user_id=own.id)
        theirs, _inv = self.create_charged_contract(user_id=other.id)
        unassigned, _inv = self.create_charged_contract(user_id=False)
        self.assertEqual(self.charge(date(2026, 1, 1)), 3)
        contracts = mine | theirs | unassigned
        Attempt = self.env["recurring.payment.attempt"]
        domain = [("contract_id", "in", contracts.ids)]
        self.assertEqual(
            Attempt.with_user(own).search(domain).sudo().contract_id,
            mine | unassigned,
        )
        self.assertEqual(
            Attempt.with_user(invoicing).search(domain).sudo().contract_id, contracts
        )
