# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Usage lines where they meet other features (README, "Usage lines"): a
line changed from a date (Change, the yearly price update), a catch-up run,
a change in the middle of a period, a contract closed or renewed. Usage
records belong to the contract and to the line and the lines that continue
it; each is billed once, at the price in force on its date, and each period
gets its included units and minimum once."""

from datetime import date

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestUsageSeams(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Usage = cls.env["recurring.contract.usage"]
        cls.product_units = cls.env["product.product"].create(
            {
                "name": "Metered units",
                "list_price": 0.04,
                "taxes_id": [Command.clear()],
                "recurring_ok": True,
                "recurring_quantity_type": "usage",
            }
        )

    @classmethod
    def usage_line(cls, **vals):
        return Command.create(
            {
                "product_id": cls.product_units.id,
                "price_unit": 0.04,
                "usage_included": 0,
                **vals,
            }
        )

    @classmethod
    def fixed_line(cls, price=200.0):
        return Command.create(
            {"product_id": cls.product_a.id, "quantity": 1, "price_unit": price}
        )

    def record(self, line, day, quantity, reference):
        return self.Usage.create(
            {
                "line_id": line.id,
                "date": day,
                "quantity": quantity,
                "reference": reference,
            }
        )

    def usage_lines(self, contract):
        return contract.line_ids.filtered(
            lambda line: line.quantity_type == "usage"
        ).sorted(lambda line: line.date_start or date.min)

    def change(self, line, day, price):
        """The Change dialog: a new price from ``day``; returns the new line."""
        self.env["recurring.contract.line.change.wizard"].create(
            {
                "line_id": line.id,
                "date_effective": day,
                "quantity": line.quantity,
                "price_unit": price,
                "discount": line.discount,
            }
        ).action_change()
        return self.usage_lines(line.contract_id)[-1]

    def usage_amounts(self, moves):
        """The usage billed by each of ``moves``, oldest first."""
        return [
            sum(
                move.invoice_line_ids.filtered("recurring_line_id").mapped(
                    "price_subtotal"
                )
            )
            for move in moves.sorted(lambda m: (m.invoice_date, m.id))
        ]

    # ------------------------------------------------------------------
    # A line changed from a date: its records are not lost
    # ------------------------------------------------------------------

    def test_change_from_the_first_of_the_month_bills_its_records(self):
        """Records of April on the line, then a new price from 1 April: they
        are April's usage, at April's price, on April's invoice."""
        contract = self.create_contract(
            lines=[self.usage_line()], invoicing_mode="arrears"
        )
        old = contract.line_ids
        self.assertFalse(self.bill(contract, date(2026, 4, 1)))  # nothing used
        before = self.record(old, date(2026, 4, 8), 2500, "apr-1")
        new = self.change(old, date(2026, 4, 1), 0.06)
        after = self.record(new, date(2026, 4, 22), 450, "apr-2")
        april = self.bill(contract, date(2026, 5, 1))
        # 2,950 units in April, all at April's price 0.06.
        self.assertEqual(april.amount_untaxed, 177.00)
        row = contract.period_ids.filtered(lambda r: r.date_start == date(2026, 4, 1))
        self.assertEqual(row.state, "invoiced")
        self.assertEqual((before | after).mapped("state"), ["billed", "billed"])
        self.assertEqual((before | after).period_id, row)
        self.assertFalse(
            self.Usage.search_count(
                [("contract_id", "=", contract.id), ("state", "=", "pending")]
            )
        )

    def test_record_sent_to_the_changed_line_after_the_change(self):
        """An integrator still sending to the old line (its id) after the
        change: the record belongs to the line's family, priced on its
        date."""
        contract = self.create_contract(
            lines=[self.usage_line(price_unit=0.10)], invoicing_mode="arrears"
        )
        old = contract.line_ids
        self.record(old, date(2026, 1, 12), 300, "jan")
        new = self.change(old, date(2026, 2, 1), 0.12)
        late_sender = self.record(old, date(2026, 2, 14), 700, "feb-old-id")
        self.record(new, date(2026, 2, 20), 100, "feb-new-id")
        moves = self.bill(contract, date(2026, 3, 1))
        # January 300 x 0.10; February 800 x 0.12.
        self.assertEqual(self.usage_amounts(moves), [30.00, 96.00])
        self.assertEqual(late_sender.state, "billed")
        # A reference is billed once across the family: sent again on the
        # new line, refused by create, ignored by record_usage.
        with self.assertRaisesRegex(ValidationError, "feb-old-id was already sent"):
            self.record(new, date(2026, 2, 14), 700, "feb-old-id")
        ids = self.Usage.record_usage(
            [
                {
                    "line_id": new.id,
                    "date": "2026-02-14",
                    "quantity": 700,
                    "reference": "feb-old-id",
                }
            ]
        )
        self.assertEqual(ids, late_sender.ids)
        self.assertFalse(self.bill(contract, date(2026, 3, 1)))

    def test_yearly_price_update_keeps_the_usage_of_the_anniversary(self):
        """A fixed 4 % update on 1 January 2027, applied by the run that
        bills January in arrears: January's records, sent before, are billed
        at the new price, with the fixed line."""
        contract = self.create_contract(
            lines=[self.fixed_line(200.0), self.usage_line(price_unit=0.25)],
            invoicing_mode="arrears",
            indexation_method="fixed",
            indexation_rate=4.0,
        )
        self.bill(contract, date(2027, 1, 1))  # January to December 2026
        usage_line = self.usage_lines(contract)
        records = self.record(usage_line, date(2027, 1, 9), 1000, "y2-1")
        records |= self.record(usage_line, date(2027, 1, 30), 250, "y2-2")
        january = self.bill(contract, date(2027, 2, 1))
        self.assertEqual(len(contract.indexation_ids), 1)
        # 208.00 (200.00 + 4 %) and 1,250 units at 0.26 (0.25 + 4 %).
        self.assertEqual(january.amount_untaxed, 533.00)
        self.assertEqual(self.usage_amounts(january), [325.00])
        self.assertEqual(set(records.mapped("state")), {"billed"})
        row = january.recurring_period_id
        self.assertEqual((row.state, row.date_start), ("invoiced", date(2027, 1, 1)))

    # ------------------------------------------------------------------
    # A catch-up run: each period's usage and minimum once
    # ------------------------------------------------------------------

    def test_catch_up_bills_each_period_once(self):
        """Included 200, 0.03 a unit, minimum 12.00, in arrears from
        February; first billed on 1 May: February 700 x 0.03 = 21.00, March
        and April the minimum, exactly as three runs would bill them."""
        lines = [
            self.usage_line(price_unit=0.03, usage_included=200, usage_minimum=12.0)
        ]
        late, on_time = (
            self.create_contract(
                start=date(2026, 2, 1), lines=lines, invoicing_mode="arrears"
            )
            for _n in range(2)
        )
        for contract in (late, on_time):
            line = contract.line_ids
            self.record(line, date(2026, 2, 10), 900, f"feb-{contract.id}")
            self.record(line, date(2026, 3, 3), 150, f"mar-{contract.id}")
        caught_up = self.bill(late, date(2026, 5, 1))
        one_by_one = self.env["account.move"]
        for day in (date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)):
            one_by_one |= self.bill(on_time, day)
        self.assertEqual(self.usage_amounts(one_by_one), [21.00, 12.00, 12.00])
        self.assertEqual(self.usage_amounts(caught_up), [21.00, 12.00, 12.00])
        self.assertEqual(
            sorted(caught_up.invoice_line_ids.mapped("recurring_date_start")),
            [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)],
        )
        self.assertEqual(sum(caught_up.mapped("amount_untaxed")), 45.00)

    def test_catch_up_in_advance_bills_each_usage_period_once(self):
        """In advance each invoice carries the previous period's usage: a
        catch-up of three periods carries February's and March's once."""
        contract = self.create_contract(
            start=date(2026, 2, 1),
            lines=[
                self.fixed_line(50.0),
                self.usage_line(price_unit=0.05, usage_minimum=8.0),
            ],
        )
        line = self.usage_lines(contract)
        self.record(line, date(2026, 2, 27), 400, "adv-feb")  # 20.00
        moves = self.bill(contract, date(2026, 4, 1))
        # February: no usage yet; March: February's 20.00; April: March's
        # minimum 8.00.
        self.assertEqual(
            moves.sorted("invoice_date").mapped("amount_untaxed"), [50.0, 70.0, 58.0]
        )

    # ------------------------------------------------------------------
    # A change in the middle of a period: the period's allowance once
    # ------------------------------------------------------------------

    def test_mid_period_change_gives_included_units_and_minimum_once(self):
        """0.02 a unit, 500 included, minimum 15.00; from 16 June 0.03.
        June: 400 units before, 900 after. The 500 included are June's, once,
        taken by the first units used: 400 + 100 free, 800 x 0.03 = 24.00."""
        contract = self.create_contract(
            lines=[
                self.usage_line(price_unit=0.02, usage_included=500, usage_minimum=15.0)
            ],
            invoicing_mode="arrears",
        )
        self.bill(contract, date(2026, 6, 1))
        old = contract.line_ids
        self.record(old, date(2026, 6, 5), 400, "jun-1")
        new = self.change(old, date(2026, 6, 16), 0.03)
        self.record(new, date(2026, 6, 25), 900, "jun-2")
        june = self.bill(contract, date(2026, 7, 1))
        self.assertEqual(self.usage_amounts(june), [24.00])
        self.assertEqual(june.invoice_line_ids.recurring_line_id, new)
        self.assertIn("1,300.00 used, 500.00 included", june.invoice_line_ids.name)

    def test_mid_period_change_with_little_usage_bills_one_minimum(self):
        contract = self.create_contract(
            lines=[
                self.usage_line(price_unit=0.02, usage_included=500, usage_minimum=15.0)
            ],
            invoicing_mode="arrears",
        )
        old = contract.line_ids
        self.record(old, date(2026, 1, 5), 100, "little-1")
        new = self.change(old, date(2026, 1, 20), 0.03)
        self.record(new, date(2026, 1, 28), 100, "little-2")
        january = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(january.amount_untaxed, 15.00)
        # A late record of January's first half, rated with the whole
        # period: 100 + 1,200 + 100, the first 500 free, 800 of the 10th at
        # 0.02 and 100 of the 28th at 0.03 = 19.00, of which 15.00 billed.
        self.record(old, date(2026, 1, 10), 1200, "little-late")
        february = self.bill(contract, date(2026, 3, 1))
        lines = february.invoice_line_ids.sorted("recurring_date_start")
        self.assertEqual(lines.mapped("price_subtotal"), [4.00, 15.00])
        self.assertEqual(lines.recurring_line_id, new)

    # ------------------------------------------------------------------
    # A closed contract: no record accepted that nothing would bill
    # ------------------------------------------------------------------

    def test_record_after_the_contract_closed_is_refused(self):
        contract = self.create_contract(
            lines=[self.usage_line(price_unit=0.05)],
            invoicing_mode="arrears",
            date_end=date(2026, 3, 31),
        )
        line = contract.line_ids
        self.record(line, date(2026, 3, 10), 200, "mar")
        moves = self.bill(contract, date(2026, 4, 1))
        self.assertEqual(self.usage_amounts(moves), [10.00])
        self.assertEqual(contract.state, "closed")
        with (
            self.assertRaisesRegex(ValidationError, "is closed"),
            self.env.cr.savepoint(),
        ):
            self.record(line, date(2026, 3, 28), 60, "mar-after-close")
        self.assertFalse(
            self.Usage.search_count(
                [("line_id", "=", line.id), ("state", "=", "pending")]
            )
        )
        # Renewed, it bills the record on its next invoice, as a late one.
        contract.action_renew(months=1, date_renew=date(2026, 4, 1))
        late = self.record(line, date(2026, 3, 28), 60, "mar-after-close")
        april = self.bill(contract, date(2026, 5, 1))
        self.assertEqual(self.usage_amounts(april), [3.00])
        self.assertIn(
            "received after the period was billed", april.invoice_line_ids.name
        )
        self.assertEqual(late.move_line_id.move_id, april)

    def test_close_with_a_late_record_pending_bills_it_first(self):
        """Closed on the last day billed while a late record waits: the
        contract stays running until a final usage invoice bills it."""
        contract = self.create_contract(
            lines=[self.usage_line(price_unit=0.05)], invoicing_mode="arrears"
        )
        line = contract.line_ids
        self.record(line, date(2026, 2, 10), 100, "feb")
        self.bill(contract, date(2026, 3, 1))
        late = self.record(line, date(2026, 2, 26), 40, "feb-late")
        contract.action_close(date(2026, 2, 28))
        self.assertEqual(contract.state, "running")
        final = self.bill(contract, date(2026, 3, 2))
        self.assertEqual(self.usage_amounts(final), [2.00])
        self.assertEqual(late.move_line_id.move_id, final)
        self.assertEqual(contract.state, "closed")

    # ------------------------------------------------------------------
    # A pause: a period wholly paused bills no minimum
    # ------------------------------------------------------------------

    def test_period_wholly_paused_bills_no_minimum(self):
        """Minimum 9.00 in arrears, paused from 1 March to 30 April: March
        and April bill nothing (skipped), May its minimum; a record of the
        pause is still billed (it was used)."""
        contract = self.create_contract(
            lines=[self.usage_line(price_unit=0.05, usage_minimum=9.0)],
            invoicing_mode="arrears",
        )
        first = self.bill(contract, date(2026, 2, 1))
        first |= self.bill(contract, date(2026, 3, 1))
        self.assertEqual(self.usage_amounts(first), [9.00, 9.00])
        contract.action_pause(date(2026, 3, 1))
        contract.action_resume(date(2026, 5, 1))
        self.record(contract.line_ids, date(2026, 5, 20), 300, "may")
        moves = self.bill(contract, date(2026, 6, 1))
        self.assertEqual(self.usage_amounts(moves), [15.00])  # May: 300 x 0.05
        rows = contract.period_ids.sorted("period_index")
        self.assertEqual(rows.mapped("state")[2:], ["skipped", "skipped", "invoiced"])
