# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Usage lines (README, "Usage lines"): what was used in a period, billed in
arrears, exactly once, with exact amounts; records sent twice, imported with
Odoo's own import, read by the portal user of the contract only."""

import base64
from datetime import date

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import RecurringBillingCommon


@tagged("post_install", "-at_install")
class TestUsage(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Usage = cls.env["recurring.contract.usage"]
        cls.product_calls = cls.env["product.product"].create(
            {
                "name": "API calls",
                "list_price": 0.01,
                "taxes_id": [Command.clear()],
                "recurring_ok": True,
                "recurring_quantity_type": "usage",
            }
        )

    @classmethod
    def usage_line(cls, **vals):
        return Command.create(
            {
                "product_id": cls.product_calls.id,
                "price_unit": 0.01,
                "usage_included": 1000,
                **vals,
            }
        )

    @classmethod
    def fixed_line(cls, price=100.0):
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

    def usage_of(self, contract):
        return contract.line_ids.filtered(lambda line: line.quantity_type == "usage")

    # ------------------------------------------------------------------
    # Lines: product default, template
    # ------------------------------------------------------------------

    def test_usage_type_from_product_and_template(self):
        contract = self.create_contract(lines=[self.usage_line()], start_it=False)
        line = contract.line_ids
        self.assertEqual(line.quantity_type, "usage")
        self.assertEqual(line.usage_aggregation, "sum")
        # A usage line has no fixed amount per period.
        self.assertEqual(line.price_subtotal, 0.0)
        self.assertEqual(contract.amount_untaxed, 0.0)
        template = self.env["recurring.contract.template"].create(
            {
                "name": "Metered",
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_calls.id,
                            "price_unit": 0.02,
                            "usage_aggregation": "max",
                            "usage_included": 5,
                            "usage_minimum": 10.0,
                        }
                    )
                ],
            }
        )
        vals = template.line_ids._prepare_contract_line_vals()
        self.assertEqual(
            (vals["quantity_type"], vals["usage_aggregation"], vals["usage_included"]),
            ("usage", "max", 5),
        )
        self.assertEqual(vals["usage_minimum"], 10.0)

    def test_bad_tiers_and_bad_records_are_refused(self):
        contract = self.create_contract(lines=[self.usage_line()])
        line = contract.line_ids
        with self.assertRaisesRegex(ValidationError, "not valid at line 2"):
            line.write(
                {"usage_price_mode": "graduated", "usage_tiers": "10: 1\n5: 2\n*: 1"}
            )
        with self.assertRaisesRegex(ValidationError, "give its tiers"):
            line.write({"usage_price_mode": "volume", "usage_tiers": False})
        with self.assertRaisesRegex(ValidationError, "outside the dates"):
            self.record(line, date(2025, 12, 31), 1, "before-start")
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.record(line, date(2026, 1, 2), -1, "negative")
        fixed = self.create_contract()
        with self.assertRaisesRegex(ValidationError, "not billed on usage"):
            self.record(fixed.line_ids, date(2026, 1, 2), 1, "on-fixed")

    # ------------------------------------------------------------------
    # Rating on invoices: included units, per unit, tiers, minimum
    # ------------------------------------------------------------------

    def test_arrears_included_units_and_unit_price(self):
        """1,500 calls, 1,000 free, 0.01 a call: 5.00 on January's own
        invoice (arrears), quantity 500 at 0.01, the label says it."""
        contract = self.create_contract(
            lines=[self.usage_line()], invoicing_mode="arrears"
        )
        line = contract.line_ids
        first = self.record(line, date(2026, 1, 3), 1000, "evt-1")
        second = self.record(line, date(2026, 1, 31), 500, "evt-2")
        move = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(move.amount_untaxed, 5.00)
        inv_line = move.invoice_line_ids
        self.assertEqual((inv_line.quantity, inv_line.price_unit), (500, 0.01))
        self.assertIn(
            "Usage 01/01/2026 - 01/31/2026: 1,500.00 used, 1,000.00 included",
            inv_line.name,
        )
        self.assertEqual(
            (inv_line.recurring_date_start, inv_line.recurring_date_end),
            (date(2026, 1, 1), date(2026, 1, 31)),
        )
        # The ledger: which invoice line billed which record.
        self.assertEqual((first | second).move_line_id, inv_line)
        self.assertEqual((first | second).period_id, move.recurring_period_id)
        self.assertEqual(set((first | second).mapped("state")), {"billed"})
        # Billed: frozen, and billed once.
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            first.quantity = 2000
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            second.unlink()
        self.assertFalse(self.bill(contract, date(2026, 2, 1)))

    def test_advance_bills_previous_period_usage(self):
        """In advance, the invoice of February carries January's usage."""
        contract = self.create_contract(lines=[self.fixed_line(), self.usage_line()])
        january = self.bill(contract, date(2026, 1, 1))
        self.assertEqual(january.amount_untaxed, 100.00)  # no usage yet
        self.assertEqual(len(january.invoice_line_ids), 1)
        line = self.usage_of(contract)
        self.record(line, date(2026, 1, 15), 1500, "jan")
        self.record(line, date(2026, 2, 1), 4000, "feb")  # February's: next one
        february = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(february.amount_untaxed, 105.00)
        usage_line = february.invoice_line_ids.filtered("recurring_line_id")
        self.assertEqual(usage_line.price_subtotal, 5.00)
        self.assertEqual(usage_line.recurring_date_start, date(2026, 1, 1))
        march = self.bill(contract, date(2026, 3, 1))
        self.assertEqual(march.amount_untaxed, 130.00)  # 3,000 x 0.01

    def test_graduated_and_volume_tiers_on_the_invoice(self):
        tiers = "1000: 0.10\n5000: 0.08\n*: 0.05"
        contract = self.create_contract(
            lines=[
                self.usage_line(
                    usage_included=0, usage_price_mode="graduated", usage_tiers=tiers
                ),
                self.usage_line(
                    usage_included=0, usage_price_mode="volume", usage_tiers=tiers
                ),
            ],
            invoicing_mode="arrears",
        )
        graduated, volume = contract.line_ids
        self.record(graduated, date(2026, 1, 10), 6000, "g")
        self.record(volume, date(2026, 1, 10), 6000, "v")
        move = self.bill(contract, date(2026, 2, 1))
        amounts = move.invoice_line_ids.sorted("sequence").mapped("price_subtotal")
        # 1,000 x 0.10 + 4,000 x 0.08 + 1,000 x 0.05; all 6,000 at 0.05.
        self.assertEqual(sorted(amounts), [300.00, 470.00])
        self.assertEqual(move.amount_untaxed, 770.00)

    def test_minimum_charge_and_zero_usage(self):
        contract = self.create_contract(
            lines=[self.usage_line(usage_minimum=20.0)], invoicing_mode="arrears"
        )
        january = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(january.amount_untaxed, 20.00)  # nothing used
        self.assertIn("0.00 used", january.invoice_line_ids.name)
        self.record(contract.line_ids, date(2026, 2, 5), 4000, "feb")
        february = self.bill(contract, date(2026, 3, 1))
        self.assertEqual(february.amount_untaxed, 30.00)  # above the minimum

    def test_zero_usage_without_minimum_writes_no_invoice(self):
        """A usage-only contract that used nothing: no invoice, no empty
        line; the period is in the ledger (skipped), never retried."""
        contract = self.create_contract(
            lines=[self.usage_line()], invoicing_mode="arrears"
        )
        line = contract.line_ids
        free = self.record(line, date(2026, 1, 9), 800, "free")  # within the free
        self.assertFalse(self.bill(contract, date(2026, 2, 1)))
        row = contract.period_ids
        self.assertEqual((row.state, row.date_start), ("skipped", date(2026, 1, 1)))
        self.assertEqual(free.period_id, row)  # counted, not billed again
        self.assertFalse(free.move_line_id)
        self.assertEqual(contract.next_invoice_date, date(2026, 3, 1))
        self.record(line, date(2026, 2, 9), 1200, "paid")
        self.assertEqual(self.bill(contract, date(2026, 3, 1)).amount_untaxed, 2.00)

    def test_max_and_last_aggregation(self):
        contract = self.create_contract(
            lines=[
                self.usage_line(
                    usage_aggregation="max", usage_included=5, price_unit=10
                ),
                self.usage_line(
                    usage_aggregation="last", usage_included=0, price_unit=1
                ),
            ],
            invoicing_mode="arrears",
        )
        seats, meter = contract.line_ids
        for day, qty, ref in ((3, 8, "s1"), (10, 12, "s2"), (20, 9, "s3")):
            self.record(seats, date(2026, 1, day), qty, ref)
        for day, qty, ref in ((31, 420, "m3"), (3, 100, "m1"), (20, 350, "m2")):
            self.record(meter, date(2026, 1, day), qty, ref)
        move = self.bill(contract, date(2026, 2, 1))
        by_line = {
            line.recurring_line_id: line.price_subtotal
            for line in move.invoice_line_ids
        }
        self.assertEqual(by_line[seats], 70.00)  # peak 12, 5 free: 7 x 10
        self.assertEqual(by_line[meter], 420.00)  # last reading, 31 January

    # ------------------------------------------------------------------
    # Late records, voided periods, the end of an advance contract
    # ------------------------------------------------------------------

    def test_late_record_billed_once_on_the_next_invoice(self):
        contract = self.create_contract(
            lines=[self.usage_line()], invoicing_mode="arrears"
        )
        line = contract.line_ids
        self.record(line, date(2026, 1, 10), 1200, "jan-1")
        january = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(january.amount_untaxed, 2.00)
        # Dated in January, received after January was billed.
        late = self.record(line, date(2026, 1, 30), 300, "jan-late")
        self.record(line, date(2026, 2, 10), 1100, "feb-1")
        february = self.bill(contract, date(2026, 3, 1))
        lines = february.invoice_line_ids.sorted("recurring_date_start")
        # January again: 1,500 is 5.00, of which 2.00 billed; February 1.00.
        self.assertEqual(lines.mapped("price_subtotal"), [3.00, 1.00])
        self.assertIn("received after the period was billed", lines[0].name)
        self.assertEqual(lines[0].recurring_date_start, date(2026, 1, 1))
        self.assertEqual(late.move_line_id, lines[0])
        self.assertEqual(february.amount_untaxed, 4.00)
        self.assertFalse(self.bill(contract, date(2026, 3, 1)))
        march = self.bill(contract, date(2026, 4, 1))
        self.assertFalse(march)  # nothing used in March: nothing billed again

    def test_voided_period_bills_its_usage_again(self):
        contract = self.create_contract(
            lines=[self.fixed_line(), self.usage_line()], invoicing_mode="arrears"
        )
        record = self.record(self.usage_of(contract), date(2026, 1, 10), 1500, "x")
        move = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(move.amount_untaxed, 105.00)
        move.button_cancel()
        move.recurring_period_id.action_void()
        self.assertFalse(record.period_id)
        again = self.bill(contract, date(2026, 2, 1))
        self.assertEqual(again.amount_untaxed, 105.00)
        self.assertEqual(record.move_line_id.move_id, again)

    def test_advance_contract_bills_its_last_usage_after_the_end(self):
        """Chosen: the last period of an advance contract has no next invoice
        to carry its usage, so a final usage invoice does, the day after the
        end date; the contract closes after it."""
        contract = self.create_contract(
            lines=[self.fixed_line(), self.usage_line()], date_end=date(2026, 2, 28)
        )
        line = self.usage_of(contract)
        self.bill(contract, date(2026, 2, 1))
        self.assertEqual(contract.state, "running")
        self.assertEqual(contract.next_invoice_date, date(2026, 3, 1))
        self.record(line, date(2026, 2, 27), 3000, "last")
        self.assertFalse(self.bill(contract, date(2026, 2, 28)))
        final = self.bill(contract, date(2026, 3, 1))
        self.assertEqual(final.amount_untaxed, 20.00)  # usage only: 2,000 x 0.01
        self.assertEqual(final.recurring_period_id.kind, "usage")
        self.assertEqual(contract.state, "closed")
        self.assertFalse(self.bill(contract, date(2026, 4, 1)))

    def test_advance_contract_closed_early_bills_its_last_usage(self):
        contract = self.create_contract(lines=[self.fixed_line(), self.usage_line()])
        self.bill(contract, date(2026, 1, 1))
        self.record(self.usage_of(contract), date(2026, 1, 10), 1500, "before")
        contract.action_close(date(2026, 1, 15))
        self.assertEqual(contract.state, "running")  # its usage is owed
        self.assertEqual(contract.next_invoice_date, date(2026, 1, 16))
        final = self.bill(contract, date(2026, 1, 16))
        self.assertEqual(final.amount_untaxed, 5.00)
        line = final.invoice_line_ids
        self.assertEqual(
            (line.recurring_date_start, line.recurring_date_end),
            (date(2026, 1, 1), date(2026, 1, 15)),
        )
        self.assertEqual(contract.state, "closed")

    def test_advance_contract_without_last_usage_closes_quietly(self):
        contract = self.create_contract(
            lines=[self.fixed_line(), self.usage_line()], date_end=date(2026, 1, 31)
        )
        self.bill(contract, date(2026, 1, 1))
        self.assertEqual(contract.state, "running")
        self.assertFalse(self.bill(contract, date(2026, 2, 1)))
        self.assertEqual(contract.period_ids.mapped("kind"), ["period", "usage"])
        self.assertEqual(contract.period_ids[1].state, "skipped")
        self.assertEqual(contract.state, "closed")

    # ------------------------------------------------------------------
    # Duplicates, import, RPC-friendly recording
    # ------------------------------------------------------------------

    def test_duplicate_reference_refused_or_ignored(self):
        contract = self.create_contract(lines=[self.usage_line()])
        line = contract.line_ids
        original = self.record(line, date(2026, 1, 5), 10, "evt-42")
        with self.assertRaisesRegex(ValidationError, "evt-42 was already sent"):
            self.record(line, date(2026, 1, 6), 99, "evt-42")
        # Under concurrency the unique index decides (the check above did
        # not see the other transaction's record): a direct insert.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO recurring_contract_usage "
                    "(line_id, date, quantity, reference) "
                    "VALUES (%s, '2026-01-06', 99, 'evt-42')",
                    [line.id],
                )
        ids = self.Usage.record_usage(
            [
                {
                    "line_id": line.id,
                    "date": "2026-01-06",
                    "quantity": 99,
                    "reference": "evt-42",
                },
                {
                    "line_id": line.id,
                    "date": "2026-01-07",
                    "quantity": 7,
                    "reference": "evt-43",
                },
            ]
        )
        self.assertEqual(ids[0], original.id)
        self.assertEqual(self.Usage.browse(ids[0]).quantity, 10)  # kept as is
        self.assertEqual(self.Usage.browse(ids[1]).quantity, 7)
        self.assertEqual(len(line.usage_ids), 2)

    def test_import_csv_through_odoo_import(self):
        contract = self.create_contract(
            lines=[self.usage_line()], invoicing_mode="arrears"
        )
        line = contract.line_ids
        line_xmlid = f"__test__.usage_line_{line.id}"
        self.env["ir.model.data"].create(
            {
                "module": "__test__",
                "name": f"usage_line_{line.id}",
                "model": line._name,
                "res_id": line.id,
            }
        )
        csv = (
            "line_id/id,date,quantity,reference\n"
            f"{line_xmlid},2026-01-05,900,imp-1\n"
            f"{line_xmlid},2026-01-20,600,imp-2\n"
        )

        def run_import(content):
            wizard = self.env["base_import.import"].create(
                {
                    "res_model": "recurring.contract.usage",
                    "file": base64.b64decode(base64.b64encode(content.encode())),
                    "file_name": "usage.csv",
                    "file_type": "text/csv",
                }
            )
            return wizard.execute_import(
                ["line_id/id", "date", "quantity", "reference"],
                ["line_id/id", "date", "quantity", "reference"],
                {
                    "quoting": '"',
                    "separator": ",",
                    "has_headers": True,
                    "date_format": "%Y-%m-%d",
                    "float_thousand_separator": ",",
                    "float_decimal_separator": ".",
                },
            )

        result = run_import(csv)
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(len(result["ids"]), 2)
        self.assertEqual(sorted(line.usage_ids.mapped("quantity")), [600, 900])
        # The same file again: refused, nothing stored twice.
        with mute_logger("odoo.sql_db"):
            again = run_import(csv)
        self.assertTrue(again["messages"])
        self.assertIn("already sent", again["messages"][0]["message"])
        self.assertEqual(len(line.usage_ids), 2)
        self.assertEqual(self.bill(contract, date(2026, 2, 1)).amount_untaxed, 5.00)

    # ------------------------------------------------------------------
    # Visible: contract form (current period so far), portal user
    # ------------------------------------------------------------------

    def test_current_period_usage_and_cost_so_far(self):
        contract = self.create_contract(lines=[self.usage_line(usage_minimum=1.0)])
        line = contract.line_ids
        self.record(line, date(2026, 3, 2), 1200, "m1")
        self.record(line, date(2026, 3, 20), 300, "m2")
        self.record(line, date(2026, 2, 20), 5000, "feb")  # another period
        line = line.with_context(date_usage=date(2026, 3, 25))
        self.assertEqual(line.usage_current_quantity, 1500)
        self.assertEqual(line.usage_current_amount, 5.00)
        self.assertEqual(contract.usage_line_ids, line)
        self.assertEqual(contract.usage_count, 3)

    def test_portal_user_reads_only_own_contract_usage(self):
        mine = self.create_contract(lines=[self.usage_line()])
        other = self.create_contract(
            lines=[self.usage_line()], partner_id=self.partner_b.id
        )
        own = self.record(mine.line_ids, date(2026, 1, 5), 10, "p1")
        theirs = self.record(other.line_ids, date(2026, 1, 5), 10, "p2")
        portal = new_test_user(
            self.env,
            login="usage_portal",
            groups="base.group_portal",
            partner_id=self.partner_a.id,
        )
        Usage = self.Usage.with_user(portal)
        self.assertEqual(Usage.search([]), own)
        self.assertEqual(own.with_user(portal).quantity, 10)
        with self.assertRaises(AccessError):
            theirs.with_user(portal).quantity  # noqa: B018
        with self.assertRaises(AccessError):
            Usage.create(
                {
                    "line_id": mine.line_ids.id,
                    "date": date(2026, 1, 6),
                    "quantity": 1,
                    "reference": "p3",
                }
            )

    def test_batch_reads_usage_with_one_query(self):
        contracts = self.Contract
        for n in range(4):
            contract = self.create_contract(
                lines=[self.fixed_line(), self.usage_line()],
                invoicing_mode="arrears",
            )
            self.record(
                self.usage_of(contract), date(2026, 1, 9), 1000 + n * 100, f"b{n}"
            )
            contracts |= contract
        queries = []
        Usage = type(self.Usage)
        original = Usage._read_batch_usage

        def counting(model, batch):
            before = model.env.cr.sql_log_count
            result = original(model, batch)
            queries.append(model.env.cr.sql_log_count - before)
            return result

        Usage._read_batch_usage = counting
        try:
            moves = self.bill(contracts, date(2026, 2, 1))
        finally:
            Usage._read_batch_usage = original
        self.assertEqual(queries, [1])  # one grouped query for the four
        self.assertEqual(
            sorted(moves.mapped("amount_untaxed")), [100.00, 101.00, 102.00, 103.00]
        )
