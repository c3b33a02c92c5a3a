# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""MRR movements written by a contract's life, the MRR field (counts only
contracts that bill), and the revenue figures of a period, with exact
amounts (README, "Revenue analytics")."""

from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.recurring_billing.tools import compat

from .common import RecurringBillingCommon

D = date
JAN_1 = date(2026, 1, 1)


@tagged("post_install", "-at_install")
class TestMrrMovements(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Movement = cls.env["recurring.mrr.movement"]
        cls.Report = cls.env["recurring.revenue.report"]
        cls.partner_c = cls.env["res.partner"].create({"name": "Partner C"})

    def movements(self, contract):
        return [
            (m.date, m.kind, m.mrr_change, m.mrr_after)
            for m in self.Movement.search(
                [("contract_id", "=", contract.id)], order="date, id"
            )
        ]

    def scripted_history(self, rule, price, bill=True):
        """Start at ``price`` a period on 1 January 2026, +50 % in March,
        -20 % of the start in May, pause in July, resume in September,
        close on 15 December; billed along the way."""
        contract = self.create_contract(
            start=D(2026, 1, 1),
            recurring_rule_type=rule,
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 1,
                        "price_unit": price,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        )
        if bill:
            self.bill(contract, D(2026, 1, 1))
        upsell = contract.line_ids._action_change(
            D(2026, 3, 1), {"price_unit": price * 1.5}
        )
        if bill:
            self.bill(contract, D(2026, 3, 1))
        upsell._action_change(D(2026, 5, 1), {"price_unit": price * 1.3})
        if bill:
            self.bill(contract, D(2026, 5, 1))
        contract.action_pause(D(2026, 7, 1))
        contract.action_resume(D(2026, 9, 1))
        if bill:
            self.bill(contract, D(2026, 9, 1))
        contract.action_close(D(2026, 12, 15))
        return contract

    SCRIPTED = [
        (D(2026, 1, 1), "new", 100.0, 100.0),
        (D(2026, 3, 1), "expansion", 50.0, 150.0),
        (D(2026, 5, 1), "contraction", -20.0, 130.0),
        (D(2026, 7, 1), "churn", -130.0, 0.0),
        (D(2026, 9, 1), "reactivation", 130.0, 130.0),
        # Closed on 15 December: it bills that day, its MRR is gone the next.
        (D(2026, 12, 16), "churn", -130.0, 0.0),
    ]

    def test_scripted_history_monthly(self):
        contract = self.scripted_history("monthly", 100.0)
        self.assertEqual(self.movements(contract), self.SCRIPTED)
        # Billing the rest closes the contract: its history does not move.
        self.bill(contract, D(2027, 1, 1))
        self.assertEqual(contract.state, "closed")
        self.assertEqual(self.movements(contract), self.SCRIPTED)

    def test_scripted_history_yearly(self):
        # 1,200.00 a year is 100.00 a month: the same movements.
        contract = self.scripted_history("yearly", 1200.0)
        self.assertEqual(self.movements(contract), self.SCRIPTED)

    def test_sync_is_idempotent(self):
        contract = self.scripted_history("monthly", 100.0, bill=False)
        before = self.Movement.search([("contract_id", "=", contract.id)])
        self.assertEqual(len(before), 6)
        self.assertFalse(contract._sync_mrr_movements())  # nothing created
        after = self.Movement.search([("contract_id", "=", contract.id)])
        self.assertEqual(after, before)

    def test_history_built_for_contracts_without_movements(self):
        """The 18.0.1.2.0 migration's builder, on contracts from before the
        movements: the same history as if they had been written live."""
        monthly = self.scripted_history("monthly", 100.0, bill=False)
        yearly = self.scripted_history("yearly", 1200.0, bill=False)
        renewed = self.create_contract(start=D(2026, 1, 1), date_end=D(2026, 3, 31))
        self.bill(renewed, D(2026, 3, 1))
        renewed.action_renew(months=3, date_renew=D(2026, 6, 1))
        contracts = monthly | yearly | renewed
        live = {c: self.movements(c) for c in contracts}
        self.Movement.sudo().search([("contract_id", "in", contracts.ids)]).unlink()
        self.assertGreaterEqual(self.Contract._build_mrr_history(), 3)
        self.assertEqual({c: self.movements(c) for c in contracts}, live)
        self.assertEqual(self.movements(yearly), self.SCRIPTED)

    def test_resume_before_pause_starts_removes_churn(self):
        contract = self.create_contract(start=D(2026, 1, 1))
        contract.action_pause(D(2026, 7, 1))
        self.assertEqual(
            self.movements(contract),
            [
                (D(2026, 1, 1), "new", 100.0, 100.0),
                (D(2026, 7, 1), "churn", -100.0, 0.0),
            ],
        )
        contract.action_resume(D(2026, 6, 20))  # before the pause began
        self.assertEqual(
            self.movements(contract), [(D(2026, 1, 1), "new", 100.0, 100.0)]
        )

    def test_renewal_of_closed_contract_is_reactivation(self):
        contract = self.create_contract(start=D(2026, 1, 1), date_end=D(2026, 3, 31))
        self.bill(contract, D(2026, 3, 1))
        self.assertEqual(contract.state, "closed")
        contract.action_renew(months=3, date_renew=D(2026, 6, 1))
        self.assertEqual(
            self.movements(contract),
            [
                (D(2026, 1, 1), "new", 100.0, 100.0),
                (D(2026, 4, 1), "churn", -100.0, 0.0),
                (D(2026, 6, 1), "reactivation", 100.0, 100.0),
                (D(2026, 7, 1), "churn", -100.0, 0.0),
            ],
        )

    def test_draft_and_auto_renew(self):
        draft = self.create_contract(start_it=False)
        self.assertFalse(self.movements(draft))
        renewing = self.create_contract(
            start=D(2026, 1, 1),
            date_end=D(2026, 12, 31),
            auto_renew=True,
            renewal_months=12,
        )
        # It renews itself: its end date is no churn.
        self.assertEqual(
            self.movements(renewing), [(D(2026, 1, 1), "new", 100.0, 100.0)]
        )
        # Closed by hand, automatic renewal off: churn after the end.
        renewing.action_close(D(2026, 10, 31))
        self.assertEqual(
            self.movements(renewing)[-1], (D(2026, 11, 1), "churn", -100.0, 0.0)
        )

    def test_every_rule_normalised_the_same_way(self):
        weekly = self.create_contract(
            start=D(2026, 1, 5),
            recurring_rule_type="weekly",
            recurring_interval=2,
        )
        # 100.00 every 2 weeks: 100 / (14 x 12 / 365.25) = 217.41 a month.
        self.assertEqual(
            self.movements(weekly), [(D(2026, 1, 5), "new", 217.41, 217.41)]
        )
        daily = self.create_contract(start=D(2026, 1, 1), recurring_rule_type="daily")
        self.assertEqual(daily.mrr_movement_ids.mrr_after, 3043.75)
        quarterly = self.create_contract(start=D(2026, 1, 1), recurring_interval=3)
        self.assertEqual(quarterly.mrr_movement_ids.mrr_after, 33.33)

    def test_company_currency_at_the_movement_date(self):
        eur = self.setup_other_currency(
            "EUR", rates=[("2025-01-01", 2.0), ("2026-03-01", 4.0)]
        )
        contract = self.create_contract(
            start=D(2026, 1, 1),
            currency_id=eur.id,
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 1,
                        "price_unit": 200.0,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        )
        contract.line_ids._action_change(D(2026, 3, 1), {"price_unit": 400.0})
        contract.action_close(D(2026, 5, 31))
        # 200 EUR at 2.0 = 100 USD; +200 EUR on 1 March at 4.0 = +50 USD;
        # the churn takes the MRR to zero exactly.
        self.assertEqual(
            self.movements(contract),
            [
                (D(2026, 1, 1), "new", 100.0, 100.0),
                (D(2026, 3, 1), "expansion", 50.0, 150.0),
                (D(2026, 6, 1), "churn", -150.0, 0.0),
            ],
        )
        self.assertEqual(
            contract.mrr_movement_ids.sorted("date").mapped("mrr_after_currency"),
            [200.0, 400.0, 0.0],
        )
        # A rate added later does not rewrite the history written.
        self.env["res.currency.rate"].create(
            {"name": "2026-01-01", "rate": 8.0, "currency_id": eur.id}
        )
        self.assertFalse(contract._sync_mrr_movements())
        self.assertEqual(
            self.movements(contract)[0], (D(2026, 1, 1), "new", 100.0, 100.0)
        )


@tagged("post_install", "-at_install")
class TestMrrField(RecurringBillingCommon):
    """Issue 18: MRR, and every sum of it, counts only contracts that bill."""

    def mrr_total(self, contracts):
        groups = self.Contract._read_group(
            [("id", "in", contracts.ids)], [], ["recurring_monthly:sum"]
        )
        return groups[0][0]

    @freeze_time("2026-06-15")
    def test_closed_paused_and_draft_do_not_count(self):
        running = self.create_contract(start=D(2026, 1, 1))
        closed = self.create_contract(start=D(2026, 1, 1), date_end=D(2026, 3, 31))
        self.bill(closed, D(2026, 3, 1))
        self.assertEqual(closed.state, "closed")
        paused = self.create_contract(start=D(2026, 1, 1))
        paused.action_pause(D(2026, 6, 1))
        draft = self.create_contract(start=D(2026, 1, 1), start_it=False)
        yearly = self.create_contract(start=D(2026, 1, 1), recurring_rule_type="yearly")
        self.assertEqual(
            (running | closed | paused | draft | yearly).mapped("recurring_monthly"),
            [100.0, 0.0, 0.0, 0.0, 8.33],
        )
        self.assertEqual(
            self.mrr_total(running | closed | paused | draft | yearly), 108.33
        )

    def test_future_close_counts_until_that_date(self):
        with freeze_time("2026-06-15"):
            contract = self.create_contract(start=D(2026, 1, 1))
            contract.action_close(D(2026, 6, 30))
            self.assertEqual(contract.state, "running")
            self.assertEqual(contract.recurring_monthly, 100.0)
            future_pause = self.create_contract(start=D(2026, 1, 1))
            future_pause.action_pause(D(2026, 7, 1))
            self.assertEqual(future_pause.recurring_monthly, 100.0)
        with freeze_time("2026-07-01"):
            self.env["recurring.contract"]._cron_refresh_mrr()
            self.assertEqual(contract.recurring_monthly, 0.0)
            self.assertEqual(future_pause.recurring_monthly, 0.0)

    @freeze_time("2026-04-15")
    def test_line_change_from_a_date(self):
        contract = self.create_contract(start=D(2026, 1, 1))
        contract.line_ids._action_change(D(2026, 5, 1), {"quantity": 2})
        self.assertEqual(contract.recurring_monthly, 100.0)  # not yet
        self.assertEqual(contract._get_mrr_on(D(2026, 5, 1)), 200.0)


@tagged("post_install", "-at_install")
class TestRevenueMetrics(RecurringBillingCommon):
    def contract(self, partner, price, start=JAN_1, **vals):
        return self.create_contract(
            start=start,
            partner_id=partner.id,
            lines=[
                Command.create(
                    {
                        "product_id": self.product_a.id,
                        "quantity": 1,
                        "price_unit": price,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
            **vals,
        )

    def test_churn_rates_over_a_period(self):
        partner_c = self.env["res.partner"].create({"name": "Partner C"})
        a1 = self.contract(self.partner_a, 100.0)
        a2 = self.contract(self.partner_a, 50.0)
        b = self.contract(self.partner_b, 200.0)
        # March: B leaves, A's second contract shrinks by 20, C arrives.
        b.action_close(D(2026, 3, 10))
        a2.line_ids._action_change(D(2026, 3, 15), {"price_unit": 30.0})
        self.contract(partner_c, 300.0, start=D(2026, 3, 20))
        # After the period: ignored.
        a1.action_pause(D(2026, 4, 1))
        metrics = self.env["recurring.revenue.report"]._get_metrics(
            D(2026, 3, 1), D(2026, 3, 31)
        )
        expected = {
            "mrr_start": 350.0,
            "mrr_end": 430.0,
            "arr": 5160.0,
            "new": 300.0,
            "expansion": 0.0,
            "contraction": -20.0,
            "churn": -200.0,
            "reactivation": 0.0,
            "net_growth": 80.0,
            "net_growth_rate": 22.86,
            "logos_start": 2,
            "logos_end": 2,
            "churned_logos": 1,
            "logo_churn_rate": 50.0,
            "revenue_churn_rate": 62.86,  # (200 + 20) / 350
            "arpa": 215.0,
            "active_contracts": 3,
        }
        self.assertEqual({k: metrics[k] for k in expected}, expected)
        # April: A's first contract paused (churn of 100, A still a customer).
        april = self.env["recurring.revenue.report"]._get_metrics(
            D(2026, 4, 1), D(2026, 4, 30)
        )
        self.assertEqual(
            (april["mrr_end"], april["churn"], april["logo_churn_rate"]),
            (330.0, -100.0, 0.0),
        )
        self.assertEqual(april["revenue_churn_rate"], 23.26)  # 100 / 430

    def test_salesperson_sees_own_movements_only(self):
        salesman = self.env["res.users"].create(
            {
                "name": "Own Docs",
                "login": "rb_own_docs",
                compat.USER_GROUPS_FIELD: [
                    Command.set([self.env.ref("sales_team.group_sale_salesman").id])
                ],
                "company_ids": [Command.set(self.env.company.ids)],
                "company_id": self.env.company.id,
            }
        )
        self.contract(self.partner_a, 100.0, user_id=salesman.id)
        self.contract(self.partner_b, 200.0, user_id=self.env.user.id)
        metrics = (
            self.env["recurring.revenue.report"]
            .with_user(salesman)
            ._get_metrics(D(2026, 1, 1), D(2026, 1, 31))
        )
        self.assertEqual((metrics["mrr_end"], metrics["new"]), (100.0, 100.0))

    def test_portal_user_gets_no_figures(self):
        portal = self.env["res.users"].create(
            {
                "name": "Portal",
                "login": "rb_portal_figures",
                compat.USER_GROUPS_FIELD: [
                    Command.set([self.env.ref("base.group_portal").id])
                ],
            }
        )
        self.contract(self.partner_a, 100.0)
        Report = self.env["recurring.revenue.report"].with_user(portal)
        with self.assertRaises(AccessError):
            Report.get_dashboard_data()
        with self.assertRaises(AccessError):
            self.env["recurring.forecast.line"].with_user(portal).action_refresh()

    @freeze_time("2026-03-20")
    def test_dashboard_data(self):
        a = self.contract(self.partner_a, 100.0)
        b = self.contract(self.partner_b, 200.0)
        self.bill(a | b, D(2026, 3, 1))
        b.action_close(D(2026, 3, 10))
        self.assertEqual(b.state, "closed")
        self.env["recurring.forecast.line"]._refresh()
        data = self.env["recurring.revenue.report"].get_dashboard_data()
        self.assertEqual(data["today"], "2026-03-20")
        self.assertEqual(
            {
                k: data["this_month"][k]
                for k in ("mrr_end", "arr", "churn", "logo_churn_rate")
            },
            {"mrr_end": 100.0, "arr": 1200.0, "churn": -200.0, "logo_churn_rate": 50.0},
        )
        self.assertEqual(len(data["timeline"]), 12)
        self.assertEqual(data["timeline"][-3]["month"], "2026-01-01")
        self.assertEqual(
            (data["timeline"][-3]["new"], data["timeline"][-3]["mrr"]), (300.0, 300.0)
        )
        self.assertEqual(data["timeline"][-1]["mrr"], 100.0)
        # Forecast: 100.00 on the 1st of each of the next 12 months.
        self.assertEqual(
            [(r["month"], r["amount"]) for r in data["forecast"]][:2],
            [("2026-04-01", 100.0), ("2026-05-01", 100.0)],
        )
        self.assertEqual(len(data["forecast"]), 12)
