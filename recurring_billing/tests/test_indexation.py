# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestIndexation(RecurringBillingCommon):
    """Yearly price updates applied by the engine (README, "Using it in
    Spain"): exact amounts, once whatever the reruns, a missing index value
    blocking only its own contract."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ipc = cls.env["recurring.price.index"].create(
            {"name": "IPC (test)", "code": "IPC-TEST"}
        )

    def set_values(self, index, values):
        """``values``: {(year, month): value}."""
        index.value_ids = [
            Command.create({"date": date(year, month, 1), "value": value})
            for (year, month), value in values.items()
        ]

    def create_rent(self, price=1000.0, **vals):
        """A monthly rent in advance from 1 January 2026, updated on each
        anniversary by the IPC (reference: November, two months before)."""
        return self.create_contract(
            start=date(2026, 1, 1),
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 1,
                        "price_unit": price,
                    }
                )
            ],
            **{"indexation_method": "index", "price_index_id": self.ipc.id, **vals},
        )

    def product_lines(self, contract):
        return contract.line_ids.filtered(lambda line: not line.display_type).sorted(
            lambda line: line.date_start or date.min
        )

    def test_ipc_update_from_the_anniversary(self):
        # IPC November 2025 -> November 2026: 100.0 -> 102.2, +2.2 %.
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 102.2})
        rent = self.create_rent()
        december = self.bill(rent, date(2026, 12, 1))
        self.assertEqual(len(december), 12)
        self.assertEqual(set(december.mapped("amount_untaxed")), {1000.0})
        self.assertFalse(rent.indexation_ids)

        january = self.bill(rent, date(2027, 1, 1))
        self.assertEqual(january.amount_untaxed, 1022.0)
        old, new = self.product_lines(rent)
        self.assertEqual((old.price_unit, old.date_end), (1000.0, date(2026, 12, 31)))
        self.assertEqual((new.price_unit, new.date_start), (1022.0, date(2027, 1, 1)))
        update = rent.indexation_ids
        self.assertRecordValues(
            update,
            [
                {
                    "date": date(2027, 1, 1),
                    "date_effective": date(2027, 1, 1),
                    "state": "applied",
                    "price_index_id": self.ipc.id,
                    "reference_date": date(2026, 11, 1),
                    "reference_value": 102.2,
                    "base_value": 100.0,
                    "index_rate": 2.2,
                    "rate": 2.2,
                    "amount_before": 1000.0,
                    "amount_after": 1022.0,
                }
            ],
        )
        self.assertIn("1,022.00", rent.message_ids[0].body)

        # Reruns apply nothing twice: same day, then the next month.
        self.assertFalse(self.bill(rent, date(2027, 1, 1)))
        february = self.bill(rent, date(2027, 2, 1))
        self.assertEqual(february.amount_untaxed, 1022.0)
        self.assertEqual(len(rent.indexation_ids), 1)
        self.assertEqual(len(self.product_lines(rent)), 2)

    def test_applied_by_the_scheduled_action_as_the_billing_user(self):
        # The scheduled action bills as the dedicated billing user, bound by
        # record rules and rights: it reads the index and changes the lines.
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 102.2})
        rent = self.create_rent()
        self.bill(rent, date(2026, 12, 1))
        self.Contract.sudo()._cron_generate_invoices(date_ref=date(2027, 1, 1))
        january = rent.invoice_ids.filtered(
            lambda m: m.recurring_period_id.date_start == date(2027, 1, 1)
        )
        self.assertEqual(january.amount_untaxed, 1022.0)
        self.assertEqual(
            rent.indexation_ids.create_uid,
            self.env.ref("recurring_billing.user_billing_bot"),
        )

    def test_backlog_bills_each_period_at_its_own_price(self):
        # A first run on 1 February 2027: thirteen invoices, the twelve of
        # 2026 at the old rent, then January 2027 and February at the new one.
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 102.2})
        rent = self.create_rent()
        moves = self.bill(rent, date(2027, 2, 1)).sorted(
            lambda m: m.recurring_period_id.date_start
        )
        self.assertEqual(
            moves.mapped("amount_untaxed"), [1000.0] * 12 + [1022.0, 1022.0]
        )

    def test_cap(self):
        # +5.8 % capped at 3 %: 1,030.00.
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 105.8})
        rent = self.create_rent(indexation_cap=3.0)
        self.bill(rent, date(2026, 12, 1))
        self.assertEqual(self.bill(rent, date(2027, 1, 1)).amount_untaxed, 1030.0)
        self.assertRecordValues(rent.indexation_ids, [{"index_rate": 5.8, "rate": 3.0}])

    def test_decrease_not_applied(self):
        # -1.5 %: the rent stays at 1,000.00, no line is changed, and the
        # update is recorded (it happened, at 0 %).
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 98.5})
        rent = self.create_rent()
        self.bill(rent, date(2026, 12, 1))
        self.assertEqual(self.bill(rent, date(2027, 1, 1)).amount_untaxed, 1000.0)
        self.assertEqual(len(self.product_lines(rent)), 1)
        self.assertRecordValues(
            rent.indexation_ids,
            [{"index_rate": -1.5, "rate": 0.0, "amount_after": 1000.0}],
        )

    def test_decrease_applied_when_the_clause_says_so(self):
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 98.5})
        rent = self.create_rent(indexation_allow_decrease=True)
        self.bill(rent, date(2026, 12, 1))
        self.assertEqual(self.bill(rent, date(2027, 1, 1)).amount_untaxed, 985.0)

    def test_fixed_percentage_and_rounding_of_the_price(self):
        # 845.50 x 1.03 = 870.865 -> 870.87 (the unit price, rounded half up
        # to the currency); 3 units bill 2,612.61.
        rent = self.create_contract(
            start=date(2026, 1, 1),
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 3,
                        "price_unit": 845.5,
                    }
                )
            ],
            indexation_method="fixed",
            indexation_rate=3.0,
        )
        self.bill(rent, date(2026, 12, 1))
        january = self.bill(rent, date(2027, 1, 1))
        self.assertEqual(self.product_lines(rent)[-1].price_unit, 870.87)
        self.assertEqual(january.amount_untaxed, 2612.61)

    def test_missing_value_blocks_that_contract_only(self):
        # November 2026 not entered yet: the rent is not billed (never a silent
        # 0 %), the other contract is.
        self.set_values(self.ipc, {(2025, 11): 100.0})
        rent = self.create_rent()
        other = self.create_contract(
            start=date(2026, 1, 1), indexation_method="fixed", indexation_rate=3.0
        )
        self.bill(rent | other, date(2026, 12, 1))
        moves = self.bill(rent | other, date(2027, 1, 1))
        self.assertEqual(moves.recurring_contract_id, other)
        self.assertEqual(moves.amount_untaxed, 103.0)
        self.assertIn("has no value for 11/2026", rent.billing_error)
        self.assertFalse(rent.indexation_ids)
        self.assertEqual(len(self.product_lines(rent)), 1)
        # Entered: the next run bills the rent at the new price.
        self.set_values(self.ipc, {(2026, 11): 102.2})
        retried = self.bill(rent, date(2027, 1, 2))
        self.assertEqual(retried.amount_untaxed, 1022.0)
        self.assertFalse(rent.billing_error)

    def test_once_per_update_in_the_database(self):
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 102.2})
        rent = self.create_rent()
        self.bill(rent, date(2027, 1, 1))
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                # sudo, as the engine: users write no price update; the index
                # refuses even the engine.
                self.env["recurring.contract.indexation"].sudo().create(
                    {"contract_id": rent.id, "date": date(2027, 1, 1)}
                )

    def test_reference_month_and_update_month_of_the_clause(self):
        # Updated every March (the first March after the start, as a
        # calendar-year clause reads) from the January index: 100.0 -> 104.0.
        self.set_values(self.ipc, {(2025, 1): 100.0, (2026, 1): 104.0})
        rent = self.create_rent(indexation_month="3", indexation_reference_month="1")
        self.bill(rent, date(2026, 2, 1))
        self.assertEqual(self.bill(rent, date(2026, 3, 1)).amount_untaxed, 1040.0)
        self.assertEqual(rent.indexation_ids.date, date(2026, 3, 1))

    def test_clause_from_a_template(self):
        template = self.env["recurring.contract.template"].create(
            {
                "name": "Indexed rent",
                "indexation_method": "index",
                "price_index_id": self.ipc.id,
                "indexation_cap": 3.0,
                "indexation_notice_days": 45,
            }
        )
        vals = template._prepare_contract_vals()
        self.assertEqual(vals["price_index_id"], self.ipc.id)
        self.assertEqual(vals["indexation_cap"], 3.0)
        self.assertEqual(vals["indexation_notice_days"], 45)

    def test_bad_input(self):
        with self.assertRaisesRegex(ValidationError, "first day of the month"):
            self.set_values(self.ipc, {(2026, 1): 100.0})
            self.ipc.value_ids.date = date(2026, 1, 15)
        with self.assertRaisesRegex(ValidationError, "needs the price index"):
            self.create_contract(start_it=False, indexation_method="index")
        with self.assertRaisesRegex(ValidationError, "cap"):
            self.create_contract(
                start_it=False,
                indexation_method="fixed",
                indexation_cap=2.0,
                indexation_floor=3.0,
            )

    @freeze_time("2026-12-15 12:00:00")
    def test_price_update_tab_previews_the_next_update(self):
        """Date, period, index month, then the rate and amounts once the
        value is published: what the run then applies."""
        self.set_values(self.ipc, {(2025, 11): 100.0})
        rent = self.create_rent()
        summary = rent.indexation_next_summary
        self.assertIn("Next update on 01/01/2027", summary)
        self.assertIn("from the period starting 01/01/2027", summary)
        self.assertIn("of November 2026 against November 2025", summary)
        self.assertIn("once the index value is published", summary)

        self.set_values(self.ipc, {(2026, 11): 102.2})
        rent.invalidate_recordset(["indexation_next_summary"])
        summary = rent.indexation_next_summary
        self.assertIn("Expected rate 2.20 % (the index moved 2.20 %)", summary)
        self.assertIn("1,000.00 becomes", summary)
        self.assertIn("1,022.00 per period", summary)
        # What the run applies is what was previewed.
        self.bill(rent, date(2027, 1, 1))
        self.assertEqual(rent.indexation_ids.amount_after, 1022.0)

        fixed = self.create_contract(
            start=date(2026, 3, 10), indexation_method="fixed", indexation_rate=3.0
        )
        self.assertIn("Next update on 03/10/2027", fixed.indexation_next_summary)
        self.assertIn("Rate 3.00 %", fixed.indexation_next_summary)
        self.assertIn("103.00 per period", fixed.indexation_next_summary)
        fixed.indexation_method = "none"
        self.assertFalse(fixed.indexation_next_summary)

    def test_index_months_read_as_months(self):
        """Index values and the updates' index month show as a month, in
        the user's language, not as the first day's date."""
        self.set_values(self.ipc, {(2025, 11): 100.0, (2026, 11): 102.2})
        value = self.ipc.value_ids.filtered(lambda v: v.date == date(2026, 11, 1))
        self.assertEqual(value.with_context(lang="en_US").month_name, "November 2026")
        rent = self.create_rent()
        self.bill(rent, date(2027, 1, 1))
        self.assertEqual(
            rent.indexation_ids.with_context(lang="en_US").reference_month_name,
            "November 2026",
        )


@tagged("post_install", "-at_install")
class TestIndexationNotice(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Mails are queued as in production (the test base class mutes them).
        cls.env = cls.env(context={**cls.env.context, "mail_notify_force_send": False})
        cls.Contract = cls.env["recurring.contract"]

    def test_notice_before_the_update_once(self):
        today = fields.Date.today()
        update = today + timedelta(days=20)
        reference = update.replace(day=1) - relativedelta(months=2)
        ipc = self.env["recurring.price.index"].create(
            {
                "name": "IPC (notice)",
                "code": "IPC-NOTICE",
                "value_ids": [
                    Command.create(
                        {"date": reference - relativedelta(years=1), "value": 100.0}
                    ),
                    Command.create({"date": reference, "value": 102.2}),
                ],
            }
        )
        rent = self.create_contract(
            start=update - relativedelta(years=1),
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 1,
                        "price_unit": 1000.0,
                    }
                )
            ],
            indexation_method="index",
            price_index_id=ipc.id,
            indexation_notice_days=30,
        )
        late = self.create_contract(
            start=update - relativedelta(years=1),
            indexation_method="index",
            price_index_id=ipc.id,
            indexation_notice_days=10,
        )
        self.Contract._cron_send_reminders()
        self.assertRecordValues(
            rent.indexation_ids,
            [
                {
                    "date": update,
                    "state": "announced",
                    "notice_date": today,
                    "rate": 2.2,
                    "amount_before": 1000.0,
                    "amount_after": 1022.0,
                }
            ],
        )
        # Ten days' notice: not yet.
        self.assertFalse(late.indexation_ids)
        email = rent.message_ids.filtered(
            lambda m: m.subject and "price update" in m.subject
        )
        self.assertEqual(len(email), 1)
        self.assertEqual(email.partner_ids, self.partner_a)
        self.assertIn("1,000.00", email.body)
        self.assertIn("1,022.00", email.body)
        mail = (
            self.env["mail.mail"]
            .search([("model", "=", rent._name), ("res_id", "=", rent.id)])
            .filtered(lambda m: "price update" in (m.subject or ""))
        )
        self.assertEqual(mail.recipient_ids, self.partner_a)
        note = rent.message_ids.filtered(
            lambda m: "announced to the customer" in (m.body or "")
        )
        self.assertEqual(len(note), 1)

        # Once only: the next day's run tells nobody again.
        count = len(rent.message_ids)
        self.Contract._cron_send_reminders()
        self.assertEqual(len(rent.message_ids), count)
        self.assertEqual(len(rent.indexation_ids), 1)

    def test_update_applied_without_a_notice_is_told_when_applied(self):
        """A contract entered after its notice window (or billed late): the
        update is applied with the invoice and the customer told then, once;
        the row says when ("Customer told on")."""
        self.env.company.email = "billing@company.example.com"
        start = date(2025, 3, 1)
        rent = self.create_contract(
            start=start,
            indexation_method="fixed",
            indexation_rate=3.0,
            indexation_notice_days=30,
        )
        self.bill(rent, date(2026, 3, 1))
        row = rent.indexation_ids
        self.assertEqual(row.state, "applied")
        today = rent.company_id._get_recurring_today()
        self.assertEqual(row.notice_date, today)
        told = rent.message_ids.filtered(
            lambda m: m.subject and "price update" in m.subject
        )
        self.assertEqual(len(told), 1)
        self.assertEqual(told.partner_ids, self.partner_a)
        # A comment, as the other notices: shown in the portal's history.
        self.assertEqual(told.message_type, "comment")
        self.assertIn("103.00", told.body)
        # Billed again later: nobody told twice.
        self.bill(rent, date(2026, 4, 1))
        told = rent.message_ids.filtered(
            lambda m: m.subject and "price update" in m.subject
        )
        self.assertEqual(len(told), 1)

    def test_value_for_a_month_not_over_warns(self):
        today = self.env.company._get_recurring_today()
        Value = self.env["recurring.price.index.value"].with_context(
            default_index_id=self.env["recurring.price.index"]
            .create({"name": "IPC (warn)", "code": "IPC-WARN"})
            .id
        )
        value = Value.new({"date": today.replace(day=1), "value": 100.0})
        warning = value._onchange_date_published()
        self.assertIn("is not over", warning["warning"]["message"])
        past = Value.new(
            {"date": today.replace(day=1) - relativedelta(months=1), "value": 100.0}
        )
        self.assertIsNone(past._onchange_date_published())
