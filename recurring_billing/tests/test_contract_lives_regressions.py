# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The failing examples the state machine of ``test_contract_lives_machine.py``
found, shrunk by Hypothesis, as plain steps. Each step is done on the
database and on the oracle; the invariants (``lives.py``) say what broke."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from .lives import ContractLivesCase, ContractLivesCommon


@tagged("post_install", "-at_install")
class TestContractLivesRegressions(ContractLivesCase):
    def test_a_plain_monthly_life_holds(self):
        """The harness itself: a monthly contract billed, paused, resumed and
        closed, every invariant holding (this one passes on the old code)."""
        lives = self.lives
        life = lives.start(offset=0, prorate=True, price=10000)
        lives.bill(0)
        self.assertEqual(life.contract.invoice_ids.mapped("amount_untaxed"), [100.0])
        lives.pause(0, 10)
        lives.bill(31)
        lives.resume(0, 5)
        lives.close(0, 20)
        lives.bill(40)
        self.check_all()
        self.assertEqual(life.contract.state, "closed")

    def test_auto_renewal_bills_one_full_period(self):
        """A contract that renews itself bills the period its end date cuts
        once, in full (prorated: not a cut period, then a top-up)."""
        lives = self.lives
        lives.start(offset=0, term_days=45, prorate=True, auto_renew=True)
        lives.bill(0)
        lives.bill(31)
        self.check_all()

    def test_customer_change_keeps_mrr_history(self):
        """A running contract changes customer (on the company's today):
        past movements stay with the old customer, who churns that day."""
        lives = self.lives
        lives.start(offset=-40, price=10000)
        lives.bill(0)
        lives.change_customer(0)
        self.check_all()

    def test_machine_auto_renewing_contract_ending_on_its_first_day(self):
        """Old code: "forecast for the period from 2025-01-01 says 0.32, the
        rules bill 10.00" (a contract that renews itself has no cut period)."""
        lives = self.lives
        lives.start(
            offset=0,
            advance=False,
            auto_renew=True,
            prorate=True,
            term_days=0,
            price=1000,
        )
        self.check_all()

    def test_machine_customer_change_the_day_after_the_start(self):
        """Old code: "MRR movement of 2024-12-31 moved to customer
        partner_b"."""
        lives = self.lives
        lives.start(offset=-1, advance=False, price=1000)
        lives.change_customer(0)
        self.check_all()

    def test_ticking_prorate_does_not_reprice_history(self):
        """Prorate ticked after a cut period was billed in full: refused
        (the schedule is frozen once billed, rule 9), so an unrelated change
        later leaves the billed period as it stands."""
        lives = self.lives
        lives.start(offset=0, price=10000)
        lives.bill(0)
        lives.pause(0, 10)
        lives.resume(0, 15)
        lives.bill(31)
        lives.toggle_prorate(0)
        lives.change_line(0, 0, 0, 20000, 1)
        lives.bill(0)
        self.check_all()

    def test_customer_change_keeps_the_taxes_a_line_billed(self):
        """A line billed with a tax included in its price keeps that tax when
        the contract changes customer: the new customer's fiscal position
        does not re-tax what was agreed and billed (end it and add it again
        from a date to re-tax it)."""
        lives = self.lives
        life = lives.start(offset=-40, price=12100, tax_included=True)
        lives.bill(0)
        lives.change_customer(0)
        self.assertEqual(
            life.contract.line_ids.tax_ids, self.tax_included, "taxes kept"
        )
        lives.bill(31)
        self.check_all()

    def test_customer_change_taxes_lines_not_billed_for_the_new_customer(self):
        """A line not billed yet follows the new customer's fiscal position,
        as a quotation does: the product's taxes, mapped."""
        lives = self.lives
        life = lives.start(offset=0, advance=False, price=1000, tax_included=True)
        lives.change_customer(0)
        partner = life.contract.partner_id
        self.assertEqual(
            life.contract.line_ids.tax_ids,
            life.contract.fiscal_position_id.map_tax(self.product_a.taxes_id),
            f"the product's taxes mapped for {partner.name}",
        )
        self.check_all()

    def test_machine_credit_of_a_change_then_the_invoice_voided(self):
        """Found by make fuzz: a Change credits part of a billed period, then
        its invoice is cancelled and the period voided. The credit note
        still counts: until the next run the period waits, then it is billed
        again net of it."""
        lives = self.lives
        lives.start(offset=-11, price=1000, usage=(1, 0, 0))
        lives.bill(0)
        lives.change_line(0, 0, 0, 500, 1)
        lives.bill(0)
        lives.cancel_and_void(0, 0)
        self.check_all()
        lives.bill(0)
        self.check_all()

    def test_machine_paused_on_its_first_day(self):
        """Found by make fuzz (a defect of the MRR check itself, which failed
        on a contract without movements): paused the day it starts, its MRR
        movements, if any, say what the rules say."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000)
        lives.pause(0, 0)
        lives.bill(31)
        self.check_all()

    def test_amount_per_period_after_a_change_is_the_next_invoice(self):
        """Defect: Amount per Period adds up the ended line and its successor
        (form, PDF, portal, reminder: about double the next invoice)."""
        lives = self.lives
        lives.start(offset=0, prorate=True, price=10000)
        lives.bill(0)
        lives.bill(31)
        lives.change_line(0, 0, 10, 20000, 1)
        # Old code: "Amount per Period says 300.00, the next invoice (period
        # from 2025-04-01) bills 200.00".
        self.check_all()

    # Each test below: the steps of a shrunk failing example, then every
    # invariant checked; the comment says what the old code broke.

    def test_future_pause_does_not_stop_billing_before_it(self):
        """A pause dated in the future: the periods before it are billed."""
        lives = self.lives
        lives.start(offset=0, price=10000)
        lives.pause(0, 45)
        lives.bill(0)
        lives.bill(31)  # the period from 1 February, before the pause
        self.check_all()

    def test_renew_after_a_close_while_paused_bills_again(self):
        """Closed while paused, then renewed: the renewal bills."""
        lives = self.lives
        lives.start(offset=0, price=10000)
        lives.bill(0)
        lives.pause(0, 5)
        lives.close(0, 10)
        lives.bill(40)
        lives.renew(0, 2)
        lives.bill(31)
        self.check_all()

    def test_close_does_not_credit_a_cancelled_invoice(self):
        """An invoice cancelled and its period voided, then a prorated close:
        the credit is never against the cancelled invoice."""
        lives = self.lives
        lives.start(offset=0, prorate=True, price=10000)
        lives.bill(0)
        lives.cancel_invoice(0, 0)
        lives.close(0, 10)
        lives.bill(0)
        lives.void_period(0, 0)
        lives.bill(0)
        self.check_all()

    def test_rewriting_the_unit_does_not_reprice_billed_periods(self):
        """The same unit written again on a billed line: nothing changes."""
        lives = self.lives
        lives.start(offset=-40, price=12345)
        lives.bill(0)
        lives.rewrite_unit(0, 0)
        lives.bill(31)
        self.check_all()

    def test_forecast_of_a_tax_included_price_is_untaxed(self):
        """242.00 with 21 % included: the forecast says 200.00 untaxed."""
        lives = self.lives
        lives.start(offset=0, price=24200, tax_included=True)
        lives.bill(0)
        self.check_all()

    def test_usage_recorded_before_a_line_change_is_billed(self):
        """Usage in arrears, then Change gives the usage line a new price from
        the first day of the period: the period's records are billed."""
        lives = self.lives
        lives.start(offset=-31, advance=False, usage=(5, 0, 0))
        lives.bill(0)
        lives.record_usage(0, 0, 2000)
        lives.change_line(0, 1, 0, 0, 1)
        lives.bill(31)
        self.check_all()

    def test_catch_up_bills_a_usage_minimum_once(self):
        """A usage line with included units and a minimum billed two periods
        late: each period's usage once."""
        lives = self.lives
        lives.start(offset=-70, advance=False, usage=(1, 100, 2000))
        lives.record_usage(0, -65, 3000)
        lives.bill(0)
        self.check_all()

    def test_mid_period_change_on_a_usage_line_gives_its_minimum_once(self):
        """A Change in the middle of a period on a usage line with included
        units and a minimum: one minimum and the included units once."""
        lives = self.lives
        lives.start(offset=0, advance=False, usage=(1, 100, 2000))
        lives.record_usage(0, 0, 150)
        lives.change_line(0, 1, 15, 1, 1)
        lives.bill(16)
        lives.record_usage(0, 0, 150)
        lives.bill(31)
        self.check_all()

    def test_usage_after_the_close_is_billed_or_refused(self):
        """A record dated in the last period that arrives after the contract
        closed: refused with a clear message, or billed; never left pending."""
        lives = self.lives
        lives.start(offset=0, advance=False, usage=(5, 0, 0), term_days=30)
        lives.bill(31)
        lives.record_usage(0, -10, 100)
        lives.bill(10)
        self.check_all()

    # Shrunk by Hypothesis from the state machine (as printed, then checked
    # with every invariant): the machine's own findings on the old code.

    def test_machine_renew_after_pause_and_close_on_the_same_day(self):
        """Old code: "forecast for the period from 2025-01-01 says 0.00, the
        rules bill 10.00" (the pause never ends: nothing bills, ever)."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000)
        lives.pause(0, 0)
        lives.close(0, 0)
        lives.renew(0, 1)
        self.check_all()

    def test_machine_unit_written_again(self):
        """Old code (before the step needed a billed contract): "forecast for
        the period from 2025-01-01 says 1000.00, the rules bill 10.00"."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000)
        lives.bill(31)
        lives.rewrite_unit(0, 0)
        self.check_all()

    def test_machine_change_from_a_later_period(self):
        """Old code: "Amount per Period says 54.28, the next invoice (period
        from 2025-01-05) bills 49.28" (the ended line and its successor)."""
        lives = self.lives
        lives.start(
            offset=4, advance=False, prorate=True, foreign=True, quantity=2, price=2464
        )
        lives.bill(0)
        lives.bill(11)
        lives.bill(15)
        lives.change_line(0, 0, 30, 500, 1)
        self.check_all()

    def test_machine_line_added_from_the_next_period(self):
        """Old code: "Amount per Period says 15.00, the next invoice (period
        from 2025-01-01) bills 10.00" (a line starting after it counted)."""
        lives = self.lives
        lives.start(offset=0, advance=False, recurrence=("daily", 10), price=1000)
        lives.add_line(0, 10, 500)
        self.check_all()

    def test_each_change_is_told_once_to_the_customer_of_the_day(self):
        """The customer hears of each pause, close, renewal and line change
        once; a close repeated on or after the end already told says nothing
        new; after a change of customer to one without an email address,
        nothing goes to the former customer."""
        lives = self.lives
        lives.start(offset=-40, price=10000, term_days=200)
        lives.bill(0)
        lives.pause(0, 5)
        lives.resume(0, 10)
        lives.change_line(0, 0, 12, 12000, 1)
        lives.close(0, 20)
        lives.close(0, 25)
        lives.bill(2)
        lives.change_customer(0)
        lives.pause(0, 3)
        self.check_all()
        kinds = [kind for kind, _partner in lives.contracts[0].told]
        self.assertEqual(kinds, ["paused", "changed", "closed"])

    def test_a_close_after_a_renewal_is_told(self):
        """Closed (still billing what it owes), then renewed: the renewal is
        a new term, so closing it again, even after its new end, is news to
        the customer."""
        lives = self.lives
        lives.start(offset=-40, advance=False, price=10000, term_days=200)
        lives.bill(0)
        lives.close(0, 5)
        lives.renew(0, 1)
        lives.close(0, 40)
        self.check_all()
        kinds = [kind for kind, _partner in lives.contracts[0].told]
        self.assertEqual(kinds, ["closed", "renewed", "closed"])

    def test_machine_change_after_the_term_of_a_self_renewing_contract(self):
        """Old code: "The line 'product_a' ends before it starts": a contract
        that renews itself has no end (rule 14), so a change dated after its
        current term, before the run renews it, is a change like any other."""
        lives = self.lives
        lives.start(offset=0, advance=False, auto_renew=True, term_days=0, price=1000)
        lives.change_line(0, 0, 1, 500, 1)
        lives.bill(40)
        self.check_all()

    def test_machine_renewal_after_the_term_of_a_contract_billing_a_voided_period(self):
        """Old code: "MRR on 2025-01-02 from the movements 10.00, the rules
        0.00": closed, its invoice cancelled and the period voided (running
        again, to bill it once more), then renewed days after its end date.
        A renewal after the day following the end date does not bill the
        days in between, whatever is left to bill of the old term (rule
        12)."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000)
        lives.close(0, 0)
        lives.bill(2)
        lives.cancel_and_void(0, 0)
        lives.renew(0, 1)
        self.check_all()

    def test_machine_unit_written_again_on_a_line_not_billed_yet(self):
        """Old code: "forecast for the period from 2025-02-01 says 1010.00,
        the rules bill 15.00": a line added at 5.00 and not billed yet had
        its unit written again (the same one, as a form or an integration
        saves it): its price went back to the product's list price. A
        product or unit written unchanged changes nothing, billed or not."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000)
        lives.bill(31)
        lives.add_line(0, 0, 500)
        lives.rewrite_unit(0, 1)
        self.check_all()

    def test_machine_zero_usage_record_is_billed_with_its_period(self):
        """The check, not the code: "usage record ev-1 of 2025-01-18 still to
        bill after invoice INV/2025/00001 carried its period". A record of 0
        units (a meter read with nothing used) is billed with its period
        (its ledger row) with no invoice line of its own: a record is
        pending when no ledger row billed it, not when no invoice line
        carries it."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000, usage=(1, 0, 0))
        lives.bill(17)
        lives.record_usage(0, 0, 0)
        lives.bill(14)
        self.check_all()

    def test_machine_usage_minimum_on_a_cancelled_invoice_waits_for_the_void(self):
        """The check, not the code: "usage of the period from 2025-01-01
        billed 0.00, the rules say 20.00". The invoice carrying a usage
        minimum is cancelled: its period stays billed until a billing
        manager voids it (rule 6), its usage is not settled meanwhile, as
        its fixed lines are not."""
        lives = self.lives
        lives.start(
            offset=0, advance=False, price=1000, term_days=0, usage=(1, 0, 2000)
        )
        lives.bill(1)
        lives.cancel_invoice(0, 0)
        lives.bill(0)
        self.check_all()

    def test_machine_voided_period_bills_its_usage_minimum_again(self):
        """Old code: "usage of the period from 2025-01-01 billed 0.00, the
        rules say 20.00": a period with a usage minimum, its invoice
        cancelled and the period voided after the next was billed, was
        billed again without its minimum (counted as billed before). A
        voided period is billed again whole, exactly once (rule 6)."""
        lives = self.lives
        lives.start(offset=0, advance=False, price=1000, usage=(1, 0, 2000))
        lives.bill(59)
        lives.cancel_and_void(0, 0)
        lives.bill(0)
        self.check_all()

    def test_catch_up_across_a_year_end_is_numbered_in_period_order(self):
        """Odoo numbers the invoices posted together by (date, reference):
        with dates in the customer's format in the reference, a catch-up
        from November to January was numbered January first."""
        lives = self.lives
        lives.start(offset=-70, price=1000)
        lives.bill(30)
        self.check_all()

    def test_machine_close_the_day_after_a_renewal_at_the_run(self):
        """The oracle, not the code: "MRR on 2025-01-02 from the movements
        10.00, the rules 0.00". The run renews a self-renewing contract whose
        end date cuts the period it bills (rule 14) before billing it, so
        a close the next day ends a renewed term, not the old one."""
        lives = self.lives
        lives.start(offset=0, auto_renew=True, term_days=0, price=1000)
        lives.bill(0)
        lives.close(0, 1)
        self.check_all()

    def test_yearly_price_update_of_a_life(self):
        """The harness: a fixed 10 % price update on the anniversary is
        applied by the run, checked against the oracle and told to the
        customer (a long run found the steps crashing on it)."""
        lives = self.lives
        lives.start(offset=0, price=5075, indexation_rate=10)
        lives.bill(0)
        lives.bill(370)
        self.check_all()
        kinds = [kind for kind, _partner in lives.contracts[0].told]
        self.assertEqual(kinds, ["price_update"])

    def test_machine_customer_change_and_pause_on_the_same_day(self):
        """The check, not the code: "MRR movement of 2025-01-01 moved to
        customer partner_a". A contract handed to another customer and
        paused the same day: the former customer churns that day, the new
        one has no MRR yet, so the day's only movement is the former
        customer's churn."""
        lives = self.lives
        lives.start(offset=-1, advance=False, price=1000)
        lives.change_customer(0)
        lives.pause(0, 0)
        self.check_all()

    def test_machine_catch_up_of_a_self_renewing_contract_renews_first(self):
        """Old code: "period from 2025-03-01 billed 0.32, the rules say 10.00
        is owed": a catch-up of a self-renewing contract stopped renewing
        when its end date cut a later due period, not the first one; that
        period was billed cut. Every due period is looked at (rule 14)."""
        lives = self.lives
        lives.start(
            offset=0,
            advance=True,
            auto_renew=True,
            prorate=True,
            term_days=0,
            price=1000,
        )
        lives.bill(59)
        self.check_all()


