# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Rule 10 (pause and resume), Rule 11 (close), Rule 12 (renew) and Rule 13
(changes in the middle of a term) of the README: money stays right through
the whole life of a contract. Every amount is exact, and a rerun after each
change bills nothing."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import RecurringBillingCommon, create_tax_mapping


@tagged("post_install", "-at_install")
class TestContractLife(RecurringBillingCommon):
    def assertBilled(self, moves, expected):
        """``expected``: [(move_type, amount_untaxed)] of ``moves``, by id."""
        self.assertEqual(
            [(m.move_type, m.amount_untaxed) for m in moves.sorted("id")],
            [(move_type, amount) for move_type, amount in expected],
        )

    def assertNothingMore(self, contract, day):
        self.assertFalse(self.bill(contract, day), "a rerun must bill nothing")

    # ------------------------------------------------------------------
    # Rule 3: amounts are rounded once, on the amount
    # ------------------------------------------------------------------

    def test_proration_rounds_the_amount_not_the_unit_price(self):
        contract = self.create_contract(
            start=date(2026, 1, 1),
            date_end=date(2026, 1, 1),
            prorate=True,
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 1000,
                        "price_unit": 9.99,
                    }
                )
            ],
        )
        move = self.bill(contract, date(2026, 1, 1))
        # 1,000 x 9.99 x 1/31 = 322.258..., not 1,000 x round(9.99 / 31, 2).
        self.assertEqual(move.amount_untaxed, 322.26)
        self.assertEqual(contract._get_forecast_periods(), [])

    def test_tax_included_price_follows_the_fiscal_position(self):
        tax_included = self.env["account.tax"].create(
            {
                "name": "VAT 21% included",
                "amount": 21.0,
                "price_include_override": "tax_included",
            }
        )
        tax_exempt = self.env["account.tax"].create(
            {"name": "Exempt 0%", "amount": 0.0}
        )
        position = create_tax_mapping(self.env, "Intra-EU", tax_included, tax_exempt)
        product = self.env["product.product"].create(
            {
                "name": "Rent",
                "lst_price": 121.0,
                "taxes_id": [Command.set(tax_included.ids)],
            }
        )
        contract = self.create_contract(
            start=date(2026, 1, 1),
            fiscal_position_id=position.id,
            lines=[Command.create({"product_id": product.id})],
        )
        # What Odoo's own sale order and invoice compute for that customer.
        self.assertEqual(contract.line_ids.price_unit, 100.0)
        self.assertEqual(contract.amount_total, 100.0)
        move = self.bill(contract, date(2026, 1, 1))
        self.assertEqual((move.amount_untaxed, move.amount_total), (100.0, 100.0))

    # ------------------------------------------------------------------
    # Rule 10: pause and resume
    # ------------------------------------------------------------------

    def test_pause_and_resume_on_the_same_day_forgive_nothing(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), invoicing_mode="arrears"
        )
        self.bill(contract, date(2026, 2, 1))  # January
        contract.action_pause(date_pause=date(2026, 2, 10))
        contract.action_resume(date_resume=date(2026, 2, 10))
        moves = self.bill(contract, date(2026, 3, 1))
        self.assertBilled(moves, [("out_invoice", 100.0)])
        self.assertEqual(moves.recurring_period_id.date_start, date(2026, 2, 1))
        self.assertNothingMore(contract, date(2026, 3, 1))

    def test_pause_skips_only_the_periods_inside_it(self):
        contract = self.create_contract(start=date(2026, 1, 1), prorate=True)
        self.bill(contract, date(2026, 1, 1))
        contract.action_pause(date_pause=date(2026, 2, 1))
        self.assertFalse(self.bill(contract, date(2026, 3, 15)))
        contract.action_resume(date_resume=date(2026, 3, 20))
        moves = self.bill(contract, date(2026, 3, 20))
        # February lies inside the pause; 12 of March's 31 days are used.
        self.assertBilled(moves, [("out_invoice", 38.71)])
        self.assertEqual(
            [
                (p.date_start, p.state)
                for p in contract.period_ids.sorted("period_index")
            ],
            [
                (date(2026, 1, 1), "invoiced"),
                (date(2026, 2, 1), "skipped"),
                (date(2026, 3, 1), "invoiced"),
            ],
        )
        self.assertNothingMore(contract, date(2026, 3, 31))

    def test_pause_bills_what_was_used_before_it(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), invoicing_mode="arrears", prorate=True
        )
        contract.action_pause(date_pause=date(2026, 1, 11))
        contract.action_resume(date_resume=date(2026, 3, 1))
        moves = self.bill(contract, date(2026, 3, 1))
        # January: 10 of 31 days used before the pause; February: none.
        self.assertBilled(moves, [("out_invoice", 32.26)])
        self.assertEqual(
            [p.state for p in contract.period_ids.sorted("period_index")],
            ["invoiced", "skipped"],
        )
        self.assertNothingMore(contract, date(2026, 3, 1))

    def test_period_failed_then_paused_is_billed_on_resume(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        self.partner_a.active = False
        self.bill(contract, date(2026, 1, 1))
        self.assertTrue(contract.billing_error)
        self.partner_a.active = True
        contract.action_pause(date_pause=date(2026, 1, 15))
        contract.action_resume(date_resume=date(2026, 2, 10))
        moves = self.bill(contract, date(2026, 2, 10))
        # January was used until the 14th, February from the 10th: both owed.
        self.assertBilled(moves, [("out_invoice", 100.0), ("out_invoice", 100.0)])

    # ------------------------------------------------------------------
    # Rule 11: close
    # ------------------------------------------------------------------

    def test_close_inside_a_period_billed_in_advance_credits_unused_days(self):
        contract = self.create_contract(start=date(2026, 11, 1), prorate=True)
        self.bill(contract, date(2026, 11, 1))
        wizard = self.env["recurring.contract.close.wizard"].create(
            {
                "contract_ids": contract.ids,
                "date_close": date(2026, 11, 10),
                "reason_id": self.env.ref(
                    "recurring_billing.close_reason_customer_request"
                ).id,
            }
        )
        self.assertIn("66.67", wizard.summary)
        wizard.action_close()
        credit = self.bill(contract, date(2026, 11, 10))
        # 100.00 for November, used 10 of 30 days: 66.67 back.
        self.assertBilled(credit, [("out_refund", 66.67)])
        self.assertEqual(contract.state, "closed")
        self.assertNothingMore(contract, date(2026, 12, 1))

    def test_close_inside_a_period_without_proration_lets_it_stand(self):
        contract = self.create_contract(start=date(2026, 11, 1))
        self.bill(contract, date(2026, 11, 1))
        contract.action_close(date_close=date(2026, 11, 10))
        self.assertEqual(contract.state, "closed")
        self.assertNothingMore(contract, date(2026, 12, 1))

    def test_close_accepts_a_reason_id_over_rpc(self):
        contract = self.create_contract(start=date(2026, 1, 1))
        reason = self.env.ref("recurring_billing.close_reason_customer_request")
        contract.action_close(date_close=date(2026, 1, 31), reason=reason.id)
        self.assertEqual(contract.close_reason_id, reason)

    # ------------------------------------------------------------------
    # Rule 12: renew
    # ------------------------------------------------------------------

    def test_renewal_continues_the_term_to_the_month_end(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 4, 30)
        )
        contract.action_renew(months=1)
        self.assertEqual(contract.date_end, date(2026, 5, 31))

    def test_renewal_bills_the_rest_of_a_prorated_last_period(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 3, 15), prorate=True
        )
        self.bill(contract, date(2026, 3, 1))
        self.assertEqual(contract.state, "closed")
        contract.action_renew(months=1, date_renew=date(2026, 3, 10))
        self.assertEqual(contract.date_end, date(2026, 4, 15))
        moves = self.bill(contract, date(2026, 3, 10))
        # March was billed 48.39 for 15 days; it is whole again: 51.61 more.
        self.assertBilled(moves, [("out_invoice", 51.61)])
        self.assertNothingMore(contract, date(2026, 3, 31))
        self.assertBilled(
            self.bill(contract, date(2026, 4, 1)), [("out_invoice", 50.0)]
        )

    def test_renewal_after_a_long_close_on_a_slow_machine(self):
        """A loaded machine measures slow batches (batches of 5): the seven
        skipped months fill the first batch, the run goes on to November."""
        engine = self.env["recurring.billing.engine"]
        self.addCleanup(engine._set_measured_speed, engine._set_measured_speed(1.0))
        self.assertEqual(self.env["recurring.billing.engine"]._get_batch_size(), 5)
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 3, 31)
        )
        self.bill(contract, date(2026, 3, 1))
        contract.action_renew(months=12, date_renew=date(2026, 11, 10))
        moves = self.bill(contract, date(2026, 11, 10))
        self.assertBilled(moves, [("out_invoice", 100.0)])
        self.assertEqual(moves.recurring_period_id.date_start, date(2026, 11, 1))

    def test_renewing_a_closed_contract_bills_nothing_while_it_was_closed(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 3, 31)
        )
        self.bill(contract, date(2026, 3, 1))
        self.assertEqual(contract.state, "closed")
        contract.action_renew(months=12, date_renew=date(2026, 11, 10))
        self.assertEqual(contract.date_end, date(2027, 3, 31))
        self.assertEqual(contract.state, "running")
        moves = self.bill(contract, date(2026, 11, 10))
        self.assertBilled(moves, [("out_invoice", 100.0)])  # November only
        self.assertEqual(moves.recurring_period_id.date_start, date(2026, 11, 1))
        skipped = contract.period_ids.filtered(lambda p: p.state == "skipped")
        self.assertEqual(len(skipped), 7)  # April to October
        self.assertNothingMore(contract, date(2026, 11, 30))

    # ------------------------------------------------------------------
    # Rule 13: changes in the middle of a term
    # ------------------------------------------------------------------

    def test_line_added_mid_period_bills_the_difference(self):
        contract = self.create_contract(start=date(2026, 11, 1))
        self.bill(contract, date(2026, 11, 1))
        contract.line_ids = [
            Command.create(
                {
                    "product_id": self.product_b.id,
                    "price_unit": 60.0,
                    "date_start": date(2026, 11, 16),
                }
            )
        ]
        adjustment = self.bill(contract, date(2026, 11, 16))
        self.assertBilled(adjustment, [("out_invoice", 30.0)])  # 60 x 15/30
        self.assertEqual(adjustment.recurring_period_id.kind, "adjustment")
        self.assertNothingMore(contract, date(2026, 11, 30))
        december = self.bill(contract, date(2026, 12, 1))
        self.assertBilled(december, [("out_invoice", 160.0)])

    def test_line_changed_mid_period_credits_the_difference(self):
        contract = self.create_contract(start=date(2026, 11, 1))
        self.bill(contract, date(2026, 11, 1))
        contract.line_ids._action_change(date(2026, 11, 21), {"price_unit": 70.0})
        credit = self.bill(contract, date(2026, 11, 21))
        # 10 of 30 days at 70 instead of 100: 10.00 back.
        self.assertBilled(credit, [("out_refund", 10.0)])
        self.assertNothingMore(contract, date(2026, 11, 30))
        self.assertBilled(
            self.bill(contract, date(2026, 12, 1)), [("out_invoice", 70.0)]
        )

    def test_yearly_contract_line_added_mid_year(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), recurring_rule_type="yearly"
        )
        self.bill(contract, date(2026, 1, 1))
        contract.line_ids = [
            Command.create(
                {
                    "product_id": self.product_b.id,
                    "price_unit": 365.0,
                    "date_start": date(2026, 7, 1),
                }
            )
        ]
        # 184 of 365 days, July to December.
        self.assertBilled(
            self.bill(contract, date(2026, 7, 1)), [("out_invoice", 184.0)]
        )
        self.assertNothingMore(contract, date(2026, 7, 2))

    def test_day_based_contract_closed_early_credits_days(self):
        contract = self.create_contract(
            start=date(2026, 1, 1),
            recurring_rule_type="daily",
            recurring_interval=10,
            prorate=True,
        )
        self.bill(contract, date(2026, 1, 1))  # 1 to 10 January, 100.00
        contract.action_close(date_close=date(2026, 1, 3))
        self.assertBilled(self.bill(contract, date(2026, 1, 3)), [("out_refund", 70.0)])
        self.assertNothingMore(contract, date(2026, 1, 20))

    def test_foreign_currency_adjustment(self):
        currency = self.setup_other_currency("EUR")  # 2.0 since 2017
        contract = self.create_contract(
            start=date(2026, 11, 1), prorate=True, currency_id=currency.id
        )
        self.bill(contract, date(2026, 11, 1))
        contract.action_close(date_close=date(2026, 11, 20))
        credit = self.bill(contract, date(2026, 11, 20))
        self.assertEqual(credit.currency_id, currency)
        self.assertBilled(credit, [("out_refund", 33.33)])  # 10 of 30 days
        # In the company's currency at the rate of the day (2.0).
        self.assertAlmostEqual(credit.amount_untaxed_signed, -16.67, delta=0.005)

    # ------------------------------------------------------------------
    # Rule 7: the scheduled action
    # ------------------------------------------------------------------

    def test_billing_date_is_the_company_date(self):
        self.env.company.partner_id.tz = "Pacific/Auckland"  # UTC+13 in January
        contract = self.create_contract(start=date(2026, 2, 1))
        with freeze_time(datetime(2026, 1, 31, 12, 0)):  # 1 February in Auckland
            self.env["recurring.contract"]._cron_generate_invoices()
        self.assertEqual(contract.invoice_ids.invoice_date, date(2026, 2, 1))

    def test_manual_run_schedules_the_rest_at_once(self):
        self.env["ir.config_parameter"].set_param("recurring_billing.batch_size", 5)
        for _index in range(8):
            self.create_contract(start=date(2026, 1, 1))
        cron = self.env.ref("recurring_billing.ir_cron_generate_invoices")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        # One call of the scheduled action, as ir.cron makes it (the
        # scheduler stops after a few, "Run manually" on 18.0 makes one).
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        with freeze_time(datetime(2026, 1, 1, 12, 0)):
            cron.ir_actions_server_id.with_user(cron.user_id).with_context(
                ir_cron_progress_id=progress.id, cron_id=cron.id
            ).run()
        self.assertTrue(0 < progress.done < 8, "one batch, not the whole run")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            "the rest must be scheduled at once",
        )

    # ------------------------------------------------------------------
    # Rule 14: term rules
    # ------------------------------------------------------------------

    def test_close_request_waits_for_notice_and_minimum_term(self):
        contract = self.create_contract(
            start=date(2026, 1, 1), minimum_term_months=12, notice_days=30
        )
        self.assertEqual(
            contract._get_effective_close_date(date(2026, 3, 10)), date(2026, 12, 31)
        )
        self.assertEqual(
            contract._get_effective_close_date(date(2026, 12, 15)), date(2027, 1, 14)
        )
        wizard = self.env["recurring.contract.close.wizard"].create(
            {
                "contract_ids": contract.ids,
                "date_close": date(2026, 3, 10),
                "reason_id": self.env.ref(
                    "recurring_billing.close_reason_customer_request"
                ).id,
            }
        )
        self.assertIn("12/31/2026", wizard.summary)
        wizard.action_close()
        self.assertEqual(contract.date_end, date(2026, 12, 31))
        self.assertEqual(contract.state, "running")  # billed to the term's end
        wizard = self.env["recurring.contract.close.wizard"].create(
            {
                "contract_ids": contract.ids,
                "date_close": date(2026, 3, 10),
                "respect_terms": False,
                "reason_id": self.env.ref(
                    "recurring_billing.close_reason_customer_request"
                ).id,
            }
        )
        wizard.action_close()
        self.assertEqual(contract.date_end, date(2026, 3, 10))

    def test_automatic_renewal_continues_the_term(self):
        contract = self.create_contract(
            start=date(2026, 1, 1),
            date_end=date(2026, 3, 31),
            auto_renew=True,
            renewal_months=3,
        )
        self.env["recurring.contract"]._cron_generate_invoices(
            date_ref=date(2026, 3, 1)
        )
        self.assertEqual(contract.state, "running")  # never closed at the end
        self.env["recurring.contract"]._cron_generate_invoices(
            date_ref=date(2026, 4, 1)
        )
        self.assertEqual(contract.date_end, date(2026, 6, 30))
        self.assertEqual(len(contract.invoice_ids), 4)  # January to April
        self.assertEqual(
            contract.invoice_ids.sorted("id")[-1].recurring_period_id.date_start,
            date(2026, 4, 1),
        )
        self.env["recurring.contract"]._cron_generate_invoices(
            date_ref=date(2026, 4, 1)
        )
        self.assertEqual(len(contract.invoice_ids), 4)

    def test_renewal_notice_sent_days_before(self):
        self.env["ir.config_parameter"].set_param(
            "recurring_billing.renewal_reminder_days", 15
        )
        contract = self.create_contract(
            start=date(2026, 1, 1), date_end=date(2026, 3, 31), auto_renew=True
        )
        with freeze_time(datetime(2026, 3, 16, 9, 0)):
            self.env["recurring.contract"]._cron_send_reminders()
        notices = contract.message_ids.filtered(
            lambda m: "renews on" in (m.subject or "")
        )
        self.assertEqual(len(notices), 1)
        self.assertEqual(notices.partner_ids, self.partner_a)
