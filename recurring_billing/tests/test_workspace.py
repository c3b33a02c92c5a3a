# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a new accountant stumbles on in the workspace: prices of
products sold at another frequency, closed contracts that stay as billed,
the Start, Pause, Resume and Renew dialogs that say what they do, and the
words used for frequencies everywhere."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestWorkspace(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.yearly_product = cls.env["product.product"].create(
            {
                "name": "Yearly support plan",
                "lst_price": 480.0,
                "recurring_ok": True,
                "recurring_rule_type": "yearly",
                "recurring_interval": 1,
                "taxes_id": [Command.clear()],
            }
        )
        cls.weekly_product = cls.env["product.product"].create(
            {
                "name": "Weekly cleaning",
                "lst_price": 70.0,
                "recurring_ok": True,
                "recurring_rule_type": "weekly",
                "recurring_interval": 1,
                "taxes_id": [Command.clear()],
            }
        )

    def queued_mails(self, record):
        return self.env["mail.mail"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)]
        )

    def product_line(self, product, **vals):
        return Command.create({"product_id": product.id, **vals})

    # ------------------------------------------------------------------
    # A product's billing frequency
    # ------------------------------------------------------------------

    def test_yearly_product_priced_per_month_on_a_monthly_contract(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), lines=[self.product_line(self.yearly_product)]
        )
        line = contract.line_ids
        self.assertEqual(line.price_unit, 40.0)
        self.assertEqual(line.price_note, "480.00 per year = 40.00 per month")
        move = self.bill(contract, date(2026, 1, 1))
        self.assertEqual(move.amount_untaxed, 40.0)
        self.assertEqual(contract.recurring_monthly, 40.0)

    def test_product_price_follows_the_contract_frequency(self):
        # 480 a year on a quarterly contract is 120 a quarter, and a monthly
        # product on a yearly contract is 12 times its price.
        contract = self.create_contract(
            start=date(2026, 1, 1),
            recurring_interval=3,
            lines=[self.product_line(self.yearly_product)],
            start_it=False,
        )
        self.assertEqual(contract.line_ids.price_unit, 120.0)
        monthly_product = self.env["product.product"].create(
            {
                "name": "Monthly hosting",
                "lst_price": 12.5,
                "recurring_ok": True,
                "recurring_rule_type": "monthly",
                "taxes_id": [Command.clear()],
            }
        )
        yearly = self.create_contract(
            start=date(2026, 1, 1),
            recurring_rule_type="yearly",
            lines=[self.product_line(monthly_product)],
            start_it=False,
        )
        self.assertEqual(yearly.line_ids.price_unit, 150.0)
        # A product priced for the contract's own frequency is not converted.
        plain = self.create_contract(
            start=date(2026, 1, 1),
            recurring_rule_type="yearly",
            lines=[self.product_line(self.yearly_product)],
            start_it=False,
        )
        self.assertEqual(plain.line_ids.price_unit, 480.0)
        self.assertFalse(plain.line_ids.price_note)

    def test_changing_the_frequency_converts_the_prices_again(self):
        with Form(self.Contract) as form:
            form.partner_id = self.partner_a
            form.date_start = date(2026, 1, 1)
            with form.line_ids.new() as line:
                line.product_id = self.yearly_product
            self.assertEqual(form.line_ids.edit(0).price_unit, 40.0)
            form.recurring_rule_type = "yearly"
            self.assertEqual(form.line_ids.edit(0).price_unit, 480.0)
        self.assertEqual(form.record.line_ids.price_unit, 480.0)

    def test_template_line_converted_like_a_contract_line(self):
        template = self.env["recurring.contract.template"].create(
            {
                "name": "Monthly plan",
                "recurring_rule_type": "monthly",
                "line_ids": [self.product_line(self.yearly_product)],
            }
        )
        self.assertEqual(template.line_ids.price_unit, 40.0)

    def test_weeks_into_months_refused_with_a_clear_message(self):
        with self.assertRaisesRegex(ValidationError, "does not convert exactly"):
            self.create_contract(
                start=date(2026, 1, 1),
                lines=[self.product_line(self.weekly_product)],
                start_it=False,
            )
        weekly = self.create_contract(
            start=date(2026, 1, 1),
            recurring_rule_type="daily",
            recurring_interval=14,
            lines=[self.product_line(self.weekly_product)],
            start_it=False,
        )
        self.assertEqual(weekly.line_ids.price_unit, 140.0)
        with self.assertRaisesRegex(ValidationError, "does not convert exactly"):
            weekly.recurring_rule_type = "monthly"

    def test_recurring_products_first_in_the_picker(self):
        self.env["product.product"].create({"name": "Aaa one-off setup"})
        field = self.env["recurring.contract.line"]._fields["product_id"]
        Product = self.env["product.product"].with_context(**field.context)
        found = Product.browse(
            [pid for pid, _name in Product.name_search("", limit=1000)]
        )
        flags = found.mapped("recurring_ok")
        self.assertIn(True, flags)
        self.assertIn(False, flags)
        # Every recurring product comes before the first one-off product.
        self.assertEqual(flags, sorted(flags, reverse=True))
        self.assertIn(self.yearly_product, found.filtered("recurring_ok"))

    # ------------------------------------------------------------------
    # Amounts on the screen
    # ------------------------------------------------------------------

    def test_frequency_in_words(self):
        contract = self.create_contract(start_it=False)
        self.assertEqual(
            (contract.recurrence_label, contract.period_label),
            ("Monthly", "per month"),
        )
        contract.recurring_interval = 3
        self.assertEqual(
            (contract.recurrence_label, contract.period_label),
            ("Every 3 months", "per 3 months"),
        )
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["recurring_billing"], ["es_ES"], overwrite=True
        )
        spanish = contract.with_context(lang="es_ES")
        self.assertEqual(
            (spanish.recurrence_label, spanish.period_label),
            ("Cada 3 meses", "cada 3 meses"),
        )

    def test_amounts_per_period_are_not_summed(self):
        # Contracts of different frequencies do not add up: only MRR does.
        description = self.Contract.fields_get(
            ["amount_untaxed", "amount_total", "recurring_monthly"], ["aggregator"]
        )
        self.assertFalse(description["amount_untaxed"].get("aggregator"))
        self.assertFalse(description["amount_total"].get("aggregator"))
        self.assertEqual(description["recurring_monthly"]["aggregator"], "sum")

    def test_schedule_shows_the_total_with_taxes(self):
        tax = self.env["account.tax"].create({"name": "VAT 21%", "amount": 21.0})
        contract = self.create_contract(
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "price_unit": 100.0,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                )
            ]
        )
        scheduled = contract._get_forecast_periods(1)[0]
        self.assertEqual((scheduled.amount_untaxed, scheduled.amount_total), (100, 121))
        move = self.bill(contract, scheduled.invoice_date)
        self.assertEqual(move.amount_total, scheduled.amount_total)
        self.assertIn("121.00", contract.schedule_preview_html)

    # ------------------------------------------------------------------
    # Closed contracts keep what was billed
    # ------------------------------------------------------------------

    def closed_contract(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 2, 28)
        )
        self.bill(contract, date(2026, 2, 1))
        self.assertEqual(contract.state, "closed")
        return contract

    def test_closed_contract_is_locked(self):
        contract = self.closed_contract()
        for vals in (
            {"date_end": date(2026, 3, 31)},
            {"prorate": True},
            {"line_ids": [Command.create({"product_id": self.product_b.id})]},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "closed"):
                contract.write(vals)
        with self.assertRaisesRegex(UserError, "closed"):
            contract.line_ids.write({"name": "Renamed"})
        with self.assertRaisesRegex(UserError, "closed"):
            contract.line_ids.unlink()
        with self.assertRaisesRegex(UserError, "closed"):
            self.env["recurring.contract.line"].create(
                {"contract_id": contract.id, "product_id": self.product_b.id}
            )
        # What does not change billing stays editable; Renew reopens it.
        contract.write({"note": "<p>Archived in the customer file</p>"})
        contract.action_renew(months=1, date_renew=date(2026, 3, 1))
        self.assertEqual(contract.state, "running")
        contract.line_ids.write({"name": "Renamed"})

    # ------------------------------------------------------------------
    # Start, Invoice now, Pause, Resume, Renew
    # ------------------------------------------------------------------

    def start_wizard(self, contract):
        return (
            self.env["recurring.contract.start.wizard"]
            .with_context(active_ids=contract.ids)
            .create({})
        )

    @freeze_time("2026-11-27 10:00:00")
    def test_start_says_the_customer_is_told_and_can_skip_it(self):
        contract = self.create_contract(start=date(2026, 12, 1), start_it=False)
        wizard = self.start_wizard(contract)
        self.assertTrue(wizard.notify_customer)
        self.assertIn("partner_a@example.com", wizard.notice_summary)
        self.assertIn("12/01/2026", wizard.summary)
        wizard.notify_customer = False
        self.assertFalse(wizard.notice_summary)
        wizard.action_start()
        self.assertEqual(contract.state, "running")
        self.assertFalse(self.queued_mails(contract))

    @freeze_time("2026-11-27 10:00:00")
    def test_activation_email_gives_the_real_first_invoice_date(self):
        cron = self.env.ref("recurring_billing.ir_cron_generate_invoices")
        cron.write({"active": True, "nextcall": datetime(2026, 11, 28, 2, 0)})
        self.env.company.partner_id.tz = "UTC"
        # Started late: the 1 November invoice goes out at the next run.
        late = self.create_contract(start=date(2026, 11, 1), start_it=False)
        self.assertEqual(late.next_issue_date, date(2026, 11, 28))
        self.start_wizard(late).action_start()
        body = self.queued_mails(late).body_html
        self.assertIn("11/28/2026", body)
        self.assertNotIn("11/01/2026</strong>", body)
        self.assertIn("per month", body)
        self.assertNotIn("every 1", body)
        # Starting in the future: the scheduled date itself.
        future = self.create_contract(start=date(2027, 1, 15), recurring_interval=3)
        body = self.queued_mails(future).body_html
        self.assertIn("01/15/2027", body)
        self.assertIn("per 3 months", body)

    @freeze_time("2026-11-27 10:00:00")
    def test_activation_email_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["recurring_billing"], ["es_ES"], overwrite=True
        )
        self.partner_a.lang = "es_ES"
        contract = self.create_contract(start=date(2027, 1, 1))
        body = self.queued_mails(contract).body_html
        self.assertIn("al mes", body)
        self.assertIn("Su primera factura se emitirá el", body)
        self.assertIn("01/01/2027", body)

    @freeze_time("2026-11-27 10:00:00")
    def test_invoice_now_only_when_something_is_due(self):
        due = self.create_contract(start=date(2026, 11, 1))
        self.assertTrue(due.has_due_periods)
        self.bill(due, date(2026, 11, 27))
        due.invalidate_recordset(["has_due_periods", "next_issue_date"])
        self.assertFalse(due.has_due_periods)
        self.assertEqual(due.next_issue_date, date(2026, 12, 1))

    def test_pause_and_resume_dialogs_take_a_date_and_say_what_is_billed(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        Wizard = self.env["recurring.contract.pause.wizard"].with_context(
            active_ids=contract.ids
        )
        pause = Wizard.create({"mode": "pause", "date": date(2026, 11, 21)})
        # November billed in advance, 10 of its 30 days paused: 33.33 back.
        self.assertIn("33.33", pause.summary)
        self.assertIn("credited for the days of the pause", pause.summary)
        pause.action_confirm()
        self.assertEqual(contract.state, "paused")
        self.assertEqual(contract.suspension_ids.date_start, date(2026, 11, 21))
        resume = Wizard.create({"mode": "resume", "date": date(2027, 1, 11)})
        self.assertIn("51 days paused from 11/21/2026", resume.summary)
        # January from the 11th: 21 of 31 days, 67.74.
        self.assertRegex(resume.summary, r"01/01/2027 - 01/31/2027, \$\s67\.74")
        resume.action_confirm()
        self.assertEqual(contract.state, "running")
        self.assertEqual(contract.suspension_ids.date_end, date(2027, 1, 10))

    def test_renew_dialog_shows_the_dates_and_asks_before_reopening(self):
        running = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 12, 31)
        )
        wizard = (
            self.env["recurring.contract.renew.wizard"]
            .with_context(active_ids=running.ids)
            .create({"months": 6})
        )
        self.assertFalse(wizard.reopens)
        self.assertIn("from 12/31/2026 to 06/30/2027", wizard.summary)
        closed = self.closed_contract()
        wizard = (
            self.env["recurring.contract.renew.wizard"]
            .with_context(active_ids=closed.ids)
            .create({"months": 12})
        )
        self.assertTrue(wizard.reopens)
        self.assertIn("from 02/28/2026 to 02/28/2027", wizard.summary)
        self.assertIn("renewing reopens it", wizard.summary)
        wizard.action_renew()
        self.assertEqual(closed.state, "running")

    # ------------------------------------------------------------------
    # Drafts
    # ------------------------------------------------------------------

    def test_new_contract_is_titled_new_until_saved(self):
        with Form(self.Contract) as form:
            self.assertEqual(form.name, "New")
            form.partner_id = self.partner_a
        self.assertRegex(form.record.name, r"\d")

    def test_every_state_is_a_kanban_column(self):
        self.create_contract(start_it=False)
        # What the kanban view asks: 19.0's web_read_group (whose arguments
        # changed, and read_group is deprecated there) with the context the
        # web client sends, 18.0's read_group; both fill the empty columns.
        if hasattr(self.Contract, "formatted_read_group"):
            Contract = self.Contract.with_context(read_group_expand=True)
            groups = Contract.web_read_group([], ["state"])["groups"]
        else:
            groups = self.Contract.read_group([], ["state"], ["state"])
        self.assertEqual(
            [g["state"] for g in groups], ["draft", "running", "paused", "closed"]
        )

    def test_dialog_summaries_as_the_browser_computes_them(self):
        # The browser computes the summaries in an onchange, on new records
        # standing for the contract: they must say the same as on the saved
        # records (the ledger's billed amounts were once missed there, and
        # the close dialog announced a charge instead of a credit).
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        reason = self.env.ref("recurring_billing.close_reason_customer_request")
        with Form(
            self.env["recurring.contract.close.wizard"].with_context(
                active_ids=contract.ids
            )
        ) as close:
            close.date_close = date(2026, 11, 10)
            close.reason_id = reason
            close.respect_terms = False
            self.assertIn("66.67", close.summary)
            self.assertIn("credited", close.summary)
            self.assertNotIn("more is billed", close.summary)
        with Form(
            self.env["recurring.contract.pause.wizard"].with_context(
                active_ids=contract.ids, default_mode="pause"
            )
        ) as pause:
            pause.date = date(2026, 11, 21)
            self.assertIn("33.33", pause.summary)
            self.assertNotIn("more is billed", pause.summary)
