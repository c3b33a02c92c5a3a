# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import schedule

# Fields that identify a ledger row: written once, when the period is billed.
LEDGER_KEY_FIELDS = {"contract_id", "period_index", "date_start", "date_end", "kind"}
# Fields only the documented steps change (through _set_ledger_state).
LEDGER_STATE_FIELDS = {"state", "billed_amounts"}


class RecurringContractPeriod(models.Model):
    """The billing ledger: one row per period of a contract, written in the
    same transaction as its invoice. The database refuses a second row for
    the same period, so a period can never be billed twice."""

    _name = "recurring.contract.period"
    _description = "Contract Billing Period"
    _order = "contract_id, period_index"
    _check_company_auto = True

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        required=True,
        ondelete="restrict",
        index=True,
    )
    company_id = fields.Many2one(related="contract_id.company_id", store=True)
    period_index = fields.Integer(
        required=True,
        help="0 for the first period of the contract, 1 for the next, ...",
    )
    date_start = fields.Date(string="From", required=True)
    date_end = fields.Date(string="To", required=True)
    kind = fields.Selection(
        selection=[
            ("period", "Period"),
            ("adjustment", "Adjustment"),
            ("usage", "Final Usage"),
        ],
        default="period",
        required=True,
        help="Period: the invoice of a scheduled period. Adjustment: the "
        "difference billed or credited for a period already billed, after a "
        "change in the middle of it (a line added or ended, a close, a "
        "renewal, a pause). Final usage: the usage of the last period of a "
        "contract billed in advance, billed after its end.",
    )
    billed_amounts = fields.Json(
        help="What this row billed, per contract line id, before taxes and at "
        "the lines' own prices: adjustments bill what the schedule core says "
        "is due minus the sum of these.",
    )
    currency_id = fields.Many2one(related="contract_id.currency_id")
    amount_billed = fields.Monetary(
        string="Amount",
        compute="_compute_amount_billed",
        help="Amount of the row at the lines' prices (negative for a credit).",
    )
    state = fields.Selection(
        selection=[
            ("invoiced", "Invoiced"),
            ("skipped", "Skipped"),
            ("voided", "Voided"),
        ],
        default="invoiced",
        required=True,
    )
    move_ids = fields.One2many(
        comodel_name="account.move",
        inverse_name="recurring_period_id",
        string="Invoices",
    )
    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Invoice",
        compute="_compute_move_id",
        search="_search_move_id",
        help="The latest invoice of the period (an earlier one may have been "
        "cancelled and its period voided).",
    )
    payment_state = fields.Selection(related="move_id.payment_state")
    move_state = fields.Selection(related="move_id.state", string="Invoice Status")

    def init(self):
        # One row per scheduled period, whatever the number of adjustments of
        # it: the database refuses a period twice (a partial unique index, as
        # adjustments share their period's dates).
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (contract_id, date_start) "
                "WHERE kind = 'period'",
                SQL.identifier("recurring_contract_period_unique_period"),
                SQL.identifier(self._table),
            )
        )

    @api.depends("billed_amounts")
    def _compute_amount_billed(self):
        for row in self:
            row.amount_billed = sum((row.billed_amounts or {}).values())

    @api.depends("move_ids")
    def _compute_move_id(self):
        for period in self:
            period.move_id = (
                period.move_ids.sorted("id")[-1:] if period.move_ids else False
            )

    def _search_move_id(self, operator, value):
        return [("move_ids", operator, value)]

    @api.depends("contract_id", "date_start", "date_end")
    def _compute_display_name(self):
        for period in self:
            period.display_name = _(
                "%(contract)s: %(start)s - %(end)s",
                contract=period.contract_id.name,
                start=period.date_start,
                end=period.date_end,
            )

    def write(self, vals):
        """The ledger is the proof of what was billed: its dates and index
        never change, and its state only through the documented actions
        (the engine, voiding a cancelled invoice's period), which go through
        ``_set_ledger_state``."""
        if LEDGER_KEY_FIELDS & set(vals):
            raise UserError(
                _(
                    "The dates and the contract of a period in the billing ledger "
                    "cannot be changed."
                )
            )
        if LEDGER_STATE_FIELDS & set(vals) and not self.env.su:
            raise UserError(
                _(
                    "The state of a period in the billing ledger changes only "
                    "through billing, or by voiding a period whose invoice is "
                    "cancelled."
                )
            )
        return super().write(vals)

    def _set_ledger_state(self, state, billed_amounts=None):
        """Change the state of ledger rows (and what they billed, when billed
        again). Private: called only by the steps that checked the transition
        (the engine, ``action_void``, a deleted draft invoice giving its
        period back)."""
        vals = {"state": state}
        if billed_amounts is not None:
            vals["billed_amounts"] = billed_amounts
        # sudo: write() refuses state changes from users; the caller checked
        # that this transition is one of the documented ones.
        self.sudo().write(vals)
        if state == "voided":
            # The usage its cancelled invoice billed goes on the next one.
            # sudo: as above, the caller checked the transition.
            self.env["recurring.contract.usage"].sudo().search(
                [("period_id", "in", self.ids)]
            ).write({"period_id": False, "move_line_id": False})
        # A voided adjustment no longer counts: the next run computes again
        # what its period owes.
        self.filtered(
            lambda r: r.kind == "adjustment" and r.state == "voided"
        ).contract_id.sudo().adjustment_pending = True

    def _get_as_period(self):
        """The row as a schedule Period (for the label of an adjustment of a
        period that no longer exists, e.g. after the contract's end date)."""
        self.ensure_one()
        return schedule.Period(
            index=self.period_index,
            date_start=self.date_start,
            date_end=self.date_end,
            full_date_end=self.date_end,
            invoice_date=self.date_start,
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if any(period.state != "skipped" or period.move_ids for period in self):
            raise UserError(
                _(
                    "An invoiced period cannot be deleted: it is the proof that "
                    "the period was billed. Cancel its invoice and void the "
                    "period instead."
                )
            )

    def action_void(self):
        """Free a period whose invoice was cancelled, so that the next run
        bills it again, exactly once. Billing managers only."""
        if not self.env.user.has_group("account.group_account_manager"):
            raise UserError(_("Only billing managers can void a billed period."))
        for period in self:
            if period.state != "invoiced" or period.move_id.state != "cancel":
                raise UserError(
                    _(
                        "Only a period whose invoice is cancelled can be voided "
                        "(%(period)s).",
                        period=period.display_name,
                    )
                )
        self._set_ledger_state("voided")
        # A contract closed by its last period billed opens again, so that
        # the voided period is billed once more (then it closes itself).
        self.contract_id.filtered(
            lambda c: c.state == "closed" and c.date_end and not c._is_fully_billed()
        )._write_state({"state": "running"})
        for period in self:
            period.contract_id.message_post(
                body=_(
                    "Period %(start)s - %(end)s voided: it will be billed again "
                    "on the next run.",
                    start=period.date_start,
                    end=period.date_end,
                )
            )
        return True
