# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import date

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.recurring_billing.tools import compat


@contextmanager
def registry_test_mode(case):
    """New cursors share the test's transaction (their commits become
    savepoints): how Odoo's own tests run a scheduled action that commits
    (19.0's ``enter_registry_test_mode``, the registry's test mode on 18.0)."""
    if hasattr(case, "enter_registry_test_mode"):
        with case.enter_registry_test_mode():
            yield
        return
    case.registry.enter_test_mode(case.cr)
    try:
        yield
    finally:
        case.registry.leave_test_mode()


def run_invoice_sending(case):
    """Run account's scheduled action that renders and sends the invoices
    queued for sending, in the test's transaction."""
    with registry_test_mode(case):
        case.env.ref("account.ir_cron_account_move_send").method_direct_trigger()


def create_tax_mapping(env, name, source_tax, dest_tax):
    """A fiscal position replacing ``source_tax`` by ``dest_tax``: a mapping
    line on 18.0, the replacing tax's own fields on 19.0."""
    if compat.ODOO_MAJOR < 19:
        return env["account.fiscal.position"].create(
            {
                "name": name,
                "tax_ids": [
                    Command.create(
                        {"tax_src_id": source_tax.id, "tax_dest_id": dest_tax.id}
                    )
                ],
            }
        )
    position = env["account.fiscal.position"].create({"name": name})
    dest_tax.write(
        {
            "fiscal_position_ids": [Command.link(position.id)],
            "original_tax_ids": [Command.link(source_tax.id)],
        }
    )
    return position


class RecurringBillingCommon(AccountTestInvoicingCommon):
    """Contracts on top of Odoo's own invoicing fixtures: a chart of accounts,
    partners, products and taxes, with no dependence on demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Contract = cls.env["recurring.contract"]
        cls.journal = cls.company_data["default_journal_sale"]
        cls.partner_a.email = "partner_a@example.com"
        cls.partner_a.lang = "en_US"
        # Contracts come from sales orders too: the test user sells as well
        # (19.0's invoicing fixtures give it accounting groups only).
        cls.grant_groups("sales_team.group_sale_salesman_all_leads")

    @classmethod
    def grant_groups(cls, *xmlids):
        """Add the groups ``xmlids`` to the test user."""
        cls.env.user.write(
            {
                compat.USER_GROUPS_FIELD: [
                    Command.link(cls.env.ref(xmlid).id) for xmlid in xmlids
                ]
            }
        )

    @classmethod
    def create_contract(cls, start=date(2026, 1, 1), lines=None, start_it=True, **vals):
        """A running monthly contract of one product_a line at 100.0."""
        contract = cls.Contract.create(
            {
                "partner_id": cls.partner_a.id,
                "journal_id": cls.journal.id,
                "date_start": start,
                "line_ids": lines
                or [
                    Command.create(
                        {
                            "product_id": cls.product_a.id,
                            "quantity": 1,
                            "price_unit": 100.0,
                        }
                    )
                ],
                **vals,
            }
        )
        if start_it:
            contract.action_start()
        return contract

    def bill(self, contracts, day):
        """Bill ``contracts`` for the run date ``day``."""
        return contracts._generate_invoices(date_ref=day)

    def assertPeriods(self, contract, expected):
        """``expected``: [(date_start, date_end)] of the ledger, in order."""
        self.assertEqual(
            [
                (p.date_start, p.date_end)
                for p in contract.period_ids.sorted("period_index")
            ],
            expected,
        )