@tagged("post_install", "-at_install")
class TestContractLivesTargeted(ContractLivesCommon):
    """Defects of the same class that the machine does not reach: a sale
    order's life and the yearly price update (its anniversaries lie beyond
    the few months a machine example lives)."""

    def indexed_contract(self, usage=False):
        lines = [
            Command.create(
                {"product_id": self.product_a.id, "quantity": 1, "price_unit": 1000.0}
            )
        ]
        if usage:
            lines.append(
                Command.create(
                    {
                        "product_id": self.product_calls.id,
                        "quantity_type": "usage",
                        "price_unit": 1.0,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        return self.create_contract(
            start=date(2026, 1, 1),
            lines=lines,
            invoicing_mode="arrears",
            indexation_method="fixed",
            indexation_rate=3.0,
        )

    def test_price_update_bills_the_usage_of_its_first_period(self):
        """A yearly price update on a usage line ends it and starts a copy at
        the new price: the records of the first period at that price are
        billed on its invoice (2,000 units at 1.03), none left to bill."""
        contract = self.indexed_contract(usage=True)
        self.bill(contract, date(2027, 1, 1))  # 2026, old prices
        usage_line = contract.line_ids.filtered(
            lambda line: line.quantity_type == "usage"
        )
        record = self.env["recurring.contract.usage"].create(
            {
                "line_id": usage_line.id,
                "date": date(2027, 1, 15),
                "quantity": 2000,
                "reference": "jan-2027",
            }
        )
        self.bill(contract, date(2027, 1, 1))  # applies the update
        february = self.bill(contract, date(2027, 2, 1))
        self.assertTrue(record.move_line_id, "the record must be billed")
        self.assertEqual(february.amount_untaxed, 1030.0 + 2060.0)
        january = contract.period_ids.filtered(
            lambda p: p.date_start == date(2027, 1, 1)
        )
        self.assertEqual(january.mapped("state"), ["invoiced"])

    def test_amount_per_period_after_a_price_update_is_the_new_price(self):
        """After the yearly update the old line is ended: the Amount per
        Period (form, PDF, portal, reminder) is the next invoice's."""
        contract = self.indexed_contract()
        self.bill(contract, date(2027, 1, 1))
        self.bill(contract, date(2027, 2, 1))
        self.assertEqual(contract._get_forecast_periods(1)[0].amount_untaxed, 1030.0)
        self.assertEqual(contract.amount_untaxed, 1030.0)
