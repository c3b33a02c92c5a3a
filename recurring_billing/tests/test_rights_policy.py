# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The rights policy (docs/rights.md), case by case, as an RPC client sees
it: real users with their groups, acting through the ORM with ``with_user``
(what XML-RPC does), and the portal over HTTP. The exhaustive cell-by-cell
check of the policy table is test_rights_matrix.py."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import RecurringBillingCommon

SALESMAN_OWN = "sales_team.group_sale_salesman"
SALESMAN_ALL = "sales_team.group_sale_salesman_all_leads"
INVOICING = "account.group_account_invoice"
MANAGER = "account.group_account_manager"


@tagged("post_install", "-at_install")
class TestRightsPolicy(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.other_company = cls.setup_other_company(name="RB Rights Other")["company"]
        cls.env.user.company_ids = [Command.link(cls.other_company.id)]

        def user(login, groups, company=None):
            company = company or cls.company
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.own_salesman = user("rb_rp_own", SALESMAN_OWN)
        cls.other_salesman = user("rb_rp_other", SALESMAN_OWN)
        cls.all_salesman = user("rb_rp_all", SALESMAN_ALL)
        cls.invoice_user = user("rb_rp_invoicing", INVOICING)
        cls.manager = user("rb_rp_manager", MANAGER)
        cls.other_invoice_user = user(
            "rb_rp_other_invoicing", INVOICING, cls.other_company
        )
        cls.product_calls = cls.env["product.product"].create(
            {
                "name": "API calls",
                "list_price": 0.01,
                "taxes_id": [Command.clear()],
                "recurring_ok": True,
                "recurring_quantity_type": "usage",
            }
        )
        cls.mine = cls.create_contract(user_id=cls.own_salesman.id)
        cls.theirs = cls.create_contract(user_id=cls.other_salesman.id)

    @classmethod
    def usage_contract(cls, **vals):
        return cls.create_contract(
            lines=[
                Command.create(
                    {
                        "product_id": cls.product_calls.id,
                        "price_unit": 0.01,
                        "usage_included": 1000,
                    }
                )
            ],
            invoicing_mode="arrears",
            **vals,
        )

    def other_company_contract(self):
        product = self.env["product.product"].create(
            {"name": "RB other service", "company_id": self.other_company.id}
        )
        contract = self.Contract.with_company(self.other_company).create(
            {
                "partner_id": self.partner_a.id,
                "company_id": self.other_company.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [
                    Command.create({"product_id": product.id, "price_unit": 10.0})
                ],
            }
        )
        contract.action_start()
        return contract

    # ------------------------------------------------------------------
    # The ledger, MRR movements: the engine's only
    # ------------------------------------------------------------------

    def test_invoicing_user_cannot_create_ledger_rows(self):
        contract = self.create_contract()
        self.bill(contract, date(2026, 1, 1))
        Period = self.env["recurring.contract.period"].with_user(self.invoice_user)
        with self.assertRaises(AccessError):
            Period.create(
                {
                    "contract_id": contract.id,
                    "period_index": 5,
                    "date_start": date(2026, 6, 1),
                    "date_end": date(2026, 6, 30),
                    "state": "skipped",
                }
            )
        self.assertEqual(len(contract.period_ids), 1)
        Movement = self.env["recurring.mrr.movement"].with_user(self.manager)
        with self.assertRaises(AccessError):
            Movement.create({"contract_id": contract.id, "date": date(2026, 1, 1)})
        # The engine still writes the ledger, as the billing user.
        self.bill(contract, date(2026, 2, 1))
        self.assertEqual(contract.period_ids.mapped("state"), ["invoiced", "invoiced"])

    # ------------------------------------------------------------------
    # Contract state: only through the lifecycle actions
    # ------------------------------------------------------------------

    def test_salesperson_cannot_write_contract_state(self):
        mine = self.mine.with_user(self.own_salesman)
        with self.assertRaises(UserError):
            mine.write({"state": "closed"})
        self.assertEqual(self.mine.state, "running")
        self.assertFalse(self.mine.date_end)
        draft = self.Contract.with_user(self.own_salesman).create(
            {"partner_id": self.partner_a.id, "date_start": date(2026, 1, 1)}
        )
        with self.assertRaises(UserError):
            draft.write({"state": "running"})
        with self.assertRaises(UserError):
            self.Contract.with_user(self.own_salesman).create(
                {
                    "partner_id": self.partner_a.id,
                    "date_start": date(2026, 1, 1),
                    "state": "running",
                }
            )
        self.assertEqual(draft.state, "draft")
        # A context key sent by the client (RPC passes any JSON) changes nothing.
        with self.assertRaises(UserError):
            mine.with_context(recurring_privileged_write=True).write(
                {"state": "closed"}
            )
        # The actions still change it, for the same user.
        mine.action_pause(date(2026, 3, 1))
        self.assertEqual(self.mine.state, "paused")
        mine.action_resume(date(2026, 4, 1))
        self.assertEqual(self.mine.state, "running")

    # ------------------------------------------------------------------
    # Usage records: billed ones are frozen
    # ------------------------------------------------------------------

    def test_billed_usage_records_are_frozen(self):
        contract = self.usage_contract(user_id=self.own_salesman.id)
        Usage = self.env["recurring.contract.usage"]
        billed = Usage.create(
            {
                "line_id": contract.line_ids.id,
                "date": date(2026, 1, 10),
                "quantity": 1500,
                "reference": "jan-1",
            }
        )
        move = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(move.amount_untaxed, 5.0)
        self.assertEqual(billed.state, "billed")
        as_sales = billed.with_user(self.own_salesman)
        for vals in (
            {"period_id": False},
            {"move_line_id": False},
            {"period_id": False, "quantity": 1},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                as_sales.write(vals)
        with self.assertRaises(UserError):
            as_sales.unlink()
        self.assertRecordValues(
            billed,
            [
                {
                    "state": "billed",
                    "quantity": 1500,
                    "period_id": move.recurring_period_id.id,
                }
            ],
        )
        # Not billed again.
        self.assertFalse(self.bill(contract, date(2026, 2, 2)))
        # A record not billed yet is the salesperson's to correct.
        pending = Usage.with_user(self.own_salesman).create(
            {
                "line_id": contract.line_ids.id,
                "date": date(2026, 2, 10),
                "quantity": 10,
                "reference": "feb-1",
            }
        )
        pending.write({"quantity": 12})
        self.assertEqual(pending.quantity, 12)
        with self.assertRaises(UserError):
            pending.write({"period_id": move.recurring_period_id.id})
        self.assertEqual(pending.state, "pending")

    def test_usage_reference_not_revealed_on_unreadable_contract(self):
        contract = self.usage_contract(user_id=self.other_salesman.id)
        line = contract.line_ids
        self.env["recurring.contract.usage"].create(
            {
                "line_id": line.id,
                "date": date(2026, 1, 5),
                "quantity": 1,
                "reference": "secret-ref",
            }
        )
        Usage = self.env["recurring.contract.usage"].with_user(self.own_salesman)
        # The same answer whether the reference exists there or not.
        for reference in ("secret-ref", "unknown-ref"):
            with self.subTest(reference=reference), self.assertRaises(AccessError):
                Usage.create(
                    {
                        "line_id": line.id,
                        "date": date(2026, 1, 6),
                        "quantity": 1,
                        "reference": reference,
                    }
                )
            with self.subTest(reference=reference), self.assertRaises(AccessError):
                Usage.record_usage(
                    [
                        {
                            "line_id": line.id,
                            "date": date(2026, 1, 6),
                            "quantity": 1,
                            "reference": reference,
                        }
                    ]
                )

    # ------------------------------------------------------------------
    # Moves between parents
    # ------------------------------------------------------------------

    def test_line_cannot_move_to_an_unwritable_or_foreign_contract(self):
        line = self.mine.line_ids.with_user(self.own_salesman)
        other_company = self.other_company_contract()
        for target in (self.theirs, other_company):
            with self.subTest(target=target.name), self.assertRaises(AccessError):
                line.write({"contract_id": target.id})
            self.assertEqual(self.mine.line_ids.contract_id, self.mine)
        self.assertEqual(len(self.theirs.line_ids), 1)
        # An all-documents salesperson may write both contracts of their
        # company, not another company's.
        draft_line = self.Contract.create(
            {
                "partner_id": self.partner_a.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [
                    Command.create({"product_id": self.product_a.id, "price_unit": 5.0})
                ],
            }
        ).line_ids
        draft = self.Contract.create(
            {"partner_id": self.partner_a.id, "date_start": date(2026, 1, 1)}
        )
        draft_line.with_user(self.all_salesman).write({"contract_id": draft.id})
        self.assertEqual(draft.line_ids, draft_line)
        with self.assertRaises(UserError):
            draft_line.with_user(self.manager).with_context(
                allowed_company_ids=(self.company | self.other_company).ids
            ).write({"contract_id": other_company.id})
        self.assertEqual(draft_line.contract_id, draft)

    def test_usage_record_cannot_move_to_another_contract(self):
        mine = self.usage_contract(user_id=self.own_salesman.id)
        theirs = self.usage_contract(user_id=self.other_salesman.id)
        record = self.env["recurring.contract.usage"].create(
            {
                "line_id": mine.line_ids.id,
                "date": date(2026, 1, 5),
                "quantity": 3,
                "reference": "move-me",
            }
        )
        as_sales = record.with_user(self.own_salesman)
        with self.assertRaises(AccessError):
            as_sales.write({"line_id": theirs.line_ids.id})
        with self.assertRaises(UserError):
            as_sales.write({"contract_id": theirs.id})
        self.assertEqual(record.line_id, mine.line_ids)
        self.assertEqual(record.contract_id, mine)

    def test_other_company_cannot_void_a_billed_period(self):
        contract = self.create_contract()
        invoice = self.bill(contract, date(2026, 1, 1))
        period = invoice.recurring_period_id
        self.assertEqual(period.state, "invoiced")
        other_journal = self.env["account.journal"].search(
            [("company_id", "=", self.other_company.id), ("type", "=", "sale")],
            limit=1,
        )
        Move = self.env["account.move"].with_user(self.other_invoice_user)
        with self.assertRaises(UserError):
            Move.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_a.id,
                    "journal_id": other_journal.id,
                    "recurring_period_id": period.id,
                }
            )
        draft = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "journal_id": other_journal.id,
            }
        )
        with self.assertRaises(UserError):
            draft.write({"recurring_period_id": period.id})
        draft.unlink()
        self.assertEqual(period.state, "invoiced")
        self.assertFalse(self.bill(contract, date(2026, 1, 2)))
        # Nor an invoicing user of the same company: the engine links them.
        own_draft = (
            self.env["account.move"]
            .with_user(self.invoice_user)
            .create({"move_type": "out_invoice", "partner_id": self.partner_a.id})
        )
        with self.assertRaises(UserError):
            own_draft.write({"recurring_period_id": period.id})
        self.assertEqual(period.move_ids, invoice)

    # ------------------------------------------------------------------
    # Templates, price indexes
    # ------------------------------------------------------------------

    def test_template_lines_follow_the_template_company(self):
        template = self.env["recurring.contract.template"].create(
            {
                "name": "RB other company plan",
                "company_id": self.other_company.id,
                "line_ids": [
                    Command.create({"product_id": self.product_a.id, "price_unit": 7.0})
                ],
            }
        )
        lines = template.line_ids.with_user(self.invoice_user)
        with self.assertRaises(AccessError):
            lines.read(["price_unit"])
        TemplateLine = self.env["recurring.contract.template.line"]
        self.assertFalse(
            TemplateLine.with_user(self.invoice_user).search(
                [("id", "in", template.line_ids.ids)]
            )
        )
        # A shared template (no company) stays readable by everyone.
        template.company_id = False
        self.assertEqual(lines.read(["price_unit"])[0]["price_unit"], 7.0)

    def test_price_index_values_are_managers_only(self):
        index = self.env["recurring.price.index"].create(
            {"name": "RB CPI", "code": "RBCPI"}
        )
        value = self.env["recurring.price.index.value"].create(
            {"index_id": index.id, "date": date(2026, 1, 1), "value": 100.0}
        )
        as_invoicing = value.with_user(self.invoice_user)
        self.assertEqual(as_invoicing.read(["value"])[0]["value"], 100.0)
        with self.assertRaises(AccessError):
            as_invoicing.write({"value": 150.0})
        with self.assertRaises(AccessError):
            self.env["recurring.price.index.value"].with_user(self.invoice_user).create(
                {"index_id": index.id, "date": date(2026, 2, 1), "value": 1.0}
            )
        with self.assertRaises(AccessError):
            as_invoicing.unlink()
        self.assertEqual(value.value, 100.0)
        value.with_user(self.manager).write({"value": 101.0})
        self.assertEqual(value.value, 101.0)

    # ------------------------------------------------------------------
    # Customer change, text from the portal
    # ------------------------------------------------------------------

    def test_change_of_customer_rotates_the_access_token(self):
        contract = self.create_contract()
        old_token = contract._portal_ensure_token()
        contract.partner_id = self.partner_b
        self.assertNotEqual(contract.access_token, old_token)
        new_token = contract._portal_ensure_token()
        self.assertTrue(new_token)
        self.assertNotEqual(new_token, old_token)
        # Another change that is not the customer keeps the link.
        contract.note = "Renegotiated"
        self.assertEqual(contract.access_token, new_token)
        contract.partner_id = self.partner_b
        self.assertEqual(contract.access_token, new_token)

    def test_cancellation_reason_is_stored_and_shown_as_text(self):
        contract = self.create_contract(date_start=date(2026, 1, 1))
        reason = '<a href="https://evil.example">Click</a><img src=x onerror=alert(1)>'
        contract._request_cancellation(reason, date_request=date(2026, 1, 10))
        self.assertEqual(contract.cancel_request_reason, reason)
        activity = contract.activity_ids.filtered(
            lambda a: a.summary == "Cancellation requested by the customer"
        )
        self.assertEqual(len(activity), 1)
        self.assertNotIn("<a", str(activity.note))
        self.assertNotIn("<img", str(activity.note))
        self.assertIn("&lt;a href=", str(activity.note))
        message = contract.message_ids[:1]
        self.assertNotIn("<a", str(message.body))
        self.assertIn("&lt;a href=", str(message.body))


