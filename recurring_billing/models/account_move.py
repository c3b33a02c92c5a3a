# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..tools.privileged import is_privileged_write


class AccountMove(models.Model):
    _inherit = "account.move"

    recurring_contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Recurring Contract",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
    )
    recurring_period_id = fields.Many2one(
        comodel_name="recurring.contract.period",
        string="Billed Period",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    # Getting paid , written by recurring.payment.service only.
    recurring_charge_state = fields.Selection(
        selection=[
            ("pending", "Charge pending"),
            ("done", "Charged"),
            ("failing", "Charge failed"),
            ("given_up", "Charge abandoned"),
        ],
        string="Automatic Charge",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    recurring_charge_retry_date = fields.Date(
        string="Next Charge Retry", readonly=True, copy=False
    )
    recurring_payment_attempt_ids = fields.One2many(
        comodel_name="recurring.payment.attempt",
        inverse_name="invoice_id",
        string="Charge Attempts",
        readonly=True,
    )
    recurring_reminder_count = fields.Integer(
        string="Unpaid Reminders Sent", readonly=True, copy=False
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_recurring_links(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_recurring_links(vals)
        return super().write(vals)

    @api.model
    def _check_recurring_links(self, vals):
        """An invoice is linked to a ledger row only by the engine (deleting
        a linked draft gives its period back: a link made by hand would
        void a billed period), and to a contract only by a user who may
        write that contract."""
        if vals.get("recurring_period_id") and not is_privileged_write(self.env):
            raise UserError(
                _("Only the billing run links an invoice to a billed period.")
            )
        if vals.get("recurring_contract_id") and not self.env.su:
            self.env["recurring.contract"].browse(
                vals["recurring_contract_id"]
            ).check_access("write")

    def unlink(self):
        """A contract's invoice deleted (a draft, or a cancelled one) gives
        its period back when no other live invoice of that period remains:
        the ledger row is voided and the next run bills the period once.
        Without this the row would stay "invoiced" with no invoice: never
        billed again, and neither voidable nor deletable."""
        # sudo: the ledger and the period's other invoices decide, whatever
        # the deleting user may read; the deletion itself is checked by
        # super() with the user's own rights.
        periods = self.sudo().recurring_period_id.filtered(
            lambda period: period.state == "invoiced"
        )
        result = super().unlink()
        if periods:
            periods.invalidate_recordset(["move_ids"])
            freed = periods.filtered(
                lambda period: not period.move_ids.filtered(
                    lambda move: move.state != "cancel"
                )
            )
            freed._set_ledger_state("voided")
            for period in freed:
                # A log, not a message_post: nobody needs an email for this.
                period.contract_id._message_log(
                    body=_(
                        "Invoice of the period %(start)s - %(end)s deleted: the "
                        "period will be billed again on the next run.",
                        start=format_date(self.env, period.date_start),
                        end=format_date(self.env, period.date_end),
                    )
                )
            # A contract that closed itself with that period (its last one)
            # runs again until the period is billed, then closes again.
            reopened = freed.contract_id.filtered(
                lambda c: c.state == "closed"
                and c.date_end
                and not c._is_fully_billed()
            )
            reopened._write_state({"state": "running"})
        return result

    def action_open_recurring_contract(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "recurring.contract",
            "view_mode": "form",
            "res_id": self.recurring_contract_id.id,
        }
