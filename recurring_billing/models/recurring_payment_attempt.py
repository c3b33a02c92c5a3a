# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL


class RecurringPaymentAttempt(models.Model):
    """One automatic charge of a contract invoice: the payment transaction
    it created and what became of it. Written in the same transaction that
    creates the payment transaction, so that the unique index below refuses
    a second charge of an invoice while one is pending or done, whatever
    process asks (a rerun, a second worker)."""

    _name = "recurring.payment.attempt"
    _description = "Contract Invoice Charge Attempt"
    _order = "id desc"
    _check_company_auto = True

    invoice_id = fields.Many2one(
        comodel_name="account.move",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, readonly=True, index=True
    )
    transaction_id = fields.Many2one(
        comodel_name="payment.transaction", readonly=True, ondelete="set null"
    )
    token_id = fields.Many2one(comodel_name="payment.token", readonly=True)
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    date = fields.Date(required=True, readonly=True)
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("done", "Paid"),
            ("error", "Failed"),
            ("reversed", "Reversed"),
            ("cancel", "Cancelled"),
        ],
        required=True,
        readonly=True,
        default="pending",
    )
    message = fields.Char(readonly=True)
    reversal_date = fields.Date(
        readonly=True,
        help="Paid, then its payment was cancelled or reversed on this day: "
        "the invoice went back to the retries.",
    )

    def init(self):
        # The guard of "never charge an invoice twice": at most one attempt
        # per invoice that is pending or paid. A failed attempt does not
        # count (the retry makes a new one).
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (invoice_id) "
                "WHERE state IN ('pending', 'done')",
                SQL.identifier("recurring_payment_attempt_one_live_idx"),
                SQL.identifier(self._table),
            )
        )