@tagged("post_install", "-at_install")
class TestPortalTokenRights(AccountTestInvoicingHttpCommon):
    """A link with the access token lets a visitor read the contract; acting
    on it (payment method, cancellation) takes the logged-in customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "RB Token Customer", "is_company": True}
        )
        cls.former = cls.env["res.partner"].create(
            {"name": "RB Former Token Customer", "is_company": True}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="rb_rp_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.contract = cls.env["recurring.contract"].create(
            {
                "partner_id": cls.customer.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [
                    Command.create(
                        {"product_id": cls.product_a.id, "price_unit": 100.0}
                    )
                ],
            }
        )
        cls.contract.action_start()
        cls.url = f"/my/contracts/{cls.contract.id}"

    def test_former_customer_link_stops_working(self):
        self.contract.partner_id = self.former
        old_link = f"{self.url}?access_token={self.contract._portal_ensure_token()}"
        self.authenticate(None, None)
        page = self.url_open(old_link)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.contract.name, page.text)
        self.contract.partner_id = self.customer
        page = self.url_open(old_link)
        self.assertNotIn(self.contract.name, page.text)
        self.assertFalse(page.url.endswith(old_link))

    def test_token_link_reads_but_does_not_act(self):
        token = self.contract._portal_ensure_token()
        self.authenticate(None, None)
        page = self.url_open(f"{self.url}?access_token={token}")
        self.assertIn(self.contract.name, page.text)
        # A visitor with the link only: no CSRF token of a session of the
        # customer, so take the one of the public page.
        cancel = f"{self.url}/cancel?access_token={token}"
        form = self.url_open(cancel)
        self.assertEqual(form.status_code, 200)
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        self.url_open(cancel, data={"csrf_token": csrf, "reason": "Not mine"})
        self.assertFalse(self.contract.cancel_request_date)
        self.assertFalse(self.contract.activity_ids)
        payment = f"{self.url}/payment_method?access_token={token}"
        self.url_open(payment, data={"csrf_token": csrf, "token_id": "0"})
        self.assertFalse(
            self.contract.message_ids.filtered(
                lambda m: "stopped the automatic charges" in str(m.body)
            )
        )
        # The logged-in customer does act.
        self.authenticate("rb_rp_portal", "rb_rp_portal")
        form = self.url_open(f"{self.url}/cancel")
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        self.url_open(
            f"{self.url}/cancel", data={"csrf_token": csrf, "reason": "Too expensive"}
        )
        self.assertEqual(self.contract.cancel_request_reason, "Too expensive")
