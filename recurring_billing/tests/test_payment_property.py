# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Getting paid, as a property: random sequences of what happens to two
contracts (pay by hand, charge, fail, retry, reverse, archive a card, change
customer, close with a credit, a worker killed after saving a charge), each
in a savepoint rolled back afterwards. After every step:

- every charge moves at most what its invoice owed when it was made, net of
  the open credit notes of the same contract and period (never twice,
  never more);
- over the whole sequence, the payments standing on an invoice (charges and
  payments by hand, neither cancelled nor reset to draft) never exceed its
  total net of the credit notes reconciled with it;
- no transaction is ever made on a token of another commercial partner than
  its invoice's;
- after a charging run, every open invoice of a contract with a usable token
  of its customer is charged, scheduled for a retry, or given up (flagged).
"""

import contextlib
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_payment_safety import PaymentSafetyCommon

OPERATIONS = (
    "advance",
    "charge",
    "fail",
    "heal",
    "pay",
    "reverse",
    "archive",
    "new_card",
    "change_customer",
    "close",
    "kill",
)
SEQUENCES = st.lists(
    st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 1)),
    min_size=3,
    max_size=8,
)
OPEN = ("not_paid", "partial")


class TestPaymentProperty(PaymentSafetyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A killed worker's charge is sent again by the very next run.
        cls.env["ir.config_parameter"].set_param(
            "recurring_billing.charge_resend_minutes", 0
        )
        cls.service = cls.env["recurring.payment.service"]

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(SEQUENCES)
    def test_never_the_wrong_card_never_more_than_owed(self, steps):
        with contextlib.closing(self.env.cr.savepoint()):
            self.world = self._make_world()
            for step, index in steps:
                getattr(self, f"_step_{step}")(self.world["contracts"][index])
                self._check_tokens()
                self._check_never_overpaid()

    # -------------------------------------------------------------------------
    # The world and its steps
    # -------------------------------------------------------------------------

    def _make_world(self):
        self.cards = 0
        contracts = self.env["recurring.contract"]
        for partner in (self.partner_a, self.partner_b):
            contracts |= self.create_contract(
                partner_id=partner.id,
                prorate=True,
                payment_token_id=self._new_token(partner).id,
            )
        world = {"contracts": contracts, "day": date(2026, 1, 1)}
        self.bill(contracts, world["day"])
        return world

    def _new_token(self, partner):
        self.cards += 1
        return self.create_token(partner, "done", details=f"{self.cards:04d}")

    def _invoices(self, move_type="out_invoice"):
        return (
            self.env["account.move"]
            .search(
                [
                    ("recurring_contract_id", "in", self.world["contracts"].ids),
                    ("move_type", "=", move_type),
                    ("state", "=", "posted"),
                ]
            )
            .sorted("id")
        )

    def _step_advance(self, contract):
        self.world["day"] += timedelta(days=9)
        running = self.world["contracts"].filtered(lambda c: c.state == "running")
        if running:
            self.bill(running, self.world["day"])

    def _step_charge(self, contract):
        owed = {invoice: self._owed(invoice) for invoice in self._invoices()}
        before = self._done_charges()
        self.charge(self.world["day"])
        charged = {}
        for tx in self._done_charges() - before:
            for invoice in tx.invoice_ids:
                charged[invoice] = charged.get(invoice, 0.0) + tx.amount
        for invoice, amount in charged.items():
            self.assertLessEqual(
                round(amount, 2),
                round(owed.get(invoice, 0.0), 2),
                f"{invoice.name} charged {amount}, owed {owed.get(invoice)}",
            )
        self._check_nothing_left_behind()

    def _step_fail(self, contract):
        contract.payment_token_id.sudo().demo_simulated_state = "error"

    def _step_heal(self, contract):
        contract.payment_token_id.sudo().demo_simulated_state = "done"

    def _step_pay(self, contract):
        invoice = self._invoices().filtered(
            lambda m: m.recurring_contract_id == contract and m.payment_state in OPEN
        )[:1]
        if invoice:
            self.register_payment(invoice, self.world["day"])

    def _step_reverse(self, contract):
        tx = self._done_charges().filtered(
            lambda t: t.invoice_ids.recurring_contract_id == contract
            and t.payment_id.state not in ("draft", "canceled")
        )[-1:]
        if tx:
            tx.payment_id.action_draft()
            tx.payment_id.action_cancel()

    def _step_archive(self, contract):
        if contract.payment_token_id:
            contract.payment_token_id.sudo().action_archive()

    def _step_new_card(self, contract):
        if contract.state != "closed":
            contract.payment_token_id = self._new_token(contract.partner_id)

    def _step_change_customer(self, contract):
        if contract.state == "closed":
            return
        other = (self.partner_a | self.partner_b) - contract.partner_id
        contract.write({"partner_id": other.id, "payment_token_id": False})

    def _step_close(self, contract):
        if contract.state == "running":
            contract.action_close(date_close=self.world["day"])
            self.bill(contract, self.world["day"])

    def _step_kill(self, contract):
        """A worker saved the charge of an invoice and died before the
        provider answered: a draft transaction, sent again by the next run."""
        invoice = self._invoices().filtered(
            lambda m: m.recurring_contract_id == contract
            and m.payment_state in OPEN
            and m.recurring_charge_state in (False, "failing")
            and not m.recurring_payment_attempt_ids.filtered(
                lambda a: a.state in ("pending", "done")
            )
        )[:1]
        if invoice and contract.payment_token_id:
            self.service._create_attempt(invoice, self.world["day"])

    # -------------------------------------------------------------------------
    # What must hold
    # -------------------------------------------------------------------------

    def _contract_ids(self):
        return self.world["contracts"].ids

    def _done_charges(self):
        return (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("operation", "=", "offline"),
                    ("state", "=", "done"),
                    ("invoice_ids.recurring_contract_id", "in", self._contract_ids()),
                ],
                order="id",
            )
        )

    def _owed(self, invoice):
        """What ``invoice`` owes now, net of the open credit notes of the same
        contract, period and customer."""
        if invoice.payment_state not in OPEN:
            return 0.0
        credits = self._invoices("out_refund").filtered(
            lambda m: m.recurring_contract_id == invoice.recurring_contract_id
            and m.recurring_period_id.date_start
            == invoice.recurring_period_id.date_start
            and m.commercial_partner_id == invoice.commercial_partner_id
        )
        credited = sum(credits.mapped("amount_residual"))
        return max(0.0, invoice.amount_residual - credited)

    def _check_tokens(self):
        transactions = (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("token_id", "!=", False),
                    ("invoice_ids.recurring_contract_id", "in", self._contract_ids()),
                ]
            )
        )
        for tx in transactions:
            for invoice in tx.invoice_ids:
                self.assertEqual(
                    tx.token_id.partner_id.commercial_partner_id,
                    invoice.commercial_partner_id,
                    f"{tx.reference}: a token of another customer",
                )

    def _check_never_overpaid(self):
        Payment = self.env["account.payment"].sudo()
        for invoice in self._invoices():
            partials, _exchange = invoice._get_reconciled_invoices_partials()
            credited = sum(
                amount
                for _partial, amount, line in partials
                if line.move_id.move_type == "out_refund"
            )
            standing = Payment.search(
                [
                    ("invoice_ids", "in", invoice.ids),
                    ("state", "not in", ("draft", "canceled")),
                ]
            )
            self.assertLessEqual(
                round(sum(standing.mapped("amount")), 2),
                round(invoice.amount_total - credited, 2),
                f"{invoice.name} paid {standing.mapped('amount')}, owed "
                f"{invoice.amount_total} less {credited} credited",
            )

    def _check_nothing_left_behind(self):
        for invoice in self._invoices():
            token = invoice.recurring_contract_id.payment_token_id.sudo()
            usable = (
                token.active
                and token.provider_id.state in ("enabled", "test")
                and token.partner_id.commercial_partner_id
                == invoice.commercial_partner_id
            )
            if usable and invoice.payment_state in OPEN:
                self.assertIn(
                    invoice.recurring_charge_state,
                    ("pending", "failing", "given_up"),
                    f"{invoice.name} open, neither charged, retried nor flagged",
                )
