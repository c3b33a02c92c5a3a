# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError


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

    _sql_constraints = [
        (
            "contract_period_unique",
            "UNIQUE(contract_id, date_start)",
            "This period of the contract is already in the billing ledger.",
        ),
    ]

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
        self.state = "voided"
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
