# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What only the addon's own steps write (docs/rights.md): the fields of a
contract that the engine, the charging service, the actions and the
portal's request set, the line a line continues, the price updates and the
charge attempts. Users write none of them over the ORM (what XML-RPC does);
the steps still do, for the same users. And a contract handed to another
customer stops mailing the former one."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import RecurringBillingCommon

# A value for each field the engine or an action owns, other than its
# current one: a write that would really change it.
ENGINE_VALUES = {
    "adjustment_pending": True,
    "billing_error": "Made up by hand",
    "billing_error_date": date(2026, 3, 1),
    "payment_failing": True,
    "cancel_request_date": date(2026, 3, 1),
    "cancel_request_effective_date": date(2026, 4, 30),
    "cancel_request_reason": "Made up by hand",
    "customer_history": [{"date": "2026-02-01", "from": 1, "to": 2}],
}


@tagged("post_install", "-at_install")
class TestRightsEngineOwned(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Mails are queued as in production (the test base class mutes them).
        cls.env = cls.env(context={**cls.env.context, "mail_notify_force_send": False})
        cls.Contract = cls.env["recurring.contract"]
        company = cls.env.company

        def user(login, groups):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
                email=f"{login}@example.com",
            )

        cls.own_salesman = user("rb_eo_own", "sales_team.group_sale_salesman")
        cls.all_salesman = user("rb_eo_all", "sales_team.group_sale_salesman_all_leads")
        cls.invoice_user = user(
            "rb_eo_invoicing",
            "account.group_account_invoice,sales_team.group_sale_salesman_all_leads",
        )
        cls.manager = user("rb_eo_manager", "account.group_account_manager")
        cls.users = cls.own_salesman | cls.all_salesman | cls.invoice_user | cls.manager
        cls.partner_b.email = "partner_b@example.com"

    # ------------------------------------------------------------------
    # The contract's engine-owned fields
    # ------------------------------------------------------------------

    def test_engine_fields_of_a_contract_are_refused_to_users(self):
        contract = self.create_contract(user_id=self.own_salesman.id)
        for user in self.users:
            as_user = contract.with_user(user)
            for name, value in ENGINE_VALUES.items():
                with (
                    self.subTest(user=user.login, field=name, op="write"),
                    self.assertRaises(UserError),
                ):
                    as_user.write({name: value})
                with (
                    self.subTest(user=user.login, field=name, op="create"),
                    self.assertRaises(UserError),
                ):
                    self.Contract.with_user(user).create(
                        {
                            "partner_id": self.partner_a.id,
                            "date_start": date(2026, 1, 1),
                            name: value,
                        }
                    )
        # A context key sent by the client (RPC passes any JSON) changes nothing.
        with self.assertRaises(UserError):
            contract.with_user(self.invoice_user).with_context(
                recurring_privileged_write=True
            ).write({"payment_failing": True})
        self.assertRecordValues(
            contract,
            [
                {
                    "adjustment_pending": False,
                    "billing_error": False,
                    "billing_error_date": False,
                    "payment_failing": False,
                    "cancel_request_date": False,
                    "cancel_request_reason": False,
                    "customer_history": False,
                }
            ],
        )
        # A form saving a new contract sends the empty values: accepted.
        draft = self.Contract.with_user(self.own_salesman).create(
            {
                "partner_id": self.partner_a.id,
                "date_start": date(2026, 1, 1),
                "adjustment_pending": False,
                "payment_failing": False,
                "cancel_request_reason": False,
            }
        )
        self.assertEqual(draft.state, "draft")

    def test_invoice_charge_and_reminder_state_refused_to_users(self):
        """An invoice's automatic charge, retry date, failure notice, reminder
        count and pending documents are the charging and billing runs' own:
        an invoicing user who could set them would stop or reschedule the
        charges and the dunning of a contract's invoices."""
        contract = self.create_contract(
            start=date(2026, 1, 1), user_id=self.own_salesman.id
        )
        invoice = self.bill(contract, date(2026, 1, 1))
        values = {
            "recurring_charge_state": "given_up",
            "recurring_charge_retry_date": date(2099, 1, 1),
            "recurring_failure_to_notify": True,
            "recurring_documents_pending": True,
            "recurring_reminder_count": 9,
        }
        before = invoice.read(list(values))[0]
        for user in self.invoice_user | self.manager:
            for name, value in values.items():
                with (
                    self.subTest(user=user.login, field=name),
                    self.assertRaises(UserError),
                ):
                    invoice.with_user(user).write({name: value})
        invoice.invalidate_recordset()
        self.assertEqual(invoice.read(list(values))[0], before)

    def test_engine_fields_still_move_through_the_steps(self):
        # A salesperson ends a billed contract inside its billed period: the
        # next run credits the rest (adjustment_pending), run by an invoicing
        # user, who clears it.
        ended = self.create_contract(user_id=self.own_salesman.id, prorate=True)
        grown = self.create_contract(user_id=self.own_salesman.id)
        self.bill(ended | grown, date(2026, 1, 1))
        ended.with_user(self.own_salesman).date_end = date(2026, 1, 20)
        self.assertTrue(ended.adjustment_pending)
        # A line added inside the billed period: the difference is billed.
        grown.with_user(self.own_salesman).line_ids = [
            Command.create(
                {
                    "product_id": self.product_a.id,
                    "price_unit": 31.0,
                    "date_start": date(2026, 1, 1),
                }
            )
        ]
        self.assertTrue(grown.adjustment_pending)
        moves = (
            (ended | grown)
            .with_user(self.invoice_user)
            ._generate_invoices(date_ref=date(2026, 1, 21))
        )
        self.assertEqual(
            sorted(moves.mapped(lambda m: (m.move_type, m.amount_untaxed))),
            [("out_invoice", 31.0), ("out_refund", 35.48)],
        )
        self.assertEqual((ended | grown).mapped("adjustment_pending"), [False, False])
        self.assertEqual(ended.state, "closed")
        # A billing error recorded by the same user's run, then cleared.
        index = self.env["recurring.price.index"].create(
            {"name": "RB EO index", "code": "RBEO"}
        )
        rent = self.create_contract(
            user_id=self.own_salesman.id,
            indexation_method="index",
            price_index_id=index.id,
        )
        self.bill(rent, date(2026, 12, 1))
        as_invoicing = rent.with_user(self.invoice_user)
        self.assertFalse(as_invoicing._generate_invoices(date_ref=date(2027, 1, 1)))
        self.assertIn("RB EO index has no value for", rent.billing_error)
        self.assertEqual(rent.billing_error_date, date(2027, 1, 1))
        index.value_ids = [
            Command.create({"date": date(2025, 11, 1), "value": 100.0}),
            Command.create({"date": date(2026, 11, 1), "value": 103.0}),
        ]
        january = as_invoicing._generate_invoices(date_ref=date(2027, 1, 2))
        self.assertEqual(january.amount_untaxed, 103.0)
        self.assertRecordValues(
            rent, [{"billing_error": False, "billing_error_date": False}]
        )
        # The price update the run applied, written for that user.
        self.assertRecordValues(
            rent.indexation_ids,
            [{"state": "applied", "rate": 3.0, "amount_after": 103.0}],
        )
        # The customer's request, through the portal's step.
        rent._request_cancellation("Moving", date_request=date(2027, 1, 10))
        self.assertEqual(rent.cancel_request_reason, "Moving")
        # A change of customer by the salesperson keeps the MRR history.
        rent.with_user(self.own_salesman).partner_id = self.partner_b
        self.assertEqual(
            [(h["from"], h["to"]) for h in rent.customer_history],
            [(self.partner_a.id, self.partner_b.id)],
        )

    def test_computed_fields_are_refused_to_users(self):
        # The ORM stores what a write gives a computed field and keeps it
        # until a dependency changes: a next invoice date pushed away hides
        # the contract from the billing run, a commercial partner set apart
        # shows it in another customer's portal.
        contract = self.create_contract(user_id=self.own_salesman.id)
        self.assertEqual(contract.next_invoice_date, date(2026, 1, 1))
        as_sales = contract.with_user(self.own_salesman)
        for vals in (
            {"next_invoice_date": date(2099, 1, 1)},
            {"next_period_start": date(2099, 1, 1)},
            {"commercial_partner_id": self.partner_b.id},
            {"recurring_monthly": 1.0},
            {"amount_untaxed": 1.0},
            {"has_billing_error": True},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                as_sales.write(vals)
        with self.assertRaises(UserError):
            contract.line_ids.with_user(self.own_salesman).write(
                {"price_subtotal": 1.0}
            )
        self.assertRecordValues(
            contract,
            [
                {
                    "next_invoice_date": date(2026, 1, 1),
                    "commercial_partner_id": self.partner_a.id,
                    "amount_untaxed": 100.0,
                }
            ],
        )
        self.assertEqual(contract.line_ids.price_subtotal, 100.0)
        # Still due on its date: the run bills it.
        self.assertEqual(self.bill(contract, date(2026, 1, 1)).amount_untaxed, 100.0)

    # ------------------------------------------------------------------
    # A line's continuation: only Change (and the price update) set it
    # ------------------------------------------------------------------

    def test_previous_line_only_through_change(self):
        contract = self.create_contract(user_id=self.own_salesman.id)
        other = self.create_contract(user_id=self.own_salesman.id)
        line = contract.line_ids
        as_sales = line.with_user(self.own_salesman)
        with self.assertRaises(UserError):
            other.line_ids.with_user(self.own_salesman).write(
                {"previous_line_id": line.id}
            )
        with self.assertRaises(UserError):
            self.env["recurring.contract.line"].with_user(self.own_salesman).create(
                {
                    "contract_id": contract.id,
                    "product_id": self.product_a.id,
                    "price_unit": 1.0,
                    "previous_line_id": line.id,
                }
            )
        self.assertFalse(other.line_ids.previous_line_id)
        self.assertEqual(len(contract.line_ids), 1)
        # The Change dialog, for the same user, does set it.
        wizard = (
            self.env["recurring.contract.line.change.wizard"]
            .with_user(self.own_salesman)
            .with_context(active_id=as_sales.id)
            .create(
                {
                    "line_id": as_sales.id,
                    "date_effective": date(2026, 3, 1),
                    "quantity": 2,
                    "price_unit": 100.0,
                }
            )
        )
        wizard.action_change()
        new_line = contract.line_ids - line
        self.assertRecordValues(
            new_line,
            [
                {
                    "previous_line_id": line.id,
                    "quantity": 2,
                    "date_start": date(2026, 3, 1),
                }
            ],
        )
        self.assertEqual(line.date_end, date(2026, 2, 28))

    # ------------------------------------------------------------------
    # Price updates and charge attempts: the engine's rows
    # ------------------------------------------------------------------

    def test_price_updates_and_charge_attempts_are_read_only(self):
        contract = self.create_contract(indexation_method="fixed", indexation_rate=2.0)
        invoice = self.bill(contract, date(2026, 1, 1))
        self.assertEqual(invoice.state, "posted")
        Update = self.env["recurring.contract.indexation"]
        Attempt = self.env["recurring.payment.attempt"]
        update = Update.sudo().create(
            {"contract_id": contract.id, "date": date(2027, 1, 1)}
        )
        attempt = Attempt.sudo().create(
            {
                "invoice_id": invoice.id,
                "contract_id": contract.id,
                "company_id": contract.company_id.id,
                "date": date(2026, 1, 1),
                "state": "error",
            }
        )
        for user in (self.invoice_user, self.manager):
            for record, vals, create_vals in (
                (
                    update,
                    {"state": "applied", "rate": 9.0},
                    {"contract_id": contract.id, "date": date(2028, 1, 1)},
                ),
                (
                    attempt,
                    {"state": "done", "amount": 1.0},
                    {
                        "invoice_id": invoice.id,
                        "contract_id": contract.id,
                        "company_id": contract.company_id.id,
                        "date": date(2026, 1, 2),
                    },
                ),
            ):
                as_user = record.with_user(user)
                with self.subTest(user=user.login, model=record._name):
                    self.assertEqual(as_user.read(["date"])[0]["date"], record.date)
                    with self.assertRaises(AccessError):
                        as_user.write(vals)
                    with self.assertRaises(AccessError):
                        record.with_user(user).create(create_vals)
                    with self.assertRaises(AccessError):
                        as_user.unlink()
        self.assertRecordValues(update, [{"state": "announced", "rate": 0.0}])
        self.assertRecordValues(attempt, [{"state": "error", "amount": 0.0}])
        self.assertEqual(len(contract.indexation_ids), 1)
        self.assertEqual(len(invoice.recurring_payment_attempt_ids), 1)

    # ------------------------------------------------------------------
    # Emails after a change of customer
    # ------------------------------------------------------------------

    def test_former_customer_is_no_longer_mailed(self):
        former_contact = self.env["res.partner"].create(
            {
                "name": "RB former accountant",
                "parent_id": self.partner_a.id,
                "email": "former.accountant@example.com",
            }
        )
        new_contact = self.env["res.partner"].create(
            {
                "name": "RB new accountant",
                "parent_id": self.partner_b.id,
                "email": "new.accountant@example.com",
            }
        )
        contract = self.create_contract(
            user_id=self.own_salesman.id, auto_renew=True, date_end=date(2026, 12, 31)
        )
        # Written to from the chatter, or answering a notice: followers.
        contract.message_subscribe((self.partner_a | former_contact).ids)
        contract.with_user(self.own_salesman).partner_id = self.partner_b
        contract.message_subscribe(new_contact.ids)
        followers = contract.message_partner_ids
        self.assertFalse(followers & (self.partner_a | former_contact))
        self.assertIn(new_contact, followers)
        # Every notice the addon posts on the contract from now on.
        Reminders = self.env["recurring.reminder.service"]
        before = contract.message_ids
        for xmlid in (
            "recurring_billing.mail_template_contract_reminder",
            "recurring_billing.mail_template_contract_renewal",
        ):
            Reminders._send(xmlid, [("id", "=", contract.id)])
        messages = contract.message_ids - before
        self.assertEqual(len(messages), 2)
        notified = messages.notification_ids.res_partner_id
        self.assertFalse(notified & (self.partner_a | former_contact))
        self.assertIn(self.partner_b, notified)
        self.assertIn(new_contact, notified)
        mails = self.env["mail.mail"].search([("mail_message_id", "in", messages.ids)])
        self.assertFalse(
            mails.recipient_ids & (self.partner_a | former_contact),
            "an email of the new customer's contract went to the former one",
        )
        # The invoices of the new customer: theirs only.
        invoice = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(invoice.partner_id, self.partner_b)
        self.assertFalse(
            invoice.message_partner_ids & (self.partner_a | former_contact)
        )

    def test_contact_of_the_same_customer_keeps_following(self):
        # Handed from one contact of the customer to the customer itself:
        # the same customer, nobody leaves.
        contact = self.env["res.partner"].create(
            {
                "name": "RB same customer contact",
                "parent_id": self.partner_a.id,
                "email": "same.contact@example.com",
            }
        )
        contract = self.create_contract(partner_id=contact.id)
        contract.message_subscribe((contact | self.partner_a).ids)
        contract.partner_id = self.partner_a
        self.assertEqual(
            contract.message_partner_ids & (contact | self.partner_a),
            contact | self.partner_a,
        )
