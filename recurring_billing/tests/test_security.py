# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from lxml import html

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestSalespeopleAccess(RecurringBillingCommon):
    """Who sees which contracts, as with sale orders: a salesperson limited
    to their own documents sees their contracts and the unassigned ones;
    "All Documents" salespeople and invoicing users see every contract of
    their companies. Lines and the ledger follow their contract."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company

        def user(login, groups):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.own_salesman = user("rb_own_sales", "sales_team.group_sale_salesman")
        cls.other_salesman = user("rb_other_sales", "sales_team.group_sale_salesman")
        cls.all_salesman = user(
            "rb_all_sales", "sales_team.group_sale_salesman_all_leads"
        )
        cls.invoice_user = user("rb_invoicing", "account.group_account_invoice")
        cls.mine = cls.create_contract(user_id=cls.own_salesman.id)
        cls.theirs = cls.create_contract(user_id=cls.other_salesman.id)
        cls.unassigned = cls.create_contract(user_id=False)
        cls.contracts = cls.mine | cls.theirs | cls.unassigned
        cls.Contract.browse(cls.contracts.ids)._generate_invoices(
            date_ref=date(2026, 1, 1)
        )

    def visible(self, user, model, field="contract_id"):
        """The records of ``model`` of this test's contracts ``user`` sees,
        as their contracts."""
        Model = self.env[model].with_user(user)
        if model == "recurring.contract":
            return Model.search([("id", "in", self.contracts.ids)]).sudo()
        return Model.search([(field, "in", self.contracts.ids)]).sudo()[field]

    def test_own_documents_salesperson_sees_own_and_unassigned_contracts(self):
        expected = self.mine | self.unassigned
        for model in (
            "recurring.contract",
            "recurring.contract.line",
            "recurring.contract.period",
        ):
            with self.subTest(model=model):
                self.assertEqual(self.visible(self.own_salesman, model), expected)
        # Someone else's contract: neither read nor edited, nor its ledger.
        theirs = self.theirs.with_user(self.own_salesman)
        with self.assertRaises(AccessError):
            theirs.read(["name"])
        with self.assertRaises(AccessError):
            theirs.write({"note": "Changed by another salesperson"})
        with self.assertRaises(AccessError):
            theirs.line_ids.with_user(self.own_salesman).read(["price_unit"])
        with self.assertRaises(AccessError):
            self.theirs.period_ids.with_user(self.own_salesman).read(["state"])
        # Their own contract they still edit.
        self.mine.with_user(self.own_salesman).write({"note": "Renegotiated"})
        self.assertEqual(
            self.visible(self.other_salesman, "recurring.contract"),
            self.theirs | self.unassigned,
        )

    def test_all_documents_salesperson_and_invoicing_user_see_every_contract(self):
        for user in (self.all_salesman, self.invoice_user):
            for model in (
                "recurring.contract",
                "recurring.contract.line",
                "recurring.contract.period",
            ):
                with self.subTest(user=user.login, model=model):
                    self.assertEqual(self.visible(user, model), self.contracts)

    def test_billing_user_sees_every_contract(self):
        """The scheduled action's user is a salesperson too: the invoicing
        right, not the salesperson rule, decides what it bills."""
        bot = self.env.ref("recurring_billing.user_billing_bot")
        self.assertEqual(self.visible(bot, "recurring.contract"), self.contracts)


@tagged("post_install", "-at_install")
class TestDeletedDraftInvoice(RecurringBillingCommon):
    def test_deleted_draft_invoice_gives_its_period_back(self):
        """Rule 6 with the "Create draft" invoice action: deleting the draft
        frees its period, which the next run bills once, and only once."""
        contract = self.create_contract(start=date(2026, 1, 1), invoice_action="draft")
        draft = self.bill(contract, date(2026, 1, 1))
        self.assertEqual(draft.state, "draft")
        period = draft.recurring_period_id
        invoice_user = new_test_user(
            self.env,
            login="rb_deleter",
            groups="account.group_account_invoice",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        draft.with_user(invoice_user).unlink()
        self.assertEqual(period.state, "voided")
        self.assertEqual(contract.next_invoice_date, date(2026, 1, 1))
        self.assertIn(
            "billed again",
            contract.message_ids[:1].body,
            "the contract's chatter says what happened to the period",
        )
        again = self.bill(contract, date(2026, 1, 2))
        self.assertEqual(len(again), 1)
        self.assertEqual(again.recurring_period_id, period)
        self.assertEqual(contract.period_ids, period)
        self.assertPeriods(contract, [(date(2026, 1, 1), date(2026, 1, 31))])
        self.assertEqual(period.state, "invoiced")
        self.assertEqual(contract.invoice_ids, again)
        self.assertFalse(self.bill(contract, date(2026, 1, 3)))

    def test_deleted_draft_of_the_last_period_reopens_the_closed_contract(self):
        """The last period's draft deleted after the contract closed itself:
        the contract runs again, bills that period once, and closes again."""
        contract = self.create_contract(
            start=date(2026, 1, 1),
            date_end=date(2026, 1, 31),
            invoice_action="draft",
        )
        self.bill(contract, date(2026, 1, 1)).unlink()
        self.assertEqual(contract.state, "running")
        self.assertEqual(contract.next_invoice_date, date(2026, 1, 1))
        again = self.bill(contract, date(2026, 1, 2))
        self.assertEqual(len(again), 1)
        self.assertEqual(contract.state, "closed")
        self.assertFalse(self.bill(contract, date(2026, 1, 3)))

    def test_deleted_draft_gives_its_period_back_only_when_no_live_invoice(self):
        """A period's cancelled invoice deleted while another invoice of the
        period lives: the period stays billed. The live one deleted: the
        period is given back."""
        contract = self.create_contract(start=date(2026, 1, 1), invoice_action="draft")
        cancelled = self.bill(contract, date(2026, 1, 1))
        cancelled.button_cancel()
        contract.period_ids.action_void()
        live = self.bill(contract, date(2026, 1, 2))
        period = contract.period_ids
        cancelled.unlink()
        self.assertEqual(period.state, "invoiced")
        self.assertEqual(period.move_id, live)
        self.assertFalse(self.bill(contract, date(2026, 1, 3)))
        live.unlink()
        self.assertEqual(period.state, "voided")
        self.assertEqual(len(self.bill(contract, date(2026, 1, 4))), 1)
        self.assertFalse(self.bill(contract, date(2026, 1, 5)))


@tagged("post_install", "-at_install")
class TestBranchCompany(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parent = cls.env.company
        cls.parent.write({"child_ids": [Command.create({"name": "RB Branch"})]})
        cls.cr.precommit.run()  # load the chart of accounts of the branch
        cls.branch = cls.parent.child_ids
        cls.env.user.company_ids = [Command.link(cls.branch.id)]

    def test_branch_contract_bills_like_a_branch_invoice(self):
        """A branch bills on its parent's sales journal, as a branch invoice
        does: the invoice is the branch's, numbered in the parent's journal."""
        contract = self.Contract.with_company(self.branch).create(
            {
                "partner_id": self.partner_a.id,
                "company_id": self.branch.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [
                    Command.create(
                        {"product_id": self.product_a.id, "price_unit": 100.0}
                    )
                ],
            }
        )
        self.assertEqual(contract.journal_id, self.journal)
        contract.action_start()
        parent_contract = self.create_contract(start=date(2026, 1, 1))
        parent_move = self.bill(parent_contract, date(2026, 1, 1))
        move = contract._generate_invoices(date_ref=date(2026, 1, 1))
        self.assertEqual(len(move), 1)
        self.assertRecordValues(
            move,
            [
                {
                    "state": "posted",
                    "company_id": self.branch.id,
                    "journal_id": self.journal.id,
                    "sequence_prefix": parent_move.sequence_prefix,
                    "sequence_number": parent_move.sequence_number + 1,
                }
            ],
        )
        self.assertEqual(contract.period_ids.move_id, move)


@tagged("post_install", "-at_install")
class TestScheduledActionCompanies(RecurringBillingCommon):
    def test_scheduled_action_bills_companies_the_billing_user_lacked(self):
        """A company that existed before the install is not among the billing
        user's companies: the scheduled action still counts and bills its
        contracts."""
        # Only this test's contracts are due (demo data, other tests).
        self.Contract.sudo().search([("state", "=", "running")]).write(
            {"state": "paused"}
        )
        other = self.setup_other_company(name="RB Pre-existing Company")
        company = other["company"]
        bot = self.env.ref("recurring_billing.user_billing_bot")
        bot.sudo().company_ids = [Command.unlink(company.id)]
        self.assertNotIn(company, bot.sudo().company_ids)
        product = self._create_product(
            name="Service of the old company",
            company_id=company.id,
            property_account_income_id=other["default_account_revenue"].id,
            taxes_id=[Command.set(other["default_tax_sale"].ids)],
        )
        old_contract = self.Contract.with_company(company).create(
            {
                "partner_id": self.partner_a.id,
                "company_id": company.id,
                "date_start": date(2026, 1, 1),
                "line_ids": [
                    Command.create({"product_id": product.id, "price_unit": 10.0})
                ],
            }
        )
        old_contract.action_start()
        contract = self.create_contract(start=date(2026, 1, 1))
        cron = self.env.ref("recurring_billing.ir_cron_generate_invoices")
        progress = self.env["ir.cron.progress"].sudo().create({"cron_id": cron.id})
        # As ir.cron calls it: the superuser, an empty context, one batch
        # (one company) per call.
        Contract = self.env(
            user=SUPERUSER_ID, context={"ir_cron_progress_id": progress.id}
        )["recurring.contract"]
        done = Contract._cron_generate_invoices(date_ref=date(2026, 1, 1))
        self.assertEqual((done, progress.remaining), (1, 1))
        done = Contract._cron_generate_invoices(date_ref=date(2026, 1, 1))
        self.assertEqual((done, progress.remaining), (1, 0))
        (contract | old_contract).invalidate_recordset()
        self.assertEqual(len(contract.invoice_ids), 1)
        self.assertEqual(len(old_contract.sudo().invoice_ids), 1)
        self.assertEqual(old_contract.sudo().invoice_ids.company_id, company)


@tagged("post_install", "-at_install")
class TestPortalSecurity(AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "RB Portal Customer", "is_company": True}
        )
        cls.customer_contact = cls.env["res.partner"].create(
            {
                "name": "RB Portal Contact",
                "parent_id": cls.customer.id,
                "email": "contact@portal-customer.example",
            }
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="rb_portal_sec",
            groups="base.group_portal",
            partner_id=cls.customer_contact.id,
        )
        cls.contract = cls.env["recurring.contract"].create(
            {
                "partner_id": cls.customer_contact.id,
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

    def test_billing_error_is_for_internal_users_only(self):
        """billing_error holds the text of internal exceptions: a customer
        sees neither it nor its date, through the ORM or the portal page."""
        engine = self.env["recurring.billing.engine"]
        message = engine._format_billing_error(
            Exception('relation "rb_internal_table" violates constraint rb_secret')
        )
        engine._record_billing_error(self.contract, message, date(2026, 1, 1))
        self.assertIn("rb_secret", self.contract.billing_error)
        self.env.invalidate_all()

        as_portal = self.contract.with_user(self.portal_user)
        self.assertEqual(as_portal.read(["name"])[0]["name"], self.contract.name)
        for field in ("billing_error", "billing_error_date"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_portal.read([field])
        self.assertFalse(
            {"billing_error", "billing_error_date"} & set(as_portal.fields_get())
        )
        with self.assertRaises(AccessError):
            as_portal.search([("billing_error", "!=", False)])

        self.authenticate("rb_portal_sec", "rb_portal_sec")
        response = self.url_open(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.contract.name, response.text)
        for secret in ("rb_secret", "rb_internal_table"):
            self.assertFalse(secret in response.text, f"{secret} shown on the portal")

    def test_portal_lists_only_invoices_of_the_contract_customer(self):
        """A contract handed over to another customer: the new customer's
        portal lists the invoices made out to them, not the old customer's."""
        old_customer = self.env["res.partner"].create(
            {"name": "RB Former Customer", "is_company": True}
        )
        self.contract.partner_id = old_customer
        old_invoice = self.contract._generate_invoices(date_ref=date(2026, 1, 1))
        self.assertEqual(old_invoice.commercial_partner_id, old_customer)
        self.contract.partner_id = self.customer_contact
        new_invoice = self.contract._generate_invoices(date_ref=date(2026, 2, 1))
        self.assertEqual(new_invoice.commercial_partner_id, self.customer)

        self.authenticate("rb_portal_sec", "rb_portal_sec")
        response = self.url_open(self.url)
        self.assertEqual(response.status_code, 200)
        listed = html.fromstring(response.content).xpath(
            "//a[hasclass('o_contract_invoice_link')]/text()"
        )
        self.assertEqual(listed, [new_invoice.name])
